"""RadEval-BERTScore: BERTScore with RadEval's radiology encoder, as the RadEval package (2.x) computes it.

Beside the leaderboard's ``bertscore`` (distilroberta-base layer 5, rescaled; :mod:`rexeval.metrics.bertscore`)
this is a different number with a different key (``radeval_bertscore``). RadEval 2.2 scores it with its
vendored bert_score: encoder ``IAMJB/RadEvalModernBERT`` (a ModernBERT-base), 22 layers (all of them),
the model's fast tokenizer, IDF off, **no** baseline rescaling; the per-study value is the F.

Facts reproduced (read from RadEval's source, written here independently):

* text stripped; ids from the model's own tokenizer with its special tokens, truncated to the
  tokenizer's ``model_max_length``; an empty text is the special-token-only sequence;
* embedding = the model's last hidden state (ModernBERT's final norm included), L2-normalised per token;
* P = mean over candidate tokens of the best cosine to any reference token, R symmetric, F = 2PR/(P+R),
  every token weighted 1 except the tokenizer's CLS and SEP (weight 0);
* when either text has only its special tokens, P = R = F = 0 (bert_score's empty-text rule).

RadEval pads each batch to its longest text; here each text is padded only to a length that depends on
itself, so a study's value never depends on its batch mates (values agree to float32 rounding). The
matching is :mod:`rexeval.metrics.bertscore_core`, shared with the leaderboard's ``bertscore``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rexeval.backends.models import ModelSpec, register_model
from rexeval.base.exceptions import ConfigError, MetricUnavailable, install_hint
from rexeval.metrics.base import (
    Batch,
    Metric,
    OnDevice,
    Output,
    installed_versions,
    mean_of,
    text_progress,
)
from rexeval.metrics.bertscore_core import embed_distinct, score_aligned, token_weights

MODEL = register_model(
    ModelSpec(
        name="radeval-modernbert",
        hub_id="IAMJB/RadEvalModernBERT",
        env_var="REXEVAL_RADEVAL_MODERNBERT_DIR",
        files=("config.json", "tokenizer.json", "model.safetensors"),
        extra_hub_files=("tokenizer_config.json", "special_tokens_map.json"),
        used_by=("radeval_bertscore",),
        licence="see the model card of IAMJB/RadEvalModernBERT (RadEval package: MIT)",
        note="RadEval-BERTScore encoder (ModernBERT-base, all 22 layers, no rescaling)",
    )
)

NUM_LAYERS = 22
PAD_TO = 8


class RadEvalBertScore(OnDevice, Metric):
    name = "radeval_bertscore"
    default = False
    #: pyproject extras it needs (listed by ``rexeval metrics``).
    extras = ("models",)
    description = "RadEval-BERTScore F (RadEvalModernBERT, 22 layers, not rescaled), as the RadEval package"

    def __init__(self, model_path: str | None = None, device: str = "auto", num_layers: int = NUM_LAYERS,
                 batch_size: int = 32, cache_references: bool = True) -> None:
        if num_layers < 1:
            raise ConfigError(f"radeval_bertscore num_layers must be >= 1, got {num_layers}")
        self.model_path, self.device_arg, self.num_layers = model_path, device, num_layers
        self.batch_size, self.cache_references = batch_size, cache_references
        self._resolved: Any = None
        self._model: Any = None
        self._tokenizer: Any = None

    def outputs(self) -> list[Output]:
        return [
            Output("radeval_bertscore", True, (-1.0, 1.0), mean_of("radeval_bertscore"),
                   "RadEval-BERTScore F1 (raw cosine-based, 0 for an empty text)"),
            Output("radeval_bertscore_p", True, (-1.0, 1.0), mean_of("radeval_bertscore_p"), "precision"),
            Output("radeval_bertscore_r", True, (-1.0, 1.0), mean_of("radeval_bertscore_r"), "recall"),
        ]

    def _resolve(self) -> Any:
        if self._resolved is None:
            from rexeval.backends.models import resolve

            self._resolved = resolve(MODEL, self.model_path)
        return self._resolved

    def check_available(self) -> None:
        import importlib.util

        for mod in ("torch", "transformers"):
            if importlib.util.find_spec(mod) is None:
                raise MetricUnavailable(f"radeval_bertscore needs {mod}", install_hint("models"))
        self._resolve()
        if self.device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise ConfigError(f"--device {self.device_arg}: no CUDA device is available")

    def options(self) -> dict[str, Any]:
        tag = "unresolved"
        if self._resolved is not None:
            from rexeval.base.fingerprint import file_sha256

            tag = self._resolved.tag + "#sha256:" + file_sha256(self._resolved.file("model.safetensors"))[:12]
        return {"model": tag, "layers": self.num_layers, "idf": "off", "rescale": "none", "tok": "fast+special"}

    def versions(self) -> dict[str, str]:
        return installed_versions("torch", "transformers", "tokenizers")

    # -- model -----------------------------------------------------------------------------
    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModel, AutoTokenizer

        from rexeval.backends.models import quiet_loading

        folder = str(self._resolve().path)
        self._tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        with quiet_loading():
            model = AutoModel.from_pretrained(folder, local_files_only=True)
        layers = getattr(model, "layers", None)
        if layers is None:
            raise MetricUnavailable(f"{folder} is not a ModernBERT encoder ({type(model).__name__})",
                                    MODEL.fix)
        if not 1 <= self.num_layers <= len(layers):
            raise ConfigError(f"radeval_bertscore num_layers={self.num_layers}: the model has {len(layers)} layers")
        model.layers = torch.nn.ModuleList(list(layers[: self.num_layers]))
        model.eval()
        self._model = model.to(self.device)

    def encode(self, text: str) -> list[int]:
        """Ids as RadEval's bert_score encodes a sentence."""
        self._load()
        tok = self._tokenizer
        text = text.strip()
        if not text:
            return list(tok.encode("", add_special_tokens=True))
        return list(tok.encode(text, add_special_tokens=True, max_length=tok.model_max_length, truncation=True))

    def _embed(self, id_lists: list[list[int]], progress: Callable[[int], None] | None = None) -> list[np.ndarray]:
        """Last hidden states (float32), one (len, hidden) array per id list, batched by padded length."""
        from rexeval.backends.models.batching import hidden_states_by_padded_length

        pad_id = self._tokenizer.pad_token_id if self._tokenizer.pad_token_id is not None else 0
        return hidden_states_by_padded_length(self._model, id_lists, pad_id=pad_id, batch_size=self.batch_size,
                                              device=self.device, pad_to=PAD_TO, progress=progress)

    def _namespace(self) -> str:
        from rexeval.base.fingerprint import file_sha256

        weights = file_sha256(self._resolve().file("model.safetensors"))[:16]
        tok = file_sha256(self._resolve().file("tokenizer.json"))[:12]
        return f"radeval-bertscore-emb|{weights}|{tok}|L{self.num_layers}|pad{PAD_TO}|{self.device}|v1"

    def _embeddings(self, texts: Sequence[str], cache: bool,
                    progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
        namespace = self._namespace() if cache and self.cache_references else None
        return embed_distinct(texts, lambda todo: self._embed([self.encode(t) for t in todo], progress), namespace,
                              progress)

    def _weights(self, text: str) -> np.ndarray:
        return token_weights(self.encode(text), {self._tokenizer.cls_token_id, self._tokenizer.sep_token_id})

    def score_pairs(self, predictions: Sequence[str], references: Sequence[str],
                    progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
        self._load()
        progress = text_progress(progress, len(predictions), len(set(predictions) | set(references)))
        # RadEval's embeddings arrive as the model gives them: each pair normalises its own (bert_score's order)
        out = score_aligned(predictions, references, embed=self._embeddings, weights=self._weights, normalise=True,
                            progress=progress)
        return {"radeval_bertscore_p": out[:, 0], "radeval_bertscore_r": out[:, 1], "radeval_bertscore": out[:, 2]}

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        self.check_available()
        return self.score_pairs(list(batch.predictions), list(batch.references), batch.progress)
