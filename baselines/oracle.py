"""The oracle-labels baseline's sentence generator: one sentence per labelled CheXpert condition.

It reads the *reference's own* labels, so it is an upper bound for label-based metrics and is marked as
an oracle wherever it appears (name, run metadata, leaderboard). Sentences are worded so that a CheXpert
style labeler reads back the same label (positive, negated, uncertain); "not mentioned" writes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rexeval.backends.labelers import CONDITIONS

#: condition -> (positive, negative, uncertain) sentence.
SENTENCES: dict[str, tuple[str, str, str]] = {
    "Enlarged Cardiomediastinum": (
        "The cardiomediastinal silhouette is enlarged.",
        "The mediastinal contour is normal.",
        "The mediastinum may be widened.",
    ),
    "Cardiomegaly": ("There is cardiomegaly.", "There is no cardiomegaly.", "Possible cardiomegaly."),
    "Lung Opacity": ("There is an opacity.", "There is no opacity.", "Possible opacity."),
    "Lung Lesion": ("There is a pulmonary nodule.", "There is no pulmonary nodule.", "Possible pulmonary nodule."),
    "Edema": ("There is pulmonary edema.", "There is no pulmonary edema.", "Possible pulmonary edema."),
    "Consolidation": ("There is consolidation.", "There is no consolidation.", "Possible consolidation."),
    "Pneumonia": ("There is pneumonia.", "There is no pneumonia.", "Possible pneumonia."),
    "Atelectasis": ("There is atelectasis.", "There is no atelectasis.", "Possible atelectasis."),
    "Pneumothorax": ("There is a pneumothorax.", "There is no pneumothorax.", "Possible pneumothorax."),
    "Pleural Effusion": ("There is a pleural effusion.", "There is no pleural effusion.", "Possible pleural effusion."),
    "Pleural Other": ("There is pleural thickening.", "There is no pleural thickening.", "Possible pleural thickening."),
    "Fracture": ("There is a fracture.", "There is no fracture.", "Possible fracture."),
    "Support Devices": ("A support device is present.", "There is no support device.", "Possible support device."),
    "No Finding": ("No acute cardiopulmonary abnormality.", "", ""),
}


#: A finding outside the 14 conditions (it keeps No Finding blank without labelling a condition).
OTHER_ABNORMALITY = "There is a calcified granuloma."


def _value(x: object) -> float:
    if x is None:
        return math.nan
    if isinstance(x, str):
        x = x.strip()
        if x == "":
            return math.nan
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def labels_to_report(labels: Sequence[object], conditions: Sequence[str] = CONDITIONS) -> str:
    """One report from a label row (1 positive, 0 negative, -1 uncertain, NaN/blank not mentioned)."""
    sentences = []
    for name, raw in zip(conditions, labels, strict=False):
        v = _value(raw)
        if math.isnan(v) or name not in SENTENCES:
            continue
        pos, neg, unc = SENTENCES[name]
        text = pos if v == 1 else neg if v == 0 else unc if v == -1 else ""
        if text:
            sentences.append(text)
    values = {name: _value(raw) for name, raw in zip(conditions, labels, strict=False)}
    pathology = [v for n, v in values.items() if n not in ("No Finding", "Support Devices")]
    if (
        sentences
        and math.isnan(values.get("No Finding", math.nan))
        and not any(v in (1.0, -1.0) for v in pathology)
    ):
        # CheXpert leaves No Finding blank when an abnormality outside the 14 conditions is present;
        # say so with one such finding, so that a CheXpert-style labeler reads the same labels back.
        sentences.append(OTHER_ABNORMALITY)
    return " ".join(sentences)
