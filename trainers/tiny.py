"""Tiny random-weight policies built locally (no downloads) for tests, smoke runs and CPU experiments.

The tokenizer is trained here on report text (a word-level vocabulary, so a few hundred steps of GRPO on
CPU can move probability mass onto real report words); the models are the real Hugging Face
architectures (Llama for text, LLaVA = CLIP vision tower + Llama for images) at toy sizes, saved with
``save_pretrained`` so every loader in ``trainers`` reads them through its ordinary code path.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: Chat template for the tiny tokenizer: plain "role: text" turns, generation prompt "assistant:".
#: Content may be a string or a list of parts ({"type": "text"} / {"type": "image"}).
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: "
    "{% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for p in m['content'] %}{% if p['type'] == 'image' %}<image>"
    "{% elif p['type'] == 'text' %}{{ p['text'] }}{% endif %}{% endfor %}{% endif %}"
    "{% if m['role'] == 'assistant' %}{{ eos_token }}{% endif %}{{ '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)

#: A few report sentences written for this project, used when no corpus is given (CI without ../shared).
FALLBACK_REPORTS = [
    "The heart is normal in size. The lungs are clear. No pleural effusion or pneumothorax.",
    "Heart size is normal. No focal consolidation. No pneumothorax or pleural effusion.",
    "Mild cardiomegaly. No acute pulmonary abnormality. No pleural effusion.",
    "The lungs are clear bilaterally. The cardiomediastinal silhouette is within normal limits.",
    "Low lung volumes with bibasilar atelectasis. No pneumothorax.",
    "Stable cardiomegaly. Small left pleural effusion. No pneumothorax.",
    "No acute cardiopulmonary process. The heart and mediastinum are normal.",
    "Right lower lobe opacity concerning for pneumonia. No pleural effusion.",
    "Degenerative changes of the thoracic spine. The lungs are clear.",
    "Hyperexpanded lungs consistent with emphysema. No focal airspace disease.",
]

SPECIAL = ["<pad>", "<unk>", "<s>", "</s>", "<image>"]


def iu_reports(
    tgz: str | Path, limit: int | None = None, exclude_ids: Iterable[str] = ()
) -> list[dict]:
    """Parse the Open-i IU report XMLs: dicts with id, findings, impression, indication, comparison.

    ``exclude_ids`` are report ids (``CXR123``) to leave out, e.g. the ReXrank IU test/valid studies.
    """
    import xml.etree.ElementTree as ET

    excluded = set(exclude_ids)
    out: list[dict] = []
    with tarfile.open(tgz) as tar:
        for member in tar:
            if not member.isfile() or not member.name.endswith(".xml"):
                continue
            root = ET.parse(tar.extractfile(member)).getroot()
            fields = {"id": "CXR" + Path(member.name).stem}
            if fields["id"] in excluded:
                continue
            for node in root.iter("AbstractText"):
                label = (node.get("Label") or "").lower()
                fields[label] = " ".join((node.text or "").split())
            if fields.get("findings"):
                out.append(fields)
            if limit and len(out) >= limit:
                break
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]+|[0-9]+|[^\sA-Za-z0-9]", text)


def build_tokenizer(
    texts: Iterable[str], out_dir: str | Path | None = None, vocab_size: int = 2000
):
    """Word-level tokenizer trained on ``texts`` (lower-cased; punctuation split off)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces, no prefix in use
    trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, special_tokens=SPECIAL)
    extra = [
        "user",
        "assistant",
        "system",
        ":",
        "indication",
        "comparison",
        "prior",
        "report",
        "findings",
    ]
    tok.train_from_iterator(list(texts) + [" ".join(extra)], trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        extra_special_tokens={"image_token": "<image>"},
    )
    fast.chat_template = CHAT_TEMPLATE
    if out_dir is not None:
        fast.save_pretrained(out_dir)
    return fast


def _llama_config(tokenizer, hidden: int, layers: int):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )


