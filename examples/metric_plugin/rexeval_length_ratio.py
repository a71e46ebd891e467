"""An example third-party rexeval metric: how close the generated report's length is to the reference's.

Per study: ``min(n_pred, n_ref) / max(n_pred, n_ref)`` in words (or characters), 1 when both are empty,
0 when exactly one is. Higher is better, range [0, 1], aggregated as the mean over studies. A study's
value depends only on its own two texts, as the metric contract requires.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rexeval.base.exceptions import ConfigError
from rexeval.metrics import Batch, Metric, Output, mean_of

UNITS = ("words", "chars")


def length(text: str, unit: str) -> int:
    return len(text.split()) if unit == "words" else len(text.strip())


def length_ratio(prediction: str, reference: str, unit: str = "words") -> float:
    n_pred, n_ref = length(prediction, unit), length(reference, unit)
    if n_pred == n_ref:  # both empty included: the lengths agree
        return 1.0
    return min(n_pred, n_ref) / max(n_pred, n_ref)


class ReportLengthRatio(Metric):
    name = "report_length_ratio"
    description = "shorter / longer report length per study (words); 1 = same length"
    default = False  # a plugin runs when named with --metrics, never in the default set

    def __init__(self, unit: str = "words") -> None:
        if unit not in UNITS:
            raise ConfigError(f"report_length_ratio unit must be one of {', '.join(UNITS)}, not {unit!r}")
        self.unit = unit

    def outputs(self) -> list[Output]:
        # direction (higher is better) and range [0, 1] are declared, as every metric must
        return [Output("report_length_ratio", True, (0.0, 1.0), mean_of("report_length_ratio"), self.description)]

    def options(self) -> dict[str, Any]:
        return {"unit": self.unit}  # changes the numbers, so it goes into the signature

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        values = [length_ratio(p, r, self.unit) for p, r in zip(batch.predictions, batch.references)]
        return {"report_length_ratio": np.asarray(values, dtype=float)}
