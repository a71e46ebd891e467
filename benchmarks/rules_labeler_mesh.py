"""The rule labeler against the IU X-ray MeSH indexing, on the development split.

Usage: python benchmarks/rules_labeler_mesh.py [NLMCXR_reports.tgz] [iu_xray_test.json]

Reference: each report's manual ``<MeSH><major>`` terms mapped to CheXpert conditions by
benchmarks/mesh_chexpert_map.py (written from the MeSH vocabulary before any F1 was computed);
"normal" is No Finding. Prediction: RuleLabeler on FINDINGS + IMPRESSION, positive or uncertain =
positive (the rules_f1 default policy). Prints support, precision, recall and F1 per condition and
the macro-F1 over the conditions with MeSH support >= 20.

HELD OUT: the reports of the ReXrank IU test studies (report ``CXR<n>`` <-> study ids
``CXR<n>_...`` in iu_xray_test.json) are removed before anything is labelled or counted; no number
here is computed on them. Reports indexed "No Indexing" or with no FINDINGS/IMPRESSION text are
skipped (no reference or nothing to label). What remains is the development split.
"""

from __future__ import annotations

import json
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from benchmarks.mesh_chexpert_map import conditions_of
from benchmarks.rules_labeler_iu import DEFAULT, SHARED
from rexeval.labelers import CONDITIONS, get_labeler

TEST_IDS = SHARED / "data" / "rexrank" / "iu_xray_test.json"
MIN_SUPPORT = 20


def held_out_reports(test_json: Path) -> set[str]:
    """Report ids (``CXR<n>``) of the ReXrank IU test studies."""
    return {study.split("_")[0] for study in json.loads(test_json.read_text())}


def development_split(archive: Path, test_json: Path) -> tuple[list[str], list[str], list[set[str]], int]:
    """(report ids, texts, MeSH conditions) of the development split, and how many were held out."""
    held = held_out_reports(test_json)
    ids, texts, refs, n_held = [], [], [], 0
    with tarfile.open(archive) as tar:
        for member in tar:
            if not member.name.endswith(".xml"):
                continue
            root = ET.parse(tar.extractfile(member)).getroot()
            uid = root.find("uId").get("id")
            if uid in held:
                n_held += 1
                continue  # held out: never parsed further
            sections = {a.get("Label"): (a.text or "") for a in root.iter("AbstractText")}
            text = " ".join(s for s in (sections.get("FINDINGS", ""), sections.get("IMPRESSION", "")) if s)
            major = [e.text or "" for e in root.iter("major")]
            if not text.strip() or any(m.strip() == "No Indexing" for m in major):
                continue
            ids.append(uid)
            texts.append(text)
            refs.append(conditions_of(major))
    return ids, texts, refs, n_held


def per_condition(pred: np.ndarray, refs: list[set[str]], positive=(1.0, -1.0)) -> dict[str, dict[str, float]]:
    """Support, predicted, precision, recall, F1 per condition; ``positive``: the labels counted positive."""
    out = {}
    for j, cond in enumerate(CONDITIONS):
        p = np.isin(pred[:, j], positive)
        r = np.array([cond in ref for ref in refs])
        tp, fp, fn = int(np.sum(p & r)), int(np.sum(p & ~r)), int(np.sum(~p & r))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[cond] = {"support": int(r.sum()), "predicted": int(p.sum()), "precision": prec, "recall": rec, "f1": f1}
    return out


def main() -> None:
    archive = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    test_json = Path(sys.argv[2]) if len(sys.argv) > 2 else TEST_IDS
    ids, texts, refs, n_held = development_split(archive, test_json)
    labeler = get_labeler("rules")
    pred = labeler.label(texts)
    table = per_condition(pred, refs)
    # diagnostic only: MeSH indexes stated findings, so hedged mentions counted positive cost precision
    strict = per_condition(pred, refs, positive=(1.0,))
    print(f"development split: {len(ids)} IU reports ({n_held} reports of the ReXrank IU test studies held out "
          f"and never labelled; 'No Indexing' and empty reports skipped)")
    print(f"labeler {labeler.signature()}; positive or uncertain = positive")
    print(f"{'condition':28s} {'support':>7s} {'pred':>6s} {'prec':>6s} {'recall':>6s} {'F1':>6s}  "
          f"{'F1 if uncertain=negative':>24s}")
    for cond, row in table.items():
        print(f"{cond:28s} {row['support']:7d} {row['predicted']:6d} {row['precision']:6.3f} "
              f"{row['recall']:6.3f} {row['f1']:6.3f}  {strict[cond]['f1']:24.3f}")
    kept = [c for c, row in table.items() if row["support"] >= MIN_SUPPORT]
    macro = float(np.mean([table[c]["f1"] for c in kept]))
    print(f"macro-F1 over the {len(kept)} conditions with MeSH support >= {MIN_SUPPORT} "
          f"({', '.join(kept)}): {macro:.3f} (uncertain=negative, diagnostic: "
          f"{np.mean([strict[c]['f1'] for c in kept]):.3f})")


if __name__ == "__main__":
    main()
