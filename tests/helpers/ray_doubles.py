"""Metrics for the Ray engine's fault tests: real metrics with one injected fault each.

They live in an importable module (not a test file) because Ray workers unpickle them by reference.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from rexeval.metrics.bertscore import BertScore
from rexeval.metrics.bleu import Bleu2


class BleuFailingOn(Bleu2):
    """BLEU-2 that raises on one study and, optionally, never returns on another."""

    def __init__(self, fail_id: str, hang_id: str | None = None) -> None:
        self.fail_id, self.hang_id = fail_id, hang_id

    def compute(self, batch):
        if self.fail_id in batch.study_ids:
            raise ValueError(f"injected failure on {self.fail_id}")
        if self.hang_id in batch.study_ids:
            time.sleep(3600)
        return super().compute(batch)


class BertScorePausing(BertScore):
    """BERTScore whose first batch (claimed through the file ``arm_dir/arm``) writes its worker's pid to
    ``arm_dir/pid`` and waits, so that the test can kill that worker while it holds the batch."""

    def __init__(self, arm_dir: str, **options) -> None:
        super().__init__(**options)
        self.arm_dir = arm_dir

    def compute(self, batch):
        arm = Path(self.arm_dir)
        try:
            os.rename(arm / "arm", arm / "claimed")  # atomic: only one worker pauses
        except FileNotFoundError:
            return super().compute(batch)
        (arm / "pid.tmp").write_text(str(os.getpid()))
        os.rename(arm / "pid.tmp", arm / "pid")
        time.sleep(120)  # killed here by the test; past this, the test fails on its own timeout
        return super().compute(batch)
