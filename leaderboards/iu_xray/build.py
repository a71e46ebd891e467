"""Build the IU X-ray baseline leaderboard (findings track, the 590 ReXrank IU test studies).

    python -m leaderboards.iu_xray.build [--shared ../shared] [--out leaderboards/iu_xray] [--keep DIR]

Every baseline is run on ``rexrank/iu_xray_test.json`` with TRAIN = the IU report corpus
(``iu_reports/NLMCXR_reports.tgz``) minus the ReXrank IU test and valid studies, scored with every
metric that can run offline here (the others are listed as skipped), with 95% percentile-bootstrap CIs
(1000 resamples, seed 12345) and rank groups from paired randomisation tests; the published ReXrank IU
findings-track rows (gh-pages @ b7efa9f, 2025-09-05) are listed beside them. Everything is seeded and
written without timestamps or paths of this machine, so a rebuild gives the same bytes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

#: (row name, baseline, run_baseline keyword arguments). copy-prior cannot run on IU X-ray: its reports
#: carry no patient id and no study date (all are dated 2013-08-01), so no study has a known prior.
SYSTEMS: list[tuple[str, str, dict[str, Any]]] = [
    ("template", "template", {}),
    ("random (seed 0)", "random", {"seed": 0}),
    ("retrieval (TF-IDF on indication)", "retrieval", {"method": "tfidf"}),
    ("retrieval (BM25 on indication)", "retrieval", {"method": "bm25"}),
    ("oracle-labels (ORACLE)", "oracle-labels", {}),
]
NOT_APPLICABLE = {
    "copy-prior": "IU X-ray reports carry no patient id or study date, so no study has a known prior; "
    "with the default policy every study would fall back to the template row.",
}
#: Published column -> our output key.
PUBLISHED_COLUMNS = {
    "BLEU": "bleu",
    "BertScore": "bertscore",
    "SembScore": "semb_score",
    "RadGraph": "radgraph_combined",
    "1/RadCliQ-v1": "inv_radcliq_v1",
    "RaTEScore": "ratescore",
    "GREEN": "green",
}
PUBLISHED_SOURCE = "ReXrank gh-pages @ b7efa9f (2025-09-05), findings track, IU X-ray test; rounded to 3 decimals"
N_RESAMPLES, SEED, N_PERMUTATIONS = 1000, 12345, 10_000


def shared_dir(arg: str | None) -> Path:
    path = Path(arg or os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared"))
    if not (path / "data" / "rexrank" / "iu_xray_test.json").exists():
        sys.exit(f"error: {path}/data/rexrank/iu_xray_test.json not found; pass --shared DIR (the folder holding data/)")
    return path


def run_systems(shared: Path, work: Path, progress: bool = False) -> dict[str, Any]:
    """Run and score every baseline; return {row name: ScoreResult} (skipped ones: their reason)."""
    from baselines import load_iu_reports, run_baseline
    from baselines.core import prepare_train
    from baselines.data import load_table
    from rexeval.errors import RexevalError
    from rexeval.scoring import score

    test_path = shared / "data" / "rexrank" / "iu_xray_test.json"
    test = load_table(test_path, "TEST")
    # TRAIN = the IU corpus minus the test studies and (found beside the test file) the valid studies.
    train = prepare_train(load_iu_reports(shared / "data" / "iu_reports" / "NLMCXR_reports.tgz"), test, "findings")
    results: dict[str, Any] = {}
    for row, name, kwargs in SYSTEMS:
        try:
            run = run_baseline(name, test, train, track="findings", **kwargs)
        except RexevalError as exc:
            results[row] = f"not run: {exc}"
            continue
        preds = work / f"{name}-{kwargs.get('method', kwargs.get('seed', ''))}.csv"
        run.write(preds)
        res = score(preds, test_path, track="findings", n_resamples=N_RESAMPLES, seed=SEED, name=row, progress=progress)
        res.meta = run.meta  # type: ignore[attr-defined]
        results[row] = res
    return results


def rank_groups(results: dict[str, Any], key: str, higher_is_better: bool) -> dict[str, int]:
    """Rank groups on ``key``: walking down the ranking, a system joins the current group unless a
    paired randomisation test (two-sided, p < 0.05) separates it from the group's best system."""
    from rexeval.stats.paired import paired_test

    scored = {n: r for n, r in results.items() if not isinstance(r, str) and key in r.outputs}
    order = sorted(scored, key=lambda n: scored[n].value(key), reverse=higher_is_better)
    groups: dict[str, int] = {}
    leader, group = None, 0
    for name in order:
        if leader is None:
            leader, group = name, 1
        else:
            a, b = scored[leader], scored[name]
            cols = lambda r: {c: r.per_study[c].to_numpy(float) for c in r.per_study.columns if c != "study_id"}  # noqa: E731
            res = paired_test(key, a.outputs[key].aggregate, cols(a), cols(b), n_permutations=N_PERMUTATIONS, n_resamples=0, seed=SEED)
            if res.p_value < 0.05:
                leader, group = name, group + 1
        groups[name] = group
    return groups


