"""Paired comparison of two systems on the same studies (docs/metrics.md §10).

For every output: Δ = agg(A) − agg(B); a paired-bootstrap CI of Δ (the same resamples for both systems);
a two-sided paired approximate-randomisation test that swaps A and B per study with probability ½ and
recomputes the aggregate (for a mean this is the sign-flip test), p = (1 + #{|Δ*| ≥ |Δ|}) / (P + 1);
Holm's step-down correction across all outputs compared. Everything runs on cached per-study values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rexeval.base.aggregates import Aggregate, Columns
from rexeval.stats import DEFAULT_PERMUTATIONS, DEFAULT_RESAMPLES, DEFAULT_SEED
from rexeval.stats.bootstrap import percentile_ci, resample_counts

_CHUNK_CELLS = 8_000_000


@dataclass(frozen=True)
class PairedResult:
    key: str
    value_a: float
    value_b: float
    delta: float
    ci95: tuple[float, float]
    p_value: float
    p_holm: float = float("nan")


def _flip_chunks(n: int, n_perm: int, seed: int):
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_perm, _CHUNK_CELLS // max(n, 1)))
    done = 0
    while done < n_perm:
        b = min(chunk, n_perm - done)
        yield rng.integers(0, 2, size=(b, n)).astype(float)
        done += b


def paired_test(
    key: str,
    aggregate: Aggregate,
    columns_a: Columns,
    columns_b: Columns,
    *,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> PairedResult:
    sa, sb = aggregate.stats(columns_a), aggregate.stats(columns_b)
    if sa.shape != sb.shape:
        raise ValueError(f"{key}: systems were scored on different numbers of studies")
    va, vb = float(aggregate.finalize(sa.sum(0))), float(aggregate.finalize(sb.sum(0)))
    delta = va - vb
    # Paired bootstrap: identical resamples for A and B.
    deltas = [
        aggregate.finalize(w @ sa) - aggregate.finalize(w @ sb) for w in resample_counts(len(sa), n_resamples, seed)
    ]
    ci = percentile_ci(np.concatenate(deltas)) if n_resamples > 0 else (float("nan"), float("nan"))
    # Approximate randomisation: per study, swap with probability 1/2.
    if np.isnan(delta):
        return PairedResult(key, va, vb, delta, ci, float("nan"))
    total_a, total_b = sa.sum(0), sb.sum(0)
    diff = sb - sa
    hits = 0
    tol = 1e-12 * max(1.0, abs(delta))
    for flips in _flip_chunks(len(sa), n_permutations, seed + 1):
        moved = flips @ diff  # what swapping the flipped studies moves from B to A
        d_star = aggregate.finalize(total_a + moved) - aggregate.finalize(total_b - moved)
        hits += int(np.sum(np.abs(d_star) >= abs(delta) - tol))
    p = (1 + hits) / (n_permutations + 1)
    return PairedResult(key, va, vb, delta, ci, p)


def holm(p_values: list[float]) -> list[float]:
    """Holm step-down adjusted p-values (NaN entries are ignored and stay NaN)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = valid.size
    order = valid[np.argsort(p[valid], kind="stable")]
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[idx]))
        out[idx] = running
    return out.tolist()
