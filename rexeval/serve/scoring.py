"""One batch of samples in, one result per sample out, through :class:`RewardSuite`'s engine.

A result holds the weighted reward, every component's raw metric value and transformed value, and the
failures with their reasons. The reward is :meth:`RewardSuite.score`'s, the sum TRL forms
in process: the weighted transformed values of the components that scored, in component order; a
component that failed is left out of the sum and listed under ``failures`` with its reason; the reward
is None (``failed``) only when every component failed. Nothing is ever a silent 0.

Because the engine de-duplicates and caches per (completion, reference, extra) and every metric is
batch-invariant (the metric contract), a sample's result does not depend on the other samples in the
batch, which is what lets the service merge concurrent requests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rexeval.rewards import RewardSuite


@dataclass(frozen=True)
class Sample:
    """One (completion, reference) pair; ``extra`` holds scalar dataset columns metrics may read."""

    completion: str
    reference: str
    prompt: str = ""
    id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def failed_result(names: Sequence[str], reason: str) -> dict[str, Any]:
    """A result for a sample that was never scored (time-out, an unreachable service, a crash)."""
    return {
        "reward": None,
        "failed": True,
        "components": {n: {"raw": None, "value": None} for n in names},
        "failures": [{"component": "*", "reason": reason}],
    }


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


class RewardScorer:
    """The reward suite as a pure function of a batch of samples (plus the engine's caches)."""

    def __init__(self, reward_config: Any):
        self.suite = RewardSuite(reward_config)

    @property
    def names(self) -> list[str]:
        return self.suite.names

    def describe(self) -> dict[str, Any]:
        """Component names, weights and the suite's signature (what ``/config`` returns)."""
        from rexeval._version import __version__

        return {
            "components": self.suite.names,
            "weights": self.suite.weights(),
            "signature": self.suite.signature(),
            "version": __version__,
        }

    def score(self, samples: Sequence[Sample]) -> list[dict[str, Any]]:
        """One result per sample, in order, from :meth:`RewardSuite.score` (rewards, components raw and
        transformed, failures with the executor's reasons)."""
        if not samples:
            return []
        cfg = self.suite.config
        keys = sorted({k for s in samples for k in s.extra} - {cfg.reference_column, cfg.id_column})
        columns: dict[str, list[Any]] = {k: [s.extra.get(k) for s in samples] for k in keys}
        if any(s.id is not None for s in samples):
            columns[cfg.id_column] = [s.id if s.id is not None else str(i) for i, s in enumerate(samples)]
        got = self.suite.score([s.completion for s in samples], [s.reference for s in samples],
                               [s.prompt for s in samples], **columns)
        results = []
        for i, reward in enumerate(got.rewards):
            components = {name: {"raw": _number(c.raw[i]), "value": _number(c.value[i])}
                          for name, c in got.components.items()}
            failures = [{"component": f.component, "reason": f.reason} for f in got.failures if f.sample == i]
            results.append({"reward": reward, "failed": reward is None, "components": components,
                            "failures": failures})
        return results
