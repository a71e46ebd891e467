"""The BERTScore computation both BERTScores share (``bertscore`` and ``radeval_bertscore``), as functions.

tokenise (the metric's own ``encode``) → embed distinct texts, batched by padded length
(:mod:`rexeval.backends.models.batching`), references cached on disk → greedy cosine matching per pair → P/R/F,
with optional IDF weights from a fixed corpus and bert_score's baseline rescaling. The metrics keep only
what differs between them: model, tokenizer, layers, weights and whether embeddings arrive normalised.

Every step follows bert_score's order of operations in float32 (``greedy_cos_idf``): float64 would move
the published per-study values by ~1e-7 raw. Each pair is scored on its own, so batching never changes it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

#: ``embed(texts, cache, progress)`` → {text: (len, hidden) float32 array} for the distinct texts.
Embedder = Callable[[Sequence[str], bool, Callable[[int], None] | None], dict[str, np.ndarray]]


def rescale(x: np.ndarray, b: float) -> np.ndarray:
    """bert_score's baseline rescaling, in float32 as bert_score does it (its baselines are float32)."""
    x32, b32 = np.asarray(x, dtype=np.float32), np.float32(b)
    return ((x32 - b32) / (np.float32(1.0) - b32)).astype(np.float64)


def idf_table(id_lists: Sequence[Iterable[int]]) -> tuple[dict[int, float], float]:
    """bert_score's get_idf_dict over a fixed corpus: ({token: ln((M+1)/(df+1))}, ln(M+1) for unseen tokens)."""
    df: Counter = Counter()
    for ids in id_lists:
        df.update(set(ids))
    m = len(id_lists)
    return {tok: math.log((m + 1) / (c + 1)) for tok, c in df.items()}, math.log(m + 1)


def token_weights(ids: Sequence[int], special: set[int],
                  idf: tuple[Mapping[int, float], float] | None = None) -> np.ndarray:
    """Per-token weights: 1, and 0 for the ``special`` ids (IDF off), or the IDF of each id."""
    if idf is None:
        return np.array([0.0 if t in special else 1.0 for t in ids], dtype=np.float64)
    table, unseen = idf
    return np.array([table.get(t, unseen) for t in ids], dtype=np.float64)


def greedy_prf(hyp: np.ndarray, hyp_weights: np.ndarray, ref: np.ndarray, ref_weights: np.ndarray,
               normalise: bool = False) -> np.ndarray:
    """(P, R, F) of one pair from its token embeddings and weights (``normalise``: L2 first).

    P = weighted mean over candidate tokens of the best cosine to any reference token, R symmetric,
    F = 2PR/(P+R). bert_score's empty rule: when either side holds only its two special tokens, P = R = F = 0.
    """
    import torch

    if len(hyp_weights) == 2 or len(ref_weights) == 2:
        return np.zeros(3, dtype=np.float64)
    h, r = torch.from_numpy(hyp).float(), torch.from_numpy(ref).float()
    if normalise:
        h = h / torch.norm(h, dim=-1).unsqueeze(-1)
        r = r / torch.norm(r, dim=-1).unsqueeze(-1)
    sim = h @ r.T
    hw = torch.from_numpy(hyp_weights).float()
    rw = torch.from_numpy(ref_weights).float()
    p = (sim.max(dim=1).values * (hw / hw.sum())).sum()
    rr = (sim.max(dim=0).values * (rw / rw.sum())).sum()
    f = (2 * p * rr / (p + rr)).item()
    return np.array([p.item(), rr.item(), 0.0 if math.isnan(f) else f], dtype=np.float64)


def embed_distinct(texts: Sequence[str], run: Callable[[list[str]], list[np.ndarray]], namespace: str | None,
               progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
    """{text: embedding} for the distinct ``texts``; ``run`` embeds a list, ``namespace`` caches on disk."""
    unique = list(dict.fromkeys(texts))
    if namespace is None:
        return dict(zip(unique, run(unique)))
    from rexeval.base.cache import TextCache

    return dict(zip(unique, TextCache(namespace).compute(unique, run, progress)))


def score_aligned(predictions: Sequence[str], references: Sequence[str], *, embed: Embedder,
                  weights: Callable[[str], np.ndarray], normalise: bool = False,
                  progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Raw (n, 3) P, R, F for aligned candidates and references.

    References are embedded through the cache (``embed(..., True, ...)``), candidates not found among
    them without it; each distinct (candidate, reference) pair is matched once.
    """
    ref_emb = embed(references, True, progress)
    hyp_emb = embed([p for p in predictions if p not in ref_emb], False, progress)
    hyp_emb.update({p: ref_emb[p] for p in predictions if p in ref_emb})
    w = {t: weights(t) for t in set(predictions) | set(references)}
    out = np.zeros((len(predictions), 3), dtype=np.float64)
    done: dict[tuple[str, str], np.ndarray] = {}
    for i, (h, r) in enumerate(zip(predictions, references)):
        if (h, r) not in done:
            done[(h, r)] = greedy_prf(hyp_emb[h], w[h], ref_emb[r], w[r], normalise)
        out[i] = done[(h, r)]
    return out
