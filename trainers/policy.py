"""Load a policy (text LM or VLM) and its tokenizer/processor from a hub id, revision or local folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rexeval.exceptions import ConfigError
from rexeval.trainers.config import ModelConfig

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


def is_vlm(cfg: ModelConfig, path: str | None = None) -> bool:
    if cfg.kind in ("text", "vlm"):
        return cfg.kind == "vlm"
    from transformers import AutoConfig

    conf = AutoConfig.from_pretrained(
        path or cfg.name_or_path, revision=cfg.revision, trust_remote_code=cfg.trust_remote_code
    )
    return conf.model_type in VLM_MODEL_TYPES or hasattr(conf, "vision_config")


def load_processor(cfg: ModelConfig, path: str | None = None, vlm: bool | None = None) -> Any:
    """Tokenizer (text) or processor (VLM). Without torchvision the Qwen-VL processors cannot build their
    video processor; they are then assembled from the PIL image processor and the tokenizer, video left out."""
    from transformers import AutoProcessor, AutoTokenizer

    src = path or cfg.name_or_path
    kw = {"revision": cfg.revision, "trust_remote_code": cfg.trust_remote_code}
    vlm = is_vlm(cfg, src) if vlm is None else vlm
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


def load_model(cfg: ModelConfig, path: str | None = None, vlm: bool | None = None) -> Any:
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText

    src = path or cfg.name_or_path
    vlm = is_vlm(cfg, src) if vlm is None else vlm
    dtype = cfg.dtype
    if dtype not in ("auto", None):
        dtype = getattr(torch, dtype)
    kw: dict[str, Any] = {
        "revision": cfg.revision,
        "trust_remote_code": cfg.trust_remote_code,
        "dtype": dtype,
    }
    if cfg.attn_implementation:
        kw["attn_implementation"] = cfg.attn_implementation
    cls = AutoModelForImageTextToText if vlm else AutoModelForCausalLM
    return cls.from_pretrained(src, **kw)


def peft_adapter_base(path: str) -> str | None:
    """The base model of a saved LoRA adapter folder, else None."""
    conf = Path(path) / "adapter_config.json"
    if not conf.exists():
        return None
    import json

    return json.loads(conf.read_text())["base_model_name_or_path"]
