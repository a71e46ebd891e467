"""The ReXrank leaderboard's columns, and a rexeval run summary rendered as one row of those tables.

The live site's tables (rajpurkarlab/ReXrank, branch gh-pages, ``findings_result_*.csv`` and
``result_*.csv``) have the columns ``Rank, Date, Model Name, Institution, Model URL, BLEU, BertScore,
SembScore, RadGraph, 1/RadCliQ-v1, RaTEScore, GREEN, 1/FineRadScore``, every score higher-is-better and
rounded to 3 decimals. 1/FineRadScore is not computed by rexeval (its definition is unpublished, docs/metrics.md §9);
its cell stays empty, as it is for UniRG-CXR on the site.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rexeval.base.exceptions import ConfigError

if TYPE_CHECKING:
    from rexeval.run.runs import Summary

#: (rexeval summary key, ReXrank column), in the tables' order. Every column is higher-is-better.
REXRANK_COLUMNS: list[tuple[str, str]] = [
    ("bleu", "BLEU"),
    ("bertscore", "BertScore"),
    ("semb_score", "SembScore"),
    ("radgraph", "RadGraph"),
    ("inv_radcliq_v1", "1/RadCliQ-v1"),
    ("ratescore", "RaTEScore"),
    ("green", "GREEN"),
]
#: Descriptive columns before the scores.
META_COLUMNS: list[str] = ["Rank", "Date", "Model Name", "Institution", "Model URL"]
#: Score columns rexeval does not produce (left empty).
UNSUPPORTED_COLUMNS: list[str] = ["1/FineRadScore"]
#: Every column of a gh-pages table, in order.
ALL_COLUMNS: list[str] = META_COLUMNS + [c for _, c in REXRANK_COLUMNS] + UNSUPPORTED_COLUMNS
DECIMALS = 3


def rexrank_row(
    summary: Summary | Mapping[str, Any],
    *,
    model_name: str | None = None,
    date: str | int | None = None,
    institution: str | None = None,
    url: str | None = None,
    rank: int | None = None,
    require_all: bool = False,
    decimals: int = DECIMALS,
) -> dict[str, Any]:
    """A run summary (:class:`rexeval.run.runs.Summary`, or summary.json as a dict) as one ReXrank row: column name -> value, in table order.

    Scores are rounded to ``decimals`` like the site; a metric missing from the summary (skipped, or
    all studies failed) gives ``None`` unless ``require_all``, which raises naming the missing ones.
    A metric whose direction is not higher-is-better under the same key is refused: the site's
    columns are all "higher is better", so such a value would be placed in the wrong direction.
    """
    from rexeval.run.runs import as_summary

    summary = as_summary(summary)
    metrics = summary.metrics
    row: dict[str, Any] = {
        "Rank": rank,
        "Date": date,
        "Model Name": model_name if model_name is not None else summary.run.name,
        "Institution": institution,
        "Model URL": url,
    }
    missing = []
    for key, column in REXRANK_COLUMNS:
        entry = metrics.get(key)
        value = None if entry is None else entry.value
        if entry is not None and entry.higher_is_better is False:
            raise ConfigError(f"summary key {key!r} is lower-is-better; ReXrank column {column!r} is higher-is-better")
        if value is None or (isinstance(value, float) and math.isnan(value)):
            missing.append(key)
            row[column] = None
        else:
            row[column] = round(float(value), decimals)
    if require_all and missing:
        skipped = summary.skipped
        why = "; ".join(f"{k}: {skipped[k]}" if k in skipped else k for k in missing)
        raise ConfigError(f"the run lacks ReXrank columns ({why})")
    for column in UNSUPPORTED_COLUMNS:
        row[column] = None
    return row


def rexrank_table(rows: Iterable[Mapping[str, Any]], rank_by: str | None = None):
    """Rows as a DataFrame in the site's column order.

    The site's ``Rank`` is a listing order (by submission), not a score rank; pass ``rank_by`` (a score
    column) to fill an unset ``Rank`` by that column, descending.
    """
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=ALL_COLUMNS)
    if frame["Rank"].isna().all() and rank_by:
        frame["Rank"] = frame[rank_by].rank(ascending=False, method="min").astype("Int64")
    return frame
