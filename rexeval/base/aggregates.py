"""The aggregate vocabulary: every reported number is finalize(sum over studies of stats(study)).

``stats`` maps per-study columns to an (n, k) matrix of additive statistics and ``finalize`` maps their
column sums to the value. The bootstrap and the paired randomisation test (``rexeval.stats``) work on
that shape alone, and metrics (``rexeval.metrics``) build their outputs from it; this module sits below
both so that neither has to import the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

Columns = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Aggregate:
    """An aggregate written as finalize(sum over studies of stats(study))."""

    name: str
    stats: Callable[[Columns], np.ndarray]  # -> (n, k)
    finalize: Callable[[np.ndarray], np.ndarray]  # (..., k) -> (...)

    def value(self, columns: Columns) -> float:
        return float(self.finalize(self.stats(columns).sum(axis=0)))


def _valid(x: np.ndarray) -> np.ndarray:
    return ~np.isnan(x)


def mean_of(column: str) -> Aggregate:
    """Mean over studies with a value; NaN (a recorded failure) is left out, never counted as 0."""

    def stats(cols: Columns) -> np.ndarray:
        x = np.asarray(cols[column], dtype=float)
        ok = _valid(x)
        return np.stack([np.where(ok, x, 0.0), ok.astype(float)], axis=1)

    def finalize(s: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return s[..., 0] / s[..., 1]

    return Aggregate("mean", stats, finalize)


def inverse_mean_of(column: str) -> Aggregate:
    """1 / mean(column): ReXrank's 1/RadCliQ-v1 (not the mean of reciprocals)."""
    base = mean_of(column)

    def finalize(s: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return 1.0 / base.finalize(s)

    return Aggregate("1/mean", base.stats, finalize)


def share_of(column: str, predicate: Callable[[np.ndarray], np.ndarray], name: str) -> Aggregate:
    """Share of studies (with a value) whose value satisfies ``predicate``."""

    def stats(cols: Columns) -> np.ndarray:
        x = np.asarray(cols[column], dtype=float)
        ok = _valid(x)
        hit = np.zeros_like(x)
        hit[ok] = predicate(x[ok]).astype(float)
        return np.stack([hit, ok.astype(float)], axis=1)

    def finalize(s: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return s[..., 0] / s[..., 1]

    return Aggregate(name, stats, finalize)
