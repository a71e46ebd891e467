"""Hand-made rewards for the reward-check tests, each with a known answer to some hack (registered as
plugins through the reward config)."""

from __future__ import annotations

import re

import numpy as np

from rexeval.metrics.base import Batch, Metric, Output, mean_of


class _One(Metric):
    default = False
    key = ""
    higher = True
    value_range = (0.0, 1.0)

    def outputs(self):
        return [Output(self.key, self.higher, self.value_range, mean_of(self.key))]

    def value(self, prediction: str, reference: str) -> float:
        raise NotImplementedError

    def compute(self, batch: Batch):
        return {self.key: np.array([self.value(p, r) for p, r in zip(batch.predictions, batch.references, strict=True)])}


class Constant(_One):
    """Cannot tell any report from any other."""

    name, key = "test_constant", "test_constant"

    def value(self, prediction, reference):
        return 0.5


class Length(_One):
    """Pays for length: the prediction's whitespace-separated tokens."""

    name, key = "test_length", "test_length"
    value_range = (0.0, float("inf"))

    def value(self, prediction, reference):
        return float(len(prediction.split()))


class HedgeFree(_One):
    """1 for a prediction without hedging, 0 with (written for this test)."""

    name, key = "test_hedge_free", "test_hedge_free"
    _hedge = re.compile(r"\b(possible|questionable|may represent|cannot be excluded|not excluded)\b", re.I)

    def value(self, prediction, reference):
        return 0.0 if self._hedge.search(prediction) else 1.0


class SideMatch(_One):
    """1 when the prediction names the same sides as the reference."""

    name, key = "test_sides", "test_sides"
    _side = re.compile(r"\b(right|left|bilateral)\b", re.I)

    def value(self, prediction, reference):
        sides = {m.lower() for m in self._side.findall(prediction)}
        return float(sides == {m.lower() for m in self._side.findall(reference)})


class NoFalseStability(_One):
    """0 when the prediction calls something stable or unchanged and the reference does not."""

    name, key = "test_no_false_stable", "test_no_false_stable"
    _stable = re.compile(r"\b(stable|unchanged)\b", re.I)

    def value(self, prediction, reference):
        return 0.0 if self._stable.search(prediction) and not self._stable.search(reference) else 1.0
