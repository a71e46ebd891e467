"""Every per-study value of the IU X-ray baseline leaderboard and of the shipped example, as one table.

    PYTHONPATH=. python tests/golden/per_study_values.py [--shared ../shared] [--out tests/golden/per_study_before.csv.gz]

The committed ``per_study_before.csv.gz`` was written by this script from main before the issue-14
redesign (run directories, layers, renames); ``tests/test_per_study_unchanged.py`` recomputes the table
with the current code and requires every value to be identical. Deliberate changes since: the
``errors_struct_*`` columns were rewritten by this script when ``errors_struct`` moved to counter v2 (issue 20;
every other column was checked to be unchanged); then the ``errors_struct_*`` and ``rules_*`` columns, and the bleu/bleu4/rouge_l of the oracle-labels baseline only (it picks sentences with the rule labeler), when the rule labeler moved to v2 and the counter gained the empty-report, omitted-size and device-position rules (issue 20; every other column checked unchanged); then the ``errors_struct_*`` columns alone, when the counter's readings were corrected after the reward-check probes (issue 25); then the ``rules_*`` and ``errors_struct_*`` columns, and the bleu/bleu4/rouge_l of the oracle-labels baseline only, when the rule labeler moved to v2.1 (issue 20's labeler target; every other column checked unchanged); then the
``errors_struct_*`` columns alone again, for the counter's rules 2.1 and 2.2 (issue 25: hedges of ruled-out findings,
omitted hedged findings, omitted bilateral sides and small effusion / pneumothorax grades, heart-chamber sides, new
vocabulary; every other column checked unchanged); then ``errors_struct_sig_A``, ``errors_struct_insig_A`` and
``errors_struct_total_sig`` alone, on 2 rows, for the counter's rules 2.3 (issue 25: vascular congestion stated
plainly is definite; a second site of a finding omitted; every other column checked unchanged). Rows: (source, system, study_id); one
column per per-study value. Floats are written with 17 significant digits, which round-trips exactly.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = Path(__file__).resolve().parent / "per_study_before.csv.gz"
EXAMPLE = ROOT / "examples" / "example_preds.csv"


def _rows(source: str, system: str, per_study: pd.DataFrame) -> pd.DataFrame:
    out = per_study.copy()
    out.insert(0, "system", system)
    out.insert(0, "source", source)
    return out


def example_values() -> pd.DataFrame:
    """The shipped example scored with the default metrics (the README's first example)."""
    from rexeval.run.scoring import score

    return _rows("example", "example", score(str(EXAMPLE), n_resamples=10, progress=False).per_study)


def iu_baseline_values(shared: Path) -> pd.DataFrame:
    """Every baseline of ``leaderboards/iu_xray`` on the 590 IU test studies, as that build runs them."""
    from leaderboards.iu_xray.build import run_systems

    with tempfile.TemporaryDirectory() as tmp:
        results = run_systems(shared, Path(tmp))
    return pd.concat([_rows("iu_xray", name, res.per_study) for name, res in results.items()
                      if not isinstance(res, str)], ignore_index=True)


def all_values(shared: Path) -> pd.DataFrame:
    return pd.concat([example_values(), iu_baseline_values(shared)], ignore_index=True)


def write(table: pd.DataFrame, path: Path) -> None:
    table.to_csv(path, index=False, float_format="%.17g")


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"study_id": str}, keep_default_na=False, na_values=["NaN", "nan", ""])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default=os.environ.get("REXEVAL_SHARED", str(ROOT.parent / "shared")))
    ap.add_argument("--out", default=str(COMMITTED))
    args = ap.parse_args()
    table = all_values(Path(args.shared))
    write(table, Path(args.out))
    print(f"wrote {len(table)} rows x {table.shape[1]} columns to {args.out}")


if __name__ == "__main__":
    main()
