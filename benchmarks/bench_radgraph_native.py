"""Native RadGraph against the radgraph package (0.1.18, side environment) on the same full-size
random-weight archive: CPU time per report and peak memory, printed as ratios.

    python benchmarks/bench_radgraph_native.py --side-python ~/.venvs/radgraph/bin/python [--model radgraph]

Input: 590 DISTINCT IU pairs (each MoERad reference against the reference of the next study, so no
text repeats the way MoERad's 25 predictions do), 1,180 texts, parsed cold (no rexeval cache; both
sides parse every text once). Each side runs in its own process; CPU time is that process's
``process_time`` (all threads) for parsing, model loading reported apart; peak memory is its max RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared"))
PEER = ROOT / "tests" / "peer" / "radgraph_package_annotations.py"

NATIVE = r"""
import json, os, resource, sys, time
from pathlib import Path
os.environ["HF_HUB_OFFLINE"] = "1"
from rexeval.backends.radgraph.archive import unpack
from rexeval.backends.radgraph.model import NativeRadGraph
archive, model_type, texts_file, out, device, dtype = sys.argv[1:7]
texts = json.load(open(texts_file))
t0 = time.process_time(); w0 = time.perf_counter()
model = NativeRadGraph(unpack(Path(archive), Path(out).with_suffix(".unpacked")), model_type, device=device, dtype=dtype)
load = time.process_time() - t0
t0 = time.process_time(); w0 = time.perf_counter()
anns = model.parse(texts)
parse, wall = time.process_time() - t0, time.perf_counter() - w0
json.dump(anns, open(out, "w"))
print(json.dumps({"load_cpu_s": load, "parse_cpu_s": parse, "parse_wall_s": wall,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def pairs(n: int = 590) -> list[str]:
    import pandas as pd

    gts = pd.read_csv(SHARED / "data" / "conformance" / "moerad_iu_test" / "gts.csv", keep_default_na=False)
    refs = list(gts["report"])[:n]
    preds = refs[1:] + refs[:1]
    return preds + refs


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    import radgraph_equality as eq

    ap = argparse.ArgumentParser()
    ap.add_argument("--side-python", required=True)
    ap.add_argument("--model", default="radgraph")
    ap.add_argument("--size", default="full", choices=("full", "small"))
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--pairs", type=int, default=590, help="fewer pairs when CPU time is short (the first N studies)")
    args = ap.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    from rexeval.backends.standins import build_radgraph

    texts = pairs(args.pairs)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        hub = tmp / "hub"
        archive = build_radgraph(hub, args.model, args.size, seed=0, encoder_weights=True)
        (tmp / "texts.json").write_text(json.dumps(texts))
        env = {**os.environ, "HF_HUB_CACHE": str(hub), "PYTHONPATH": str(ROOT)}
        nat = subprocess.run([sys.executable, "-c", NATIVE, str(archive), args.model, str(tmp / "texts.json"),
                              str(tmp / "native.json"), "cpu", args.dtype], capture_output=True, text=True, env=env)
        if nat.returncode:
            sys.exit(nat.stderr[-3000:])
        pkg = subprocess.run([args.side_python, str(PEER), "--hub-cache", str(hub), "--model-type", args.model,
                              "--texts", str(tmp / "texts.json"), "--out", str(tmp / "package.json")],
                             capture_output=True, text=True, env=env)
        if pkg.returncode:
            sys.exit(pkg.stderr[-3000:])
        n = json.loads(nat.stdout.strip().splitlines()[-1])
        p = json.loads(pkg.stdout.strip().splitlines()[-1])
        agree = eq.compare(json.loads((tmp / "native.json").read_text()), json.loads((tmp / "package.json").read_text()))
    per_n, per_p = n["parse_cpu_s"] / len(texts) * 1000, p["parse_cpu_s"] / len(texts) * 1000
    print(f"model {args.model} ({args.size}, random weights), {len(texts)} texts = {len(texts) // 2} distinct pairs, cold, CPU, dtype {args.dtype}")
    print(f"native : parse CPU {per_n:.2f} ms/report (wall {n['parse_wall_s']:.1f} s), load CPU {n['load_cpu_s']:.1f} s, peak RSS {n['maxrss_mb']:.0f} MB")
    print(f"package: parse CPU {per_p:.2f} ms/report, load CPU {p['load_cpu_s']:.1f} s, peak RSS {p['maxrss_mb']:.0f} MB "
          f"(radgraph {p['radgraph']}, transformers {p['transformers']})")
    print(f"ratio package/native: CPU per report {per_p / per_n:.2f}x, peak memory {p['maxrss_mb'] / n['maxrss_mb']:.2f}x")
    print("agreement:", json.dumps(agree))
