"""Time rexeval's model metrics against a straightforward per-study loop over the peer packages.

Data: the 590 MoERad IU-Xray test pairs (../shared/data/conformance/moerad_iu_test). Weights: random,
in the real architectures, built by tests/model_fixtures.py (no real weights can be downloaded here):
distilroberta-base for BERTScore; a small-encoder DyGIE archive for RadGraph.

* BERTScore: rexeval ``BertScore`` (de-duplication, length bucketing, reference-embedding disk cache)
  vs ``bert_score.BERTScorer(...).score([pred], [ref])`` called once per study. Both cold (empty
  cache); rexeval also warm (references cached, as when re-scoring a benchmark).
* RadGraph (when a side environment with radgraph + transformers<5 is given by $REXEVAL_RADGRAPH_PYTHON,
  or the package runs in process): rexeval ``RadGraph`` vs ``radgraph.F1RadGraph(reward_level="all")``
  called once per study, on the same archive; the reward levels must agree exactly.

Prints the per-metric times and the speed ratios (peer time / rexeval time).

    PYTHONPATH=. python benchmarks/bench_model_metrics.py [--n 590] [--workdir /tmp/rexeval-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PEER_RADGRAPH = r"""
import json, sys, time, contextlib, io
args = json.loads(sys.stdin.read())
out = sys.stdout; sys.stdout = sys.stderr
from radgraph import F1RadGraph
t0 = time.perf_counter()
f1 = F1RadGraph(reward_level="all", model_type=args["model"], model_cache_dir=args["cache"], cuda=-1)
load = time.perf_counter() - t0
levels = []
t0 = time.perf_counter()
for h, r in zip(args["preds"], args["refs"]):
    _, rewards, _, _ = f1(hyps=[h], refs=[r])
    levels.append([rewards[0][0], rewards[1][0], rewards[2][0]])
