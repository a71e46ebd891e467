"""A run writer killed while writing leaves a marked ``.NAME.tmp-*`` folder; the next writer of that run
removes it, and never a folder that is not rexeval's or whose owner is still running."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pandas as pd

from tests.helpers.cli import run_cli
from tests.helpers.paths import ROOT

_CRASH = """
import os, sys
from rexeval.run.runs import RunDirWriter, ScoreResult
from rexeval.run.scoring import score

def crash(self, folder):
    (folder / "per_study.csv").write_text("half")
    os._exit(3)  # killed mid-write: no except, no finally, no atexit

ScoreResult.write_files = crash
result = score(sys.argv[1], metrics=["bleu"], n_resamples=0, progress=False)
with RunDirWriter(sys.argv[2]) as writer:
    writer.write(result)
"""


def test_a_crashed_writers_tmp_folder_is_removed_by_the_next_run(tmp_path):
    pairs = tmp_path / "pairs.csv"
    pd.DataFrame({"study_id": ["a", "b"], "prediction": ["x y", "z"], "reference": ["x", "z w"]}).to_csv(pairs, index=False)
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    crashed = subprocess.run([sys.executable, "-c", _CRASH, str(pairs), str(out)], env=env,
                             capture_output=True, text=True, timeout=300)
    assert crashed.returncode == 3, crashed.stderr
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".run.tmp-")]
    assert len(left) == 1 and (left[0] / "per_study.csv").read_text() == "half"
    # folders with the same prefix that are not a dead rexeval writer's: kept
    mine = tmp_path / ".run.tmp-mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("t")
    live = tmp_path / ".run.tmp-live"
    live.mkdir()
    (live / ".rexeval-owner").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                                    "created": time.time()}))
    proc = run_cli("score", pairs, "-m", "bleu", "--bootstrap", "0", "--no-progress", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert not left[0].exists()
    assert (mine / "thesis.tex").read_text() == "t" and live.is_dir()
    assert (out / "summary.json").is_file() and not (out / ".rexeval-owner").exists()
