"""What SFT and GRPO share when they build their TRL trainers: the run's default arguments, the device
choices SFT takes from the ``grpo`` block, the TRL config check, LoRA and resuming."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainers.config import RunConfig

#: Device and precision choices a config makes once (in ``grpo``) for both trainers; the ``sft`` block
#: still overrides them. Without this the CPU smoke config fails in SFTConfig ("doesn't support bf16/gpu").
DEVICE_CHOICES = ("use_cpu", "bf16", "fp16", "gradient_checkpointing")


def default_args(cfg: RunConfig, save_steps: int) -> dict[str, Any]:
    """The TRL arguments both trainers start from, before their own block overrides them."""
    return {
        "output_dir": cfg.output_dir,
        "seed": cfg.seed,
        "logging_steps": 1,
        "report_to": "none",
        "save_strategy": "steps",
        "save_steps": save_steps,
    }


def trl_args(cls: type, kwargs: dict[str, Any], section: str) -> Any:
    """Build a TRL config dataclass; a bad field or value is a one-line config error."""
    from rexeval.base.exceptions import ConfigError
    from trainers.config import check_values

    kwargs = check_values(cls, kwargs, section)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config section {section!r}: {exc}") from None


def peft_config(cfg: RunConfig) -> Any:
    """peft LoraConfig from the ModelConfig's LoRA fields (TRL's mapping); None without a lora block."""
    from trl import get_peft_config

    return get_peft_config(cfg.model)


def resume_checkpoint(cfg: RunConfig) -> str | bool | None:
    """What ``trainer.train(resume_from_checkpoint=...)`` gets: a path, the last checkpoint, or None."""
    if not cfg.resume:
        return None
    if isinstance(cfg.resume, str) and cfg.resume not in ("true", "latest"):
        return cfg.resume
    from transformers.trainer_utils import get_last_checkpoint

    out = Path(cfg.output_dir)
    return get_last_checkpoint(str(out)) if out.is_dir() else None
