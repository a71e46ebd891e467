"""Load a policy (text LM or VLM) and its tokenizer/processor from a hub id, revision or local folder.

``cfg`` is TRL's ``ModelConfig`` (model_name_or_path, model_revision, dtype, attn_implementation,
quantisation); ``policy`` holds rexeval's kind / trust_remote_code (TRL's dataclass has no such fields).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from rexeval.base.exceptions import ConfigError
from trainers.config import TINY_POLICIES, PolicyOptions, RunConfig

VLM_MODEL_TYPES = {
    "llava",
    "llava_next",
    "qwen2_vl",
    "qwen2_5_vl",
    "qwen3_vl",
    "gemma3",
    "idefics3",
    "smolvlm",
    "paligemma",
}


def _hub_kwargs(cfg: Any, policy: PolicyOptions | None) -> dict[str, Any]:
    trust = (policy or PolicyOptions()).trust_remote_code
    return {"revision": cfg.model_revision, "trust_remote_code": trust}


def is_vlm(cfg: Any, path: str | None = None, policy: PolicyOptions | None = None) -> bool:
    kind = (policy or PolicyOptions()).kind
    if kind in ("text", "vlm"):
        return kind == "vlm"
    from transformers import AutoConfig

    conf = AutoConfig.from_pretrained(path or cfg.model_name_or_path, **_hub_kwargs(cfg, policy))
    return conf.model_type in VLM_MODEL_TYPES or hasattr(conf, "vision_config")


def load_processor(
    cfg: Any, path: str | None = None, vlm: bool | None = None, policy: PolicyOptions | None = None
) -> Any:
    """Tokenizer (text) or processor (VLM). Without torchvision the Qwen-VL processors cannot build their
    video processor; they are then assembled from the PIL image processor and the tokenizer, video left out."""
    from transformers import AutoProcessor, AutoTokenizer

    src = path or cfg.model_name_or_path
    kw = _hub_kwargs(cfg, policy)
    vlm = is_vlm(cfg, src, policy) if vlm is None else vlm
    if not vlm:
        tok = AutoTokenizer.from_pretrained(src, **kw)
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        return tok
    try:
        return AutoProcessor.from_pretrained(src, **kw)
    except (ImportError, ValueError, OSError) as exc:
        from transformers import AutoConfig

        model_type = AutoConfig.from_pretrained(src, **kw).model_type
        if model_type not in ("qwen2_vl", "qwen2_5_vl", "qwen3_vl"):
            raise
        return _qwen_processor_without_video(src, model_type, kw, exc)


def _qwen_processor_without_video(src: str, model_type: str, kw: dict, exc: Exception) -> Any:
    import importlib

    from transformers import AutoTokenizer

    proc_mod = importlib.import_module(f"transformers.models.{model_type}.processing_{model_type}")
    proc_cls = next(
        getattr(proc_mod, n)
        for n in dir(proc_mod)
        if n.endswith("Processor") and n.startswith("Qwen")
    )
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    image_processor = Qwen2VLImageProcessorPil.from_pretrained(src, **kw)
    tokenizer = AutoTokenizer.from_pretrained(src, **kw)

    def check(self: Any, name: str, arg: Any) -> Any:
        return None if arg is None else proc_cls.check_argument_for_proper_class(self, name, arg)

    # the processor type-checks every sub-processor, video included; let the video slot be empty
    without_video = type(proc_cls.__name__, (proc_cls,), {"check_argument_for_proper_class": check})
    try:
        return without_video(
            image_processor=image_processor, tokenizer=tokenizer, video_processor=None
        )
    except Exception as err:
        raise ConfigError(
            f"cannot build the {model_type} processor without its video processor: {err} (after: {exc})"
        ) from None


def load_model(
    cfg: Any, path: str | None = None, vlm: bool | None = None, policy: PolicyOptions | None = None
) -> Any:
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText

    src = path or cfg.model_name_or_path
    vlm = is_vlm(cfg, src, policy) if vlm is None else vlm
    dtype = cfg.dtype
    if dtype not in ("auto", None):
        dtype = getattr(torch, dtype)
    kw: dict[str, Any] = {**_hub_kwargs(cfg, policy), "dtype": dtype}
    if cfg.attn_implementation:
        kw["attn_implementation"] = cfg.attn_implementation
    if cfg.load_in_4bit or cfg.load_in_8bit:  # TRL's own mapping of the bitsandbytes fields
        from trl import get_quantization_config

        kw["quantization_config"] = get_quantization_config(cfg)
    cls = AutoModelForImageTextToText if vlm else AutoModelForCausalLM
    return cls.from_pretrained(src, **kw)


def load_policy(cfg: RunConfig) -> tuple[Any, Any, bool]:
    """Model, tokenizer/processor and VLM flag for a run; ``rexeval:tiny`` is built (once) first."""
    model_cfg = cfg.model
    if model_cfg.model_name_or_path in TINY_POLICIES:
        from trainers.tiny import tiny_policy

        path = tiny_policy(model_cfg.model_name_or_path)
        model_cfg = dataclasses.replace(model_cfg, model_name_or_path=str(path))
    vlm = is_vlm(model_cfg, policy=cfg.policy)
    processor = load_processor(model_cfg, vlm=vlm, policy=cfg.policy)
    return load_model(model_cfg, vlm=vlm, policy=cfg.policy), processor, vlm


def peft_adapter_base(path: str) -> str | None:
    """The base model of a saved LoRA adapter folder, else None."""
    conf = Path(path) / "adapter_config.json"
    if not conf.exists():
        return None
    import json

    return json.loads(conf.read_text())["base_model_name_or_path"]
