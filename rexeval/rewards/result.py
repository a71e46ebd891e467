"""What one reward call returns: per-sample weighted rewards, each component raw and transformed, and
every failure with its reason (:meth:`rexeval.rewards.RewardSuite.score`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RewardFailure:
    """A sample a component gave no reward for: the component, the sample's position, why (one line)."""

    component: str
    sample: int
    reason: str


@dataclass
class ComponentScores:
    """One component over the call's samples: the metric's column and the value TRL receives."""

    name: str
    metric: str
    column: str
    weight: float
    #: The metric's per-sample column, NaN where the metric failed.
    raw: np.ndarray
    #: After the transform and the normalisation; NaN where the component failed (TRL gets None).
    value: np.ndarray


@dataclass
class RewardResult:
    """One reward call. ``rewards[i]`` is the weighted sum of the components that scored sample ``i``
    (TRL's nansum over ``reward_weights``), or None when every component failed on it — never 0 for a
    failure. ``failures`` says which component failed on which sample, and why."""

    rewards: list[float | None]
    components: dict[str, ComponentScores]
    failures: list[RewardFailure] = field(default_factory=list)

    def failed(self, component: str) -> dict[int, str]:
        """Why each sample ``component`` failed on failed, by position."""
        return {f.sample: f.reason for f in self.failures if f.component == component}
