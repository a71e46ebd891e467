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
    from rexeval.base.exceptions import RexevalError
    from rexeval.run.scoring import score

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


PUBLISHED_TABLE = "rexrank:iu_xray:findings"


def leaderboard(results: dict[str, Any], work: Path, columns: str = "default") -> tuple[Any, dict[str, Any]]:
    """The leaderboard (``rexeval.reports.leaderboard``) of the baseline runs, the published rows in their own block.

    The rank key is the leaderboard's default: ReXrank's 1/RadCliQ-v1 when every baseline has it, else
    the declared fallback (BLEU-2 offline, where BERTScore, SembScore and RadGraph cannot run). Rank groups
    are computed among the non-oracle baselines only; the oracle row follows them without a rank or group
    (it is an upper bound built from the references, not a competitor).
    """
    from leaderboards.published import load_table as published_table
    from rexeval.reports.leaderboard import build_leaderboard
    from rexeval.run.runs import load_run

    runs, oracle_runs, skipped, notes = [], [], {}, []
    for i, (name, res) in enumerate(results.items()):
        if isinstance(res, str):
            notes.append(f"- **{name}**: {res}")
            continue
        run_dir = res.write(work / f"run{i}", overwrite=True)  # a kept work folder is rebuilt
        (oracle_runs if res.meta.get("oracle") else runs).append(load_run(run_dir))
        skipped.update(res.summary.skipped)
    for name, note in NOT_APPLICABLE.items():
        notes.append(f"- **{name}**: not applicable: {note}")
    board = build_leaderboard(runs, published=published_table(PUBLISHED_TABLE), n_permutations=N_PERMUTATIONS,
                              seed=SEED, title="IU X-ray baselines (findings track)", columns=columns)
    rows = []
    for run in oracle_runs:
        row: dict[str, Any] = {"system": run.name, "source": "run", "n_studies": run.summary.n_studies}
        for key in board.metrics:
            entry = run.metrics.get(key)
            ci = (entry.ci95 if entry else None) or (None, None)
            row[key], row[f"{key}_lo"], row[f"{key}_hi"] = entry.value if entry else None, ci[0], ci[1]
        rows.append(row)
    if rows:  # after the ranked baselines, before the published block
        ranked = board.table["source"] == "run"
        board.table = pd.concat([board.table[ranked], pd.DataFrame(rows), board.table[~ranked]], ignore_index=True)
    # This machine's temporary run folders are no part of the result.
    board.table = board.table.drop(columns=[c for c in ("path",) if c in board.table])
    kind = []
    for rec in board.table.to_dict("records"):
        kind.append("published" if rec.get("source") == "published" else "oracle" if "ORACLE" in str(rec["system"]) else "baseline")
    board.table.insert(3, "kind", kind)
    return board, {"rank_by": board.rank_by, "skipped": skipped, "notes": notes}


def markdown(board: Any, info: dict[str, Any]) -> str:
    from rexeval._version import __version__
    from rexeval.base.display import display_name

    skipped = "\n".join(f"- `{k}`: {v}" for k, v in sorted(info["skipped"].items())) or "- none"
    return (
        "# IU X-ray baseline leaderboard (findings track, 590 ReXrank test studies)\n\n"
        f"Generated by `python -m leaderboards.iu_xray.build` (rexeval {__version__}); do not edit by hand. "
        "Every metric, with its CI, is in `leaderboard.csv` beside this file; "
        "`python -m leaderboards.iu_xray.build --columns all` shows them all here.\n\n"
        "- References: `section_findings` of `rexrank/iu_xray_test.json` (whitespace collapsed). TRAIN: the IU "
        "report corpus `NLMCXR_reports.tgz` (3,955 reports) minus the 590 ReXrank IU test and 296 valid studies, "
        "findings section only (reports without FINDINGS left out).\n"
        f"- Baseline rows: value [95% percentile-bootstrap CI, {N_RESAMPLES} resamples, seed {SEED}]; rank groups "
        f"(`rexeval.reports.leaderboard`) on {display_name(info['rank_by'])} among the baselines, {N_PERMUTATIONS} permutations.\n"
        f"- Published rows: {PUBLISHED_SOURCE}. In their own block under the baselines, in ReXrank's order "
        "(1/RadCliQ-v1, as published): no CIs, not re-scored, never ranked or grouped with the baselines.\n"
        "- `oracle-labels (ORACLE)` writes sentences from the reference's own condition labels: an upper bound "
        "for label-based metrics, not a model; it has no rank or group.\n\n"
        + board.to_markdown(digits=3)
        + "\nNot shown:\n" + "\n".join(info["notes"])
        + "\n\nMetrics skipped here (they need model weights or services not available offline):\n" + skipped + "\n"
    )


def build(shared: Path, out: Path, keep: Path | None = None, progress: bool = False,
          columns: str = "default") -> tuple[Path, Path]:
    with tempfile.TemporaryDirectory() as tmp:
        work = keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = run_systems(shared, work, progress)
        board, info = leaderboard(results, work, columns)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / "leaderboard.csv", out / "leaderboard.md"
    board.table.to_csv(csv_path, index=False, float_format="%.10g")
    md_path.write_text(markdown(board, info), encoding="utf-8")
    return md_path, csv_path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m leaderboards.iu_xray.build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", help="folder holding data/ (default: $REXEVAL_SHARED or ../shared)")
    ap.add_argument("--out", default=str(HERE), help="where leaderboard.md and leaderboard.csv go")
    ap.add_argument("--keep", help="keep the prediction files and their metadata in this folder")
    ap.add_argument("--columns", choices=("default", "all"), default="default",
                    help="metric columns in leaderboard.md: default (at most 8 per block) or all (the CSV has all)")
    args = ap.parse_args(argv)
    md, csv = build(shared_dir(args.shared), Path(args.out), Path(args.keep) if args.keep else None,
                    progress=sys.stderr.isatty(), columns=args.columns)
    print(f"wrote {md} and {csv}")


if __name__ == "__main__":
    main()
