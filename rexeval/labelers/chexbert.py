"""CheXbert labels: the argmax of each of the 14 heads, from the forward pass SembScore shares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from rexeval._version import __version__


class CheXbertLabeler:
    """``label(texts) -> (n, 14)`` from the CheXbert heads (1 pos, 0 neg, -1 uncertain, NaN blank).

    Empty text is run as [CLS][SEP] like f1chexbert and CXR-Report-Metric do (whatever the model
    predicts for it), for parity with those numbers.
    """

    name = "chexbert"

    def __init__(
        self,
        path: str | Path | None = None,
        tokenizer_path: str | Path | None = None,
        device: str | None = None,
        batch_size: int = 32,
        dtype: str = "float32",
        cache: bool = True,
    ) -> None:
        from rexeval.models.chexbert import get_chexbert

        self.model = get_chexbert(path, tokenizer_path, device, batch_size, dtype, cache)

    def options(self) -> dict:
        return {"labeler": "chexbert", **self.model.options()}

    def signature(self) -> str:
        opts = "|".join(f"{k}:{v}" for k, v in self.options().items())
        return f"{opts}|rexeval:{__version__}"

    def label(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        from rexeval.models.chexbert import heads_to_labels

        _, heads = self.model.encode(list(texts), progress)
        return heads_to_labels(heads)
