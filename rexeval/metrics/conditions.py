"""Condition-level F1 over the 14 CheXpert conditions and the 5-condition subset (docs/metrics.md §7).

Both reports of a study are labelled (rule-based labeler or CheXbert heads), binarised with the
uncertain policy (default "positive": uncertain counts as positive, the f1chexbert / leaderboard-paper
convention; "negative"; or "ignore": a condition that is uncertain in either report is left out of
that study's counts), and scored as sklearn's ``classification_report`` does on the studies x
conditions indicator matrix: micro (pooled TP/FP/FN), macro (unweighted mean over *all* conditions of
the set, a zero-support condition counting F1 = 0) and weighted (by support), plus example-based
accuracy (exact match of the binarised label vector). Every F1 is an :class:`Aggregate` over
per-study TP/FP/FN indicators, so the bootstrap CIs and paired tests work on it unchanged.

Per-study columns hold the raw labels: ``{labeler}_label_pred.{Condition}`` and
``{labeler}_label_ref.{Condition}`` (1, 0, -1, NaN = blank), and ``{labeler}_exact_{5,14}``.

Keys: ``{labeler}_f1_{14,5}_{micro,macro,weighted}`` and ``{labeler}_accuracy_{14,5}``, e.g.
``chexbert_f1_5_micro``, ``rules_f1_14_macro``; a non-default uncertain policy adds a suffix
(``rules_f1_5_micro_uneg``, ``..._uignore``), so a key always names its labeler, label set, average
and policy.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

import rexeval.backends.models.chexbert  # noqa: F401  (registers the chexbert / bert-base-uncased ModelSpecs; no torch)
from rexeval.backends.labelers import CONDITIONS, FIVE, FIVE_INDEX
from rexeval.base.exceptions import ConfigError
from rexeval.metrics.base import Aggregate, Batch, Columns, Metric, Output, mean_of

POLICIES = ("positive", "negative", "ignore")
SETS: dict[str, tuple[int, ...]] = {"14": tuple(range(len(CONDITIONS))), "5": FIVE_INDEX}
AVERAGES = ("micro", "macro", "weighted")


def binarise(labels: np.ndarray, policy: str = "positive") -> tuple[np.ndarray, np.ndarray]:
    """(binary 0/1 matrix, valid mask) from 1/0/-1/NaN labels under an uncertain policy."""
    labels = np.asarray(labels, dtype=float)
    pos = labels == 1
    unc = labels == -1
    if policy == "positive":
        return (pos | unc).astype(float), np.ones_like(labels, dtype=bool)
    if policy == "negative":
        return pos.astype(float), np.ones_like(labels, dtype=bool)
    if policy == "ignore":
        return pos.astype(float), ~unc
    raise ConfigError(f"uncertain policy must be one of {', '.join(POLICIES)}, not {policy!r}")


def confusion_stats(pred: np.ndarray, ref: np.ndarray, policy: str = "positive") -> np.ndarray:
    """Per-study (n, 3k) indicators [TP_1..k, FP_1..k, FN_1..k] for k conditions."""
    p, pv = binarise(pred, policy)
    r, rv = binarise(ref, policy)
    valid = (pv & rv).astype(float)
    tp = p * r * valid
    fp = p * (1 - r) * valid
    fn = (1 - p) * r * valid
    return np.concatenate([tp, fp, fn], axis=1)


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), 0.0)


def f1_from_sums(sums: np.ndarray, average: str) -> np.ndarray:
    """F1 from summed [TP.., FP.., FN..] (..., 3k): micro, macro or weighted, sklearn's conventions
    (an undefined precision/recall/F1 counts as 0; a zero-support condition counts in macro)."""
    k = sums.shape[-1] // 3
    tp, fp, fn = sums[..., :k], sums[..., k : 2 * k], sums[..., 2 * k :]
    if average == "micro":
        return _f1(tp.sum(-1), fp.sum(-1), fn.sum(-1))
    per = _f1(tp, fp, fn)
    if average == "macro":
        return per.mean(-1)
    if average == "weighted":
        support = tp + fn
        total = support.sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, (per * support).sum(-1) / np.where(total > 0, total, 1), 0.0)
    raise ValueError(average)


def per_condition(pred: np.ndarray, ref: np.ndarray, policy: str = "positive", names=CONDITIONS) -> dict[str, dict[str, float]]:
    """sklearn-style per-condition precision, recall, F1 and support (+ predicted positives)."""
    s = confusion_stats(pred, ref, policy).sum(0)
    k = len(names)
    tp, fp, fn = s[:k], s[k : 2 * k], s[2 * k :]
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0)
        rec = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 0.0)
    f1 = _f1(tp, fp, fn)
    return {
        c: {"precision": float(prec[i]), "recall": float(rec[i]), "f1": float(f1[i]), "support": int(tp[i] + fn[i]),
            "predicted": int(tp[i] + fp[i])}
        for i, c in enumerate(names)
    }


def pred_columns(prefix: str) -> list[str]:
    return [f"{prefix}_label_pred.{c}" for c in CONDITIONS]


def ref_columns(prefix: str) -> list[str]:
    return [f"{prefix}_label_ref.{c}" for c in CONDITIONS]


def _matrix(cols: Columns, names: list[str]) -> np.ndarray:
    return np.stack([np.asarray(cols[n], dtype=float) for n in names], axis=1)


def f1_aggregate(prefix: str, subset: str, average: str, policy: str) -> Aggregate:
    idx = list(SETS[subset])
    preds = [pred_columns(prefix)[i] for i in idx]
    refs = [ref_columns(prefix)[i] for i in idx]

    def stats(cols: Columns) -> np.ndarray:
        return confusion_stats(_matrix(cols, preds), _matrix(cols, refs), policy)

    def finalize(sums: np.ndarray) -> np.ndarray:
        return f1_from_sums(sums, average)

    return Aggregate(f"f1-{average}", stats, finalize)


def exact_match(pred: np.ndarray, ref: np.ndarray, policy: str = "positive") -> np.ndarray:
    """Per-study 1.0 when the binarised label vectors agree on every (valid) condition."""
    p, pv = binarise(pred, policy)
    r, rv = binarise(ref, policy)
    valid = pv & rv
    return np.all((p == r) | ~valid, axis=1).astype(float)


class ConditionF1(Metric):
    """Condition F1 for one labeler; subclasses set ``labeler``."""

    labeler = ""
    requires: tuple[str, ...] = ()
    _label_reports_progress = False

    def __init__(self, uncertain: str = "positive", **labeler_options: Any) -> None:
        if uncertain not in POLICIES:
            raise ConfigError(f"uncertain policy must be one of {', '.join(POLICIES)}, not {uncertain!r}")
        self.policy = uncertain
        self.labeler_options = labeler_options
        self._labeler = None

    @property
    def prefix(self) -> str:
        return self.labeler

    def _suffix(self) -> str:
        return "" if self.policy == "positive" else f"_u{'neg' if self.policy == 'negative' else self.policy}"

    def key(self, subset: str, average: str) -> str:
        return f"{self.prefix}_f1_{subset}_{average}{self._suffix()}"

    def accuracy_key(self, subset: str) -> str:
        return f"{self.prefix}_accuracy_{subset}{self._suffix()}"

    def get_labeler(self):
        if self._labeler is None:
            from rexeval.backends.labelers import get_labeler

            self._labeler = get_labeler(self.labeler, **self.labeler_options)
        return self._labeler

    def outputs(self) -> list[Output]:
        outs = []
        for subset in ("14", "5"):
            for avg in AVERAGES:
                outs.append(
                    Output(
                        self.key(subset, avg), True, (0.0, 1.0), f1_aggregate(self.prefix, subset, avg, self.policy),
                        f"{avg} F1 over {'the 14 CheXpert conditions' if subset == '14' else 'the 5 conditions (' + ', '.join(FIVE) + ')'}"
                        f", {self.labeler} labels, uncertain as {self.policy}",
                        per_study=False,
                    )
                )
        for subset in ("14", "5"):
            col = f"{self.prefix}_exact_{subset}{self._suffix()}"
            outs.append(
                Output(
                    self.accuracy_key(subset), True, (0.0, 1.0), mean_of(col),
                    f"share of studies whose binarised {subset}-condition label vectors match exactly ({self.labeler} labels)",
                    per_study=False,
                )
            )
        return outs

    def options(self) -> dict[str, Any]:
        return {"labeler": self.labeler, "uncertain": self.policy}

    def _label(self, texts: list[str], batch: Batch) -> np.ndarray:
        return self.get_labeler().label(texts)

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        n = len(batch)
        texts = list(batch.predictions) + list(batch.references)
        labels = self._label(texts, batch)
        pred, ref = labels[:n], labels[n:]
        out: dict[str, np.ndarray] = {}
        for j, (pc, rc) in enumerate(zip(pred_columns(self.prefix), ref_columns(self.prefix), strict=True)):
            out[pc] = pred[:, j]
            out[rc] = ref[:, j]
        out[f"{self.prefix}_exact_14{self._suffix()}"] = exact_match(pred, ref, self.policy)
        five = list(FIVE_INDEX)
        out[f"{self.prefix}_exact_5{self._suffix()}"] = exact_match(pred[:, five], ref[:, five], self.policy)
        if batch.progress and not self._label_reports_progress:
            batch.progress(n)
        return out

    def summary_extra(self, columns: Columns) -> dict[str, Any]:
        """Per-condition precision/recall/F1/support (+ predicted positives) for the summary."""
        pred = _matrix(columns, pred_columns(self.prefix))
        ref = _matrix(columns, ref_columns(self.prefix))
        # summary["conditions"][labeler][condition] = {...} (what rexeval.reports.plots reads); the key carries
        # the policy suffix like the metric keys do ("rules", "rules_uneg", ...)
        return {"conditions": {self.prefix + self._suffix(): per_condition(pred, ref, self.policy)}}


class RulesF1(ConditionF1):
    name = "rules_f1"
    labeler = "rules"
    description = "condition F1 (14 and 5 CheXpert conditions) from the offline rule-based labeler"

    def __init__(self, uncertain: str = "positive", hedges: str = "chexpert", **labeler_options: Any) -> None:
        from rexeval.backends.labelers.rules import check_hedges

        super().__init__(uncertain, hedges=check_hedges(hedges, self.name), **labeler_options)

    @property
    def prefix(self) -> str:
        # graded labels are other labels: their keys and label columns must not mix with CheXpert-style ones
        return "rules_graded" if self.labeler_options["hedges"] == "graded" else "rules"

    def options(self) -> dict[str, Any]:
        return {**super().options(), **self.get_labeler().options()}


class CheXbertF1(ConditionF1):
    name = "chexbert_f1"
    labeler = "chexbert"
    description = "condition F1 (14 and 5 CheXpert conditions) from the CheXbert heads"
    _label_reports_progress = True

    def __init__(self, uncertain: str = "positive", **chexbert_options: Any) -> None:
        super().__init__(uncertain, **chexbert_options)
        from rexeval.metrics.sembscore import CheXbertOptions

        # the same options as semb_score, so both pick the one shared CheXbert instance
        self.chex = CheXbertOptions.of(self.name, chexbert_options)

    def get_labeler(self):
        if self._labeler is None:
            from rexeval.backends.labelers.chexbert import CheXbertLabeler

            settings = asdict(self.chex)  # the labeler names the checkpoint ``path``, as `rexeval labels` passes it
            self._labeler = CheXbertLabeler(settings.pop("model_path"), **settings)
        return self._labeler

    def check_available(self) -> None:
        self.chex.check()

    def versions(self) -> dict[str, str]:
        return self.chex.versions()

    def options(self) -> dict[str, Any]:
        from rexeval.base.exceptions import MetricUnavailable

        try:
            return {**super().options(), **self.chex.chexbert().options()}
        except MetricUnavailable:
            return {**super().options(), "model": "chexbert (not found)"}

    def _label(self, texts: list[str], batch: Batch) -> np.ndarray:
        from rexeval.metrics.base import text_progress

        return self.get_labeler().label(texts, text_progress(batch.progress, len(batch), len(set(texts))))


def study_f1(pred: np.ndarray, ref: np.ndarray, policy: str = "positive") -> np.ndarray:
    """Per-study F1 over the conditions: 2TP / (2TP + FP + FN) of that study's own binarised label
    vectors; 1.0 when neither report has a positive condition (the two agree on everything)."""
    s = confusion_stats(pred, ref, policy)
    k = s.shape[1] // 3
    tp, fp, fn = s[:, :k].sum(1), s[:, k : 2 * k].sum(1), s[:, 2 * k :].sum(1)
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), 1.0)


class RulesStudyF1(RulesF1):
    """The rule labeler's condition F1 of each study on its own: a per-study value, so it can be a
    reward component (``rules_f1`` is a corpus-level F1 over the label matrix and has none)."""

    name = "rules_f1_study"
    default = False  # a reward column; `rexeval score` reports the corpus-level rules_f1
    description = "per-study condition F1 (14 CheXpert conditions) from the offline rule-based labeler"

    def key_study(self) -> str:
        return f"{self.prefix}_f1_study{self._suffix()}"

    def outputs(self) -> list[Output]:
        return [
            Output(
                self.key_study(), True, (0.0, 1.0), mean_of(self.key_study()),
                f"each study's own F1 over the 14 conditions ({self.labeler} labels, uncertain as "
                f"{self.policy}); 1 when neither report has a positive condition",
            )
        ]

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        out = super().compute(batch)
        pred = np.stack([out[c] for c in pred_columns(self.prefix)], axis=1)
        ref = np.stack([out[c] for c in ref_columns(self.prefix)], axis=1)
        out[self.key_study()] = study_f1(pred, ref, self.policy)
        return out

    def summary_extra(self, columns: Columns) -> dict[str, Any]:
        return {}
