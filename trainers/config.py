"""Run configuration for ``rexeval train-rl`` / ``train-sft``: YAML + ``key=value`` overrides → dataclasses.

Composed, not inherited: ``RunConfig`` holds TRL's own ``ModelConfig`` (the policy and its LoRA
settings), rexeval's few policy options TRL has no field for, a ``DataConfig``, the reward block (checked
with :func:`rexeval.rewards.plan`) and the TRL arguments (``grpo`` / ``sft``: any ``GRPOConfig`` /
``SFTConfig`` field, passed through unchanged so new TRL options need no code here).

The YAML keeps its nested blocks. ``model:`` takes any ``ModelConfig`` field, with two short names
(``name_or_path`` → ``model_name_or_path``, ``revision`` → ``model_revision``) and rexeval's ``kind`` and
``trust_remote_code``; ``lora:`` takes the ``lora_*`` fields without their prefix (``r``, ``alpha``,
``dropout``, ``target_modules``, ...) plus ``use_rslora`` / ``use_dora``, and sets ``use_peft``.

Reading a config imports neither torch nor TRL's trainers: every mistake (an unknown key, a missing
model or data path, a reward that cannot work) is reported in well under a second. Only the last check,
the ``model`` keys against TRL's ``ModelConfig``, imports one module of TRL (its dataclass; no torch).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rexeval.base.exceptions import ConfigError, MetricUnavailable, install_hint, refuse_unknown

#: A policy rexeval builds itself (random weights, word-level tokenizer; see trainers/tiny.py).
TINY_POLICIES = ("rexeval:tiny", "rexeval:tiny-vlm")

#: Short names in the ``model`` block → TRL ModelConfig fields.
_MODEL_ALIASES = {"name_or_path": "model_name_or_path", "revision": "model_revision"}
#: rexeval's defaults where they differ from TRL's: the checkpoint's own dtype (TRL: float32); every
#: linear layer for LoRA (TRL: peft's per-architecture default).
_MODEL_DEFAULTS = {"dtype": "auto"}
_LORA_DEFAULTS = {"lora_target_modules": "all-linear"}


@dataclass
class PolicyOptions:
    """Policy loading options TRL's ModelConfig has no field for (given in the ``model`` block)."""

    #: "auto" (VLM if the config has a vision part), "text" or "vlm".
    kind: str = "auto"
    trust_remote_code: bool = False


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
    #: Also give the VLM up to this many films of the prior study (``prior_image_path``), after the
    #: current ones; 0 = current films only.
    max_prior_images: int = 0
    #: Keep at most this many studies (after ``exclude_ids``).
    limit: int | None = None
    #: A file of study ids (one a line) to leave out, e.g. evaluation studies.
    exclude_ids: str | None = None
    system_prompt: str = (
        "You are a radiologist. Write the findings section of the chest X-ray report."
    )
    instruction: str = "Findings:"


@dataclass
class ValidationConfig:
    """The ``validation`` block of a run config."""

    #: Held-out studies (same formats as ``data.path``); never the training data.
    data: str = ""
    #: Score every this many optimizer steps (and after the last one).
    every: int = 100
    #: Also score the policy before step 1 (step 0: the SFT warm start's level).
    at_start: bool = True
    #: Keep at most this many held-out studies (the first ones: a fixed set).
    limit: int | None = None
    #: Metric names (None: rexeval's default set).
    metrics: list[str] | None = None
    #: Per-metric options, as ``rexeval.score(metric_options=...)`` takes them.
    metric_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: metric -> the metric to score instead when it cannot run here (e.g. errors_llm: errors_struct).
    fallbacks: dict[str, str] = field(default_factory=dict)
    #: Folder the held-out set's image paths are relative to (default: ``data.image_root``).
    image_root: str | None = None
    max_new_tokens: int = 256
    batch_size: int = 8
    #: Bootstrap resamples for each step's summary (0: none; the curves need only the values).
    n_resamples: int = 0

    @classmethod
    def from_dict(cls, block: dict[str, Any]) -> ValidationConfig:
        refuse_unknown(block, {f.name for f in fields(cls)}, "key(s) in validation:")
        cfg = cls(**block)
        if not cfg.data:
            raise ConfigError("validation.data is required: a held-out set to score while training")
        for key in ("every", "max_new_tokens", "batch_size"):
            value = getattr(cfg, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"validation.{key} must be a whole number >= 1, not {value!r}")
        if isinstance(cfg.metrics, str):
            cfg.metrics = [m.strip() for m in cfg.metrics.split(",") if m.strip()]
        return cfg


