"""Per-component reward normalisation: ``none``, ``group`` (z-score within a GRPO group) or ``running``
(z-score against every value seen so far).

One standard deviation everywhere: the sample standard deviation (Bessel's correction, ``ddof=1``).
TRL's GRPOTrainer scales advantages with exactly this estimator (``trl.trainer.utils.nanstd``, which
multiplies the mean squared deviation by n/(n-1)), so a component normalised with ``group`` is on the
same scale TRL's own ``scale_rewards="group"`` would give, and ``group`` and ``running`` agree with each
other on the same values. The population std (``ddof=0``) would make a 4-generation group's z-scores
15% larger than TRL's (sqrt(4/3)).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

NORMALISATIONS = ("none", "group", "running")

#: Degrees of freedom of every standard deviation used here (see the module docstring).
DDOF = 1


def zscores(values: np.ndarray) -> np.ndarray:
    """(v - mean) / std over the non-NaN values (std with ``DDOF``); NaN stays NaN. Fewer than two
    values or no spread: 0 for every valid value (no signal, not a failure)."""
    v = np.asarray(values, dtype=float)
    ok = ~np.isnan(v)
    if ok.sum() <= DDOF:
        return np.where(ok, 0.0, np.nan)
    std = v[ok].std(ddof=DDOF)
    if std == 0:
        return np.where(ok, 0.0, np.nan)
    return (v - v[ok].mean()) / std


def group_zscores(x: np.ndarray, prompts: Sequence[Any], refs: Sequence[str]) -> np.ndarray:
    """z-scores within each GRPO group (same prompt and reference) of this batch."""
    groups: dict[Any, list[int]] = {}
    for i, (p, r) in enumerate(zip(prompts, refs, strict=False)):
        groups.setdefault((repr(p), r), []).append(i)
    out = np.full_like(np.asarray(x, dtype=float), np.nan)
    for idx in groups.values():
        out[idx] = zscores(x[idx])
    return out


class RunningStats:
    """Mean and sample variance of every valid value seen so far (Welford's update)."""

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self._m2 = 0.0

    def update(self, values: np.ndarray) -> None:
        for v in np.asarray(values, dtype=float)[~np.isnan(values)]:
            self.n += 1
            d = v - self.mean
            self.mean += d / self.n
            self._m2 += d * (v - self.mean)

    @property
    def std(self) -> float:
        return float(np.sqrt(self._m2 / (self.n - DDOF))) if self.n > DDOF else 0.0

    def zscores(self, x: np.ndarray) -> np.ndarray:
        """Update with this batch, then standardise it; no spread yet: centred only."""
        self.update(x)
        std = self.std
        return (x - self.mean) / std if std > 0 else x - self.mean
