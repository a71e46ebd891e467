"""BERTScore exactly as ReXrank reports it (docs/metrics.md §3), re-implemented for speed.

ReXrank calls bert_score 0.3.11 ``BERTScorer(model_type="distilroberta-base", num_layers=5, idf=False,
rescale_with_baseline=True)``. This module computes the same numbers:

* text: stripped; RoBERTa byte-level BPE with a prefix space (the slow tokenizer bert_score uses, with
  ``add_prefix_space=True``), ``<s> ... </s>``, truncated to 512 ids;
* embeddings: the output of transformer layer 5 of distilroberta-base (the model truncated to 5 layers),
  L2-normalised per token;
* P = weighted mean over candidate tokens of the max cosine to any reference token (``<s>``/``</s>``
  included on the side being maxed over, as bert_score does), R symmetric, F = 2PR/(P+R);
  weights 1 per token and 0 for ``<s>``/``</s>`` (IDF off), or IDF from a fixed corpus (never the batch);
* a text with no real token gives P = R = F = 0 raw (rescaled F = -5.550157);
* rescaled x' = (x - b) / (1 - b) with bert_score's LAYER=5 baseline row for distilroberta-base.

The computation itself (weights, IDF, greedy matching, rescaling) is :mod:`rexeval.metrics.bertscore_core`,
shared with ``radeval_bertscore``. Speed, without changing any value: texts are de-duplicated and run in
batches of one padded length (:mod:`rexeval.backends.models.batching`: a text's embedding never depends on its
batch mates); reference-side embeddings are cached on disk by content hash; pairs are scored once per
distinct (prediction, reference). ``device="cuda"`` runs on the GPU; ``fp16=True`` runs the encoder in half precision
(docs/models.md gives the measured tolerance).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rexeval.backends.models import ModelSpec, register_model
from rexeval.base.exceptions import ConfigError, InputError, MetricUnavailable, install_hint
from rexeval.metrics.base import (
    Batch,
    Metric,
    OnDevice,
    Output,
    installed_versions,
    mean_of,
    text_progress,
)
from rexeval.metrics.bertscore_core import (
    embed_distinct,
    idf_table,
    rescale,
    score_aligned,
    token_weights,
)

MODEL = register_model(
    ModelSpec(
        name="distilroberta-base",
        hub_id="distilroberta-base",
        env_var="REXEVAL_DISTILROBERTA_DIR",
        files=("config.json", "vocab.json", "merges.txt", "model.safetensors"),
        used_by=("bertscore",),
        licence="Apache-2.0",
        note="BERTScore encoder (layer 5 of 6), as bert_score uses it",
    )
)

NUM_LAYERS = 5
MAX_LENGTH = 512
#: Texts are padded to a multiple of this (a property of the text alone, so batches never matter).
PAD_TO = 8
#: bert_score rescale_baseline/en/distilroberta-base.tsv, row LAYER=5 (P, R, F).
BASELINE = (0.84732, 0.84759504, 0.8473319)
#: Rescaled F of an empty candidate: (0 - b_F) / (1 - b_F).
EMPTY_F = (0.0 - BASELINE[2]) / (1.0 - BASELINE[2])


def _read_corpus(path: Path) -> list[str]:
    """IDF corpus: a .txt file (one reference per line) or a table with a report-like column."""
    if not path.is_file():
        raise InputError("IDF corpus file not found", path=str(path))
    if path.suffix.lower() == ".txt":
        lines = path.read_text(encoding="utf-8").splitlines()
        return [ln for ln in lines if ln.strip()]
    from rexeval.base.io import read_table

    frame = read_table(path)
    for col in ("report", "reference", "section_findings", "findings", "text"):
        if col in frame.columns:
            return [str(v) for v in frame[col].tolist() if v is not None]
    raise InputError(
        "no reference column for the IDF corpus (expected one of report, reference, section_findings, findings, text)",
        path=str(path),
    )


class BertScore(OnDevice, Metric):
    name = "bertscore"
    description = "BERTScore F (distilroberta-base layer 5, baseline-rescaled) as on ReXrank"

    def __init__(
        self,
        model_path: str | None = None,
        device: str = "auto",
        fp16: bool = False,
        idf_corpus: str | None = None,
        batch_size: int = 64,
        cache_references: bool = True,
    ) -> None:
        self.model_path, self.device_arg, self.fp16 = model_path, device, fp16
        self.idf_corpus = idf_corpus
        self.batch_size, self.cache_references = batch_size, cache_references
        self._resolved = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._idf: tuple[dict[int, float], float] | None = None
        self._idf_tag = "off"
        if idf_corpus is not None:
            digest = hashlib.sha256(Path(idf_corpus).read_bytes()).hexdigest()[:12] if Path(idf_corpus).is_file() else "missing"
            self._idf_tag = f"corpus-sha256:{digest}"

    # -- metric protocol -------------------------------------------------------------------
    def outputs(self) -> list[Output]:
        lo = -BASELINE[2] / (1 - BASELINE[2])
        return [
            Output("bertscore", True, (-math.inf, 1.0), mean_of("bertscore"),
                   f"BERTScore F1, rescaled (empty prediction {lo:.6f})"),
            Output("bertscore_p", True, (-math.inf, 1.0), mean_of("bertscore_p"), "BERTScore precision, rescaled"),
            Output("bertscore_r", True, (-math.inf, 1.0), mean_of("bertscore_r"), "BERTScore recall, rescaled"),
        ]

    def _resolve(self):
        if self._resolved is None:
            from rexeval.backends.models import resolve

            self._resolved = resolve(MODEL, self.model_path)
        return self._resolved

    def check_available(self) -> None:
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError:
            raise MetricUnavailable("bertscore needs torch and transformers", install_hint("models")) from None
        from rexeval.backends.models import check_files

        check_files(self._resolve())  # a corrupt download skips the metric here, with the fix
        if self.idf_corpus is not None and not Path(self.idf_corpus).is_file():
            raise InputError("IDF corpus file not found", path=str(self.idf_corpus))
        if self.device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise ConfigError(f"--device {self.device_arg}: no CUDA device is available")
        if self.fp16 and not self.device.startswith("cuda"):
            raise ConfigError("bertscore fp16 needs a CUDA device (--device cuda)")

    def options(self) -> dict[str, Any]:
        tag = self._resolved.tag if self._resolved is not None else "unresolved"
        if self._resolved is not None:
            from rexeval.base.fingerprint import file_sha256

            tag += "#sha256:" + file_sha256(self._resolved.file("model.safetensors"))[:12]
        return {
            "model": tag,
            "layer": NUM_LAYERS,
            "idf": self._idf_tag,
            "rescale": "bert_score-en-L5",
            "tok": "roberta-bpe+prefix-space+trunc512",
            "precision": "fp16" if self.fp16 else "fp32",
        }

    def versions(self) -> dict[str, str]:
        return installed_versions("torch", "transformers")

    # -- model -----------------------------------------------------------------------------
    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import RobertaModel

        from rexeval.backends.models import quiet_loading

        folder = self._resolve().path
        self._tok()
        with quiet_loading():
            model = RobertaModel.from_pretrained(str(folder), local_files_only=True, use_safetensors=True)
        model.encoder.layer = torch.nn.ModuleList(list(model.encoder.layer[:NUM_LAYERS]))
        model.eval()
        if self.fp16:
            model = model.half()
        self._model = model.to(self.device)  # type: ignore[arg-type]  # transformers' stub of .to
        if self.idf_corpus is not None:
            self._idf = idf_table([self.encode(t) for t in _read_corpus(Path(self.idf_corpus))])

    def _tok(self) -> Any:
        if self._tokenizer is None:
            from transformers import RobertaTokenizer

            folder = self._resolve().path
            # bert_score encodes with add_prefix_space=True; constructing the tokenizer with it gives
            # the same ids whether transformers provides the slow or the tokenizers-backed class
            # (transformers 5 ignores add_prefix_space passed to encode()).
            self._tokenizer = RobertaTokenizer(
                str(folder / "vocab.json"), str(folder / "merges.txt"), add_prefix_space=True
            )
        return self._tokenizer

    def encode(self, text: str) -> list[int]:
        """Token ids of one text exactly as bert_score's ``sent_encode`` (RoBERTa branch)."""
        text = text.strip()
        tok = self._tok()
        if not text:
            return [tok.cls_token_id, tok.sep_token_id]
        return tok.encode(text, add_special_tokens=True, max_length=MAX_LENGTH, truncation=True)

    def _weights(self, text: str) -> np.ndarray:
        tok = self._tok()
        return token_weights(self.encode(text), {tok.cls_token_id, tok.sep_token_id}, self._idf)

    def _embed(self, id_lists: list[list[int]], progress: Callable[[int], None] | None = None) -> list[np.ndarray]:
        """Normalised layer-5 embeddings, one (len, 768) float32 array per id list."""
        from rexeval.backends.models.batching import hidden_states_by_padded_length

        return hidden_states_by_padded_length(
            self._model, id_lists, pad_id=self._tok().pad_token_id, batch_size=self.batch_size, device=self.device,
            pad_to=PAD_TO, max_length=MAX_LENGTH, normalise=True, progress=progress)

    def _namespace(self) -> str:
        from rexeval.base.fingerprint import file_sha256

        resolved = self._resolve()
        # Keyed by the weights' content hash: a changed checkpoint at the same path never hits.
        weights = file_sha256(resolved.file("model.safetensors"))[:16]
        return f"bertscore-emb|{weights}|L{NUM_LAYERS}|pad{PAD_TO}|{'fp16' if self.fp16 else 'fp32'}|{self.device}|v1"

    def embeddings(self, texts: Sequence[str], cache: bool,
                   progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
        """Embeddings of the distinct ``texts``; ``progress`` gets the number of texts done, batch by batch."""
        self._load()
        namespace = self._namespace() if cache and self.cache_references else None
        return embed_distinct(texts, lambda todo: self._embed([self.encode(t) for t in todo], progress), namespace,
                          progress)

    # -- scoring ---------------------------------------------------------------------------
    def score_pairs(self, predictions: Sequence[str], references: Sequence[str],
                    progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
        """Raw-then-rescaled P, R, F for aligned lists of candidates and references (``progress``: studies
        done, advanced as the texts are embedded)."""
        self._load()
        progress = text_progress(progress, len(predictions), len(set(predictions) | set(references)))
        raw = score_aligned(predictions, references, embed=self.embeddings, weights=self._weights, progress=progress)
        return {
            "bertscore_p": rescale(raw[:, 0], BASELINE[0]),
            "bertscore_r": rescale(raw[:, 1], BASELINE[1]),
            "bertscore": rescale(raw[:, 2], BASELINE[2]),
        }

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        return self.score_pairs(list(batch.predictions), list(batch.references), batch.progress)