@dataclass
class RunConfig:
    #: TRL's ``trl.ModelConfig``: the policy (model_name_or_path, model_revision, dtype, ...) and LoRA.
    model: Any
    policy: PolicyOptions = field(default_factory=PolicyOptions)
    data: DataConfig = field(default_factory=DataConfig)
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
    #: Before step 1, probe the reward with `rexeval reward-check` on a seeded sample of this many
    #: training references (0: skip); hacks the reward pays for are a warning (an error with
    #: --strict-reward).
    reward_check: int = 64
    #: Score a fixed held-out set every N steps with the full metric set (trainers/validation.py);
    #: None = no validation while training.
    validation: ValidationConfig | None = None


#: Written beside a saved policy: the ``data`` settings that shape its prompt, so `rexeval generate`
#: prompts it as it was trained without ``--config``.
PROMPT_SETTINGS_FILE = "rexeval_train_config.yaml"
#: The DataConfig fields that shape the prompt (not the data's location or which studies).
PROMPT_FIELDS = ("system_prompt", "instruction", "target", "prior_column", "max_images", "max_prior_images")


def save_prompt_settings(data: DataConfig, folder: str | Path) -> Path:
    import yaml

    path = Path(folder) / PROMPT_SETTINGS_FILE
    block = {k: getattr(data, k) for k in PROMPT_FIELDS}
    path.write_text(yaml.safe_dump({"data": block}, sort_keys=False), encoding="utf-8")
    return path


def find_prompt_settings(model: str | Path) -> Path | None:
    """The prompt settings saved with a trained policy: in its folder, or for a ``checkpoint-N`` folder
    in the run folder above it. None for a hub id or a policy rexeval did not train."""
    folder = Path(model).expanduser()
    for candidate in (folder, folder.parent) if folder.name.startswith("checkpoint-") else (folder,):
        if (candidate / PROMPT_SETTINGS_FILE).is_file():
            return candidate / PROMPT_SETTINGS_FILE
    return None


def read_prompt_settings(path: Path, data_path: str) -> DataConfig:
    """A DataConfig for ``data_path`` with the prompt settings saved at ``path``."""
    import yaml

    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    block = tree.get("data") if isinstance(tree, dict) else None
    if not isinstance(block, dict) or set(block) - set(PROMPT_FIELDS):
        raise ConfigError(f"{path}: expected a data mapping with keys among {', '.join(PROMPT_FIELDS)}")
    return DataConfig(path=data_path, **block)


_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")
_TOP = (
    "model",
    "lora",
    "data",
    "reward",
    "grpo",
    "sft",
    "output_dir",
    "resume",
    "seed",
    "eval_samples",
    "reward_check",
    "validation",
)


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


def _section(tree: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = tree.get(key)
    if value is None or value is False:
        return None
    if value is True:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"config section {key!r} must be a mapping")
    return dict(value)


def read_tree(path: str | Path | None, overrides: list[str] | None = None) -> dict[str, Any]:
    """The YAML file with ``a.b=value`` overrides applied (values parsed as YAML: 3, true, [a, b])."""
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
    unknown = set(tree) - set(_TOP)
    if unknown:
        raise ConfigError(
            f"unknown config key(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(_TOP))}"
        )
    return tree


