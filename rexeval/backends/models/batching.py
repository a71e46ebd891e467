"""Encoder forward passes batched by padded length, so a text's numbers never depend on its batch mates.

Each text is padded to a width that depends only on itself (the next multiple of ``pad_to``, at most
``max_length``) and batched only with texts of that same width. Padding to the batch's longest text
instead changes embeddings in the 8th significant digit depending on which texts share the batch.
Sorting by length keeps the number of forward calls small. Used by both BERTScores, CheXbert and SRR-BERT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np


def padded_width(n: int, pad_to: int, max_length: int | None = None) -> int:
    """The width a text of ``n`` ids is padded to: the next multiple of ``pad_to``, at most ``max_length``."""
    width = -(-n // pad_to) * pad_to
    return width if max_length is None else min(max_length, width)


def padded_length_batches(
    lengths: Sequence[int], *, batch_size: int, pad_to: int, max_length: int | None = None
) -> Iterator[tuple[int, list[int]]]:
    """``(width, indices)`` per batch: indices shortest first, at most ``batch_size``, all of one padded width."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    start = 0
    while start < len(order):
        width = padded_width(lengths[order[start]], pad_to, max_length)
        stop = start
        while (stop < len(order) and stop - start < batch_size
               and padded_width(lengths[order[stop]], pad_to, max_length) == width):
            stop += 1
        yield width, order[start:stop]
        start = stop


def padded_batch(id_lists: Sequence[Sequence[int]], indices: list[int], width: int, pad_id: int) -> tuple[Any, Any]:
    """(ids, attention mask) long tensors of shape (len(indices), width) for the texts at ``indices``."""
    import torch

    x = torch.full((len(indices), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(indices), width), dtype=torch.long)
    for j, i in enumerate(indices):
        x[j, : len(id_lists[i])] = torch.tensor(id_lists[i])
        mask[j, : len(id_lists[i])] = 1
    return x, mask


def hidden_states_by_padded_length(
    model: Any, id_lists: list[list[int]], *, pad_id: int, batch_size: int, device: str, pad_to: int,
    max_length: int | None = None, normalise: bool = False, progress: Callable[[int], None] | None = None,
) -> list[np.ndarray]:
    """Last hidden states (float32; unit vectors with ``normalise``), one (len, hidden) array per id list."""
    import torch

    out: list[np.ndarray | None] = [None] * len(id_lists)
    with torch.inference_mode():
        for width, idx in padded_length_batches([len(ids) for ids in id_lists], batch_size=batch_size,
                                                pad_to=pad_to, max_length=max_length):
            x, mask = padded_batch(id_lists, idx, width, pad_id)
            h = model(x.to(device), attention_mask=mask.to(device)).last_hidden_state.float()
            if normalise:
                h = h / torch.norm(h, dim=-1, keepdim=True)
            h = h.cpu().numpy()
            for j, i in enumerate(idx):
                out[i] = np.ascontiguousarray(h[j, : len(id_lists[i])])
            if progress:
                progress(len(idx))
    return out  # type: ignore[return-value]
