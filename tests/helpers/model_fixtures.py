"""Random-weight checkpoints in the exact architecture and file layout of the real models.

No weights can be downloaded here, so tests and benchmarks build them: a distilroberta-base-shaped
RobertaModel (6 layers, 768 hidden, 12 heads, vocab 50265, 514 positions, 1 token type) with the real
RoBERTa BPE files, saved into a Hugging Face cache folder under the hub id ``distilroberta-base``
(``models--distilroberta-base/snapshots/<rev>/`` + ``refs/main``), where both rexeval and bert_score
look it up with HF_HUB_OFFLINE=1.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

FAKE_REVISION = "0000000000000000000000000000000000000000"
from tests.helpers.paths import SHARED  # noqa: E402

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


BERT_VOCAB = SHARED / "data" / "tokenizers" / "bert-base-uncased" / "vocab.txt"
RADGRAPH_NER = ("ANAT-DP", "OBS-DP", "OBS-U", "OBS-DA")
RADGRAPH_RELATIONS = ("modify", "located_at", "suggestive_of")


def build_radgraph_archive(folder: Path, model_type: str = "radgraph", seed: int = 0, hidden: int = 64) -> Path:
    """A random-weight ``<model_type>.tar.gz`` in the layout the radgraph package unpacks and loads
    (config.json + vocabulary/ + weights.th of a DyGIE model), with a small random BERT encoder
    (bert-base-uncased vocabulary) stored beside it and named by absolute path in config.json.

    The real archives' encoder is a full-size BERT named by hub id; this one is small so tests stay
    fast. Everything else (reader, span extractor, NER/relation heads, label namespaces, state-dict
    keys) goes through the package's own code.
    """
    import tarfile
    import tempfile

    import torch
    from transformers import BertConfig, BertTokenizer

    folder = Path(folder)
    archive = folder / f"{model_type}.tar.gz"
    if archive.is_file():
        return archive
    folder.mkdir(parents=True, exist_ok=True)
    encoder = folder / "encoder"
    encoder.mkdir(exist_ok=True)
    BertConfig(vocab_size=30522, hidden_size=hidden, num_hidden_layers=2, num_attention_heads=2,
               intermediate_size=2 * hidden).save_pretrained(str(encoder))
    BertTokenizer(str(BERT_VOCAB), do_lower_case=True).save_pretrained(str(encoder))

    from radgraph.allennlp.data import Vocabulary
    from radgraph.allennlp.modules import text_field_embedders, token_embedders
    from radgraph.dygie.models import dygie

    namespace = "radgraph" if model_type == "radgraph" else model_type
    vocab = Vocabulary(non_padded_namespaces=["*labels", "*tags"])
    vocab.add_tokens_to_namespace(["", *RADGRAPH_NER], f"{namespace}__ner_labels")
    vocab.add_tokens_to_namespace(["", *RADGRAPH_RELATIONS], f"{namespace}__relation_labels")
    bert = {"model_name": str(encoder), "max_length": 512}
    model_cfg = {
        "type": "dygie",
        "embedder": {"token_embedders": {"bert": {"type": "pretrained_transformer_mismatched", **bert}}},
        "initializer": {}, "module_initializer": {},
        "feature_size": 8, "max_span_width": 4, "target_task": "relation",
        "feedforward_params": {"num_layers": 1, "hidden_dims": 16, "dropout": 0.0},
        "loss_weights": {"ner": 1.0, "relation": 1.0, "coref": 0.0, "events": 0.0},
        "modules": {
            "coref": {"spans_per_word": 0.3, "max_antecedents": 10, "coref_prop": 0},
            "ner": {},
            "relation": {"spans_per_word": 0.5},
            "events": {"trigger_spans_per_word": 0.3, "argument_spans_per_word": 0.8,
                       "loss_weights": {"trigger": 1.0, "arguments": 1.0}},
        },
    }
    config = {
        "dataset_reader": {"type": "dygie", "max_span_width": 4,
                           "token_indexers": {"bert": {"type": "pretrained_transformer_mismatched", **bert}}},
        "model": model_cfg,
    }
    torch.manual_seed(seed)
    embedder = text_field_embedders.BasicTextFieldEmbedder(
        {"bert": token_embedders.PretrainedTransformerMismatchedEmbedder(model_name=str(encoder), max_length=512)}
    )
    kwargs = {k: v for k, v in json.loads(json.dumps(model_cfg)).items()
              if k not in ("type", "embedder", "initializer", "module_initializer")}
    model = dygie.DyGIE(vocab=vocab, embedder=embedder, **kwargs)
    with torch.no_grad():  # random but not tiny: make the heads label some spans
        for name, p in model.named_parameters():
            if "_ner_scorers" in name or "_relation_scorers" in name:
                p.normal_(0, 1.0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "config.json").write_text(json.dumps(config, indent=1))
        vocab.save_to_files(str(tmp / "vocabulary"))
        torch.save(model.state_dict(), tmp / "weights.th")
        with tarfile.open(archive, "w:gz") as tar:
            for item in ("config.json", "vocabulary", "weights.th"):
                tar.add(tmp / item, arcname=item)
    return archive
