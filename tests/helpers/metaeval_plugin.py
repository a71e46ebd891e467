"""A test metric for meta-eval's reward-config path (imported by name in a subprocess, so no test imports)."""

from __future__ import annotations

import math

import numpy as np

from rexeval.metrics.base import Batch, Metric, Output, mean_of


class WordCount(Metric):
    """Words in the prediction."""

    name = "word_count_test"
    default = False

    def outputs(self):
        return [Output("word_count_test", True, (0.0, math.inf), mean_of("word_count_test"))]

    def compute(self, batch: Batch):
        return {"word_count_test": np.array([len(p.split()) for p in batch.predictions], dtype=float)}
