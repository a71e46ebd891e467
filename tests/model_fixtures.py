"""Random-weight checkpoints in the exact architecture and file layout of the real models.

No weights can be downloaded here, so tests and benchmarks build them: a distilroberta-base-shaped
RobertaModel (6 layers, 768 hidden, 12 heads, vocab 50265, 514 positions, 1 token type) with the real
RoBERTa BPE files, saved into a Hugging Face cache folder under the hub id ``distilroberta-base``
(``models--distilroberta-base/snapshots/<rev>/`` + ``refs/main``), where both rexeval and bert_score
look it up with HF_HUB_OFFLINE=1.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

FAKE_REVISION = "0000000000000000000000000000000000000000"
SHARED = Path(os.environ.get("REXEVAL_SHARED", Path(__file__).resolve().parents[1].parent / "shared")).resolve()
ROBERTA_TOKENIZER = SHARED / "data" / "tokenizers" / "roberta-base"


def hub_snapshot(hub_cache: Path, hub_id: str, revision: str = FAKE_REVISION) -> Path:
    repo = hub_cache / f"models--{hub_id.replace('/', '--')}"
    snap = repo / "snapshots" / revision
    snap.mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return snap


def build_distilroberta(hub_cache: Path, seed: int = 0, tokenizer_dir: Path = ROBERTA_TOKENIZER) -> Path:
    """Write a random-weight distilroberta-base into ``hub_cache``; return the snapshot folder."""
    import torch
    from transformers import RobertaConfig, RobertaModel

    snap = hub_snapshot(hub_cache, "distilroberta-base")
    if (snap / "model.safetensors").is_file():
        return snap
    torch.manual_seed(seed)
    config = RobertaConfig(
        vocab_size=50265, hidden_size=768, num_hidden_layers=6, num_attention_heads=12,
        intermediate_size=3072, max_position_embeddings=514, type_vocab_size=1,
        layer_norm_eps=1e-5, bos_token_id=0, eos_token_id=2, pad_token_id=1,
    )
    model = RobertaModel(config)
    model.eval()
    model.save_pretrained(str(snap))
    for name in ("vocab.json", "merges.txt"):
        shutil.copyfile(tokenizer_dir / name, snap / name)
    # bert_score (under transformers 5) only gets RoBERTa's prefix space from the tokenizer config:
    # transformers 5 ignores the add_prefix_space=True that bert_score passes to encode().
    (snap / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "RobertaTokenizer", "model_max_length": 512, "add_prefix_space": True})
    )
    return snap
