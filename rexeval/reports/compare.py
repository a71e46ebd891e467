"""``rexeval.reports.compare``: paired tests between two systems, from run directories or prediction files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rexeval.base.exceptions import InputError
from rexeval.run.runs import Run, ScoreResult, load_run, refuse_differences, scoring_differences
from rexeval.run.scoring import score
from rexeval.stats import DEFAULT_PERMUTATIONS, DEFAULT_RESAMPLES
from rexeval.stats.bootstrap import DEFAULT_SEED
from rexeval.stats.paired import holm, paired_test


def _as_run(source: str | Path | ScoreResult | Run, refs, **score_kw) -> ScoreResult | Run:
    if isinstance(source, Run):
        return source
    path = Path(source)
    if path.is_dir():
        return load_run(path, need_per_study=True)
    return score(path, refs, **score_kw)


def compare(
    a: str | Path | ScoreResult | Run,
    b: str | Path | ScoreResult | Run,
    refs: str | Path | None = None,
    *,
    metrics: list[str] | None = None,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    allow_mismatch: bool = False,
    **score_kw: Any,
) -> pd.DataFrame:
    """Paired comparison of system A against system B on every output both have.

    ``a``/``b`` are run directories, prediction files (scored against ``refs`` first) or results.
    Returns one row per output: values, delta = A - B, its paired-bootstrap CI, the randomisation
    p-value and the Holm-adjusted p-value, and which system is better. Runs scored differently
    (references, track, metric options, rexeval version) are refused unless ``allow_mismatch``; the
    differences allowed are then in ``table.attrs["mismatch_allowed"]``.
    """
    run_a = _as_run(a, refs, metrics=metrics, progress=False, **score_kw)
    run_b = _as_run(b, refs, metrics=metrics, progress=False, **score_kw)
    # a run given as an object may lack per_study (a directory is loaded with need_per_study=True)
    assert run_a.per_study is not None and run_b.per_study is not None
    ids_a = run_a.per_study["study_id"].astype(str).tolist()
    ids_b = run_b.per_study["study_id"].astype(str).tolist()
    if sorted(ids_a) != sorted(ids_b):
        only_a = sorted(set(ids_a) - set(ids_b))
        only_b = sorted(set(ids_b) - set(ids_a))
        raise InputError(
            f"the two systems were scored on different studies ({len(only_a)} only in A, {len(only_b)} only in B, "
            f"e.g. {(only_a or only_b)[:3]}); paired tests need the same studies"
        )
    differences = refuse_differences(
        scoring_differences([("A", run_a.summary), ("B", run_b.summary)], same_studies=False),
        "rexeval compare", allow_mismatch)
    pb = run_b.per_study.set_index("study_id").loc[ids_a].reset_index()
    pa = run_a.per_study
    keys = [k for k in run_a.outputs if k in run_b.outputs]
    if metrics:
        keys = [k for k in keys if k in metrics or run_a.metrics[k].metric in metrics]
    rows = []
    for key in keys:
        out = run_a.outputs[key]
        cols_a = {c: pa[c].to_numpy(dtype=float) for c in pa.columns if c != "study_id"}
        cols_b = {c: pb[c].to_numpy(dtype=float) for c in pb.columns if c != "study_id"}
        res = paired_test(key, out.aggregate, cols_a, cols_b, n_permutations=n_permutations, n_resamples=n_resamples, seed=seed)
        rows.append(
            {
                "metric": key,
                "higher_is_better": out.higher_is_better,
                "a": res.value_a,
                "b": res.value_b,
                "delta": res.delta,
                "delta_ci_lo": res.ci95[0],
                "delta_ci_hi": res.ci95[1],
                "p_value": res.p_value,
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        raise InputError("the two runs share no metric that can be compared")
    table["p_holm"] = holm(table["p_value"].tolist())

    def better(row) -> str:
        if np.isnan(row.delta) or row.delta == 0:
            return "="
        a_wins = (row.delta > 0) == row.higher_is_better
        return "A" if a_wins else "B"

    table["better"] = table.apply(better, axis=1)
    table.attrs["a"] = run_a.summary.run.name or "A"
    table.attrs["b"] = run_b.summary.run.name or "B"
    table.attrs["n_studies"] = len(ids_a)
    table.attrs["n_permutations"] = n_permutations
    table.attrs["mismatch_allowed"] = differences
    return table
