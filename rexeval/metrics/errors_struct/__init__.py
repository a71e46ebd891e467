"""``errors_struct``: an offline, deterministic clinical error counter in the CheXprompt schema (docs/metrics.md §8).

Not an LLM and not a replacement for one: a fast rule-based approximation meant for RL rewards and quick
checks, with keys (``errors_struct_*``) that can never be mistaken for the judge's (``errors_llm_*``).

Two counters: v2 (the default; lexicon.py, findings.py, compare.py, v2.py) reads findings with side, zone,
grade, size, temporal status, certainty, chronicity and devices with their tip position, and counts by the
specification in docs/errors.md; v1 (v1.py, ``ErrorsStruct(counter="v1")`` or ``-O errors_struct.counter=v1``)
is the first release, kept bit-identical. The signature names the counter that ran.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rexeval.metrics.base import Batch, Metric, Output
from rexeval.metrics.error_schema import columns_from_counts, error_outputs
from rexeval.metrics.errors_struct.v2 import (
    COUNTER_VERSION,
    RULES_REVISION,
    StructuredErrorCounterV2,
)

PREFIX = "errors_struct_"
COUNTERS = ("v1", "v2")
StructuredErrorCounter = StructuredErrorCounterV2

__all__ = ["COUNTERS", "COUNTER_VERSION", "ErrorsStruct", "PREFIX", "StructuredErrorCounter", "make_counter"]


def make_counter(counter: str = f"v{COUNTER_VERSION}", labeler: str = "rules"):
    """The counter named ``v1`` or ``v2``."""
    if counter == "v1":
        from rexeval.metrics.errors_struct.v1 import StructuredErrorCounter as V1

        return V1(labeler)
    if counter == "v2":
        return StructuredErrorCounterV2(labeler)
    from rexeval.base.exceptions import ConfigError

    raise ConfigError(f"errors_struct: counter must be one of {', '.join(COUNTERS)}, not {counter!r}")


class ErrorsStruct(Metric):
    name = "errors_struct"
    default = True
    description = "offline rule-based clinical error counts in the CheXprompt schema (not an LLM judge)"

    def __init__(self, labeler: str = "rules", per_type: bool = False, counter: str = f"v{COUNTER_VERSION}") -> None:
        if counter not in COUNTERS:
            from rexeval.base.exceptions import ConfigError

            raise ConfigError(f"errors_struct: counter must be one of {', '.join(COUNTERS)}, not {counter!r}")
        self.labeler = labeler
        #: Also summarise the 12 per-type means (per_study.csv always has the 12 counts).
        self.per_type = per_type
        self.counter_version = counter
        self._counter = None

    def counter(self):
        if self._counter is None:
            self._counter = make_counter(self.counter_version, self.labeler)
        return self._counter

    def outputs(self) -> list[Output]:
        return error_outputs(PREFIX, "structured counter", per_type=self.per_type)

    def options(self) -> dict[str, Any]:
        rules = {"rules": RULES_REVISION} if self.counter_version == "v2" else {}  # v1 is kept as it was
        return {"counter": self.counter_version, **rules, "labeler": self.labeler}

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        counter = self.counter()
        counts = np.empty((len(batch), 12))
        step = max(1, len(batch) // 100)
        for i, (ref, cand) in enumerate(zip(batch.references, batch.predictions)):
            counts[i] = counter.count(ref, cand)
            if batch.progress and (i + 1) % step == 0:
                batch.progress(step)
        if batch.progress and len(batch) % step:
            batch.progress(len(batch) % step)
        return columns_from_counts(PREFIX, counts)