def build_tiny_text_model(
    out_dir: str | Path,
    texts: Iterable[str] | None = None,
    hidden: int = 64,
    layers: int = 2,
    seed: int = 0,
) -> Path:
    """A random-weight Llama causal LM + locally trained tokenizer, saved to ``out_dir``."""
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    out_dir = Path(out_dir)
    tok = build_tokenizer(texts or FALLBACK_REPORTS, out_dir)
    model = LlamaForCausalLM(_llama_config(tok, hidden, layers))
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.save_pretrained(out_dir)
    return out_dir


def build_tiny_llava(
    out_dir: str | Path,
    texts: Iterable[str] | None = None,
    hidden: int = 64,
    layers: int = 2,
    image_size: int = 32,
    patch_size: int = 8,
    seed: int = 0,
) -> Path:
    """A random-weight LLaVA (tiny CLIP vision tower + tiny Llama) with its processor, saved to ``out_dir``.

    Uses the PIL image processor, so it needs no torchvision.
    """
    import torch
    from transformers import (
        CLIPVisionConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )
    from transformers.models.llava.image_processing_pil_llava import LlavaImageProcessorPil

    torch.manual_seed(seed)
    out_dir = Path(out_dir)
    tok = build_tokenizer(texts or FALLBACK_REPORTS)
    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        image_size=image_size,
        patch_size=patch_size,
        projection_dim=32,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=_llama_config(tok, hidden, layers),
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
        image_seq_length=(image_size // patch_size) ** 2,
    )
    model = LlavaForConditionalGeneration(config)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    image_processor = LlavaImageProcessorPil(
        size={"height": image_size, "width": image_size},
        crop_size={"height": image_size, "width": image_size},
        do_center_crop=False,
        do_pad=False,
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tok,
        patch_size=patch_size,
        vision_feature_select_strategy="default",
        chat_template=CHAT_TEMPLATE,
        image_token="<image>",
        num_additional_image_tokens=1,  # the CLS token, which the "default" strategy drops
    )
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    return out_dir


#: Bump when the tiny builders change, so a stale cached policy is rebuilt rather than reused.
TINY_VERSION = 1


def tiny_policy(name: str = "rexeval:tiny", say: Any = None) -> Path:
    """The folder of rexeval's tiny policy (``rexeval:tiny`` text, ``rexeval:tiny-vlm`` LLaVA), built on
    first use under the rexeval cache (``$REXEVAL_CACHE``, default ``~/.cache/rexeval``) and reused; with
    the cache off, built in a fresh temporary folder. Says which, on stderr."""
    import os
    import shutil
    import sys
    import tempfile

    from rexeval.base.cache import cache_dir

    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    vlm = name.endswith("-vlm")
    build = build_tiny_llava if vlm else build_tiny_text_model
    what = (
        f"{'a LLaVA (tiny CLIP vision tower + ' if vlm else 'a '}Llama, 64-d, 2 layers"
        f"{')' if vlm else ''}, random weights, word-level tokenizer"
    )
    root = cache_dir()
    if root is None:
        target = Path(tempfile.mkdtemp(prefix="rexeval-tiny-"))
        say(f"model: {name} = rexeval's tiny policy ({what}), built in {target} (cache off)")
        return build(target)
    target = root / "policies" / f"{name.split(':')[1]}-v{TINY_VERSION}"
    if (target / "config.json").exists():
        say(f"model: {name} = rexeval's tiny policy ({what}), cached at {target}")
        return target
    say(f"model: {name} = rexeval's tiny policy ({what}); building it once into {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(tmp)
        os.replace(tmp, target)  # whole folder or nothing: an interrupted build is never "cached"
    except OSError:
        if not (target / "config.json").exists():  # not a concurrent builder that finished first
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


if __name__ == "__main__":  # python -m trainers.tiny OUT_DIR [--vlm]
    import sys

    target = sys.argv[1]
    (build_tiny_llava if "--vlm" in sys.argv else build_tiny_text_model)(target)
    print(target)