def load_config(
    path: str | Path | None, overrides: list[str] | None = None, check_reward: bool = True
) -> RunConfig:
    """Read and check a run config (see the module docstring); ConfigError names what is wrong."""
    tree = read_tree(path, overrides)
    model = _section(tree, "model") or {}
    policy = PolicyOptions(**{k: model.pop(k) for k in ("kind", "trust_remote_code") if k in model})
    if policy.kind not in ("auto", "text", "vlm"):
        raise ConfigError(f"model.kind must be auto, text or vlm, not {policy.kind!r}")
    for short, full in _MODEL_ALIASES.items():
        if short in model:
            if full in model:
                raise ConfigError(f"model.{short} and model.{full} are the same setting; give one")
            model[full] = model.pop(short)
    if not model.get("model_name_or_path"):
        raise ConfigError(
            "model.name_or_path is required: a hub id, a local folder, or rexeval:tiny "
            "(a tiny random-weight policy rexeval builds itself, for smoke runs)"
        )
    check_policy_source(model["model_name_or_path"])
    data_block = _section(tree, "data") or {}
    refuse_unknown(data_block, {f.name for f in fields(DataConfig)}, "key(s) in data:")
    data = DataConfig(**data_block)
    if not data.path:
        raise ConfigError("data.path is required")
    reward = tree.get("reward") or {"components": ["bleu"]}
    if check_reward:
        from rexeval.rewards import plan

        plan(reward)  # metric names, columns, transforms: refused now, not at the first step
    for key in ("grpo", "sft"):
        if not isinstance(tree.get(key) or {}, dict):
            raise ConfigError(f"config section {key!r} must be a mapping")
    for key in ("output_dir",):
        if key in tree and (not isinstance(tree[key], str) or not tree[key].strip()):
            raise ConfigError(f"{key} must be a folder path, not {tree[key]!r}")
    for key in ("seed", "eval_samples"):
        if key in tree and (isinstance(tree[key], bool) or not isinstance(tree[key], int) or tree[key] < 0):
            raise ConfigError(f"{key} must be a whole number >= 0, not {tree[key]!r}")
    if "resume" in tree and not isinstance(tree["resume"], (bool, str)):
        raise ConfigError(f"resume must be true, false or a checkpoint folder, not {tree['resume']!r}")
    lora = _section(tree, "lora")
    validation = _section(tree, "validation")
    if validation is not None:
        validation = ValidationConfig.from_dict(validation)
    return RunConfig(
        validation=validation,
        model=_model_config(model, lora),
        policy=policy,
        data=data,
        reward=reward,
        grpo=dict(tree.get("grpo") or {}),
        sft=dict(tree.get("sft") or {}),
        **{k: tree[k] for k in ("output_dir", "resume", "seed", "eval_samples", "reward_check") if k in tree},
    )


