"""The local executor: a metric computed in this process, under the failure policy of
:mod:`rexeval.engines.base`.

The whole batch is computed in one call (``metric.compute``, which advances the batch's progress bar
as it goes), so a run without failures computes exactly what the metric computes. Only when that call
raises are the studies retried one at a time, to find the ones that fail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rexeval.base.exceptions import RexevalError
from rexeval.engines.base import Failure, MetricRun, assemble, checked_columns, one_line, sub_batch
from rexeval.metrics.base import Batch, Metric

#: What computes a metric's columns over a batch: ``metric.compute`` unless the caller says otherwise.
Compute = Callable[[Batch], Mapping[str, Any]]


class LocalExecutor:
    """Runs metrics in this process. ``compute`` (optional) replaces ``metric.compute`` for one metric
    — the reward engine passes one that reuses cached reference-side states."""

    name = "local"

    def run(self, metric: Metric, batch: Batch, compute: Compute | None = None) -> MetricRun:
        compute = compute or metric.compute
        n = len(batch)
        try:
            return MetricRun(metric.name, checked_columns(metric, compute(batch), n))
        except RexevalError:
            raise
        except Exception as exc:
            if n == 1:
                return assemble(metric, 1, [], [Failure(metric.name, 0, str(batch.study_ids[0]), one_line(exc))])
        parts: list[tuple[list[int], dict[str, Any]]] = []
        failures: list[Failure] = []
        for row in range(n):  # one bad study must not take the others with it
            try:
                parts.append(([row], checked_columns(metric, compute(sub_batch(batch, [row])), 1)))
            except RexevalError:
                raise
            except Exception as exc:
                failures.append(Failure(metric.name, row, str(batch.study_ids[row]), one_line(exc)))
        return assemble(metric, n, parts, failures)