loop = time.perf_counter() - t0
out.write(json.dumps({"load_s": load, "loop_s": loop, "levels": levels}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=590)
    ap.add_argument("--workdir", default="/tmp/rexeval-bench")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--skip-radgraph", action="store_true")
    ap.add_argument("--skip-bertscore", action="store_true")
    args = ap.parse_args()

    import pandas as pd

    from tests.helpers.model_fixtures import SHARED, build_distilroberta

    work = Path(args.workdir)
    hub = work / "hub"
    os.environ["HF_HUB_CACHE"] = str(hub)
    os.environ["HF_HUB_OFFLINE"] = "1"
    folder = SHARED / "data" / "conformance" / "moerad_iu_test"
    preds = pd.read_csv(folder / "preds.csv", dtype=str, keep_default_na=False).report.tolist()[: args.n]
    refs = pd.read_csv(folder / "gts.csv", dtype=str, keep_default_na=False).report.tolist()[: args.n]
    print(f"{len(preds)} IU pairs; {len(set(preds))} distinct predictions, {len(set(refs))} distinct references")
    snap = build_distilroberta(hub)

    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")

    result: dict = {}
    if not args.skip_bertscore:
        result["bertscore"] = bench_bertscore(args, work, snap, preds, refs)
    if not args.skip_radgraph:
        rg = bench_radgraph(args, work, preds, refs)
        if rg:
            result["radgraph"] = rg
    print("\n" + json.dumps(result))


def bench_bertscore(args, work, snap, preds, refs) -> dict:
    import numpy as np

    from rexeval.metrics.bertscore import BertScore

    cache = work / "rxcache"
    shutil.rmtree(cache, ignore_errors=True)
    os.environ["REXEVAL_CACHE"] = str(cache)
    m = BertScore(device=args.device)
    m.check_available()
    t0 = time.perf_counter()
    m._load()
    rx_load = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    ours = m.score_pairs(preds, refs)
    rx_cold, rx_cold_cpu = time.perf_counter() - t0, time.process_time() - c0
    m2 = BertScore(device=args.device)
    m2._load()
    t0, c0 = time.perf_counter(), time.process_time()
    warm = m2.score_pairs(preds, refs)
    rx_warm, rx_warm_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert np.array_equal(ours["bertscore"], warm["bertscore"])

    import bert_score

    baseline = Path(bert_score.__file__).parent / "rescale_baseline" / "en" / "distilroberta-base.tsv"
    t0 = time.perf_counter()
    scorer = bert_score.BERTScorer(model_type=str(snap), num_layers=5, rescale_with_baseline=True, idf=False,
                                   lang="en", baseline_path=str(baseline), device=args.device)
    peer_load = time.perf_counter() - t0
    nonempty = [i for i, p in enumerate(preds) if p.strip() and refs[i].strip()]  # bert_score crashes on "" under transformers 5
    t0, c0 = time.perf_counter(), time.process_time()
    peer_f = np.full(len(preds), np.nan)
    for i in nonempty:
        _, _, f = scorer.score([preds[i]], [refs[i]])
        peer_f[i] = float(f[0])
    peer_loop, peer_cpu = time.perf_counter() - t0, time.process_time() - c0
    diff = np.nanmax(np.abs(peer_f - ours["bertscore"]))
    print("\nBERTScore (distilroberta-base L5, random weights)")
    print(f"  model load: rexeval {rx_load:.2f}s, bert_score {peer_load:.2f}s")
    print("  (wall / CPU seconds; CPU time is the fairer figure on a shared machine)")
    print(f"  bert_score per-study loop:  {peer_loop:.2f}s / {peer_cpu:.2f}s ({len(nonempty)} studies)")
    print(f"  rexeval cold cache:         {rx_cold:.2f}s / {rx_cold_cpu:.2f}s -> speed ratio "
          f"{peer_loop / rx_cold:.1f}x wall, {peer_cpu / rx_cold_cpu:.1f}x CPU")
    print(f"  rexeval warm (refs cached): {rx_warm:.2f}s / {rx_warm_cpu:.2f}s -> speed ratio "
          f"{peer_loop / rx_warm:.1f}x wall, {peer_cpu / rx_warm_cpu:.1f}x CPU")
    print(f"  max |rexeval - bert_score| per study: {diff:.2e}")
    return {"peer_loop_s": peer_loop, "rexeval_cold_s": rx_cold, "rexeval_warm_s": rx_warm,
            "ratio_cold": peer_loop / rx_cold, "ratio_warm": peer_loop / rx_warm,
            "ratio_cold_cpu": peer_cpu / rx_cold_cpu, "ratio_warm_cpu": peer_cpu / rx_warm_cpu,
            "max_abs_diff": float(diff)}


def bench_radgraph(args, work, preds, refs) -> dict | None:
    import numpy as np

    from rexeval.base.exceptions import MetricUnavailable
    from rexeval.metrics.base import Batch
    from rexeval.metrics.radgraph import RadGraph, _unpacked, parser_mode

    try:
        mode, exe = parser_mode()
    except MetricUnavailable as exc:
        print(f"\nRadGraph: skipped ({exc})")
        return None
    # The archive builder needs the radgraph package to run: build it with the parser's Python.
    folder = work / "radgraph"
    code = "import sys; from pathlib import Path; from tests.helpers.model_fixtures import build_radgraph_archive; build_radgraph_archive(Path(sys.argv[1]))"
    res = subprocess.run([exe or sys.executable, "-c", code, str(folder)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if res.returncode != 0:
        raise SystemExit(res.stderr[-3000:])
    archive = folder / "radgraph.tar.gz"
    os.environ["REXEVAL_RADGRAPH_DIR"] = str(folder)
    shutil.rmtree(work / "rxcache-rg", ignore_errors=True)
    os.environ["REXEVAL_CACHE"] = str(work / "rxcache-rg")
    rg = RadGraph(device=args.device)
    rg.check_available()
    t0 = time.perf_counter()
    cols = rg.compute(Batch([str(i) for i in range(len(preds))], preds, refs))
    rx_rg = time.perf_counter() - t0
    payload = json.dumps({"model": "radgraph", "cache": str(_unpacked(archive, "radgraph")),
                          "preds": preds, "refs": refs})
    res = subprocess.run([exe or sys.executable, "-c", PEER_RADGRAPH], input=payload,
                         capture_output=True, text=True, env={**os.environ})
    if res.returncode != 0:
        raise SystemExit(res.stderr[-3000:])
    peer = json.loads(res.stdout)
    lv = np.array(peer["levels"])
    same = all(np.array_equal(lv[:, k], cols[c]) for k, c in
               enumerate(("radgraph_simple", "radgraph_partial", "radgraph_complete")))
    print("\nRadGraph (random-weight DyGIE archive, model_type radgraph)")
    print(f"  F1RadGraph per-study loop: {peer['loop_s']:.2f}s (+{peer['load_s']:.1f}s load)")
    print(f"  rexeval (cold, incl. worker start + load): {rx_rg:.2f}s -> speed ratio {peer['loop_s'] / rx_rg:.1f}x")
    print(f"  reward levels identical per study: {same}")
    return {"peer_loop_s": peer["loop_s"], "rexeval_s": rx_rg,
            "ratio": peer["loop_s"] / rx_rg, "levels_identical": bool(same)}


if __name__ == "__main__":
    main()
