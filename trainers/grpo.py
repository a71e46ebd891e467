"""``rexeval train-rl``: TRL's GRPOTrainer with rexeval rewards (composed from the run config)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from trainers.config import RunConfig, save_prompt_settings
from trainers.defaults import default_args, peft_config, resume_checkpoint, trl_args
from trainers.validation import validation_callbacks


def _vllm(args: dict[str, Any]) -> None:
    """``use_vllm: auto`` → on when vLLM is installed and a GPU is present."""
    if args.get("use_vllm") == "auto":
        import torch

        args["use_vllm"] = (
            importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()
        )


def grpo_args(cfg: RunConfig, weights: list[float]) -> dict[str, Any]:
    args = default_args(cfg, save_steps=50)
    args["use_vllm"] = "auto"
    args.update(cfg.grpo)
    if "reward_weights" in cfg.grpo:
        from rexeval.base.exceptions import ConfigError

        raise ConfigError(
            "set reward weights per component (reward.components[].weight), not grpo.reward_weights"
        )
    args["reward_weights"] = weights
    _vllm(args)
    return args


def reward_precheck(
    cfg: RunConfig, suite: Any, records: list[dict[str, Any]], strict: bool = False
) -> dict[str, Any] | None:
    """`rexeval reward-check` on a seeded sample of the training references (``cfg.reward_check`` of
    them): the hacks the reward pays for are printed as a warning, or stop the run when ``strict``."""
    if cfg.reward_check <= 0:
        return None
    import sys

    from rexeval.base.exceptions import ConfigError
    from rexeval.tools.hacks import Study
    from rexeval.tools.reward_check import run_reward_check, sample_studies

    studies = [
        Study(r["study_id"], r["reference"], r.get("prior", ""), r.get("indication", ""))
        for r in records
    ]
    studies = sample_studies(studies, cfg.reward_check, cfg.seed)
    # the probe's texts are not training samples: keep them out of the suite's training counters
    counters = (dict(suite.pairs_scored), dict(suite.reference_states_computed))
    result = run_reward_check(suite, studies, seed=cfg.seed, n_resamples=200)
    suite.pairs_scored.update(counters[0])
    suite.reference_states_computed.update(counters[1])
    paid = result.paid()
    if paid and strict:
        raise ConfigError(f"{result.summary_line()}; --strict-reward stops the run before step 1")
    if paid:
        print(f"warning: {result.summary_line()}", file=sys.stderr)
        for line in result.verdicts():
            if line.split(":")[0] in paid:
                print(f"  {line}", file=sys.stderr)
    return {"paid_for": paid, "verdicts": result.verdicts(), "n_references": len(studies)}


def check_grpo(cfg: RunConfig) -> None:
    """The ``grpo`` block as TRL will get it (field types, TRL's own checks), before anything loads."""
    from trl import GRPOConfig

    from rexeval.rewards.config import RewardConfig

    weights = [float(c.weight) for c in RewardConfig.from_dict(cfg.reward).components]
    trl_args(GRPOConfig, grpo_args(cfg, weights), "grpo")


def train_rl(cfg: RunConfig, strict_reward: bool = False) -> dict[str, Any]:
    import torch
    from trl import GRPOConfig, GRPOTrainer

    from rexeval.rewards import RewardSuite
    from trainers.data import load_records, to_dataset
    from trainers.generate import evaluate_guards
    from trainers.policy import load_policy

    torch.manual_seed(cfg.seed)
    suite = RewardSuite(cfg.reward)  # a missing metric model stops the run before the policy loads
    args = trl_args(GRPOConfig, grpo_args(cfg, suite.weights()), "grpo")  # bad values, before the policy
    records = load_records(cfg.data)
    precheck = reward_precheck(cfg, suite, records, strict_reward)
    say_fallbacks(suite)
    model, processor, vlm = load_policy(cfg)
    dataset = to_dataset(records, cfg.data, vlm)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=suite.reward_functions(),
        args=args,
        train_dataset=dataset,
        processing_class=processor,
        peft_config=peft_config(cfg),
        callbacks=validation_callbacks(cfg, processor, vlm),
    )
    trainer.train(resume_from_checkpoint=resume_checkpoint(cfg))
    out = Path(cfg.output_dir)
    trainer.save_model(str(out))
    summary: dict[str, Any] = {}
    if trainer.accelerator.is_main_process:
        processor.save_pretrained(str(out))
        save_prompt_settings(cfg.data, out)
        summary = write_curves(trainer.state.log_history, out, suite.names)
        summary["reward"] = suite.signature()
        summary["reward_check"] = precheck
        if cfg.validation is not None:
            summary["validation"] = str(out / "validation" / "curves.csv")
        summary["reward_failures"] = dict(suite.failures)
        summary["reference_states_computed"] = dict(suite.reference_states_computed)
        summary["pairs_scored"] = dict(suite.pairs_scored)
        summary["samples_scored"] = suite.samples_seen
        if cfg.eval_samples:
            policy = trainer.model
            summary["eval"] = evaluate_guards(
                policy,
                processor,
                records[: cfg.eval_samples],
                cfg.data,
                vlm,
                suite,
                max_new_tokens=args.max_completion_length or 128,
                temperature=args.temperature,
                seed=cfg.seed,
            )
        (out / "train_summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def say_fallbacks(suite: Any) -> None:
    """One stderr line per reward component that runs its fallback (e.g. no LLM endpoint configured)."""
    import sys

    for name, choice in suite.fallbacks.items():
        if choice["used"] != choice["wanted"]:
            print(f"reward component {name}: {choice['wanted']} cannot run here ({choice['reason']}); "
                  f"using {choice['used']}", file=sys.stderr)


def write_curves(log_history: list[dict[str, Any]], out: Path, names: list[str]) -> dict[str, Any]:
    """Reward curves (one column per component + the total) to CSV and PNG."""
    import pandas as pd

    rows = [h for h in log_history if "reward" in h]
    if not rows:
        return {"curves": None}
    frame = pd.DataFrame(rows)
    keep = ["step", "reward", "reward_std"] + [
        c for c in frame.columns if c.startswith(("rewards/", "rewards_raw/", "rewards_failed/"))
    ]
    keep += [c for c in ("completions/mean_length", "kl", "loss") if c in frame.columns]
    frame = frame[[c for c in keep if c in frame.columns]]
    frame.to_csv(out / "reward_curves.csv", index=False)
    plot_curves(frame, out / "reward_curves.png", names)
    return {
        "curves": str(out / "reward_curves.csv"),
        "steps": int(frame["step"].max()),
        "reward_first": float(frame["reward"].iloc[0]),
        "reward_last": float(frame["reward"].iloc[-1]),
    }


def plot_curves(frame: Any, path: Path, names: list[str], window: int = 10) -> None:
    """The total reward and each component per step: raw (faint) and a rolling mean over ``window`` steps."""
    import matplotlib

    from rexeval.base.display import display_name

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = ["reward"] + [f"rewards/{n}/mean" for n in names if f"rewards/{n}/mean" in frame.columns]
    fig, axes = plt.subplots(1, len(cols), figsize=(4 * len(cols), 3.2), squeeze=False)
    for ax, col in zip(axes[0], cols, strict=True):
        ax.plot(frame["step"], frame[col], alpha=0.35, lw=1)
        ax.plot(frame["step"], frame[col].rolling(window, min_periods=1).mean(), lw=2)
        ax.set_title("total reward (weighted)" if col == "reward" else display_name(col.split("/")[1]))
        ax.set_xlabel("step")
        ax.set_ylabel("reward" if ax is axes[0][0] else "")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
