"""The error counter's reward-check target on development references, never the ReXrank IU test studies:
the two halves of the IU reports outside the test studies, and the hand-written findings of
tests/data/handwritten_findings/ (docs/reward_check.md says which set was read when).

    PYTHONPATH=. python benchmarks/reward_check_dev.py [--sets fit,check,sides,devices,outpatient_check]

For each set: the share of applicable references where each hack earns at least the control's reward
under -errors_struct_total_sig (the issue's target: at most 5%), and how many controls have a significant
error (0 expected). The IU halves are the findings of the IU reports in ../shared's NLMCXR_reports.tgz whose
study is not a ReXrank IU test study, shuffled with seed 1 and cut in two (fit, check).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared")) / "data"
HANDWRITTEN = ROOT / "tests" / "data" / "handwritten_findings"
SETS = ("fit", "check", "sides", "devices", "outpatient_check")
REWARD = {"components": [{"metric": "errors_struct", "weight": 1.0}]}  # -errors_struct_total_sig


def iu_development_halves():
    """(fit, check): IU findings outside the ReXrank IU test studies, in the archive's order (report ids
    sorted as text), shuffled with seed 1 and cut in two."""
    from baselines.data import load_iu_reports
    from rexeval.tools.hacks import Study

    test = json.loads((SHARED / "rexrank" / "iu_xray_test.json").read_text())
    frame = load_iu_reports(SHARED / "iu_reports" / "NLMCXR_reports.tgz", exclude=list(test)).frame
    studies = [Study(str(i), f) for i, f in sorted(zip(frame["study_id"], frame["findings"])) if f]
    random.Random(1).shuffle(studies)
    half = len(studies) // 2
    return studies[:half], studies[half:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)}")
    args = ap.parse_args()
    os.environ.setdefault("REXEVAL_CACHE", "off")
    from benchmarks.reward_check_iu import target_check
    from rexeval.tools.reward_check import read_studies, run_reward_check

    wanted = args.sets.split(",")
    unknown = set(wanted) - set(SETS)
    if unknown:
        sys.exit(f"unknown set(s): {', '.join(sorted(unknown))}")
    halves = iu_development_halves() if {"fit", "check"} & set(wanted) else ((), ())
    for name in wanted:
        if name in ("fit", "check"):
            studies = halves[name == "check"]
        else:
            studies = read_studies(HANDWRITTEN / f"{name}.csv", "findings")
        result = run_reward_check(REWARD, studies, n_resamples=200)
        controls = result.texts[result.texts["hack"] == "control"]
        print(f"\n== {name}: {len(studies)} references; controls with a significant error: "
              f"{int((controls['errors_struct'] < 0).sum())}")
        print("\n".join(target_check(result)))


if __name__ == "__main__":
    main()
