"""``rexeval train-sft``: supervised warm start with TRL's SFTTrainer (GRPO from a cold start collapses)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainers.config import RunConfig, save_prompt_settings
from trainers.defaults import (
    DEVICE_CHOICES,
    default_args,
    peft_config,
    resume_checkpoint,
    trl_args,
)
from trainers.validation import validation_callbacks


def sft_args(cfg: RunConfig) -> dict[str, Any]:
    args = default_args(cfg, save_steps=100)
    args.update({k: cfg.grpo[k] for k in DEVICE_CHOICES if k in cfg.grpo})
    args.update(cfg.sft)
    return args


def check_sft(cfg: RunConfig) -> None:
    """The ``sft`` block as TRL will get it (field types, TRL's own checks), before anything loads."""
    from trl import SFTConfig

    trl_args(SFTConfig, sft_args(cfg), "sft")


def train_sft(cfg: RunConfig) -> dict[str, Any]:
    import torch
    from trl import SFTConfig, SFTTrainer

    from trainers.data import load_records, to_dataset
    from trainers.policy import load_policy

    torch.manual_seed(cfg.seed)
    args = trl_args(SFTConfig, sft_args(cfg), "sft")  # bad values fail before the policy loads
    model, processor, vlm = load_policy(cfg)
    dataset = to_dataset(load_records(cfg.data), cfg.data, vlm, with_completion=True)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        processing_class=processor,
        peft_config=peft_config(cfg),
        callbacks=validation_callbacks(cfg, processor, vlm),
    )
    trainer.train(resume_from_checkpoint=resume_checkpoint(cfg))
    trainer.save_model(cfg.output_dir)
    if trainer.accelerator.is_main_process:
        processor.save_pretrained(cfg.output_dir)
        save_prompt_settings(cfg.data, cfg.output_dir)
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {
        "output_dir": str(Path(cfg.output_dir)),
        "loss_first": losses[0] if losses else None,
        "loss_last": losses[-1] if losses else None,
    }
