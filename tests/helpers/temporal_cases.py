"""Hand-built RadGraph annotations for temporal_f1 against RadEval's own ``F1Temporal``.

Each text has an annotation in the radgraph package's JSON. The peer's Stanza NER is replaced by a stub
returning, for each text, the same entities with the peer's types (observations -> OBSERVATION, anatomy
-> ANATOMY), so both sides see the same NER output. ``python tests/helpers/temporal_cases.py OUT.json`` records
the peer's values (needs REXEVAL_RADEVAL_PATH) for these cases and the 590 IU pairs (regex only).
"""

from __future__ import annotations


def _ann(*ents: tuple[str, str]) -> dict:
    return {"text": "", "entities": {str(i + 1): {"tokens": t, "label": lab, "start_ix": i, "end_ix": i,
                                                  "relations": []} for i, (t, lab) in enumerate(ents)}}


CASES = [  # (prediction, reference, prediction annotation, reference annotation)
    ("Stable/unchanged cardiomegaly.", "Cardiomegaly is stable.",
     _ann(("Stable", "Observation::definitely present"), ("unchanged", "Observation::definitely present"),
          ("cardiomegaly", "Observation::definitely present")),
     _ann(("Cardiomegaly", "Observation::definitely present"), ("stable", "Observation::definitely present"))),
    ("New left effusion; increased opacity.", "Increased left pleural effusion.",
     _ann(("New", "OBS-DP"), ("effusion", "OBS-DP"), ("increased", "OBS-DP"), ("opacity", "OBS-DP")),
     _ann(("Increased", "OBS-DP"), ("pleural", "ANAT-DP"), ("effusion", "OBS-DP"))),
    ("Enlarged heart, worse than before.", "Heart enlarged.",
     _ann(("Enlarged", "ANAT-DP"), ("heart", "ANAT-DP"), ("worse", "OBS-DP")),
     _ann(("Heart", "ANAT-DP"), ("enlarged", "OBS-DP"))),
    ("Lungs are clear.", "No acute process.", _ann(("clear", "OBS-DA")), _ann(("process", "OBS-DA"))),
    ("Effusion resolved/improved.", "", _ann(("resolved", "Observation::definitely present"),
                                            ("improved", "Observation::uncertain")), _ann()),
    ("", "Worsening edema.", _ann(), _ann(("Worsening", "OBS-DP"), ("edema", "OBS-DP"))),
    ("Unchanged (\"stable\") nodule — re-demonstrated.", "Nodule unchanged, stably calcified.",
     _ann(("stable", "Observation::definitely present"), ("nodule", "Observation::definitely present")),
     _ann(("Nodule", "OBS-DP"), ("unchanged", "OBS-DP"), ("stably", "OBS-DP"))),
]

PEER_TYPE = {"OBS": "OBSERVATION", "Obs": "OBSERVATION", "ANA": "ANATOMY", "Ana": "ANATOMY"}


def peer_entities(ann: dict) -> list[tuple[str, str]]:
    return [(e["tokens"], PEER_TYPE[e["label"][:3]]) for e in ann["entities"].values()]


if __name__ == "__main__":
    import json
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import pandas as pd

    here = Path(__file__).resolve().parent
    folder = here.parents[1] / "shared" / "data" / "conformance" / "moerad_iu_test"
    preds = pd.read_csv(folder / "preds.csv", dtype=str, keep_default_na=False).report.tolist()
    refs = pd.read_csv(folder / "gts.csv", dtype=str, keep_default_na=False).report.tolist()

    def peer(p, r, ents):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump({"preds": p, "refs": r, "entities": ents}, fh)
        res = subprocess.run([sys.executable, str(here / "peer_radeval.py"), "temporal", fh.name],
                             capture_output=True, text=True, check=True, env=os.environ)
        return json.loads(res.stdout.strip().splitlines()[-1])

    ents: dict = {}
    for p, r, pa, ra in CASES:
        ents[p], ents[r] = peer_entities(pa), peer_entities(ra)
    cases = peer([c[0] for c in CASES], [c[1] for c in CASES], ents)
    iu = peer(preds, refs, {})
    Path(sys.argv[1]).write_text(json.dumps({
        "source": "RadEval 2.2.1 radeval/metrics/f1temporal/f1temporal.py F1Temporal with its Stanza pipeline "
                  "stubbed (tests/helpers/peer_radeval.py temporal); recorded by tests/helpers/temporal_cases.py",
        "cases": cases, "iu_regex_only_scores": iu["scores"], "iu_n": len(preds)}, indent=1) + "\n")
    print("cases", cases["scores"], "iu mean", sum(iu["scores"]) / len(iu["scores"]))
