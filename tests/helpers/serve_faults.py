"""A test metric for the reward-service tests (imported by name in the server subprocess): it raises on
a prediction containing FAIL and sleeps N seconds on one containing "SLEEP N", so a metric that raises and a stuck
batch can be provoked on demand; otherwise it is the share of reference words in the prediction."""

from __future__ import annotations

import re
import time

import numpy as np

from rexeval.metrics.base import Batch, Metric, Output, mean_of


class Faulty(Metric):
    name = "test_faulty"
    default = False

    def outputs(self):
        return [Output("test_faulty", True, (0.0, 1.0), mean_of("test_faulty"))]

    def compute(self, batch: Batch):
        naps = [float(m.group(1)) for p in batch.predictions for m in [re.search(r"SLEEP (\d+)", p)] if m]
        if naps:
            time.sleep(max(naps))
        if any("FAIL" in p for p in batch.predictions):
            raise RuntimeError("asked to fail")
        out = []
        for pred, ref in zip(batch.predictions, batch.references, strict=True):
            words = set(ref.lower().split())
            out.append(len(words & set(pred.lower().split())) / max(1, len(words)))
        return {"test_faulty": np.array(out, dtype=float)}
