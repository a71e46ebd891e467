"""srrbert vs the RadEval package on the IU pairs, same random-weight SRR-BERT and Punkt stand-in.

Prints agreement of the per-study F1/precision/recall and the corpus F1s, and the wall-clock ratio.
Needs ../shared and the RadEval package (REXEVAL_RADEVAL_PATH=folder holding it).
Usage: python benchmarks/bench_srrbert.py [N_PAIRS] [HUB_DIR]
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
if os.environ.get("REXEVAL_RADEVAL_PATH"):
    sys.path.insert(0, os.environ["REXEVAL_RADEVAL_PATH"])

from tests.helpers.peer_models import build_srrbert, punkt_tab_standin  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 590
hub = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp())
nltk_data = punkt_tab_standin(Path(tempfile.mkdtemp()))
os.environ.update(HF_HUB_CACHE=str(hub), HF_HUB_OFFLINE="1", REXEVAL_CACHE="off", NLTK_DATA=str(nltk_data))

from rexeval.metrics.base import Batch  # noqa: E402
from rexeval.metrics.srrbert import SRRBert  # noqa: E402

m = SRRBert(device="cpu")
build_srrbert(hub, len(m.labels))
folder = ROOT.parent / "shared" / "data" / "conformance" / "moerad_iu_test"
preds = pd.read_csv(folder / "preds.csv", dtype=str, keep_default_na=False).report.tolist()[:n]
refs = pd.read_csv(folder / "gts.csv", dtype=str, keep_default_na=False).report.tolist()[:n]

t0 = time.perf_counter()
m.check_available()
cols = m.compute(Batch([str(i) for i in range(n)], preds, refs))
t_ours = time.perf_counter() - t0
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
    json.dump({"preds": preds, "refs": refs}, fh)
t0 = time.perf_counter()
res = subprocess.run([sys.executable, str(ROOT / "tests" / "helpers" / "peer_radeval.py"), "srrbert", fh.name],
                     capture_output=True, text=True, env=os.environ)
t_peer = time.perf_counter() - t0
if res.returncode:
    sys.exit(res.stderr[-3000:])
peer = json.loads(res.stdout.strip().splitlines()[-1])
for key in ("f1", "precision", "recall"):
    d = np.abs(cols[f"srrbert_sample_{key}"] - np.array(peer[f"sample_{key[0] if key != 'f1' else 'f1'}"]))
    print(f"sample {key}: max |diff| {d.max():.3e}, studies differing {(d > 1e-6).sum()} of {n}")
for avg in ("micro", "macro", "weighted"):
    agg = next(o for o in m.outputs() if o.key == f"srrbert_{avg}_f1").aggregate
    ours = agg.value(cols)
    print(f"{avg} F1 ours {ours:.10f} peer {peer['avg'].get(avg + ' avg', float('nan')):.10f}")
per = m.summary_extra(cols)["conditions"]["srrbert"]
diff = [k for k, (f1, sup) in peer["per_label"].items() if abs(per[k]["f1"] - f1) > 1e-12 or per[k]["support"] != sup]
print(f"labels {len(per)}; per-label F1/support differing: {len(diff)}")
print(f"mean positive labels per report (pred) {np.mean([sum(cols[c][i] for c in cols if c.startswith('srrbert_pred.')) for i in range(n)]):.2f}")
print(f"time ours {t_ours:.1f}s peer {t_peer:.1f}s (incl. import+load); ratio peer/ours {t_peer / t_ours:.2f}")
