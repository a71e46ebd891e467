"""Learnability check: GRPO on a tiny random-weight policy with the composite rexeval reward, on CPU.

Trains a tiny Llama (word-level tokenizer trained on the IU reports) on Open-i IU X-ray reports with the
ReXrank IU test/valid studies left out, through the same code path as ``rexeval train-rl``; scores greedy
and sampled generations on held-out studies before and after; writes the reward curve (PNG) and a
results JSON.

    python examples/grpo_iu_learnability.py --steps 300 --out runs/learnability

Needs ../shared/data (IU reports tgz and the ReXrank IU split files).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared")) / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--train", type=int, default=600, help="training studies")
    ap.add_argument(
        "--eval", type=int, default=48, help="held-out studies for greedy/sampled scoring"
    )
    ap.add_argument("--out", default="runs/learnability")
    ap.add_argument(
        "--components", default="bleu,rouge_l", help="reward components (registered metrics)"
    )
    args = ap.parse_args()

    from rexeval.rewards import RewardSuite
    from trainers.config import load_config
    from trainers.data import load_records
    from trainers.generate import evaluate_guards, load_for_generation
    from trainers.grpo import train_rl
    from trainers.tiny import build_tiny_text_model, iu_reports

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    held = set()
    for split in (
        "iu_xray_test.json",
        "iu_xray_valid.json",
    ):  # never train on ReXrank evaluation studies
        held |= {k.split("_")[0] for k in json.loads((SHARED / "rexrank" / split).read_text())}
    reports = iu_reports(SHARED / "iu_reports" / "NLMCXR_reports.tgz", exclude_ids=held)
    train, evald = reports[: args.train], reports[args.train : args.train + args.eval]
    for name, rows in (("train", train), ("eval", evald)):
        with open(out / f"{name}.jsonl", "w") as f:
            for r in rows:
                ctx = " ".join(
                    x
                    for x in (
                        f"Indication: {r.get('indication', '')}",
                        f"Comparison: {r.get('comparison', '')}",
                    )
                    if x
                )
                f.write(
                    json.dumps({"study_id": r["id"], "findings": r["findings"], "context": ctx})
                    + "\n"
                )
    model_dir = build_tiny_text_model(
        out / "policy0", [r["findings"] for r in train], hidden=64, layers=2
    )

    comps = [{"metric": m, "weight": 1.0} for m in args.components.split(",")]
    overrides = [
        f"model.name_or_path={model_dir}",
        f"data.path={out / 'train.jsonl'}",
        "data.system_prompt=''",
        f"output_dir={out / 'grpo'}",
        f"grpo.max_steps={args.steps}",
        "grpo.per_device_train_batch_size=16",
        "grpo.num_generations=8",
        "grpo.max_completion_length=32",
        "grpo.learning_rate=1.0e-3",
        "grpo.lr_scheduler_type=constant",
        "grpo.beta=0.0",
        "grpo.temperature=1.0",
        "grpo.use_cpu=true",
        "grpo.gradient_checkpointing=false",
        "grpo.save_steps=100000",
        'grpo.save_strategy="no"',
        "eval_samples=0",
        f"reward={json.dumps({'components': comps})}",
    ]
    cfg = load_config(None, overrides)
    eval_cfg = load_config(None, overrides + [f"data.path={out / 'eval.jsonl'}"])
    eval_records = load_records(eval_cfg.data)
    suite = RewardSuite(cfg.reward)

    def evaluate(path: Path) -> dict:
        model, proc, vlm = load_for_generation(str(path))
        return evaluate_guards(
            model, proc, eval_records, eval_cfg.data, vlm, suite, max_new_tokens=32, seed=0
        )

    before = evaluate(model_dir)
    t0 = time.time()
    summary = train_rl(cfg)
    minutes = (time.time() - t0) / 60
    after = evaluate(out / "grpo")

    import pandas as pd

    curve = pd.read_csv(out / "grpo" / "reward_curves.csv")
    k = max(1, len(curve) // 10)
    result = {
        "steps": args.steps,
        "train_minutes": round(minutes, 1),
        "train_reward_first10pct": float(curve["reward"].iloc[:k].mean()),
        "train_reward_last10pct": float(curve["reward"].iloc[-k:].mean()),
        "heldout_before": {
            m: {"reward": before[m]["reward_mean"], **before[m]["components"], **before[m]["stats"]}
            for m in before
        },
        "heldout_after": {
            m: {"reward": after[m]["reward_mean"], **after[m]["components"], **after[m]["stats"]}
            for m in after
        },
        "examples_after": {m: after[m]["examples"] for m in after},
        "curve_png": str(out / "grpo" / "reward_curves.png"),
        "reward_failures": summary.get("reward_failures"),
    }
    (out / "learnability.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
