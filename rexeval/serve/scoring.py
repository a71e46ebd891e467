"""One batch of samples in, one result per sample out, through :class:`RewardSuite`'s engine.

A result holds the weighted reward, every component's raw metric value and transformed value, and the
failures with their reasons. The reward is the sum TRL forms in process (:meth:`RewardSuite.composite`):
the weighted transformed values of the components that scored, in component order; a component that
failed is left out of the sum and listed under ``failures``; the reward is None (``failed``) only when
every component failed. Nothing is ever a silent 0.

Because the engine de-duplicates and caches per (completion, reference, extra) and every metric is
batch-invariant (the metric contract), a sample's result does not depend on the other samples in the
batch, which is what lets the service merge concurrent requests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rexeval.rewards import RewardSuite, completion_text


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
        if not samples:
            return []
        texts = [completion_text(s.completion) for s in samples]
        refs = [s.reference for s in samples]
        keys = sorted({k for s in samples for k in s.extra})
        extra = {k: [s.extra.get(k) for s in samples] for k in keys}
        ids = [s.id if s.id is not None else str(i) for i, s in enumerate(samples)]
        cols = self.suite.engine.score_texts(texts, refs, extra, ids)
        values = {}
        for comp in self.suite.components:
            raw = np.asarray(cols[comp.column], dtype=float)
            values[comp.name] = (raw, np.asarray(comp.transform(raw), dtype=float))
        results = []
        for i in range(len(samples)):
            components, failures, got = {}, [], []
            for comp in self.suite.components:
                raw, x = values[comp.name]
                components[comp.name] = {"raw": _number(raw[i]), "value": _number(x[i])}
                if math.isnan(x[i]):
                    failures.append({"component": comp.name, "reason": self._reason(comp, raw[i])})
                else:
                    got.append((float(x[i]), comp.weight))
            for f in failures:
                self.suite.failures[f["component"]] += 1
            # the same expression as RewardSuite.composite, so the sums are bit-identical
            reward = sum(v * w for v, w in got) if got else None
            results.append({"reward": reward, "failed": reward is None, "components": components,
                            "failures": failures})
        return results

    @staticmethod
    def _reason(comp, raw: float) -> str:
        if math.isnan(raw):
            return (f"metric {comp.metric.name!r} gave no value for this sample (it raised, or recorded "
                    "a failure as NaN)")
        return f"the transform {comp.transform.label!r} gave NaN for the raw value {raw!r}"
