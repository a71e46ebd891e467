"""Percentile bootstrap over studies, vectorised through resample count matrices (docs/metrics.md §10).

A resample is represented by how often each study was drawn (a row of counts), so any aggregate written
as finalize(sum of per-study statistics) is evaluated on B resamples with one matrix product. The same
seed gives the same resamples for every metric and for every system scored on the same studies.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from rexeval.base.aggregates import Aggregate, Columns
from rexeval.stats import DEFAULT_RESAMPLES, DEFAULT_SEED

#: Resamples are drawn in chunks so that B x n never needs more than ~64 MB at once.
_CHUNK_CELLS = 8_000_000


def resample_counts(n: int, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> Iterator[np.ndarray]:
    """Yield (b, n) float matrices of draw counts, b rows at a time, reproducibly from ``seed``."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_resamples, _CHUNK_CELLS // max(n, 1)))
    done = 0
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        idx = rng.integers(0, n, size=(b, n))
        flat = (idx + (np.arange(b) * n)[:, None]).ravel()
        yield np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)
        done += b


def bootstrap_distribution(
    aggregate: Aggregate,
    columns: Columns,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> np.ndarray:
    """The aggregate on each of ``n_resamples`` resamples of the studies."""
    stats = aggregate.stats(columns)
    out = [aggregate.finalize(w @ stats) for w in resample_counts(len(stats), n_resamples, seed)]
    return np.concatenate(out)


def percentile_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    values = values[~np.isnan(values)]
    if values.size == 0:
        return (float("nan"), float("nan"))
    alpha = (1.0 - level) / 2.0
    lo, hi = np.percentile(values, [100 * alpha, 100 * (1 - alpha)])
    return (float(lo), float(hi))


def bootstrap_ci(
    aggregate: Aggregate,
    columns: Columns,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap CI of ``aggregate`` over studies."""
    if n_resamples <= 0:
        return (float("nan"), float("nan"))
    return percentile_ci(bootstrap_distribution(aggregate, columns, n_resamples, seed), level)
