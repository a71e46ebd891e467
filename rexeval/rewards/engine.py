"""The scoring engine behind the reward functions: a cache around an executor.

The metrics are computed by an :class:`~rexeval.engines.base.Executor` (by default the in-process
:class:`~rexeval.engines.local.LocalExecutor`) under its one failure policy; this module adds only what
makes repeated reward calls cheap, never changing a value:

* the metrics run once per step for all components (the last batch is memoised: TRL calls every reward
  function with the same completions);
* identical (completion, reference) pairs — common in GRPO groups — are scored once, and scored pairs are
  kept across steps (a bounded, least-recently-used store; failures are not stored, so they are retried);
* metrics that expose the optional reference-side protocol (``reference_state(text)`` and
  ``compute_with_references(batch, states)``) get their reference-side work done once per distinct
  reference, memoised with :func:`functools.lru_cache` (a GRPO step repeats each reference
  ``num_generations`` times and an epoch repeats it again);
* a sample's value depends only on its own texts (batch invariance): what is cached is per pair.

Failures: a sample a metric cannot score is NaN in that metric's columns and a :class:`SampleFailure`
(metric, sample position in the call, one-line reason) in :attr:`EngineResult.failures`; errors about the
configuration (:class:`~rexeval.base.exceptions.RexevalError`) propagate.
"""

from __future__ import annotations

import asyncio
import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rexeval.engines.base import Executor, MetricRun
from rexeval.engines.local import LocalExecutor
from rexeval.metrics import Metric
from rexeval.metrics.base import Batch
from rexeval.rewards.config import RewardConfig


def is_async_metric(metric: Metric) -> bool:
    """LLM judges and other remote metrics: run concurrently as async reward functions."""
    return metric.remote


def has_reference_protocol(metric: Metric) -> bool:
    """Metrics whose reference-side work (``reference_state``) can be done once per distinct reference."""
    return metric.reuses_reference_state


def _hashable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


@dataclass(frozen=True)
class SampleFailure:
    """A sample a metric could not score: its position in the call's batch and why (one line)."""

    metric: str
    sample: int
    reason: str


@dataclass
class EngineResult:
    """Raw metric columns (before transforms; NaN where a sample failed) and the failures behind them."""

    columns: dict[str, np.ndarray]
    failures: list[SampleFailure] = field(default_factory=list)

    def reasons(self, metric: str) -> dict[int, str]:
        """Why each failed sample of ``metric`` failed, by position."""
        return {f.sample: f.reason for f in self.failures if f.metric == metric}


