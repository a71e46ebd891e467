"""errors_struct v2 against the hand-written check pairs (tests/data/error_pairs/check.csv, held out from the
counter's development): at least 90 % of the pairs have all 12 counts exact (issue 20's target).

The failure message gives the agreement per count, so a regression shows which rule moved."""

from __future__ import annotations

import numpy as np

from rexeval.metrics.errors_struct import StructuredErrorCounter
from tests.helpers.error_pairs import CHECK_PAIRS, COUNT_COLUMNS, load_error_pairs

TARGET = 0.90


def test_counter_agrees_with_the_check_pairs():
    pairs = load_error_pairs(CHECK_PAIRS)
    counter = StructuredErrorCounter()
    got = np.array([counter.count(r, c) for r, c in zip(pairs["reference"], pairs["candidate"])])
    want = pairs[COUNT_COLUMNS].to_numpy()
    exact = (got == want).all(axis=1).mean()
    per_count = ", ".join(f"{col} {(got[:, i] == want[:, i]).mean():.3f}" for i, col in enumerate(COUNT_COLUMNS))
    assert exact >= TARGET, f"all 12 counts exact on {exact:.3f} of {len(pairs)} pairs (target {TARGET}); {per_count}"
