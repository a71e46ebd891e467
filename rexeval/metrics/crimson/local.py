"""CRIMSON's local judge: a transformers causal LM on this machine, as RadEval 2.2's HF path runs it.

The conversation (system + user message) goes through the tokenizer's own chat template; decoding is greedy
with repetition penalty 1.1. When the model folder carries its own ``generation_config.json`` (one not
derived from config.json) it is used, as RadEval does, except that sampling is turned off: rexeval's scores
must be reproducible. Otherwise up to 8192 new tokens. bf16 on a GPU, float32 on a CPU.

One study at a time, as the peer's pipeline call: no padding, so a study's answer never depends on the
other studies of the batch (batch invariance). Weights are read from the resolved folder only
(``local_files_only``, ``use_safetensors``); nothing here sets a process-wide flag.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

DEFAULT_MAX_NEW_TOKENS = 8192
REPETITION_PENALTY = 1.1


def folder_generation_config(path: Path) -> dict[str, Any] | None:
    """The folder's own generation settings, or None when it has none (or only one derived from config.json).

    ``save_pretrained`` writes a generation_config.json copied from the model config with
    ``_from_model_config: true``; RadEval treats that one as absent, and so does rexeval.
    """
    file = path / "generation_config.json"
    if not file.is_file():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("_from_model_config"):
        return None
    return data


def resolve_dtype(dtype: str, device: str) -> str:
    """``auto``: bfloat16 on a GPU (RadEval's dtype), float32 on a CPU (bf16 matmuls there are slow and inexact)."""
    if dtype != "auto":
        return dtype
    return "bfloat16" if device.startswith("cuda") else "float32"


class LocalCrimsonJudge:
    """Loads the judge once per (folder, device, dtype) and answers chat conversations one by one."""

    _loaded: dict[tuple[str, str, str], Any] = {}

    def __init__(self, path: Path, device: str, dtype: str, max_new_tokens: int | None) -> None:
        self.path, self.device, self.dtype = Path(path), device, dtype
        self.own_config = folder_generation_config(self.path)
        if max_new_tokens is not None:
            self.max_new_tokens = int(max_new_tokens)
        elif self.own_config and self.own_config.get("max_new_tokens"):
            self.max_new_tokens = int(self.own_config["max_new_tokens"])
        else:
            self.max_new_tokens = DEFAULT_MAX_NEW_TOKENS

    def describe(self) -> dict[str, Any]:
        """What decides the answers (signature and answer-cache key)."""
        return {"dtype": self.dtype, "greedy": True, "repetition_penalty": REPETITION_PENALTY,
                "max_new_tokens": self.max_new_tokens,
                "generation_config": "folder" if self.own_config is not None else "default"}

    def _load(self) -> tuple[Any, Any]:
        key = (str(self.path), self.device, self.dtype)
        if key not in self._loaded:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            from rexeval.backends.models import quiet_loading

            tok = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
            with quiet_loading():
                model = AutoModelForCausalLM.from_pretrained(
                    str(self.path), dtype=getattr(torch, self.dtype), local_files_only=True,
                    use_safetensors=True,  # never a pickled .bin
                ).eval().to(self.device)
            self._loaded[key] = (tok, model)
        return self._loaded[key]

    def _generate_kwargs(self, model: Any, tok: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"do_sample": False, "repetition_penalty": REPETITION_PENALTY,
                                  "max_new_tokens": self.max_new_tokens}
        if self.own_config is not None:
            config = copy.deepcopy(model.generation_config)
            # greedy: the sampling knobs of the folder's config would only raise warnings
            for knob in ("temperature", "top_p", "top_k", "min_p", "typical_p"):
                if hasattr(config, knob):
                    setattr(config, knob, None)
            config.do_sample = False
            kwargs["generation_config"] = config
        if getattr(model.generation_config, "pad_token_id", None) is None:
            kwargs["pad_token_id"] = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        return kwargs

    def answer(self, conversations: list[list[dict[str, str]]], progress: Any = None) -> list[str]:
        import torch

        tok, model = self._load()
        kwargs = self._generate_kwargs(model, tok)
        out: list[str] = []
        for messages in conversations:
            enc = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True,
                                          return_tensors="pt")
            enc = {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
            with torch.inference_mode():
                generated = model.generate(**enc, **kwargs)
            new = generated[0, enc["input_ids"].shape[1]:]
            out.append(tok.decode(new, skip_special_tokens=True))
            if progress:
                progress(1)
        return out
