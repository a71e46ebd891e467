"""ROUGE-L: rexeval (rapidfuzz's bit-parallel LCS on token ids) against rouge-score (the O(n*m) Python
table) on the same input, one core; the F-measures must be equal.

Inputs: (1) the MoERad-IU predictions vs their references (590 pairs of real reports,
../shared/data/conformance/moerad_iu_test), (2) long texts: N IU X-ray reports (FINDINGS + IMPRESSION)
joined into one prediction and the next N into one reference, for N = 10, 40, 160.
A 1 MB pair (about 170,000 tokens a side) is timed for rexeval only (rouge-score would take hours):
with ``max_tokens=0`` (no cap), and with the default cap, which returns NaN at once.

Usage: python benchmarks/bench_rouge.py [--no-megabyte]
"""

from __future__ import annotations

import argparse
import time

from bench_error_counter import iu_pairs, moerad_pairs
from rouge_score import rouge_scorer

from rexeval.metrics.base import Batch
from rexeval.metrics.rouge import RougeL, rouge_l, tokenize


def timed(fn, pairs) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    out = [fn(h, r) for h, r in pairs]
    return time.perf_counter() - t0, out


def compare(name: str, pairs: list[tuple[str, str]]) -> None:
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    t_ours, ours = timed(rouge_l, pairs)
    t_peer, peer = timed(lambda h, r: scorer.score(r, h)["rougeL"].fmeasure, pairs)
    equal = sum(a == b for a, b in zip(ours, peer))
    tokens = max(max(len(tokenize(h)), len(tokenize(r))) for h, r in pairs)
    print(f"{name}: {len(pairs)} pairs, longest side {tokens} tokens, equal F {equal}/{len(pairs)}")
    print(f"  rexeval {t_ours:9.3f} s   rouge-score {t_peer:9.3f} s   ratio (rouge-score / rexeval) {t_peer / t_ours:8.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-megabyte", action="store_true", help="skip the 1 MB pair")
    args = ap.parse_args()
    compare("MoERad-IU preds vs refs", [(c, r) for r, c in moerad_pairs()])
    refs, cands = zip(*iu_pairs())
    for n in (10, 40, 160):
        compare(f"{n} IU reports joined vs the next {n}", [(" ".join(cands[:n]), " ".join(refs[:n]))])
    if not args.no_megabyte:
        def megabyte(texts) -> str:
            out, size = [], 0
            for t in texts * 100:
                out.append(t)
                size += len(t) + 1
                if size >= 1_000_000:
                    break
            return " ".join(out)

        pred, ref = megabyte(list(cands)), megabyte(list(refs))
        batch = Batch(["mb"], [pred], [ref])
        for label, metric in (("no cap", RougeL(max_tokens=0)), ("default cap", RougeL())):
            t0 = time.perf_counter()
            value = metric.compute(batch)["rouge_l"][0]
            print(f"1 MB vs 1 MB ({len(tokenize(pred))} / {len(tokenize(ref))} tokens), {label}: "
                  f"rouge_l {value:.4f} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