def _model_config(model: dict[str, Any], lora: dict[str, Any] | None) -> Any:
    """TRL's ModelConfig from the ``model`` block and the ``lora`` block (None = no LoRA)."""
    try:
        from trl.trainer.model_config import ModelConfig  # the dataclass only: no torch
    except ImportError:
        raise MetricUnavailable(
            "training needs trl (its ModelConfig holds the policy settings)",
            install_hint("rl"),
        ) from None
    names = {f.name for f in fields(ModelConfig)}
    unknown = set(model) - names
    if unknown:
        shown = sorted((names - {"model_name_or_path", "model_revision"}) | set(_MODEL_ALIASES))
        raise ConfigError(
            f"unknown key(s) in model: {', '.join(sorted(unknown))}; known: kind, trust_remote_code, "
            f"{', '.join(shown)} (fields of trl.ModelConfig)"
        )
    kwargs = {**_MODEL_DEFAULTS, **model}
    if lora is not None:
        if model.get("use_peft") is False:
            raise ConfigError("a lora block and model.use_peft=false contradict each other")
        kwargs["use_peft"] = True
        kwargs.update({k: v for k, v in _LORA_DEFAULTS.items() if k not in model})
        for key, value in lora.items():
            full = key if key in ("use_rslora", "use_dora") else f"lora_{key}"
            if full not in names:
                lora_keys = sorted(
                    [n[5:] for n in names if n.startswith("lora_")] + ["use_rslora", "use_dora"]
                )
                raise ConfigError(f"unknown key in lora: {key}; known: {', '.join(lora_keys)}")
            kwargs[full] = value
    try:
        return ModelConfig(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config section 'model': {exc}") from None


#: A Hugging Face hub id: ``name`` or ``org/name`` (letters, digits, ``-_.``).
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")


def check_policy_source(name: Any) -> None:
    """``model.name_or_path`` must be rexeval's tiny policy, a folder holding a model (config.json) or a LoRA
    adapter (adapter_config.json), or a hub id; anything else fails now, not after the imports."""
    if not isinstance(name, str):
        raise ConfigError(f"model.name_or_path must be a hub id or a folder, not {name!r}")
    if name in TINY_POLICIES:
        return
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"model.name_or_path {name} is a file; give the model's folder (with config.json)")
        if not (path / "config.json").is_file() and not (path / "adapter_config.json").is_file():
            raise ConfigError(f"model.name_or_path {name} holds no model: no config.json (a model) or "
                              "adapter_config.json (a LoRA adapter)")
        return
    if path.is_absolute() or name.startswith((".", "~")) or not _HUB_ID.fullmatch(name):
        raise ConfigError(f"model.name_or_path {name}: no such folder, and not a hub id (org/name)")


def check_output_dir(cfg: RunConfig, overwrite: bool = False) -> None:
    """Refuse to train into a non-empty ``output_dir`` (the trainer writes README.md, config.json, ... over
    whatever is there) unless it is this run's own folder being resumed, or ``overwrite``."""
    out = Path(cfg.output_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output_dir {out} is a file; give a folder for the checkpoints")
    if overwrite or not out.is_dir() or not any(out.iterdir()):
        return
    own = any((c / "trainer_state.json").is_file() for c in out.glob("checkpoint-*"))
    if cfg.resume and own:
        return
    if cfg.resume:
        raise ConfigError(f"output_dir {out} is not empty and holds no checkpoint-*/trainer_state.json of an "
                          "earlier run to resume; choose another output_dir, or pass --overwrite to write into it")
    raise ConfigError(f"output_dir {out} is not empty (training would overwrite its files); choose another "
                      "output_dir, resume=true to continue the run saved there, or pass --overwrite")


def check_values(cls: type, block: dict[str, Any], section: str) -> dict[str, Any]:
    """``block`` (TRL config fields) checked against ``cls``'s field types: a value of the wrong type
    (``max_steps=abc``, a NaN learning rate) is a one-line ConfigError, never a traceback mid-training.
    Numbers written as text (``1e-5``: YAML 1.1 reads that as a string) become floats."""
    import typing

    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # an annotation this Python cannot evaluate: leave the checks to the dataclass
        return dict(block)
    out = dict(block)
    for key, value in block.items():
        hint = hints.get(key)
        if hint is None:
            continue  # unknown fields: the dataclass itself names them
        if isinstance(value, str) and _FLOAT.fullmatch(value.strip()) and _fits(float(value), hint):
            out[key] = value = float(value)
        if not _fits(value, hint):
            raise ConfigError(f"{section}.{key} = {value!r}: expected {_describe(hint)}")
    return out


def _fits(value: Any, hint: Any) -> bool:
    import enum
    import math
    import types
    import typing

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in typing.get_args(hint))
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if hint is typing.Any:
        return True
    if hint is type(None):
        return value is None
    hint = origin or hint
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return isinstance(value, (str, hint))
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # a type we cannot judge


def _describe(hint: Any) -> str:
    import types
    import typing

    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(dict.fromkeys(_describe(a) for a in typing.get_args(hint)))
    if hint is type(None):
        return "null"
    hint = typing.get_origin(hint) or hint
    names = {bool: "true/false", int: "a whole number", float: "a number", str: "text", list: "a list", dict: "a mapping"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))
