"""Throughput of the structured error counter (``errors_struct``) on real report pairs, one core.

Pairs: (1) MoERad-IU predictions vs their references (590 pairs, ../shared/data/conformance/moerad_iu_test)
and (2) the IU X-ray reports with text (FINDINGS + IMPRESSION), the first half paired with the second
half (distinct pairs, no report on both sides). Prints pairs/second for a fresh counter (cold: every sentence labelled for the first
time in this process), for a second pass (warm caches, the RL-reward regime where references repeat),
and, as the peer, the rule labeler labelling both reports of every pair without the sentence cache
(the minimum a labeler-based counter would otherwise do), with the ratio. Rates are per second of the
process's CPU time (one core; the wall-clock cold rate is printed beside it). Both counters (v1, v2) by
default; ``--counter v2`` for one.

Usage: python benchmarks/bench_error_counter.py [--limit N]
"""

from __future__ import annotations

import argparse
import os
import tarfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from rexeval.backends.labelers import get_labeler
from rexeval.metrics.errors_struct import COUNTERS, make_counter

SHARED = Path(os.environ.get("REXEVAL_SHARED", Path(__file__).resolve().parents[1].parent / "shared")) / "data"


def moerad_pairs() -> list[tuple[str, str]]:
    d = SHARED / "conformance" / "moerad_iu_test"
    preds, gts = pd.read_csv(d / "preds.csv"), pd.read_csv(d / "gts.csv")
    return list(zip(gts.iloc[:, -1].fillna("").astype(str), preds.iloc[:, -1].fillna("").astype(str)))


def iu_pairs() -> list[tuple[str, str]]:
    texts = []
    with tarfile.open(SHARED / "iu_reports" / "NLMCXR_reports.tgz") as tar:
        for member in tar:
            if not member.name.endswith(".xml"):
                continue
            root = ET.parse(tar.extractfile(member)).getroot()
            parts = {a.get("Label"): (a.text or "") for a in root.iter("AbstractText")}
            text = " ".join(p for p in (parts.get("FINDINGS", ""), parts.get("IMPRESSION", "")) if p).strip()
            if text:
                texts.append(text)
    half = len(texts) // 2  # references and candidates are disjoint sets of reports
    return list(zip(texts[:half], texts[half : 2 * half]))


def _clear_labeler_caches() -> None:
    """Cold means cold: the labeler's own clause memo is emptied before each counter runs."""
    from rexeval.backends.labelers import rules

    rules.clause_mentions.cache_clear()


def rate(fn, pairs) -> float:
    """Pairs per second of this process's CPU time: on a shared machine, wall time also counts the other
    processes' share of the core; the CPU-time rate is what one core gives (wall-clock rates are printed too)."""
    w0, c0 = time.perf_counter(), time.process_time()
    for ref, cand in pairs:
        fn(ref, cand)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    rate.wall = len(pairs) / wall
    return len(pairs) / cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--counter", choices=[*COUNTERS, "all"], default="all")
    args = ap.parse_args()
    for name, pairs in (("MoERad-IU preds vs refs", moerad_pairs()), ("IU reports, first half vs second half", iu_pairs())):
        if args.limit:
            pairs = pairs[: args.limit]
        labeler = get_labeler("rules")
        peer = rate(lambda r, c, lab=labeler: lab.label([r, c]), pairs)
        print(f"{name}: {len(pairs)} pairs")
        for version in COUNTERS if args.counter == "all" else (args.counter,):
            _clear_labeler_caches()
            counter = make_counter(version)
            cold = rate(counter.count, pairs)
            cold_wall = rate.wall
            warm = rate(counter.count, pairs)
            # reference side seen before (cached, as when a benchmark's references are scored again or a
            # GRPO group shares its reference), candidates new to the process
            fresh = make_counter(version)
            for ref, _ in pairs:
                fresh.profile(ref)
            refs_warm = rate(fresh.count, pairs)
            print(f"  counter {version}: {len(counter._sentences)} distinct sentences")
            print(f"    errors_struct cold : {cold:8.0f} pairs/s (CPU time; wall clock {cold_wall:.0f})")
            print(f"    errors_struct warm : {warm:8.0f} pairs/s")
            print(f"    errors_struct references cached, candidates new: {refs_warm:8.0f} pairs/s")
            print(f"    ratio cold / peer  : {cold / peer:.2f}x")
        print(f"  peer (rule labeler on both reports, no sentence cache): {peer:8.0f} pairs/s")


if __name__ == "__main__":
    main()
