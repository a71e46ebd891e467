"""radeval_bertscore vs the RadEval package on the 590 IU pairs, same random-weight RadEvalModernBERT.

Prints per-study agreement (max |diff|, count over 1e-6) and the wall-clock ratio.
Needs ../shared and the RadEval package (REXEVAL_RADEVAL_PATH=folder holding it, e.g. a pip --target).
Usage: python benchmarks/bench_radeval_bertscore.py [N_PAIRS] [HUB_DIR]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from tests.helpers.peer_models import build_radeval_modernbert  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 590
hub = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp())
snap = build_radeval_modernbert(hub)
os.environ.update(HF_HUB_CACHE=str(hub), HF_HUB_OFFLINE="1", REXEVAL_CACHE="off")
folder = ROOT.parent / "shared" / "data" / "conformance" / "moerad_iu_test"
preds = pd.read_csv(folder / "preds.csv", dtype=str, keep_default_na=False).report.tolist()[:n]
refs = pd.read_csv(folder / "gts.csv", dtype=str, keep_default_na=False).report.tolist()[:n]

from rexeval.metrics.radeval_bertscore import RadEvalBertScore  # noqa: E402

t0 = time.perf_counter()
m = RadEvalBertScore(device="cpu")
ours = m.score_pairs(preds, refs)
t_ours = time.perf_counter() - t0
print(f"ours done in {t_ours:.1f}s", flush=True)

with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
    json.dump({"model": str(snap), "preds": preds, "refs": refs, "n_alone": 0}, fh)
t0 = time.perf_counter()
res = subprocess.run([sys.executable, str(ROOT / "tests" / "helpers" / "peer_radeval.py"), "bertscore", fh.name],
                     capture_output=True, text=True, check=True)
t_peer = time.perf_counter() - t0
peer = json.loads(res.stdout.strip().splitlines()[-1])
ids_equal = sum(m.encode(t) == i for t, i in zip(preds + refs, peer["ids"]))
d = np.abs(ours["radeval_bertscore"] - np.array(peer["f"]))
dp = np.abs(ours["radeval_bertscore_p"] - np.array(peer["p"]))
print(f"pairs {len(preds)}; token ids equal {ids_equal}/{2 * len(preds)}")
print(f"F: max |diff| {d.max():.3e}, studies over 1e-6: {(d > 1e-6).sum()}; P: max |diff| {dp.max():.3e}")
print(f"mean F ours {ours['radeval_bertscore'].mean():.8f} peer {np.mean(peer['f']):.8f}")
print(f"time ours {t_ours:.1f}s (incl. load) peer {t_peer:.1f}s (incl. import+load); ratio peer/ours {t_peer / t_ours:.2f}")
