"""ROUGE-L F-measure per study (Lin 2004), with the rouge-score package's conventions.

Tokens: lower-cased, every non-alphanumeric character replaced by a space, split on whitespace (no
stemming). F = 2PR/(P+R) on the longest common subsequence; 0 when either side is empty.

The LCS is rapidfuzz's bit-parallel ``LCSseq`` on token ids (O(n*m/64) word operations instead of the
package's O(n*m) Python table), exactly equal to rouge-score's. A report longer than ``max_tokens``
tokens (default 20,000, far above any real report) is not scored: its value is NaN (a counted failure), a
warning names it and summary.json records the limit under ``limits``; ``max_tokens=0`` lifts the cap.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import numpy as np

from rexeval.base.exceptions import ConfigError
from rexeval.metrics.base import Batch, Columns, Metric, Output, mean_of

_NON_ALNUM = re.compile(r"[^a-z0-9]+")

#: Tokens per report above which ROUGE-L is not computed (NaN, recorded): a guard against runaway input.
MAX_TOKENS = 20_000


def tokenize(text: str) -> list[str]:
    return _NON_ALNUM.sub(" ", text.lower()).split()


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two token lists (bit-parallel, exact)."""
    from rapidfuzz.distance import LCSseq

    ids: dict[str, int] = {}  # tokens -> small ints, so rapidfuzz compares ids, never hashes of strings
    return LCSseq.similarity([ids.setdefault(t, len(ids)) for t in a], [ids.setdefault(t, len(ids)) for t in b])


def _f_measure(h: list[str], r: list[str]) -> float:
    if not h or not r:
        return 0.0
    lcs = lcs_length(h, r)
    if lcs == 0:
        return 0.0
    p, rec = lcs / len(h), lcs / len(r)
    return 2 * p * rec / (p + rec)


def rouge_l(hypothesis: str, reference: str) -> float:
    return _f_measure(tokenize(hypothesis), tokenize(reference))


class RougeL(Metric):
    name = "rouge_l"
    description = "ROUGE-L F-measure (LCS), rouge-score tokenization, no stemming"

    def __init__(self, max_tokens: int = MAX_TOKENS) -> None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 0:
            raise ConfigError(f"rouge_l max_tokens must be a whole number >= 0 (0: no cap), not {max_tokens!r}")
        self.max_tokens = max_tokens

    def outputs(self) -> list[Output]:
        return [Output("rouge_l", True, (0.0, 1.0), mean_of("rouge_l"), self.description)]

    def options(self) -> dict:
        opts: dict[str, Any] = {"f": "beta1", "tok": "lc+alnum", "stem": False}
        if self.max_tokens != MAX_TOKENS:  # the default cap scores every real report as before
            opts["max_tokens"] = self.max_tokens
        return opts

    def _over(self, n: int) -> bool:
        return bool(self.max_tokens) and n > self.max_tokens

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        cache: dict[tuple[str, str], tuple[float, int]] = {}  # value, tokens of the longer side
        out = np.empty(len(batch))
        over: list[tuple[str, int]] = []
        for i, pair in enumerate(zip(batch.predictions, batch.references)):
            if pair not in cache:
                h, r = tokenize(pair[0]), tokenize(pair[1])
                longest = max(len(h), len(r))
                cache[pair] = (np.nan if self._over(longest) else _f_measure(h, r)), longest
            out[i], longest = cache[pair]
            if self._over(longest):
                over.append((str(batch.study_ids[i]), longest))
        if over:
            sid, n = over[0]
            print(f"warning: rouge_l: {len(over)} report(s) longer than max_tokens={self.max_tokens} tokens were not "
                  f"scored (NaN, counted as failed; e.g. study {sid!r}: {n} tokens); raise the cap with "
                  "-O rouge_l.max_tokens=N (0: no cap)", file=sys.stderr)
        if batch.progress:
            batch.progress(len(batch))
        return {"rouge_l": out}

    def summary_extra(self, columns: Columns) -> dict[str, dict[str, Any]]:
        values = np.asarray(columns.get("rouge_l", []), dtype=float)
        n_over = int(np.isnan(values).sum())  # only the cap makes rouge_l NaN
        if not n_over:
            return {}
        return {"limits": {"rouge_l": {"max_tokens": self.max_tokens, "over_limit": n_over,
                                       "policy": "reports over max_tokens are NaN (not scored)"}}}
