"""CheXbert labels: the argmax of each of the 14 heads, from the forward pass SembScore shares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rexeval._version import __version__


class CheXbertLabeler:
    """``label(texts) -> (n, 14)`` from the CheXbert heads (1 pos, 0 neg, -1 uncertain, NaN blank).

    Empty text is run as [CLS][SEP] like f1chexbert and CXR-Report-Metric do (whatever the model
    predicts for it), for parity with those numbers.
    """

    name = "chexbert"

    def __init__(self, path: str | Path | None = None, **options: Any) -> None:
        """``path``: the CheXbert checkpoint (folder or file); ``options``: the other ``CheXbertSettings``."""
        from rexeval.backends.models.chexbert import CheXbertSettings, get_chexbert

        self.model = get_chexbert(CheXbertSettings(path, **options))

    def options(self) -> dict:
        return {"labeler": "chexbert", **self.model.options()}

    def signature(self) -> str:
        opts = "|".join(f"{k}:{v}" for k, v in self.options().items())
        return f"{opts}|rexeval:{__version__}"

    def label(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        from rexeval.backends.models.chexbert import heads_to_labels

        _, heads = self.model.encode(list(texts), progress)
        return heads_to_labels(heads)