class ScoringEngine:
    """Raw metric columns for (completion, reference) batches, de-duplicated and cached around an
    executor. Thread-safe: components of one suite may call it from several threads at once."""

    def __init__(self, config: RewardConfig, metrics: list[Metric], executor: Executor | None = None):
        self.config = config
        self.metrics = metrics
        #: Computes the metrics; the reference-side cache applies only in this process (the local one).
        self.executor: Executor = executor if executor is not None else LocalExecutor()
        # Scored pairs: (metric name, (completion, reference, extra)) -> {column: value}. Filled a batch at
        # a time and failures are not stored, so functools.lru_cache (one call per key) does not fit here.
        self._pairs: OrderedDict[Any, dict[str, float]] = OrderedDict()
        self._ref_state: dict[str, Callable[[str], Any]] = {
            m.name: functools.lru_cache(maxsize=config.cache_size)(self._state_function(m))
            for m in metrics
            if has_reference_protocol(m)
        }
        self._memo: tuple[Any, EngineResult] | None = None
        self._lock = threading.Lock()  # async components score from worker threads
        self._sync_lock = threading.Lock()
        #: Counters: reference states computed and pairs scored per metric, samples seen.
        self.reference_states_computed: dict[str, int] = {m.name: 0 for m in metrics}
        self.pairs_scored: dict[str, int] = {m.name: 0 for m in metrics}
        self.samples_seen = 0

    def _state_function(self, metric: Metric) -> Callable[[str], Any]:
        def compute(reference: str) -> Any:
            self.reference_states_computed[metric.name] += 1
            return metric.reference_state(reference)

        return compute

    def _cached_pair(self, key: Any) -> dict[str, float] | None:
        row = self._pairs.get(key)
        if row is not None:
            self._pairs.move_to_end(key)
        return row

    def _store_pair(self, key: Any, row: dict[str, float]) -> None:
        self._pairs[key] = row
        self._pairs.move_to_end(key)
        while len(self._pairs) > self.config.cache_size:
            self._pairs.popitem(last=False)

    # -- one metric on one batch ------------------------------------------------------------------

    def _compute_function(self, metric: Metric) -> Callable[[Batch], Mapping[str, Any]]:
        """How this process computes ``metric`` on a batch: through its cached reference-side states,
        or the coroutine of a remote metric, else ``compute``."""
        if has_reference_protocol(metric) and self.config.reference_cache:
            state = self._ref_state[metric.name]
            return lambda batch: metric.compute_with_references(batch, [state(r) for r in batch.references])

        def compute(batch: Batch) -> Mapping[str, Any]:
            if has_reference_protocol(metric):  # protocol present but cache off: one state per sample
                self.reference_states_computed[metric.name] += len(batch)
            if metric.remote:
                return asyncio.run(metric.acompute(batch))
            return metric.compute(batch)

        return compute

    def _run_metric(self, metric: Metric, batch: Batch) -> MetricRun:
        if isinstance(self.executor, LocalExecutor):
            return self.executor.run(metric, batch, self._compute_function(metric))
        return self.executor.run(metric, batch)

    # -- batches ----------------------------------------------------------------------------------

    def score(
        self,
        completions: Sequence[str],
        references: Sequence[str],
        extra: Mapping[str, Sequence[Any]] | None = None,
        study_ids: Sequence[str] | None = None,
        metrics: Sequence[Metric] | None = None,
        columns: Mapping[str, np.ndarray] | None = None,
    ) -> EngineResult:
        """Raw metric columns (before transforms) for aligned texts and the samples that failed.

        ``metrics`` defaults to the engine's; ``columns`` are already computed columns (of metrics run
        earlier) that ``metrics`` may read; ``extra`` holds per-sample fields (dataset columns).
        """
        n = len(completions)
        if len(references) != n:
            raise ValueError(f"{n} completions but {len(references)} references")
        extra = {k: list(v) for k, v in (extra or {}).items() if len(v) == n}
        study_ids = list(study_ids) if study_ids is not None else [str(i) for i in range(n)]
        metrics = list(metrics) if metrics is not None else self.metrics
        ekeys = sorted(extra)
        keys = [
            (completions[i], references[i], tuple(_hashable(extra[k][i]) for k in ekeys))
            for i in range(n)
        ]
        columns = dict(columns or {})
        failures: list[SampleFailure] = []
        for metric in metrics:
            outs = [o.key for o in metric.outputs()]
            if not self.config.dedupe:
                idx = list(range(n))
            else:
                with self._lock:
                    todo: dict[Any, int] = {}
                    for i, key in enumerate(keys):
                        if (metric.name, key) not in self._pairs and key not in todo:
                            todo[key] = i
                idx = list(todo.values())
            got: dict[str, np.ndarray] = {}
            failed_at: dict[int, str] = {}  # why a freshly scored sample failed, by its position
            if idx:
                batch = Batch(
                    [study_ids[i] for i in idx],
                    [completions[i] for i in idx],
                    [references[i] for i in idx],
                    {k: np.asarray(v)[idx] for k, v in columns.items()},
                    {k: [v[i] for i in idx] for k, v in extra.items()},
                )
                run = self._run_metric(metric, batch)
                got = {k: run.columns[k] for k in outs if k in run.columns}
                failed_at = {idx[f.row]: f.reason for f in run.failures}
                with self._lock:
                    self.pairs_scored[metric.name] += len(idx)
            if not self.config.dedupe:
                for k in outs:
                    columns[k] = got.get(k, np.full(n, np.nan))
                failures += [SampleFailure(metric.name, i, why) for i, why in sorted(failed_at.items())]
                continue
            fresh: dict[Any, dict[str, float]] = {}
            for j, i in enumerate(idx):
                fresh[keys[i]] = {k: float(got[k][j]) if k in got else math.nan for k in outs}
            with self._lock:
                for key, row in fresh.items():  # failures are not stored: retried next time
                    if not any(math.isnan(v) for v in row.values()):
                        self._store_pair((metric.name, key), row)
                rows = [
                    fresh.get(key) or self._cached_pair((metric.name, key)) or {} for key in keys
                ]
            for k in outs:
                columns[k] = np.array([row.get(k, math.nan) for row in rows], dtype=float)
            # a failed pair fails at every position it occupies in this call
            reasons = {keys[i]: why for i, why in failed_at.items()}
            failures += [SampleFailure(metric.name, i, reasons[key]) for i, key in enumerate(keys) if key in reasons]
        return EngineResult(columns, failures)

    def score_texts(
        self,
        completions: Sequence[str],
        references: Sequence[str],
        extra: Mapping[str, Sequence[Any]] | None = None,
        study_ids: Sequence[str] | None = None,
        metrics: Sequence[Metric] | None = None,
        columns: Mapping[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Raw metric columns (before transforms) for aligned texts; NaN marks a failure (see :meth:`score`)."""
        return self.score(completions, references, extra, study_ids, metrics, columns).columns

    def step(
        self,
        texts: list[str],
        refs: list[str],
        extra: dict[str, list[Any]],
        ids: list[str] | None,
        metric: Metric,
    ) -> EngineResult:
        """Columns and failures for one TRL step: the synchronous metrics run once for every component
        (TRL passes the same batch to each reward function); an async (LLM-judge) metric adds only its own
        columns and failures."""
        key = (tuple(texts), tuple(refs), tuple((k, tuple(v)) for k, v in sorted(extra.items())))
        with self._lock:
            memo = self._memo if self._memo is not None and self._memo[0] == key else None
        if memo is None:
            with self._sync_lock:
                with self._lock:
                    memo = self._memo if self._memo is not None and self._memo[0] == key else None
                if memo is None:
                    sync = [m for m in self.metrics if not is_async_metric(m)]
                    memo = (key, self.score(texts, refs, extra, ids, sync))
                    with self._lock:
                        self._memo = memo
                        self.samples_seen += len(texts)
        result = memo[1]
        if is_async_metric(metric):
            judged = self.score(texts, refs, extra, ids, [metric], columns=result.columns)
            result = EngineResult(judged.columns, result.failures + judged.failures)
        return result

    def step_columns(
        self,
        texts: list[str],
        refs: list[str],
        extra: dict[str, list[Any]],
        ids: list[str] | None,
        metric: Metric,
    ) -> dict[str, np.ndarray]:
        """The columns of :meth:`step`."""
        return self.step(texts, refs, extra, ids, metric).columns
