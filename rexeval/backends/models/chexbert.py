"""CheXbert: bert-base-uncased + 14 linear heads, one forward pass for SembScore and the labels.

The checkpoint is ``chexbert.pth`` from the Hugging Face repo ``StanfordAIMI/RRG_scorers`` (the file
f1chexbert and RadEval download; CXR-Report-Metric's original Box link is dead). It is a
``torch.save`` dict whose ``model_state_dict`` holds ``module.bert.*`` (a BertModel with pooler) and
``module.linear_heads.{0..13}.{weight,bias}`` (13 heads of 4 classes, "No Finding" with 2). The
checkpoint has no tokenizer: the bert-base-uncased WordPiece vocabulary is resolved separately
(``google-bert/bert-base-uncased``, or the legacy id ``bert-base-uncased`` f1chexbert caches, or a
``vocab.txt`` next to ``chexbert.pth``).

Per text (docs/metrics.md §4): strip, newline -> space, collapse ``\\s+``, strip; WordPiece; [CLS] ids [SEP];
longer than 512 -> ids[:511] + [SEP]; an empty text -> [CLS][SEP]. One forward pass in eval mode
yields the last-layer [CLS] vector (before dropout and the heads: SembScore) and the 14 head argmaxes
(the labels). Distinct texts are run once, sorted by length into batches padded under an attention
mask, and cached on disk by content hash (``TextCache``), so SembScore and the condition labels share
both the forward pass and the cache.

Loading never falls back to a full unpickle: ``torch.load(weights_only=True)`` only. A checkpoint that
needs arbitrary objects (which can run code when read) or cannot be read is refused before scoring, and
the metric is skipped with the reason. To load such a file anyway, pin its sha256 (printed in the
refusal) in ``$REXEVAL_TRUST_PICKLE``; the run's signature then records ``pickle:trusted-by-sha256``.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from rexeval.backends.models import ModelSpec, Resolved, register_model, resolve
from rexeval.base.exceptions import ConfigError, MetricUnavailable

#: Padding granularity of the CheXbert forward pass (a text's width depends only on its own length).
PAD_TO = 8

N_HEADS = 14
MAX_LEN = 512
#: Bump when preprocessing or the forward recipe changes (part of the cache namespace).
RECIPE = "chexbert-v2"  # v2: width padded per text (PAD_TO), not per batch
#: Whitespace words kept before tokenizing (every word yields >= 1 token, so 4096 words always reach
#: the 512-token cap; it only bounds the work on a pathological multi-megabyte report).
MAX_WORDS = 4096

CHEXBERT = register_model(
    ModelSpec(
        name="chexbert",
        hub_id="StanfordAIMI/RRG_scorers",
        env_var="REXEVAL_CHEXBERT",
        files=("chexbert.pth",),
        used_by=("semb_score", "chexbert_f1"),
        licence="see the hub repo (CheXbert, Smit et al. 2020)",
        note="CheXbert weights (bert-base-uncased + 14 heads), as used by f1chexbert and RadEval",
    )
)
BERT_BASE_UNCASED = register_model(
    ModelSpec(
        name="bert-base-uncased",
        hub_id="google-bert/bert-base-uncased",
        env_var="REXEVAL_BERT_BASE_UNCASED",
        files=("vocab.txt",),
        used_by=("semb_score", "chexbert_f1"),
        licence="Apache-2.0",
        note="WordPiece vocabulary (and config) of the CheXbert backbone; no weights needed",
        extra_hub_files=("config.json", "tokenizer_config.json"),
    )
)
#: Older caches (f1chexbert's ``BertTokenizer.from_pretrained('bert-base-uncased')``) use this id.
_LEGACY_BERT = replace(BERT_BASE_UNCASED, hub_id="bert-base-uncased")


@dataclass(frozen=True)
class CheXbertSettings:
    """Which CheXbert files and how to run them: the options SembScore, chexbert_f1 and the labeler share.

    Equal settings pick the one shared :class:`CheXbert` (``get_chexbert``).
    """

    model_path: str | Path | None = None
    tokenizer_path: str | Path | None = None
    device: str | None = None
    batch_size: int = 32
    dtype: str = "float32"
    cache: bool = True

_WS = re.compile(r"\s+")


def preprocess(text: str) -> str:
    """docs/metrics.md §4: text normalisation: strip, newline -> space, collapse whitespace runs, strip."""
    return _WS.sub(" ", text.strip().replace("\n", " ")).strip()


def resolve_chexbert(path: str | Path | None = None) -> Resolved:
    return resolve(CHEXBERT, path)


def resolve_tokenizer(chexbert: Resolved | None = None, path: str | Path | None = None) -> Path:
    """Folder holding the bert-base-uncased ``vocab.txt``: explicit/env, next to the checkpoint, HF cache."""
    if path or os.environ.get(BERT_BASE_UNCASED.env_var):
        return resolve(BERT_BASE_UNCASED, path).path
    if chexbert is not None and (chexbert.path / "vocab.txt").is_file():
        return chexbert.path
    try:
        return resolve(BERT_BASE_UNCASED).path
    except MetricUnavailable:
        pass
    try:
        return resolve(_LEGACY_BERT).path
    except MetricUnavailable:
        raise MetricUnavailable(
            f"the CheXbert tokenizer (bert-base-uncased vocab.txt, hub id {BERT_BASE_UNCASED.hub_id}) was not found locally",
            BERT_BASE_UNCASED.fix,
        ) from None


def _fingerprint(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}-{st.st_mtime_ns}"


def _sha_short(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _pick_device(device: str | None) -> str:
    import torch

    from rexeval.backends.models import auto_device

    if device in (None, "", "auto"):
        return auto_device(device)
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available")
    return str(device)


def _build_module(config: Any):
    """BertModel (with pooler, as saved) + 14 linear heads, parameter names as in chexbert.pth."""
    import torch
    from transformers import BertModel

    class CheXbertModule(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel(config, add_pooling_layer=True)
            hidden = config.hidden_size
            self.linear_heads = torch.nn.ModuleList(
                [torch.nn.Linear(hidden, 4) for _ in range(N_HEADS - 1)] + [torch.nn.Linear(hidden, 2)]
            )

        def forward(self, ids, mask):
            cls = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0, :]
            # eval mode: the heads' dropout is the identity, so the heads see the same [CLS] vector
            heads = torch.stack([h(cls).argmax(dim=1) for h in self.linear_heads], dim=1)
            return cls, heads

    return CheXbertModule()


#: Opt-in for a checkpoint that only loads as a full pickle: the file's sha256 (printed when it is
#: refused). Unpickling runs whatever code the file names, so it is allowed for that exact file only.
TRUST_PICKLE_ENV = "REXEVAL_TRUST_PICKLE"


def trusted_pickle(file: Path) -> bool:
    """Whether the user pinned this exact file (by sha256) as safe to unpickle."""
    from rexeval.base.fingerprint import file_sha256

    pins = _trust_pins()
    return bool(pins) and file_sha256(file) in pins


def _trust_pins() -> set[str]:
    return {p.strip().lower() for p in os.environ.get(TRUST_PICKLE_ENV, "").split(",") if p.strip()}


def _load_state_dict(file: Path, mmap: bool = False) -> dict:
    """The checkpoint's state dict, loaded with ``weights_only=True`` and never a silent full unpickle.

    A file that needs arbitrary objects is refused (MetricUnavailable: the metric is skipped with the
    reason) unless its sha256 is listed in ``$REXEVAL_TRUST_PICKLE``; a corrupt or truncated file is
    refused the same way.
    """
    import pickle
    import zipfile

    import torch

    mmap = mmap and zipfile.is_zipfile(file)  # torch maps only the zip format; a legacy file is read whole
    try:
        blob = torch.load(str(file), map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as exc:
        # Read once, hash those bytes and unpickle those same bytes: a file swapped after a check (same size,
        # mtime restored, which fools file_sha256's memo) cannot slip its payload past the pin.
        data = file.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest not in _trust_pins():
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else exc.__class__.__name__
            raise MetricUnavailable(
                f"{file} needs a full unpickle, which can run code ({first}); it was not loaded",
                f"use the checkpoint from {CHEXBERT.hub_id}, or, only if you trust this exact file, set "
                f"{TRUST_PICKLE_ENV}={digest}",
            ) from None
        warnings.warn(f"{file}: loading as a full pickle ({TRUST_PICKLE_ENV} pins its sha256)", stacklevel=2)
        blob = torch.load(io.BytesIO(data), map_location="cpu", weights_only=False)
        del data
    except Exception as exc:  # noqa: BLE001 - torch raises RuntimeError/EOFError/zip errors for a bad file
        raise MetricUnavailable(
            f"{file} cannot be read as a checkpoint ({exc.__class__.__name__}: {str(exc).strip()[:120]})",
            f"the file is corrupt or truncated: delete it and {CHEXBERT.fix}",
        ) from None
    if not isinstance(blob, dict):
        raise MetricUnavailable(f"{file} is not a CheXbert checkpoint (expected a dict)", CHEXBERT.fix)
    state = blob.get("model_state_dict", blob)
    if not isinstance(state, dict):
        raise MetricUnavailable(f"{file} is not a CheXbert checkpoint (model_state_dict is not a dict)", CHEXBERT.fix)
    return {(k[len("module.") :] if k.startswith("module.") else k): v for k, v in state.items()}


_CHECKED: dict[str, None] = {}


def check_checkpoint(file: Path) -> None:
    """Cheap load (memory-mapped, tensors not read) that refuses a bad or unsafe checkpoint before scoring.

    Called by the metrics' ``check_available``, so such a file skips the metric with one line, like a
    missing one, instead of failing mid-run.
    """
    key = f"{file.resolve()}::{_fingerprint(file)}::{os.environ.get(TRUST_PICKLE_ENV, '')}"
    if key in _CHECKED:
        return
    state = _load_state_dict(file, mmap=True)
    if "bert.embeddings.word_embeddings.weight" not in state or not any(k.startswith("linear_heads.") for k in state):
        raise MetricUnavailable(f"{file} does not have the CheXbert layout (bert.* and linear_heads.*)", CHEXBERT.fix)
    _CHECKED[key] = None


def _config_from_state(state: dict, config_file: Path, config_cls: Any) -> Any:
    """BertConfig for the checkpoint: bert-base-uncased's (config.json or ``BertConfig()`` defaults),
    with the sizes read off the tensors so a checkpoint of another size is loaded as it is."""
    config = config_cls.from_json_file(str(config_file)) if config_file.is_file() else config_cls()
    word = state.get("bert.embeddings.word_embeddings.weight")
    if word is None:
        raise MetricUnavailable("the checkpoint lacks bert.embeddings.* (not a CheXbert checkpoint)", CHEXBERT.fix)
    layers = {int(m.group(1)) for k in state if (m := re.match(r"bert\.encoder\.layer\.(\d+)\.", k))}
    hidden = int(word.shape[1])
    if hidden != config.hidden_size:
        config.num_attention_heads = max(1, hidden // 64)
    config.vocab_size = int(word.shape[0])
    config.hidden_size = hidden
    config.num_hidden_layers = max(layers) + 1 if layers else config.num_hidden_layers
    inter = state.get("bert.encoder.layer.0.intermediate.dense.weight")
    if inter is not None:
        config.intermediate_size = int(inter.shape[0])
    pos = state.get("bert.embeddings.position_embeddings.weight")
    if pos is not None:
        config.max_position_embeddings = int(pos.shape[0])
    tt = state.get("bert.embeddings.token_type_embeddings.weight")
    if tt is not None:
        config.type_vocab_size = int(tt.shape[0])
    return config


class CheXbert:
    """A loaded CheXbert: ``encode(texts)`` -> ([CLS] embeddings (n, 768), head argmaxes (n, 14)).

    Construction resolves the files (never the network) and raises MetricUnavailable with the fix
    when they are missing; the weights load on first use.
    """

    def __init__(self, settings: CheXbertSettings = CheXbertSettings()) -> None:
        if settings.dtype not in ("float32", "float16", "bfloat16"):
            raise ConfigError(f"dtype must be float32, float16 or bfloat16, not {settings.dtype!r}")
        if settings.batch_size < 1:
            raise ConfigError("batch_size must be >= 1")
        self.resolved = resolve_chexbert(settings.model_path)
        self.checkpoint = self.resolved.file("chexbert.pth")
        self.tokenizer_dir = resolve_tokenizer(self.resolved, settings.tokenizer_path)
        self.device_request = settings.device
        self.batch_size = settings.batch_size
        self.dtype = settings.dtype
        self.use_cache = settings.cache
        self._model: Any = None
        self._tokenizer: Any = None
        self._device: str | None = None
        self._lock = threading.Lock()
        self._cache = None
        self.forward_texts = 0  # texts actually run through the network (tests, benchmarks)

    # -- provenance --

    @property
    def tag(self) -> str:
        return self.resolved.tag

    @property
    def namespace(self) -> str:
        # precision changes the numbers; the device does not beyond float noise, so it stays out
        return "|".join(
            [RECIPE, self.tag, _fingerprint(self.checkpoint), "vocab:" + _sha_short(self.tokenizer_dir / "vocab.txt"), self.dtype]
        )

    def options(self) -> dict[str, Any]:
        opts = {"model": self.tag, "backbone": "bert-base-uncased", "prep": "collapse-ws,trunc511+sep", "dtype": self.dtype}
        if trusted_pickle(self.checkpoint):  # the opt-in is part of the record
            opts["pickle"] = "trusted-by-sha256"
        return opts

    # -- loading --

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import BertConfig, BertTokenizer

        state = _load_state_dict(self.checkpoint)
        config = _config_from_state(state, self.tokenizer_dir / "config.json", BertConfig)
        # build on the meta device and assign the loaded tensors: no time spent on a random init
        with torch.device("meta"):
            module = _build_module(config)
        expected = module.state_dict()
        # position_ids / token_type_ids are constant buffers older transformers saved
        state = {k: v for k, v in state.items() if k in expected or not k.endswith(("position_ids", "token_type_ids"))}
        missing = [k for k in expected if k not in state and not k.endswith(("position_ids", "token_type_ids"))]
        unexpected = [k for k in state if k not in expected]
        if missing or unexpected:
            raise MetricUnavailable(
                f"{self.checkpoint} does not have the CheXbert layout (missing {missing[:3]}, unexpected {unexpected[:3]})",
                CHEXBERT.fix,
            )
        module = module.to_empty(device="cpu")
        module.load_state_dict(state, strict=False)
        emb = module.bert.embeddings
        with torch.no_grad():
            if isinstance(getattr(emb, "position_ids", None), torch.Tensor):
                emb.position_ids.copy_(torch.arange(emb.position_ids.shape[-1]).expand_as(emb.position_ids))
            if isinstance(getattr(emb, "token_type_ids", None), torch.Tensor):
                emb.token_type_ids.zero_()
        self._device = _pick_device(self.device_request)
        dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[self.dtype]
        module = module.to(self._device, dtype=dtype).eval()
        for p in module.parameters():
            p.requires_grad_(False)
        tok = BertTokenizer.from_pretrained(str(self.tokenizer_dir), do_lower_case=True)
        tok.model_max_length = 10**9  # we truncate ourselves (ids[:511] + [SEP]); silence the length warning
        self._tokenizer = tok
        self._model = module

    @property
    def device(self) -> str:
        self._load()
        return self._device  # type: ignore[return-value]

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """docs/metrics.md §4: input ids per text: [CLS] wordpieces [SEP], truncated to 512, empty -> [CLS][SEP]."""
        self._load()
        tok = self._tokenizer
        clean = []
        for t in texts:
            t = preprocess(t)
            words = t.split(" ")
            clean.append(" ".join(words[:MAX_WORDS]) if len(words) > MAX_WORDS else t)
        enc = tok(clean, add_special_tokens=False)["input_ids"] if clean else []
        out = []
        for ids in enc:
            ids = [tok.cls_token_id, *ids, tok.sep_token_id]
            if len(ids) > MAX_LEN:
                ids = ids[: MAX_LEN - 1] + [tok.sep_token_id]
            out.append(ids)
        return out

    # -- the forward pass --

    def _forward(self, texts: list[str], progress: Callable[[int], None] | None = None) -> list[np.ndarray]:
        """Run distinct texts; each result is float32 [embedding (768)..., 14 head argmaxes...]."""
        import torch

        from rexeval.backends.models.batching import padded_batch, padded_length_batches

        self._load()
        ids = self.token_ids(texts)
        # Each text is padded to a width that depends only on itself and batched only with texts of that
        # width: padding to the batch's longest text changed the embeddings in the 8th significant digit
        # depending on the batch mates.
        results: list[np.ndarray | None] = [None] * len(ids)
        with self._lock, torch.inference_mode():
            for width, chunk in padded_length_batches([len(x) for x in ids], batch_size=self.batch_size,
                                                      pad_to=PAD_TO):
                batch, mask = padded_batch(ids, chunk, width, pad_id=0)
                cls, heads = self._model(batch.to(self._device), mask.to(self._device))
                cls = cls.float().cpu().numpy()
                heads = heads.cpu().numpy()
                for r, i in enumerate(chunk):
                    results[i] = np.concatenate([cls[r], heads[r].astype(np.float32)]).astype(np.float32)
                self.forward_texts += len(chunk)
                if progress:
                    progress(len(chunk))
        return results  # type: ignore[return-value]

    def _text_cache(self):
        if self._cache is None:
            from rexeval.base.cache import TextCache

            self._cache = TextCache(self.namespace, directory="default" if self.use_cache else None)
        return self._cache

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """([CLS] embeddings float32 (n, 768), head argmaxes int (n, 14)) for ``texts``."""
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"text {i}: expected a string, not {type(t).__name__}")
        if not texts:
            self._load()
            hidden = self._model.bert.config.hidden_size
            return np.zeros((0, hidden), np.float32), np.zeros((0, N_HEADS), np.int64)
        # the cache key is the preprocessed text: texts differing only in whitespace share a pass
        prepped = [preprocess(t) for t in texts]
        values = self._text_cache().compute(prepped, lambda todo: self._forward(todo, progress))
        arr = np.stack(values)
        return arr[:, :-N_HEADS].astype(np.float32), arr[:, -N_HEADS:].astype(np.int64)


def get_chexbert(settings: CheXbertSettings = CheXbertSettings()) -> CheXbert:
    """One CheXbert per (files, device, precision) in a process, so SembScore and the labels share it.

    The key includes the resolved checkpoint's path and fingerprint, so a different file (another test
    checkpoint, a new download) gets a fresh instance.
    """
    resolved = resolve_chexbert(settings.model_path)  # raises MetricUnavailable with the fix; cheap
    ckpt = resolved.file("chexbert.pth")
    key = f"{ckpt.resolve()}::{_fingerprint(ckpt)}"
    # the cache key: paths as strings, the device picked ("auto"/None and "cuda" name one instance when
    # CUDA is there), and a plain CheXbertSettings so that a subclass's instance keys like its base's
    keyed = CheXbertSettings(
        model_path=str(settings.model_path) if settings.model_path else None,
        tokenizer_path=str(settings.tokenizer_path) if settings.tokenizer_path else None,
        device=_pick_device(settings.device),
        batch_size=settings.batch_size,
        dtype=settings.dtype,
        cache=settings.cache,
    )
    return _shared_keyed(key, keyed, os.environ.get(BERT_BASE_UNCASED.env_var))


@lru_cache(maxsize=8)
def _shared_keyed(key: str, settings: CheXbertSettings, tok_env: str | None) -> CheXbert:
    return CheXbert(settings)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity, unclipped; 0 where either norm is 0 (docs/metrics.md §4)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    dot = np.einsum("ij,ij->i", a, b)
    out = np.zeros(len(a))
    ok = (na > 0) & (nb > 0)
    out[ok] = dot[ok] / (na[ok] * nb[ok])
    return out


def heads_to_labels(heads: np.ndarray) -> np.ndarray:
    """Head argmaxes (n, 14) -> labels 1/0/-1/NaN. Heads 1-13: 0 blank, 1 pos, 2 neg, 3 uncertain;
    No Finding: 0 blank, 1 positive (CheXbert's label.py convention)."""
    heads = np.asarray(heads)
    table = np.array([np.nan, 1.0, 0.0, -1.0])
    return table[heads]
