"""How often rexeval's rule sentence splitter agrees with medspacy's PyRuSH (the RaTEScore reference).

Run with a python that has medspacy (the reference splitter) and rexeval importable, e.g.
``PYTHONPATH=. /path/to/venv-with-medspacy/bin/python benchmarks/ratescore_splitter_agreement.py``.
Texts: the ReXrank IU X-ray test references (findings, collapsed) and the MoERad-IU predictions from
../shared (skipped when absent). Prints the share of reports whose sentence lists are identical.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from rexeval.base.text import collapse_whitespace  # noqa: E402
from rexeval.metrics.ratescore import split_sentences_pyrush, split_sentences_rules  # noqa: E402

SHARED = Path(os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared")) / "data"


def texts() -> dict[str, list[str]]:
    out = {}
    iu = SHARED / "rexrank" / "iu_xray_test.json"
    if iu.exists():
        data = json.loads(iu.read_text())
        out["iu_test_findings"] = [collapse_whitespace(v.get("section_findings") or "") for v in data.values()]
        out["iu_test_report_FI"] = [collapse_whitespace(v.get("report") or "") for v in data.values()]
    preds = SHARED / "conformance" / "moerad_iu_test" / "preds.csv"
    if preds.exists():
        out["moerad_iu_preds"] = [collapse_whitespace(str(t)) for t in pd.read_csv(preds)["report"].fillna("")]
    return out


def main() -> None:
    for name, items in texts().items():
        same = 0
        diffs = []
        for t in items:
            a, b = split_sentences_rules(t), split_sentences_pyrush(t)
            if a == b:
                same += 1
            elif len(diffs) < 3:
                diffs.append((a, b))
        print(f"{name}: {same}/{len(items)} reports split identically ({same / len(items):.1%})")
        for a, b in diffs:
            print("   rules :", a)
            print("   pyrush:", b)


if __name__ == "__main__":
    main()
