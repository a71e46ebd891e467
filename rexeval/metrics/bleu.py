"""Sentence BLEU exactly as ReXrank computes it (docs/metrics.md §2).

ReXrank (CXR-Report-Metric) scores each study with fast_bleu ``BLEU([ref], {"bigram": (.5, .5)})``:
lower-cased text, a space inserted before every ``.``, split on the single space character (newlines,
tabs and commas stay inside tokens), modified n-gram precision with fast_bleu's smoothing (a zero-match
order counts 0.1 matches), zero when no unigram matches, and the usual brevity penalty.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from rexeval.metrics.base import Batch, Metric, Output, mean_of

#: fast_bleu's default smoothing: an order with no match scores EPSILON / max(1, #ngrams).
EPSILON = 0.1


def tokenize(text: str) -> list[str]:
    """ReXrank BLEU tokenization: lowercase, space before '.', split on ' ', drop empty tokens."""
    return [t for t in text.lower().replace(".", " .").split(" ") if t]


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def sentence_bleu(hypothesis: str, reference: str, max_order: int = 2) -> float:
    """BLEU-``max_order`` of one hypothesis against one reference, uniform weights."""
    hyp, ref = tokenize(hypothesis), tokenize(reference)
    return bleu_from_tokens(hyp, ref, max_order)


def bleu_from_tokens(hyp: list[str], ref: list[str], max_order: int = 2) -> float:
    return bleu_from_ref_counts(hyp, len(ref), [_ngrams(ref, n) for n in range(1, max_order + 1)])


def bleu_from_ref_counts(hyp: list[str], rho: int, ref_counts: list[Counter]) -> float:
    """BLEU of tokens ``hyp`` against a reference given as its length and n-gram counts (orders 1..N)."""
    max_order = len(ref_counts)
    c = len(hyp)
    log_p = 0.0
    for n in range(1, max_order + 1):
        h_counts = _ngrams(hyp, n)
        r_counts = ref_counts[n - 1]
        matches = sum(min(cnt, r_counts[g]) for g, cnt in h_counts.items())
        total = max(1, c - n + 1)
        if matches == 0:
            if n == 1:
                return 0.0  # checked before smoothing; also covers an empty hypothesis
            p = EPSILON / total
        else:
            p = matches / total
        log_p += math.log(p) / max_order
    bp = 1.0 if c > rho else math.exp(1.0 - rho / c)
    return bp * math.exp(log_p)


class _Bleu(Metric):
    order = 2
    key = "bleu"

    def outputs(self) -> list[Output]:
        return [
            Output(
                self.key,
                True,
                (0.0, 1.0),
                mean_of(self.key),
                f"sentence BLEU-{self.order} per study, ReXrank tokenization and smoothing",
            )
        ]

    def options(self) -> dict:
        return {
            "n": self.order,
            "smooth": f"fast_bleu-eps{EPSILON:g}",
            "tok": "lc+space-before-period+split-space",
        }

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        cache: dict[tuple[str, str], float] = {}
        out = np.empty(len(batch))
        for i, (h, r) in enumerate(zip(batch.predictions, batch.references)):
            key = (h, r)
            if key not in cache:  # GRPO groups and copy baselines repeat pairs
                cache[key] = sentence_bleu(h, r, self.order)
            out[i] = cache[key]
        if batch.progress:
            batch.progress(len(batch))
        return {self.key: out}


    # Reward protocol (rexeval.rewards): the reference side (tokens, n-gram counts) is computed once
    # per distinct reference and cached across GRPO steps by the caller.
    def reference_state(self, reference: str) -> tuple[int, list[Counter]]:
        ref = tokenize(reference)
        return len(ref), [_ngrams(ref, n) for n in range(1, self.order + 1)]

    def compute_with_references(self, batch: Batch, states: Sequence[Any]) -> dict[str, np.ndarray]:
        out = np.array(
            [bleu_from_ref_counts(tokenize(h), rho, counts) for h, (rho, counts) in zip(batch.predictions, states, strict=True)],
            dtype=float,
        )
        return {self.key: out}


class Bleu2(_Bleu):
    name = "bleu"
    description = "BLEU-2 as on the ReXrank leaderboard"


class Bleu4(_Bleu):
    name = "bleu4"
    order = 4
    key = "bleu4"
    description = "sentence BLEU-4 with ReXrank's tokenization and smoothing"
