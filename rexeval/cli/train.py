"""``rexeval train-rl``, ``rexeval train-sft``, ``rexeval generate`` and ``rexeval train-data`` (the
``trainers`` application, imported inside the command bodies)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from rexeval.cli._common import user_errors

#: train-rl and train-sft take key=value config overrides after the options
_OVERRIDES = {"allow_extra_args": True, "ignore_unknown_options": False}


def _need_rl() -> None:
    from rexeval.base.exceptions import MetricUnavailable, install_hint

    try:
        import peft  # noqa: F401
        import trl  # noqa: F401
    except ImportError as exc:
        raise MetricUnavailable(
            f"training needs trl and peft ({exc.name} is missing)", install_hint("rl")
        ) from None


def _training_config(ctx: typer.Context, config: Path, overwrite: bool, check_reward: bool = True):
    """The run config with the command line's key=value overrides and its output_dir checked, then the
    trl/peft check: config mistakes surface before torch/TRL load."""
    from trainers.config import check_output_dir, load_config

    cfg = load_config(config, list(ctx.args), check_reward=check_reward)
    check_output_dir(cfg, overwrite)
    _need_rl()
    return cfg


_OVERWRITE = typer.Option(False, "--overwrite", help="Train into a non-empty output_dir (its files with the "
                          "trainer's names, e.g. README.md and config.json, are replaced).")


def register(app: typer.Typer) -> None:
    app.command("train-rl", context_settings=_OVERRIDES)(train_rl_command)
    app.command("train-sft", context_settings=_OVERRIDES)(train_sft_command)
    app.command("generate")(generate_command)
    app.command("train-data")(train_data_command)


@user_errors
def train_rl_command(
    ctx: typer.Context,
    config: Path = typer.Option(
        ..., "--config", "-c", help="Run config (YAML); see trainers/configs/."
    ),
    strict_reward: bool = typer.Option(
        False,
        "--strict-reward",
        help="Stop (exit 2) when the reward-check before step 1 finds hacks the reward pays for.",
    ),
    overwrite: bool = _OVERWRITE,
) -> None:
    """GRPO with rexeval metrics as rewards (TRL GRPOTrainer). Extra arguments are key=value overrides,
    e.g. grpo.max_steps=10 model.name_or_path=/ckpt. Works under `accelerate launch -m rexeval train-rl`.
    Before step 1 the reward is probed with `rexeval reward-check` on `reward_check` (64) training
    references; the hacks it pays for are a warning, an error with --strict-reward."""
    cfg = _training_config(ctx, config, overwrite)
    from trainers.grpo import check_grpo, train_rl

    check_grpo(cfg)  # TRL's arguments, before the reward models and the policy load
    summary = train_rl(cfg, strict_reward=strict_reward)
    if summary:
        typer.echo(
            json.dumps(
                {k: v for k, v in summary.items() if k not in ("eval", "reward", "reward_check")},
                default=str,
            )
        )


@user_errors
def train_sft_command(
    ctx: typer.Context,
    config: Path = typer.Option(
        ..., "--config", "-c", help="Run config (YAML); the `sft` block holds SFTConfig fields."
    ),
    overwrite: bool = _OVERWRITE,
) -> None:
    """Supervised warm start (TRL SFTTrainer) on the references. Extra arguments are key=value overrides."""
    cfg = _training_config(ctx, config, overwrite, check_reward=False)  # SFT uses no reward
    from trainers.sft import check_sft, train_sft

    check_sft(cfg)
    typer.echo(json.dumps(train_sft(cfg), default=str))


@user_errors
def generate_command(
    model: str = typer.Option(
        ..., "--model", help="Checkpoint folder (full model or LoRA adapter) or hub id."
    ),
    data: Path = typer.Option(
        ..., "--data", help="ReXrank-style JSON or CSV/JSONL/Parquet with the studies."
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="Predictions file (study_id, report); a .meta.json is written beside it.",
    ),
    image_root: str | None = typer.Option(
        None, "--image-root", help="Folder the image paths are relative to (VLMs); shared:SUB = SUB under "
        "the shared data folder ($REXEVAL_SHARED/data, else ../shared/data beside the checkout)."
    ),
    prior_column: str | None = typer.Option(
        None, "--prior-column", help="Column with the prior report (longitudinal prompts)."
    ),
    decoding: str = typer.Option("greedy", "--decoding", help="greedy or sampled."),
    temperature: float = typer.Option(1.0, "--temperature"),
    top_p: float = typer.Option(1.0, "--top-p"),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens"),
    batch_size: int = typer.Option(8, "--batch-size"),
    limit: int | None = typer.Option(None, "--limit", help="Only the first N studies."),
    seed: int = typer.Option(0, "--seed"),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="Take prompt settings (data.*) from a run config; default: those saved with the "
        "checkpoint (rexeval_train_config.yaml), else the built-in prompt.",
    ),
) -> None:
    """Write one generated report per study, for `rexeval score` and leaderboards."""
    _need_rl()
    from rexeval.base.exceptions import ConfigError
    from rexeval.tools.hacks import hack_signals
    from trainers.config import (
        DataConfig,
        find_prompt_settings,
        load_config,
        read_prompt_settings,
    )
    from trainers.data import load_records
    from trainers.generate import (
        generate,
        generation_stats,
        load_for_generation,
        write_predictions,
    )

    if decoding not in ("greedy", "sampled"):
        raise ConfigError(f"--decoding must be greedy or sampled, not {decoding!r}")
    saved = None if config else find_prompt_settings(model)
    if config:
        overrides = [f"data.path={data}", "model.name_or_path=x"]
        data_cfg = load_config(config, overrides, check_reward=False).data
        prompt_source = f"--config {config}"
    elif saved is not None:  # the prompt the checkpoint was trained with
        data_cfg = read_prompt_settings(saved, str(data))
        prompt_source = str(saved)
    else:
        data_cfg = DataConfig(path=str(data))
        prompt_source = "built-in defaults"
    data_cfg.path = str(data)
    if image_root is not None:
        data_cfg.image_root = str(image_root)
    if prior_column is not None:
        data_cfg.prior_column = prior_column
    data_cfg.limit = limit
    records = load_records(data_cfg, need_reference=False)
    policy, processor, vlm = load_for_generation(model)
    reports = generate(
        policy,
        processor,
        records,
        data_cfg,
        vlm,
        sample=decoding == "sampled",
        temperature=temperature,
        top_p=top_p,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        seed=seed,
        progress=True,
    )
    stats = generation_stats(reports)
    meta = {
        "name": Path(model).name,
        "model": model,
        "data": str(data),
        "decoding": decoding,
        "temperature": temperature if decoding == "sampled" else None,
        "top_p": top_p if decoding == "sampled" else None,
        "max_new_tokens": max_new_tokens,
        "seed": seed,
        "prompt": {
            "source": prompt_source,
            "system_prompt": data_cfg.system_prompt,
            "instruction": data_cfg.instruction,
            "prior_column": data_cfg.prior_column,
            "max_images": data_cfg.max_images,
            "max_prior_images": data_cfg.max_prior_images,
        },
        "generation_stats": stats,
        "hack_signals": hack_signals(reports),
    }
    write_predictions(out, records, reports, meta)
    typer.echo(json.dumps({"out": str(out), "n": len(reports), **stats}))


@user_errors
def train_data_command(
    source: str = typer.Argument(..., help="mimic-cxr, chexpert-plus or rexgradient."),
    out: Path = typer.Option(..., "--out", "-o", help="The training set to write (ReXrank-style JSON)."),
    reports: Path | None = typer.Option(None, "--reports", help="mimic-cxr: the folder holding files/pXX/."),
    metadata: Path | None = typer.Option(None, "--metadata", help="mimic-cxr: mimic-cxr-2.0.0-metadata.csv."),
    splits: Path | None = typer.Option(None, "--splits", help="mimic-cxr: mimic-cxr-2.0.0-split.csv."),
    table: Path | None = typer.Option(
        None, "--table", help="chexpert-plus: df_chexpert_plus_240401.csv; rexgradient: the metadata JSON/CSV."
    ),
    split: str | None = typer.Option(
        None, "--split", help="Keep only this split, as the source names it (train, validate, valid, test)."
    ),
    image_suffix: str | None = typer.Option(
        None, "--image-suffix", help="Replace the image files' suffix (e.g. .png for CheXpert Plus's PNGs)."
    ),
) -> None:
    """Build data.path for train-sft/train-rl from MIMIC-CXR, CheXpert Plus or ReXGradient-160K files:
    findings, impression, context, images (frontal first) and the patient's prior study (report, films)."""
    from trainers.build_data import build_training_set

    records = build_training_set(source, reports=reports, metadata=metadata, splits=splits, table=table,
                                 split=split, image_suffix=image_suffix)
    if not records:
        from rexeval.base.exceptions import InputError

        raise InputError(f"no studies with findings or an impression{f' in split {split}' if split else ''}",
                         path=str(table or metadata))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    with_prior = sum(1 for r in records.values() if r["prior_report"])
    typer.echo(json.dumps({"out": str(out), "studies": len(records), "with_prior": with_prior}))
