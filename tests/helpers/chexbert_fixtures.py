"""A random-weight ``chexbert.pth`` in the exact CheXbert layout, placed where the real one is found.

CheXbert = bert-base-uncased (``BertConfig()`` defaults are its architecture) + 14 linear heads; the
file is ``torch.save({"model_state_dict": {"module.bert...": ..., "module.linear_heads.i...": ...}})``
as a DataParallel-wrapped model saves it, including the ``position_ids`` buffer older transformers
wrote. It goes into a Hugging Face cache folder under ``StanfordAIMI/RRG_scorers`` and the real
bert-base-uncased vocabulary under ``google-bert/bert-base-uncased``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

FAKE_REVISION = "1111111111111111111111111111111111111111"
from tests.helpers.model_fixtures import hub_snapshot  # noqa: E402
from tests.helpers.paths import SHARED  # noqa: E402

BERT_VOCAB = SHARED / "data" / "tokenizers" / "bert-base-uncased" / "vocab.txt"


def snapshot_dir(hub_cache: Path, hub_id: str, revision: str = FAKE_REVISION) -> Path:
    return hub_snapshot(hub_cache, hub_id, revision)


def tiny_config():
    """A small BERT with CheXbert's layout, for fast behavioural tests (the loader reads sizes off the tensors)."""
    from transformers import BertConfig

    return BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=1, intermediate_size=128)


def build_chexbert(hub_cache: Path, seed: int = 0, head_scale: float = 20.0, config=None) -> Path:
    """Write chexbert.pth + the bert-base-uncased vocab into ``hub_cache``; return chexbert.pth's path.

    ``config`` defaults to ``BertConfig()`` (bert-base-uncased's architecture, the real CheXbert's).
    ``head_scale`` multiplies the random head weights, centred on the mean [CLS] vector, so that the
    argmax varies between texts.
    """
    import torch
    from transformers import BertConfig, BertModel

    snap = snapshot_dir(hub_cache, "StanfordAIMI/RRG_scorers")
    ckpt = snap / "chexbert.pth"
    tok = snapshot_dir(hub_cache, "google-bert/bert-base-uncased")
    shutil.copyfile(BERT_VOCAB, tok / "vocab.txt")
    if ckpt.is_file():
        return ckpt
    torch.manual_seed(seed)
    config = config or BertConfig()
    bert = BertModel(config, add_pooling_layer=True)
    state = {f"module.bert.{k}": v.clone() for k, v in bert.state_dict().items()}
    state.setdefault("module.bert.embeddings.position_ids", torch.arange(config.max_position_embeddings).unsqueeze(0))
    # Random [CLS] vectors of a random BERT are nearly parallel; centre the heads on their mean so
    # the argmax follows what differs between texts (else every text gets the same labels).
    bert.eval()
    with torch.no_grad():
        probe = torch.randint(1000, config.vocab_size, (16, 12))
        probe[:, 0], probe[:, -1] = 101, 102  # [CLS] ... [SEP], as every real input
        centre = bert(probe).last_hidden_state[:, 0, :].mean(0)
    for i in range(14):
        head = torch.nn.Linear(config.hidden_size, 4 if i < 13 else 2)
        weight = head.weight.detach() * head_scale
        state[f"module.linear_heads.{i}.weight"] = weight
        state[f"module.linear_heads.{i}.bias"] = -(weight @ centre)
    torch.save({"epoch": 1, "model_state_dict": state}, str(ckpt))
    return ckpt
