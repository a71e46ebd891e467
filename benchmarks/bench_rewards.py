"""Reward latency per GRPO batch (8 prompts x 8 generations) for the composite reward, with vs without the
reference cache and de-duplication.

Both arms run the same rexeval.rewards.RewardSuite; the "plain" arm turns the pair de-duplication and the
per-reference cache off (every sample scored on its own, reference side redone per sample, as a
hand-written per-sample TRL reward does). Batches mimic GRPO: each step draws 8 studies from a pool (so
references recur across steps, as in multi-epoch training) and 8 generations per study, some identical
(sampled completions collide, more so as the policy sharpens).

    PYTHONPATH=. python benchmarks/bench_rewards.py [--steps 30] [--model-metric]

``--model-metric`` adds a BERT-sized random-weight encoder similarity (the test metric
tests/rl_helpers.py:TinyEmbedSim, built locally) to stand in for BERTScore-like model metrics.
Texts: IU X-ray findings from ../shared (or the fallback sentences when absent).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared")) / "data"


def texts() -> list[str]:
    tgz = SHARED / "iu_reports" / "NLMCXR_reports.tgz"
    if tgz.exists():
        from trainers.tiny import iu_reports

        return [r["findings"] for r in iu_reports(tgz, limit=400)]
    from trainers.tiny import FALLBACK_REPORTS

    return FALLBACK_REPORTS * 8


def batches(
    pool: list[str], steps: int, prompts: int = 8, gens: int = 8, dup: float = 0.3, seed: int = 0
):
    rng = np.random.default_rng(seed)
    refs_pool = pool[:40]
    for _ in range(steps):
        refs, comps, group = [], [], []
        for p in rng.choice(len(refs_pool), prompts, replace=False):
            distinct = [pool[i] for i in rng.choice(len(pool), gens, replace=False)]
            for g in range(gens):
                comps.append(distinct[0] if (g and rng.random() < dup) else distinct[g])
                refs.append(refs_pool[p])
                group.append(f"prompt{p}")
        yield group, comps, refs


def run(config: dict, steps: int, pool: list[str]) -> tuple[float, list[float]]:
    from rexeval.rewards import RewardSuite

    suite = RewardSuite(config)
    funcs = suite.reward_functions()
    times, last = [], None
    for group, comps, refs in batches(pool, steps):
        t0 = time.perf_counter()
        last = [f(prompts=group, completions=comps, reference=refs) for f in funcs]
        times.append(time.perf_counter() - t0)
    return float(np.mean(times[1:] if len(times) > 1 else times)), last


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--model-metric", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("REXEVAL_CACHE", "off")
    pool = texts()
    components = [{"metric": "bleu"}, {"metric": "bleu4"}, {"metric": "rouge_l"}]
    plugins = {}
    if args.model_metric:
        from tests.helpers.rl import build_tiny_encoder

        tmp = tempfile.mkdtemp()
        os.environ["REXEVAL_TEST_ENCODER"] = build_tiny_encoder(tmp, pool)
        plugins["test_embed"] = "tests.helpers.rl:TinyEmbedSim"
        components.append({"metric": "test_embed"})
    base = {"components": components, "plugins": plugins}
    fast, out_fast = run({**base}, args.steps, pool)
    slow, out_slow = run({**base, "dedupe": False, "reference_cache": False}, args.steps, pool)
    same = all(
        np.allclose(np.array(a, dtype=float), np.array(b, dtype=float), equal_nan=True)
        for a, b in zip(out_fast, out_slow, strict=True)
    )
    names = ", ".join(c["metric"] for c in components)
    print(f"composite reward [{names}], batch 8 prompts x 8 generations, {args.steps} steps")
    print(f"  with reference cache + de-dup : {fast * 1000:8.1f} ms / batch")
    print(f"  without                       : {slow * 1000:8.1f} ms / batch")
    print(f"  ratio (without / with)        : {slow / fast:8.2f}x   identical rewards: {same}")


if __name__ == "__main__":
    main()
