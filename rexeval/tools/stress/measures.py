"""Discrimination (a same-report AUC) and Kendall's tau with cluster-bootstrap CIs, for the stress suite.

Movements are "how much worse", in the metric's direction: the drop of a similarity, the rise of an error
count (i.e. the counted errors when the report against itself counts none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rexeval.stats.bootstrap import percentile_ci, resample_counts

#: Movements closer than this are a tie (float noise of the metrics' arithmetic).
TIE = 1e-9


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_lo: float
    ci_hi: float
    n: int  # pairs (AUC) or reports (tau) behind the value


def _cluster_index(clusters: np.ndarray) -> tuple[np.ndarray, int]:
    _, inverse = np.unique(clusters, return_inverse=True)
    return inverse, int(inverse.max()) + 1 if inverse.size else 0


def discrimination(
    clusters, groups, clinical, worse, *, n_resamples: int = 1000, seed: int = 12345
) -> Estimate:
    """P(a clinical edit of a report moves the metric worse than a meaning-preserving edit of the same report),
    ties counting 1/2: an AUC over every same-report (clinical, preserving) pair.

    ``groups`` names the report each edit was made of, ``clinical`` says whether it is a clinical edit,
    ``worse`` is its movement, ``clusters`` the unit the bootstrap resamples (e.g. the source reference of
    an original and a derived base). NaN movements are left out.
    """
    clusters, groups = np.asarray(clusters), np.asarray(groups)
    clinical, worse = np.asarray(clinical, dtype=bool), np.asarray(worse, dtype=float)
    ok = ~np.isnan(worse)
    clusters, groups, clinical, worse = clusters[ok], groups[ok], clinical[ok], worse[ok]
    cidx, n_clusters = _cluster_index(clusters)
    wins = np.zeros(n_clusters)
    pairs = np.zeros(n_clusters)
    order = np.argsort(groups, kind="stable")
    bounds = np.flatnonzero(np.r_[True, groups[order][1:] != groups[order][:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        rows = order[a:b]
        c = worse[rows][clinical[rows]]
        p = worse[rows][~clinical[rows]]
        if c.size == 0 or p.size == 0:
            continue
        diff = c[:, None] - p[None, :]
        k = cidx[rows[0]]
        wins[k] += np.sum(diff > TIE) + 0.5 * np.sum(np.abs(diff) <= TIE)
        pairs[k] += diff.size
    total = pairs.sum()
    if total == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    value = float(wins.sum() / total)
    if n_resamples <= 0:
        return Estimate(value, float("nan"), float("nan"), int(total))
    dist = []
    for w in resample_counts(n_clusters, n_resamples, seed):
        den = w @ pairs
        dist.append(np.where(den > 0, (w @ wins) / np.where(den > 0, den, 1), np.nan))
    lo, hi = percentile_ci(np.concatenate(dist))
    return Estimate(value, lo, hi, int(total))


def kendall_tau(x, y, clusters=None, *, n_resamples: int = 1000, seed: int = 12345) -> Estimate:
    """Kendall's tau-b between ``x`` and ``y`` with a percentile bootstrap CI over ``clusters`` (rows by
    default). NaN rows are left out."""
    from scipy.stats import kendalltau

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    clusters = np.arange(x.size) if clusters is None else np.asarray(clusters)
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y, clusters = x[ok], y[ok], clusters[ok]
    if x.size < 2:
        return Estimate(float("nan"), float("nan"), float("nan"), int(x.size))
    y = np.round(y / TIE) * TIE  # float noise is not an order
    value = float(kendalltau(x, y).statistic)
    if n_resamples <= 0:
        return Estimate(value, float("nan"), float("nan"), int(x.size))
    cidx, n_clusters = _cluster_index(clusters)
    members = [np.flatnonzero(cidx == k) for k in range(n_clusters)]
    rng = np.random.default_rng(seed)
    dist = np.empty(n_resamples)
    for b in range(n_resamples):
        rows = np.concatenate([members[k] for k in rng.integers(0, n_clusters, n_clusters)])
        dist[b] = kendalltau(x[rows], y[rows]).statistic
    lo, hi = percentile_ci(dist)
    return Estimate(value, lo, hi, int(x.size))
