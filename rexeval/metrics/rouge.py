"""ROUGE-L F-measure per study (Lin 2004), with the rouge-score package's conventions.

Tokens: lower-cased, every non-alphanumeric character replaced by a space, split on whitespace (no
stemming). F = 2PR/(P+R) on the longest common subsequence; 0 when either side is empty.
"""

from __future__ import annotations

import re

import numpy as np

from rexeval.metrics.base import Batch, Metric, Output, mean_of

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def tokenize(text: str) -> list[str]:
    return _NON_ALNUM.sub(" ", text.lower()).split()


def lcs_length(a: list[str], b: list[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(hypothesis: str, reference: str) -> float:
    h, r = tokenize(hypothesis), tokenize(reference)
    if not h or not r:
        return 0.0
    lcs = lcs_length(h, r)
    if lcs == 0:
        return 0.0
    p, rec = lcs / len(h), lcs / len(r)
    return 2 * p * rec / (p + rec)


class RougeL(Metric):
    name = "rouge_l"
    description = "ROUGE-L F-measure (LCS), rouge-score tokenization, no stemming"

    def outputs(self) -> list[Output]:
        return [Output("rouge_l", True, (0.0, 1.0), mean_of("rouge_l"), self.description)]

    def options(self) -> dict:
        return {"f": "beta1", "tok": "lc+alnum", "stem": False}

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        cache: dict[tuple[str, str], float] = {}
        out = np.empty(len(batch))
        for i, pair in enumerate(zip(batch.predictions, batch.references)):
            if pair not in cache:
                cache[pair] = rouge_l(*pair)
            out[i] = cache[pair]
        if batch.progress:
            batch.progress(len(batch))
        return {"rouge_l": out}
