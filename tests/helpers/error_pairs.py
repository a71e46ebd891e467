"""Hand-written (reference, candidate) pairs with the expected ``errors_struct`` v2 counts.

``tests/data/error_pairs/check.csv`` is the held-out check set (agreement is measured on it);
``dev.csv`` is the development set the counter's author may look at. See docs/errors.md.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.helpers.paths import ROOT

PAIRS_DIR = ROOT / "tests" / "data" / "error_pairs"
CHECK_PAIRS = PAIRS_DIR / "check.csv"
DEV_PAIRS = PAIRS_DIR / "dev.csv"

# The counter's order: significant A..F, then insignificant A..F.
COUNT_COLUMNS = [f"{kind}_{cat}" for kind in ("sig", "insig") for cat in "ABCDEF"]
TEXT_COLUMNS = ["id", "reference", "candidate", "tags", "why"]
COLUMNS = ["id", "reference", "candidate", *COUNT_COLUMNS, "tags", "why"]


def load_error_pairs(path: str | Path) -> pd.DataFrame:
    """Read a pairs file: text columns as str (an empty candidate stays ""), the 12 counts as int."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    for col in COUNT_COLUMNS:
        bad = frame.loc[~frame[col].str.fullmatch(r"\d+"), "id"].tolist()
        if bad:
            raise ValueError(f"{path}: column {col} is not a non-negative integer in rows {bad}")
        frame[col] = frame[col].astype(int)
    return frame[COLUMNS]
