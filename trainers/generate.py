"""Generation from a checkpoint (greedy or sampled) and the reward-hacking guards on generations.

The guards are statistics a reward can be gamed through: length (too short or padded), repetition
(repeated n-grams, the classic collapse under GRPO), empty outputs, greedy vs sampled scores side by
side (a policy that only looks good when sampled, or only greedy, is reported as such), and how often
the outputs look like each reward hack of ``rexeval reward-check`` (hedge density, laterality, severity,
device and stability words, repeated sentences; :func:`rexeval.tools.hacks.hack_signals`), beside the same
signals of the references.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rexeval.tools.hacks import hack_signals
from trainers.config import DataConfig
from trainers.data import messages

_TOKENS = re.compile(r"\w+|[^\w\s]")


def generation_stats(texts: Sequence[str], n: int = 3) -> dict[str, float]:
    """Length and repetition statistics of generated reports."""
    lengths = np.array([len(t.split()) for t in texts], dtype=float)
    repeated, distinct_num, distinct_den = [], 0, 0
    for t in texts:
        words = _TOKENS.findall(
            t.lower()
        )  # punctuation counts: "....." is a repetition, not one word
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        counts = Counter(grams)
        repeated.append(sum(c - 1 for c in counts.values()) / len(grams) if grams else 0.0)
        distinct_num += len(counts)
        distinct_den += len(grams)
    sents = [s.strip().lower() for t in texts for s in t.split(".") if s.strip()]
    return {
        "n": float(len(texts)),
        "length_words_mean": float(lengths.mean()) if len(texts) else 0.0,
        "length_words_std": float(lengths.std()) if len(texts) else 0.0,
        "length_words_max": float(lengths.max()) if len(texts) else 0.0,
        "empty_share": float((lengths == 0).mean()) if len(texts) else 0.0,
        f"repeated_{n}gram_share": float(np.mean(repeated)) if repeated else 0.0,
        f"distinct_{n}": float(distinct_num / distinct_den) if distinct_den else 0.0,
        "duplicate_sentence_share": float(1 - len(set(sents)) / len(sents)) if sents else 0.0,
    }


def load_for_generation(model_path: str, model_cfg: Any = None) -> tuple[Any, Any, bool]:
    """Model, processor and VLM flag from a checkpoint (a full model folder or a LoRA adapter folder).

    ``model_cfg`` is a TRL ModelConfig (default: the checkpoint in its own dtype)."""
    from trl.trainer.model_config import ModelConfig

    from trainers.policy import is_vlm, load_model, load_processor, peft_adapter_base

    cfg = model_cfg or ModelConfig(model_name_or_path=model_path, dtype="auto")
    base = peft_adapter_base(model_path)
    if base is None:
        vlm = is_vlm(cfg, model_path)
        return load_model(cfg, model_path, vlm), load_processor(cfg, model_path, vlm), vlm
    from peft import PeftModel

    vlm = is_vlm(cfg, base)
    model = PeftModel.from_pretrained(load_model(cfg, base, vlm), model_path).merge_and_unload()
    try:
        processor = load_processor(cfg, model_path, vlm)
    except Exception:  # adapter folder saved without the processor
        processor = load_processor(cfg, base, vlm)
    return model, processor, vlm


def generate(
    model: Any,
    processor: Any,
    records: list[dict[str, Any]],
    data_cfg: DataConfig,
    vlm: bool,
    *,
    sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    max_new_tokens: int = 256,
    batch_size: int = 8,
    seed: int = 0,
    progress: bool = False,
) -> list[str]:
    """One report per record."""
    import torch
    from PIL import Image

    tok = getattr(processor, "tokenizer", processor)
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model.eval()
    torch.manual_seed(seed)
    out: list[str] = []
    steps = range(0, len(records), batch_size)
    if progress:
        from rich.progress import track

        steps = track(steps, description="generating")
    for start in steps:
        chunk = records[start : start + batch_size]
        texts = [
            processor.apply_chat_template(
                messages(r, data_cfg, vlm), tokenize=False, add_generation_prompt=True
            )
            for r in chunk
        ]
        kw: dict[str, Any] = {"return_tensors": "pt", "padding": True, "add_special_tokens": False}
        if vlm and any(r["image_paths"] for r in chunk):
            images = [[Image.open(p).convert("RGB") for p in r["image_paths"]] for r in chunk]
            enc = processor(text=texts, images=images, **kw)
        else:
            enc = (processor.tokenizer if vlm else processor)(texts, **kw)
        enc = enc.to(model.device)
        gen = {
            "max_new_tokens": max_new_tokens,
            "do_sample": sample,
            "pad_token_id": tok.pad_token_id,
        }
        if sample:
            gen.update(temperature=temperature, top_p=top_p, top_k=0)
        with torch.no_grad():
            ids = model.generate(**enc, **gen)
        new = ids[:, enc["input_ids"].shape[1] :]
        out.extend(" ".join(t.split()) for t in tok.batch_decode(new, skip_special_tokens=True))
    return out


def write_predictions(
    path: str | Path, records: list[dict[str, Any]], reports: list[str], meta: dict[str, Any]
) -> None:
    import pandas as pd

    from rexeval.base.io import write_meta, write_table

    frame = pd.DataFrame({"study_id": [r["study_id"] for r in records], "report": reports})
    write_table(frame, path)
    write_meta(path, meta)


def evaluate_guards(
    model: Any,
    processor: Any,
    records: list[dict[str, Any]],
    data_cfg: DataConfig,
    vlm: bool,
    suite: Any,
    max_new_tokens: int,
    temperature: float = 1.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Greedy and sampled generations on ``records``: composite reward, per-component means, guard stats."""
    result: dict[str, Any] = {}
    # the hack signals of the references: what an honest report of these studies looks like
    reference_signals = hack_signals([r["reference"] for r in records])
    for mode in ("greedy", "sampled"):
        texts = generate(
            model,
            processor,
            records,
            data_cfg,
            vlm,
            sample=mode == "sampled",
            temperature=temperature,
            max_new_tokens=max_new_tokens,
            seed=seed,
        )
        refs = [r["reference"] for r in records]
        prompts = [r["text"] for r in records]
        per = {
            c.name: suite.component_values(c.name, prompts, texts, {"reference": refs})
            for c in suite.components
        }
        total = suite.composite(prompts, texts, reference=refs)
        result[mode] = {
            "reward_mean": _mean(total),
            "components": {k: _mean(v) for k, v in per.items()},
            "stats": generation_stats(texts),
            "hack_signals": hack_signals(texts),
            "reference_hack_signals": reference_signals,
            "examples": texts[:3],
        }
    return result


def _mean(values: Sequence[float | None]) -> float | None:
    ok = [v for v in values if v is not None]
    return float(np.mean(ok)) if ok else None
