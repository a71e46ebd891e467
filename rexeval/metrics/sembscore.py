"""SembScore (docs/metrics.md §4): cosine similarity of the CheXbert [CLS] embeddings of prediction and reference.

The CheXbert forward pass (rexeval.backends.models.chexbert) is shared with the CheXbert condition labels:
one pass per distinct text, cached on disk by content hash, so reference-side work is done once.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

# (importing it registers the CheXbert ModelSpecs; it imports no torch)
from rexeval.backends.models.chexbert import (
    CheXbertSettings,
    check_checkpoint,
    get_chexbert,
    resolve_chexbert,
    resolve_tokenizer,
)
from rexeval.base.exceptions import ConfigError, MetricUnavailable, install_hint
from rexeval.metrics.base import Batch, Metric, Output, installed_versions, mean_of, text_progress


def _require_torch() -> None:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        raise MetricUnavailable("CheXbert needs torch and transformers", install_hint("models")) from None


class CheXbertOptions(CheXbertSettings):
    """The CheXbert settings as a metric takes them (they pick the shared model instance)."""

    @classmethod
    def of(cls, metric: str, options: dict[str, Any]) -> CheXbertOptions:
        """Options forwarded by a metric's ``**options``; a name that is not one is a ConfigError."""
        try:
            inspect.signature(cls).bind(**options)
        except TypeError as exc:
            raise ConfigError(f"bad options for metric {metric!r}: {exc}") from None
        return cls(**options)

    def chexbert(self):
        return get_chexbert(self)

    def check(self) -> None:
        resolved = resolve_chexbert(self.model_path)  # MetricUnavailable with the fix, no network
        resolve_tokenizer(resolved, self.tokenizer_path)
        _require_torch()
        check_checkpoint(resolved.file("chexbert.pth"))  # a bad or unsafe file skips the metric here

    def versions(self) -> dict[str, str]:
        return installed_versions("torch", "transformers")


class SembScore(Metric):
    name = "semb_score"
    description = "cosine of CheXbert [CLS] embeddings (ReXrank SembScore)"

    def __init__(self, **options: Any) -> None:
        self.chex = CheXbertOptions.of(self.name, options)

    def outputs(self) -> list[Output]:
        return [
            Output(
                "semb_score", True, (-1.0, 1.0), mean_of("semb_score"),
                "cosine similarity of the last-layer CheXbert [CLS] vectors, unclipped; 0 if a norm is 0",
            )
        ]

    def check_available(self) -> None:
        self.chex.check()

    def options(self) -> dict[str, Any]:
        try:
            return self.chex.chexbert().options()
        except MetricUnavailable:
            return {"model": "chexbert (not found)"}

    def versions(self) -> dict[str, str]:
        return self.chex.versions()

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        from rexeval.backends.models.chexbert import cosine

        model = self.chex.chexbert()
        texts = list(batch.predictions) + list(batch.references)
        emb, _ = model.encode(texts, text_progress(batch.progress, len(batch), len(set(texts))))
        n = len(batch)
        return {"semb_score": cosine(emb[:n], emb[n:])}
