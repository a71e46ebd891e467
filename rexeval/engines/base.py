"""The executor protocol: where a metric's per-study values are computed, and the one failure policy.

An executor takes one metric and one aligned :class:`~rexeval.metrics.base.Batch` and returns a
:class:`MetricRun`: the metric's per-study columns and the studies it could not score, each with its
reason. Scoring (:func:`rexeval.run.scoring.score_pairs`) and the reward engine
(:class:`rexeval.rewards.engine.ScoringEngine`) both run metrics through one; two implement it:
:class:`rexeval.engines.local.LocalExecutor` (this process) and :class:`rexeval.engines.ray.RayEngine`.

The failure policy, the same for every executor:

* a batch the metric raises on is split and its studies are retried one by one, so one bad study never
  takes the others with it; a study that still fails — the metric raises on it alone, its worker dies
  for good, or nothing finishes within the timeout — is NaN in every column of the metric and listed in
  :attr:`MetricRun.failures` as a :class:`Failure` (metric, row, study id, one-line reason);
* never a silent value: a failed study is NaN (aggregates exclude it and count it in ``n_failed``),
  never 0;
* errors about the run rather than a study — :class:`~rexeval.base.exceptions.RexevalError` (a missing model,
  bad options) and interrupts — are not study failures: they propagate at once;
* what the caller does with a metric that failed on every study is the caller's decision (scoring stops
  the run with the first reason; the reward engine gives NaN rewards and reports why).

A NaN the metric itself returns is its own recorded failure (the metric contract) and is not listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rexeval.metrics.base import Batch, Metric

#: Failed studies listed per metric in summary.json (the count is always complete).
MAX_LISTED_FAILURES = 200


@dataclass(frozen=True)
class Failure:
    """One study a metric could not score: its row in the batch, its id and why (one line)."""

    metric: str
    row: int
    study_id: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        """The entry summary.json lists (``metric_runs.<metric>.engine.failed_studies``)."""
        return {"study_id": self.study_id, "reason": self.reason}


@dataclass
class MetricRun:
    """One metric over one batch: per-study columns (NaN for a failed study) and the failures."""

    metric: str
    columns: dict[str, np.ndarray]
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed_rows(self) -> list[int]:
        return [f.row for f in self.failures]


@runtime_checkable
class Executor(Protocol):
    """Computes one metric over one batch under the failure policy of this module."""

    #: Recorded with the failures of a run (``metric_runs.<metric>.engine.name``).
    name: str

    def run(self, metric: Metric, batch: Batch) -> MetricRun:
        """Per-study columns of ``metric`` over ``batch`` (each of length ``len(batch)``) and the
        studies that failed. Raises only for errors about the run (``RexevalError``, interrupts)."""
        ...


def one_line(exc: BaseException) -> str:
    """``Type: last line of the message`` (at most 300 characters); a wrapped cause (Ray's) is unwrapped."""
    cause = getattr(exc, "cause", None)
    if isinstance(exc, Exception) and cause is not None and not isinstance(cause, type(exc)):
        exc = cause
    text = str(exc).strip().splitlines()
    last = text[-1] if text else ""
    return f"{type(exc).__name__}: {last}"[:300]


def sub_batch(batch: Batch, rows: Sequence[int], progress: bool = False) -> Batch:
    """The studies ``rows`` of ``batch`` (with their columns and extra fields), in that order."""
    idx = np.asarray(rows, dtype=int)
    return Batch(
        [batch.study_ids[i] for i in rows],
        [batch.predictions[i] for i in rows],
        [batch.references[i] for i in rows],
        {k: np.asarray(v)[idx] for k, v in batch.columns.items()},
        {k: [v[i] for i in rows] for k, v in batch.extra.items()},
        batch.progress if progress else None,
    )


def checked_columns(metric: Metric, produced: Mapping[str, Any], n: int) -> dict[str, np.ndarray]:
    """The metric's columns as float arrays; a column of another length is the metric's error."""
    out: dict[str, np.ndarray] = {}
    for key, values in produced.items():
        values = np.asarray(values, dtype=float)
        if values.shape != (n,):
            raise ValueError(f"metric {metric.name} returned {values.shape} values for {key} on a batch of {n}")
        out[key] = values
    return out


def assemble(metric: Metric, n: int, parts: Sequence[tuple[Sequence[int], Mapping[str, np.ndarray]]],
             failures: Sequence[Failure]) -> MetricRun:
    """One :class:`MetricRun` from the parts that succeeded (rows, columns); every other row is NaN."""
    # the columns the metric computed (an output may be an aggregate with no column of its own);
    # when no study succeeded, its outputs' keys
    keys = list(dict.fromkeys(k for _, part in parts for k in part)) or [o.key for o in metric.outputs()]
    columns = {k: np.full(n, np.nan) for k in keys}
    for rows, part in parts:
        idx = np.asarray(rows, dtype=int)
        for key, values in part.items():
            columns[key][idx] = values
    return MetricRun(metric.name, columns, sorted(failures, key=lambda f: f.row))


def record_failures(sections: dict[str, Any], failures: Mapping[str, Sequence[Failure]], executor: str) -> None:
    """The failed studies of a run, into the summary sections scoring is building (summary.json's
    ``metric_runs.<metric>.engine``; only metrics with failures: a clean run's summary does not depend on
    the executor)."""
    for name, fails in failures.items():
        if fails:
            entry = sections.setdefault("metric_runs", {}).setdefault(name, {})
            entry["engine"] = {"name": executor, "n_failed_studies": len(fails),
                               "failed_studies": [f.as_dict() for f in fails[:MAX_LISTED_FAILURES]]}