def build_tables(results: dict[str, Any], shared: Path) -> tuple[pd.DataFrame, list[str], dict[str, Any]]:
    metric_keys: list[str] = []
    skipped: dict[str, str] = {}
    for r in results.values():
        if isinstance(r, str):
            continue
        for k in r.summary["metrics"]:
            if k not in metric_keys:
                metric_keys.append(k)
        skipped.update(r.summary["skipped"])
    first = next(r for r in results.values() if not isinstance(r, str))
    rank_key = "inv_radcliq_v1" if "inv_radcliq_v1" in metric_keys else "bleu"
    hib = first.summary["metrics"][rank_key]["higher_is_better"]
    groups = rank_groups({n: r for n, r in results.items() if "ORACLE" not in n}, rank_key, hib)

    rows = []
    for name, r in results.items():
        row: dict[str, Any] = {"system": name, "kind": "oracle" if "ORACLE" in name else "baseline"}
        if isinstance(r, str):
            row["note"] = r
            rows.append(row)
            continue
        row["n"] = r.summary["n_studies"]
        for k in metric_keys:
            m = r.summary["metrics"].get(k)
            if m:
                row[k], row[f"{k}_ci_lo"], row[f"{k}_ci_hi"] = m["value"], m["ci95"][0], m["ci95"][1]
        row["rank_group"] = groups.get(name)
        row["train_corpus_hash"] = r.meta.get("train", {}).get("corpus_hash")
        rows.append(row)
    for name, note in NOT_APPLICABLE.items():
        rows.append({"system": name, "kind": "baseline", "note": f"not applicable: {note}"})
    pub = pd.read_csv(shared / "data" / "rexrank" / "leaderboard" / "gh-pages__findings_result_iu_xray.csv")
    for rec in pub.to_dict("records"):
        row = {"system": rec["Model Name"], "kind": "published", "n": 590}
        for col, key in PUBLISHED_COLUMNS.items():
            v = rec.get(col)
            row[key] = float(v) if v is not None and not (isinstance(v, float) and np.isnan(v)) else None
        rows.append(row)
    table = pd.DataFrame(rows)
    # Published values first by the ranking metric; ours are ranked among themselves (rank groups).
    info = {"rank_key": rank_key, "metric_keys": metric_keys, "skipped": skipped}
    return table, metric_keys, info


