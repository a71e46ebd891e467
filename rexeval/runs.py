"""Reading run directories for the views that compare systems (leaderboard, plots, report).

Unlike :func:`rexeval.compare.load_run`, ``per_study.csv`` is optional here: a summary alone is enough
to list a system's numbers; the per-study values are only needed for paired tests and per-study plots.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rexeval.exceptions import InputError
from rexeval.metrics.base import Aggregate, inverse_mean_of, mean_of

SUMMARY = "summary.json"
PER_STUDY = "per_study.csv"
TEXTS = "texts.csv"
SUBGROUPS = "subgroups.csv"


@dataclass
class Run:
    """One scored system: its name, summary.json and (when present) per_study.csv."""

    path: Path
    name: str
    summary: dict[str, Any]
    per_study: pd.DataFrame | None = None
    texts: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        return self.summary.get("metrics", {})

    def columns(self) -> dict[str, np.ndarray]:
        """Per-study numeric columns by name (empty when there is no per_study.csv)."""
        if self.per_study is None:
            return {}
        out = {}
        for c in self.per_study.columns:
            if c == "study_id":
                continue
            values = pd.to_numeric(self.per_study[c], errors="coerce")
            out[c] = values.to_numpy(dtype=float)
        return out

    def aggregate(self, key: str) -> Aggregate | None:
        """The aggregate behind summary metric ``key``, or None if per-study values cannot rebuild it.

        The registered metric's own Output wins; otherwise the summary's aggregate name is enough for
        a mean (``mean_of(key)``) and for 1/mean (``inv_X`` -> ``inverse_mean_of(X)``).
        """
        entry = self.metrics.get(key)
        if entry is None or self.per_study is None:
            return None
        agg = _registered_aggregate(entry.get("metric"), key)
        cols = set(self.per_study.columns)
        if agg is None:
            kind = entry.get("aggregate")
            if kind == "mean" and key in cols:
                agg = mean_of(key)
            elif kind == "1/mean" and key.startswith("inv_") and key[4:] in cols:
                agg = inverse_mean_of(key[4:])
        if agg is None:
            return None
        try:  # the per-study columns it reads must be present
            agg.stats(self.columns())
        except (KeyError, ValueError):
            return None
        return agg


def _registered_aggregate(metric_name: str | None, key: str) -> Aggregate | None:
    if not metric_name:
        return None
    try:
        from rexeval.metrics import get_metric

        for out in get_metric(metric_name).outputs():
            if out.key == key:
                return out.aggregate
    except Exception:  # a metric from another rexeval version: fall back on the summary
        return None
    return None


def load_run(path: str | Path) -> Run:
    """Read a run directory (``rexeval score --out``); per_study.csv and texts.csv are optional."""
    path = Path(path)
    if not path.is_dir():
        raise InputError("not a directory (expected a run directory written by `rexeval score --out`)", path=str(path))
    summary_path = path / SUMMARY
    if not summary_path.is_file():
        raise InputError(f"not a rexeval run directory (missing {SUMMARY})", path=str(path))
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"invalid JSON ({exc})", path=str(summary_path)) from None
    if not isinstance(summary, dict) or not isinstance(summary.get("metrics", {}), dict):
        raise InputError("summary.json has no 'metrics' object", path=str(summary_path))
    per_study = _read_csv(path / PER_STUDY)
    texts = _read_csv(path / TEXTS)
    name = (summary.get("run") or {}).get("name") or path.resolve().name
    return Run(path, str(name), summary, per_study, texts)


def _read_csv(p: Path) -> pd.DataFrame | None:
    if not p.is_file():
        return None
    try:
        frame = pd.read_csv(p, dtype={"study_id": str}, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read CSV ({exc})", path=str(p)) from None
    if "study_id" not in frame.columns:
        raise InputError("no study_id column", path=str(p))
    return frame


def load_runs(paths: list[str | Path]) -> list[Run]:
    runs = [load_run(p) for p in paths]
    seen: dict[str, int] = {}
    for run in runs:  # two runs with the same name would be indistinguishable in a table
        if run.name in seen:
            seen[run.name] += 1
            run.name = f"{run.name} ({seen[run.name]})"
        else:
            seen[run.name] = 1
    return runs
