"""Condition labels for the 14 CheXpert observations (docs/metrics.md §7).

Two labelers share one API (:func:`get_labeler`):

- ``"rules"``: an offline rule-based labeler (no weights, no network), the default;
- ``"chexbert"``: the CheXbert heads, sharing the SembScore backbone and its text cache.

``label(texts)`` returns a float array of shape ``(len(texts), 14)`` in :data:`CONDITIONS` order with
1 = positive, 0 = negative, -1 = uncertain and NaN = blank (not mentioned).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from rexeval.base.exceptions import ConfigError

#: The 14 CheXpert conditions in CheXbert head order.
CONDITIONS: tuple[str, ...] = (
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Opacity",
    "Lung Lesion",
    "Edema",
    "Consolidation",
    "Pneumonia",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Pleural Other",
    "Fracture",
    "Support Devices",
    "No Finding",
)

#: The 5-condition subset reported by the papers ("F1-5").
FIVE: tuple[str, ...] = ("Cardiomegaly", "Edema", "Consolidation", "Atelectasis", "Pleural Effusion")
FIVE_INDEX: tuple[int, ...] = tuple(CONDITIONS.index(c) for c in FIVE)  # (1, 4, 5, 7, 9)

POSITIVE, NEGATIVE, UNCERTAIN = 1.0, 0.0, -1.0
BLANK = float("nan")

LABELERS = ("rules", "chexbert")


class Labeler(Protocol):
    name: str

    def signature(self) -> str: ...

    def label(self, texts: list[str]) -> np.ndarray: ...


def get_labeler(name: str = "rules", **options: Any) -> Labeler:
    """A labeler by name: ``"rules"`` (offline) or ``"chexbert"`` (needs chexbert.pth)."""
    if name == "rules":
        from rexeval.backends.labelers.rules import RuleLabeler

        return RuleLabeler(**options)
    if name == "chexbert":
        from rexeval.backends.labelers.chexbert import CheXbertLabeler

        return CheXbertLabeler(**options)
    raise ConfigError(f"unknown labeler {name!r}; choose one of {', '.join(LABELERS)}")


def labels_frame(study_ids: list[str], labels: np.ndarray):
    """The label matrix as a DataFrame: ``study_id`` + one column per condition (1/0/-1/NaN)."""
    import pandas as pd

    df = pd.DataFrame(labels, columns=list(CONDITIONS))
    df.insert(0, "study_id", list(study_ids))
    return df


__all__ = [
    "CONDITIONS",
    "FIVE",
    "FIVE_INDEX",
    "POSITIVE",
    "NEGATIVE",
    "UNCERTAIN",
    "BLANK",
    "LABELERS",
    "Labeler",
    "get_labeler",
    "labels_frame",
]
