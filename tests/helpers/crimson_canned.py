"""Canned CRIMSON judge answers (well-formed and malformed) for the parser/scorer equality tests.

``python tests/helpers/crimson_canned.py OUT.json`` runs them through RadEval's own parser (tests/helpers/peer_radeval.py,
needs REXEVAL_RADEVAL_PATH) and records what it returns in OUT.json (tests/data/crimson_peer_recorded.json).
"""

from __future__ import annotations

import json


def _answer(refs, preds, matched, false, missing, attrs) -> dict:
    return {
        "reference_findings": [{"id": f"R{i + 1}", "finding": f, "clinical_significance": s} for i, (f, s) in enumerate(refs)],
        "predicted_findings": [{"id": f"P{i + 1}", "finding": f, "clinical_significance": s} for i, (f, s) in enumerate(preds)],
        "matched_findings": [{"ref_id": r, "pred_id": p} for r, p in matched],
        "errors": {"false_findings": false, "missing_findings": missing,
                   "attribute_errors": [{"ref_id": r, "pred_id": p, "severity": sev, "error_types": types,
                                         "explanation": "x"} for r, p, sev, types in attrs]},
    }


PERFECT = _answer([("small left pleural effusion", "actionable_not_urgent")],
                  [("small left pleural effusion", "actionable_not_urgent")], [("R1", "P1")], [], [], [])
MIXED = _answer(
    [("right lower lobe consolidation", "actionable_not_urgent"), ("pneumothorax", "urgent"),
     ("aortic calcification", "benign_expected"), ("mild cardiomegaly", "weird_label")],
    [("left lower lobe consolidation", "actionable_not_urgent"), ("large pleural effusion", "actionable_not_urgent"),
     ("aortic calcification", "benign_expected"), ("cardiomegaly", "not_actionable_not_urgent")],
    [("R1", "P1"), ("R3", "P3"), ("R4", "P4"), ("R1", "P1")], ["P2"], ["R2"],
    [("R1", "P1", "significant", ["location"]), ("R1", "P1", "negligible", ["severity", "descriptor"]),
     ("R4", "P4", "odd", ["certainty", "temporal"])],
)
ALL_FALSE = _answer([], [("pneumothorax", "urgent"), ("nodule", "actionable_not_urgent")], [], ["P1", "P2"], [], [])
BOTH_EMPTY = _answer([], [], [], [], [], [])
WORSE = _answer([("atelectasis", "not_actionable_not_urgent")],
                [("atelectasis", "not_actionable_not_urgent"), ("mass", "urgent"), ("fracture", "actionable_not_urgent")],
                [("R1", "P2")], ["P1", "P3"], [], [])

_mixed = json.dumps(MIXED)
ANSWERS = [
    json.dumps(PERFECT),
    _mixed,
    json.dumps(ALL_FALSE),
    json.dumps(BOTH_EMPTY),
    json.dumps(WORSE, indent=2),
    "Here is my evaluation:\n```json\n" + json.dumps(MIXED, indent=1) + "\n```\nDone.",  # fenced, prose around
    "Sure! " + _mixed + " Hope this helps.",  # prose around braces
    _mixed.replace('"R2"]', '"R2",]').replace('}]', '},]'),  # trailing commas
    _mixed[: len(_mixed) // 2],  # truncated mid-way
    _mixed[: _mixed.index('"errors"') + 30],  # truncated inside errors
    _mixed.replace('"explanation": "x"', '"explanation": "the \u201cleft\u201d side vs \u2018right\u2019"'),  # curly quotes
    _mixed.replace('"explanation": "x"', '"explanation": "says "small" not "large""'),  # unescaped quotes
    _mixed.replace('"explanation": "x"', '"explanation": "C:\\path \\_ok"'),  # invalid escapes
    _mixed.replace('{"ref_id": "R3", "pred_id": "P3"}', '{"ref_id": "R3", "pred_old", "pred_id": "P3"}'),  # orphan key
    _mixed.replace('"missing_findings": ["R2"]', '"missing_findings": ["":["R2"]'),  # array-object hybrid
    _mixed.replace(', "attribute_errors":', ', attribute_errors":'),  # key missing its opening quote
    _mixed.replace('"matched_findings"', '"matched_findings": [], "matched_findings"', 1),  # duplicate key
    json.dumps({k: v for k, v in MIXED.items() if k != "errors"}),  # missing required key
    json.dumps({**MIXED, "errors": ["P1"]}),  # errors not an object
    json.dumps([MIXED]),  # a list, not an object
    json.dumps({**PERFECT, "reference_findings": [{"finding": "no id", "clinical_significance": "urgent"}]}),
    "I cannot evaluate these reports.",
    "",
    '{"reference_findings": [], "predicted_findings": [], "matched_findings": [], "errors": {}}',
    json.dumps({**PERFECT, "errors": {"false_findings": ["P9"], "missing_findings": ["R1"], "attribute_errors": []},
                "matched_findings": [{"ref_id": "R1", "pred_id": "P1"}, {"pred_id": "P1"}]}),
]

#: (reference, candidate, patient context) triples whose prompts are compared with the peer's.
PAIRS = [
    ("Mild cardiomegaly. Small left pleural effusion.", "Cardiomegaly. No effusion.", None),
    ("No acute cardiopulmonary process.", "Lungs are clear.", {"age": "72", "indication": "dyspnea"}),
    (["Right lower lobe opacity.", "No pneumothorax."], "Opacity at the right base.", {"age": "4"}),
]


if __name__ == "__main__":
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    here = Path(__file__).resolve().parent
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"answers": ANSWERS, "pairs": PAIRS}, fh)
    res = subprocess.run([sys.executable, str(here / "peer_radeval.py"), "crimson", fh.name], capture_output=True,
                         text=True, check=True, env=os.environ)
    peer = json.loads(res.stdout.strip().splitlines()[-1])
    import hashlib
    from importlib.metadata import version

    sys.path.insert(0, os.environ["REXEVAL_RADEVAL_PATH"])
    record = {
        "source": f"RadEval {version('radeval')} radeval/metrics/crimson: CRIMSONScore._parse_response on each answer "
                  "(recorded by tests/helpers/crimson_canned.py)",
        "answers": ANSWERS,
        "results": peer["results"],
        "prompt_sha256": [hashlib.sha256(p.encode("utf-8")).hexdigest() for p in peer["prompts"]],
        "requests_without_prompt": [{k: v for k, v in r.items() if k != "messages"} for r in peer["requests"]],
        "system": [r["messages"][0]["content"] for r in peer["requests"]][0],
    }
    Path(sys.argv[1]).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(sum(r["ok"] for r in peer["results"]), "of", len(ANSWERS), "parsed by the peer")