def markdown(table: pd.DataFrame, metric_keys: list[str], info: dict[str, Any]) -> str:
    from rexeval._version import __version__

    cols = metric_keys + [k for k in PUBLISHED_COLUMNS.values() if k not in metric_keys]
    label = {v: k for k, v in PUBLISHED_COLUMNS.items()} | {"bleu": "BLEU-2", "bleu4": "BLEU-4", "rouge_l": "ROUGE-L"}
    head = ["system", "kind", "rank group"] + [label.get(c, c) for c in cols]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    rank_key = info["rank_key"]
    order = table.assign(_k=table["kind"].map({"baseline": 0, "oracle": 1, "published": 2}))
    order = order.assign(_v=-order[rank_key].fillna(-np.inf)).sort_values(["_k", "_v"], kind="stable")
    notes = []
    for rec in order.to_dict("records"):
        if isinstance(rec.get("note"), str):
            notes.append(f"- **{rec['system']}**: {rec['note']}")
            continue
        cells = [rec["system"], rec["kind"], "" if pd.isna(rec.get("rank_group")) else str(int(rec["rank_group"]))]
        for c in cols:
            v = rec.get(c)
            if v is None or pd.isna(v):
                cells.append("—")
            elif rec["kind"] == "published":
                cells.append(f"{v:.3f}")
            else:
                lo, hi = rec.get(f"{c}_ci_lo"), rec.get(f"{c}_ci_hi")
                cells.append(f"{v:.4f} [{lo:.4f}, {hi:.4f}]" if lo is not None and not pd.isna(lo) else f"{v:.4f}")
        lines.append("| " + " | ".join(cells) + " |")
    skipped = "\n".join(f"- `{k}`: {v}" for k, v in sorted(info["skipped"].items())) or "- none"
    return (
        "# IU X-ray baseline leaderboard (findings track, 590 ReXrank test studies)\n\n"
        "Generated by `python -m leaderboards.iu_xray.build` (rexeval "
        f"{__version__}); do not edit by hand.\n\n"
        "- References: `section_findings` of `rexrank/iu_xray_test.json` (whitespace collapsed). TRAIN: the IU "
        "report corpus `NLMCXR_reports.tgz` (3,955 reports) minus the 590 ReXrank IU test and 296 valid studies, "
        "findings section only (reports without FINDINGS left out).\n"
        f"- Our rows: value [95% percentile-bootstrap CI, {N_RESAMPLES} resamples, seed {SEED}]. Rank groups on "
        f"`{rank_key}` among the non-oracle baselines: a system joins the group of the best system above it unless "
        f"a paired randomisation test ({N_PERMUTATIONS} permutations) gives p < 0.05.\n"
        f"- Published rows: {PUBLISHED_SOURCE}. They were not re-scored here and have no CIs.\n"
        "- `oracle-labels` writes sentences from the reference's own condition labels: an upper bound for "
        "label-based metrics, not a model.\n\n"
        + "\n".join(lines)
        + "\n\nNot shown:\n" + "\n".join(notes)
        + "\n\nMetrics skipped here (they need model weights or services not available offline):\n" + skipped + "\n"
    )


def build(shared: Path, out: Path, keep: Path | None = None, progress: bool = False) -> tuple[Path, Path]:
    with tempfile.TemporaryDirectory() as tmp:
        work = keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = run_systems(shared, work, progress)
        table, keys, info = build_tables(results, shared)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / "leaderboard.csv", out / "leaderboard.md"
    table.to_csv(csv_path, index=False, float_format="%.10g")
    md_path.write_text(markdown(table, keys, info), encoding="utf-8")
    return md_path, csv_path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m leaderboards.iu_xray.build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", help="folder holding data/ (default: $REXEVAL_SHARED or ../shared)")
    ap.add_argument("--out", default=str(HERE), help="where leaderboard.md and leaderboard.csv go")
    ap.add_argument("--keep", help="keep the prediction files and their metadata in this folder")
    args = ap.parse_args(argv)
    md, csv = build(shared_dir(args.shared), Path(args.out), Path(args.keep) if args.keep else None, progress=sys.stderr.isatty())
    print(f"wrote {md} and {csv}")


if __name__ == "__main__":
    main()
