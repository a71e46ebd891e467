"""Agreement of the structured error counter (``errors_struct``) with the hand-written pairs.

Reads pair files (tests/data/error_pairs/check.csv = held-out check set, dev.csv = development set; the
expected counts follow the v2 counting rules in docs/errors.md) and prints, per file: the share of pairs
with all 12 counts exact, the share exact on the number of significant errors, and per count
(sig_A .. insig_F) the precision and recall of "count > 0" and the share of exact counts.

The counter is ``StructuredErrorCounter(**options)``; ``--counter-option key=value`` passes options
through (values read as Python literals when they parse, else as strings), e.g. ``labeler=rules`` today
or a version option once the counter has one.

Usage: python benchmarks/error_pairs_agreement.py [--pairs PATH ...] [--counter-option key=value ...]
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rexeval.metrics.errors_struct import StructuredErrorCounter  # noqa: E402
from tests.helpers.error_pairs import (  # noqa: E402
    CHECK_PAIRS,
    COUNT_COLUMNS,
    DEV_PAIRS,
    load_error_pairs,
)

SIG_COLUMNS = COUNT_COLUMNS[:6]


def parse_options(items: list[str]) -> dict[str, object]:
    options: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--counter-option expects key=value, got {item!r}")
        try:
            options[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            options[key] = raw
    return options


def predicted_counts(counter: StructuredErrorCounter, pairs: pd.DataFrame) -> pd.DataFrame:
    rows = [list(counter.count(ref, cand)) for ref, cand in zip(pairs["reference"], pairs["candidate"])]
    return pd.DataFrame(rows, columns=COUNT_COLUMNS, index=pairs.index).astype(int)


def _ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


def agreement(expected: pd.DataFrame, predicted: pd.DataFrame) -> tuple[dict[str, float], pd.DataFrame]:
    """Overall shares and a per-count table (precision/recall of count > 0, exact share)."""
    exact = (expected[COUNT_COLUMNS].to_numpy() == predicted[COUNT_COLUMNS].to_numpy())
    overall = {
        "all 12 exact": float(exact.all(axis=1).mean()),
        "total_sig exact": float(
            (expected[SIG_COLUMNS].sum(axis=1) == predicted[SIG_COLUMNS].sum(axis=1)).mean()
        ),
    }
    table = []
    for col in COUNT_COLUMNS:
        want, got = expected[col].to_numpy() > 0, predicted[col].to_numpy() > 0
        tp = int(np.sum(want & got))
        table.append({
            "count": col,
            "expected>0": int(want.sum()),
            "predicted>0": int(got.sum()),
            "precision": _ratio(tp, int(got.sum())),
            "recall": _ratio(tp, int(want.sum())),
            "exact": float((expected[col] == predicted[col]).mean()),
        })
    return overall, pd.DataFrame(table)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", action="append", type=Path,
                    help="pairs file (repeatable); default: check.csv and dev.csv")
    ap.add_argument("--counter-option", action="append", default=[], metavar="KEY=VALUE",
                    help="passed to StructuredErrorCounter(**options) (repeatable)")
    ap.add_argument("--show-misses", type=int, default=0, metavar="N",
                    help="also print the first N pairs whose 12 counts are not all exact")
    args = ap.parse_args()
    options = parse_options(args.counter_option)
    print(f"counter: StructuredErrorCounter(**{options})")
    for path in args.pairs or [CHECK_PAIRS, DEV_PAIRS]:
        pairs = load_error_pairs(path)
        predicted = predicted_counts(StructuredErrorCounter(**options), pairs)
        overall, table = agreement(pairs, predicted)
        print(f"\n{path} ({len(pairs)} pairs)")
        for name, value in overall.items():
            print(f"  {name:16s}: {value:.3f}")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        if args.show_misses:
            miss = ~(pairs[COUNT_COLUMNS].to_numpy() == predicted.to_numpy()).all(axis=1)
            for idx in pairs.index[miss][: args.show_misses]:
                print(f"  {pairs.at[idx, 'id']}: expected {pairs.loc[idx, COUNT_COLUMNS].tolist()}"
                      f" got {predicted.loc[idx].tolist()}")


if __name__ == "__main__":
    main()
