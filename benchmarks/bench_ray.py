"""Time `--engine ray` (1 and 2 workers) against the local engine on 590 distinct IU pairs.

Data: the retrieval baseline's predictions for the 590 ReXrank IU-Xray test studies (each copies the
findings of its nearest IU training report by TF-IDF) against their references; the 51 pairs that repeat an earlier one take another study's retrieved report,
so all 590 pairs are distinct and caches do not do the work (unlike the MoERad set's 25 repeated predictions). Caches are off
(REXEVAL_CACHE=off) in every run.

Metrics: the lexical/rule set (bleu, rouge_l, errors_struct, rules_f1) and, with --models, random-weight
encoders in the real architectures built by tests/model_fixtures.py and tests/chexbert_fixtures.py
(BERTScore on distilroberta-base, SembScore on full-size CheXbert). Every Ray run must give the local
run's per-study values exactly; the script checks it.

Prints seconds per engine, the ratios (local time / Ray time: > 1 means Ray is faster) and Ray's own
overhead on a small run (20 studies of BLEU: Ray start, worker start, round trips).

    PYTHONPATH=. python benchmarks/bench_ray.py [--models] [--n 590] [--workdir /tmp/rexeval-bench-ray]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def retrieval_pairs(n: int):
    import pandas as pd

    from baselines import load_iu_reports, run_baseline

    shared = Path(os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared")) / "data"
    test = shared / "rexrank" / "iu_xray_test.json"
    run = run_baseline("retrieval", test, load_iu_reports(shared / "iu_reports" / "NLMCXR_reports.tgz"))
    preds = run.predictions.iloc[:n].reset_index(drop=True)
    from rexeval.base.align import load_pairs

    pairs = load_pairs(preds, str(test), track="findings", allow_missing=True)
    # Normal reports repeat, so 51 of the 590 (retrieved, reference) pairs repeat an earlier one: a repeat
    # takes the retrieved report of the next study whose pairing with this reference is new, so that
    # every pair is distinct and no cache or de-duplication does the work.
    n_studies = len(pairs.study_ids)
    seen: set[tuple[str, str]] = set()
    chosen = []
    for i, ref in enumerate(pairs.references):
        for k in range(n_studies):
            pred = pairs.predictions[(i + k) % n_studies]
            if (pred, ref) not in seen:
                break
        seen.add((pred, ref))
        chosen.append(pred)
    frame = pd.DataFrame({"study_id": list(pairs.study_ids), "prediction": chosen, "reference": list(pairs.references)})
    pairs = load_pairs(frame)
    distinct = len(set(zip(pairs.predictions, pairs.references)))
    return pairs, distinct, pd


def timed_score(pairs, names, options, engine=None):
    from rexeval.metrics import resolve_metrics
    from rexeval.run.scoring import score_pairs

    metrics = resolve_metrics(names, options)
    t0 = time.perf_counter()
    result = score_pairs(pairs, metrics, n_resamples=1000, progress=False, engine=engine)
    return time.perf_counter() - t0, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=590)
    ap.add_argument("--models", action="store_true", help="add random-weight BERTScore and SembScore")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--workdir", default="/tmp/rexeval-bench-ray")
    args = ap.parse_args()

    os.environ["REXEVAL_CACHE"] = "off"
    names = ["bleu", "rouge_l", "errors_struct", "rules_f1"]
    options: dict = {}
    if args.models:
        from tests.helpers.chexbert_fixtures import build_chexbert
        from tests.helpers.model_fixtures import build_distilroberta

        hub = Path(args.workdir) / "hub"
        build_distilroberta(hub)
        build_chexbert(hub, seed=1)
        os.environ.update(HF_HUB_CACHE=str(hub), HF_HUB_OFFLINE="1")
        names += ["bertscore", "semb_score"]
        options = {"bertscore": {"device": "cpu"}, "semb_score": {"device": "cpu"}}

    import ray

    from rexeval.engines.ray import RayEngine, RayOptions

    os.environ.setdefault("RAY_worker_niceness", "0")  # Ray's default nice 15 would handicap it against the local run

    pairs, distinct, pd = retrieval_pairs(args.n)
    print(f"{len(pairs)} studies, {distinct} distinct (prediction, reference) pairs; metrics: {', '.join(names)}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    t_local, local = timed_score(pairs, names, options)
    print(f"local engine: {t_local:.2f} s")

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    times = {}
    try:
        for workers in (1, 2):
            with RayEngine(RayOptions(workers=workers, batch_size=args.batch_size, ship_sys_path=True)) as engine:
                t, res = timed_score(pairs, names, options, engine)
            times[workers] = t
            pd.testing.assert_frame_equal(res.per_study, local.per_study, check_exact=True)
            print(f"ray, {workers} worker(s): {t:.2f} s   local/ray = {t_local / t:.2f}   (values identical)")
        small = pairs.subset(list(range(20)))
        t_small_local, _ = timed_score(small, ["bleu"], {})
        with RayEngine(RayOptions(workers=1, batch_size=args.batch_size, ship_sys_path=True)) as engine:
            t_small_ray, _ = timed_score(small, ["bleu"], {}, engine)
    finally:
        ray.shutdown()
    print(f"ray overhead, 20 studies of bleu: ray {t_small_ray:.2f} s vs local {t_small_local:.3f} s "
          f"(+{t_small_ray - t_small_local:.2f} s)")
    print(f"2 workers vs 1: {times[1] / times[2]:.2f}x")
    t0 = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    t_init = time.perf_counter() - t0
    ray.shutdown()
    print(f"starting a local Ray: {t_init:.2f} s (not included above: the engine joined a running Ray)")


if __name__ == "__main__":
    main()
