"""Run configuration for ``rexeval train-rl`` / ``train-sft``: YAML + ``key=value`` overrides → dataclasses.

Composed, not inherited: ``RunConfig`` holds a ``ModelConfig``, a ``DataConfig``, an optional LoRA
block, the reward block (passed to :class:`rexeval.rewards.RewardSuite`) and the TRL arguments (``grpo`` /
``sft``: any ``GRPOConfig`` / ``SFTConfig`` field, passed through unchanged so new TRL options need no
code here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rexeval.exceptions import ConfigError


@dataclass
class ModelConfig:
    #: Hub id or local directory of the policy (text LM or a VLM TRL supports: Qwen2/2.5/3-VL, LLaVA, Gemma 3).
    name_or_path: str = ""
    revision: str | None = None
    dtype: str = "auto"
    trust_remote_code: bool = False
    #: "auto" (VLM if the config has a vision part), "text" or "vlm".
    kind: str = "auto"
    attn_implementation: str | None = None


@dataclass
class LoraConfig:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"


@dataclass
class DataConfig:
    #: ReXrank-style JSON (dict keyed by study id) or a CSV/JSONL/Parquet table.
    path: str = ""
    #: Folder that image paths in the data are relative to; None = text-only prompts.
    image_root: str | None = None
    #: Reference text: findings, findings-impression (ReXrank tracks) or a column name.
    target: str = "findings"
    #: Column with the prior report (longitudinal setting); None = not used.
    prior_column: str | None = None
    #: Use at most this many images per study (key image first).
    max_images: int = 1
    #: Keep at most this many studies (after ``exclude_ids``).
    limit: int | None = None
    #: A file of study ids (one a line) to leave out, e.g. evaluation studies.
    exclude_ids: str | None = None
    system_prompt: str = (
        "You are a radiologist. Write the findings section of the chest X-ray report."
    )
    instruction: str = "Findings:"


@dataclass
class RunConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    lora: LoraConfig | None = None
    #: Reward block for rexeval.rewards.RewardConfig (components, options, plugins, ...).
    reward: dict[str, Any] = field(default_factory=lambda: {"components": ["bleu"]})
    #: GRPOConfig fields (train-rl).
    grpo: dict[str, Any] = field(default_factory=dict)
    #: SFTConfig fields (train-sft).
    sft: dict[str, Any] = field(default_factory=dict)
    output_dir: str = "runs/grpo"
    #: Resume: true (latest checkpoint in output_dir) or a checkpoint path.
    resume: bool | str = False
    seed: int = 42
    #: Sampled + greedy generations on this many training studies after training (reward-hacking guards).
    eval_samples: int = 8


_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")

_SECTIONS = {"model": ModelConfig, "data": DataConfig, "lora": LoraConfig}


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(
            f"unknown key(s) in {where}: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
        )
    return cls(**data)


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = tree
    for p in parts[:-1]:
        if node.get(p) is None:
            node[p] = {}
        node = node[p]
        if not isinstance(node, dict):
            raise ConfigError(f"override {dotted}: {p} is not a section")
    node[parts[-1]] = value


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> RunConfig:
    """Read the YAML file and apply ``a.b=value`` overrides (values parsed as YAML: 3, true, [a, b])."""
    import yaml

    tree: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"config file not found: {p}")
        try:
            tree = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: not valid YAML ({exc})") from None
        if not isinstance(tree, dict):
            raise ConfigError(f"{p}: the config must be a mapping")
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r} is not key=value")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
            value = float(value)  # YAML 1.1 reads 1e-3 as a string
        _set(tree, key.strip(), value)
    top = {f.name for f in fields(RunConfig)}
    unknown = set(tree) - top
    if unknown:
        raise ConfigError(
            f"unknown config key(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(top))}"
        )
    kwargs: dict[str, Any] = {}
    for key, value in tree.items():
        if key in _SECTIONS:
            if value is None or value is False:
                kwargs[key] = None if key == "lora" else _SECTIONS[key]()
                continue
            if value is True and key == "lora":
                value = {}
            if not isinstance(value, dict):
                raise ConfigError(f"config section {key!r} must be a mapping")
            kwargs[key] = _build(_SECTIONS[key], value, key)
        else:
            kwargs[key] = value
    cfg = RunConfig(**kwargs)
    if not cfg.model.name_or_path:
        raise ConfigError("model.name_or_path is required (a hub id or a local folder)")
    if not cfg.data.path:
        raise ConfigError("data.path is required")
    return cfg
