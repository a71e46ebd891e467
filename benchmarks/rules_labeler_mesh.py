"""The rule labeler against the IU X-ray MeSH indexing, on the development split.

Usage: python benchmarks/rules_labeler_mesh.py [NLMCXR_reports.tgz] [iu_xray_test.json]

Reference: each report's manual ``<MeSH><major>`` terms mapped to CheXpert conditions by
benchmarks/mesh_chexpert_map.py (written from the MeSH vocabulary before any F1 was computed);
"normal" is No Finding. Prediction: RuleLabeler on FINDINGS + IMPRESSION in its two readings of a
hedge (``hedges="chexpert"``, every hedged mention uncertain, and ``hedges="graded"``, probable hedges
positive and merely possible ones negative), positive or uncertain = positive (rules_f1's policy). Prints support, precision, recall and F1 per condition and
the macro-F1 over the conditions with MeSH support >= 20, for the whole split and for its two halves:
the fit half (even report numbers ``CXR<n>``), the only reports whose errors are read when rules
are written (``REXEVAL_MESH_ERRORS=<condition>`` prints that condition's errors there), and the
check half (odd numbers), only ever scored. Without the data it prints one line and exits.

HELD OUT: the reports of the ReXrank IU test studies (report ``CXR<n>`` <-> study ids
``CXR<n>_...`` in iu_xray_test.json) are removed before anything is labelled or counted; no number
here is computed on them. Reports indexed "No Indexing" or with no FINDINGS/IMPRESSION text are
skipped (no reference or nothing to label). What remains is the development split.
"""

from __future__ import annotations

import json
import os
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from benchmarks.mesh_chexpert_map import conditions_of
from benchmarks.rules_labeler_iu import DEFAULT, SHARED
from rexeval.backends.labelers import CONDITIONS, get_labeler

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


def report_number(uid: str) -> int:
    """``CXR<n>`` -> n (the halves split on its parity)."""
    return int(uid[3:]) if uid[3:].isdigit() else -1


def halves(ids: list[str]) -> dict[str, np.ndarray]:
    """Whole split, fit half (even report number: errors may be read here) and check half (odd:
    only its numbers are printed, never its reports)."""
    even = np.array([report_number(u) % 2 == 0 for u in ids])
    return {"whole": np.ones(len(ids), bool), "fit (even)": even, "check (odd)": ~even}


def print_errors(cond: str, ids, texts, pred, refs, fit: np.ndarray) -> None:
    """False positives and negatives of one condition, on the fit half only."""
    j = CONDITIONS.index(cond)
    for i in np.flatnonzero(fit):
        p, r = pred[i, j] in (1.0, -1.0), cond in refs[i]
        if p != r:
            print(f"{'FP' if p else 'FN'} {ids[i]} label={pred[i, j]} mesh={sorted(refs[i])}\n   {texts[i]}")


def main() -> None:
    archive = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    test_json = Path(sys.argv[2]) if len(sys.argv) > 2 else TEST_IDS
    for path in (archive, test_json):
        if not path.exists():
            print(f"skipped: {path} not found (set REXEVAL_SHARED to the folder holding data/)")
            return
    ids, texts, refs, n_held = development_split(archive, test_json)
    parts = halves(ids)
    if os.environ.get("REXEVAL_MESH_ERRORS"):  # e.g. "Pneumonia": the fit half's errors for it
        pred = get_labeler("rules", hedges=os.environ.get("REXEVAL_MESH_HEDGES", "chexpert")).label(texts)
        print_errors(os.environ["REXEVAL_MESH_ERRORS"], ids, texts, pred, refs, parts["fit (even)"])
        return
    print(f"development split: {len(ids)} IU reports ({n_held} reports of the ReXrank IU test studies held out "
          f"and never labelled; 'No Indexing' and empty reports skipped); fit half = even report numbers "
          f"({int(parts['fit (even)'].sum())}), check half = odd ({int(parts['check (odd)'].sum())})")
    macro = {}
    for hedges, reading in READINGS.items():
        labeler = get_labeler("rules", hedges=hedges)
        pred = labeler.label(texts)
        print(f"\n{reading}\nlabeler {labeler.signature()}; positive or uncertain = positive")
        macro[hedges] = print_table(pred, refs, parts)
        if hedges == "chexpert":
            # diagnostic only: every hedged mention counted negative
            strict = per_condition(pred, refs, positive=(1.0,))
            kept = [c for c, row in strict.items() if row["support"] >= MIN_SUPPORT]
            print(f"  uncertain=negative (whole, diagnostic) {np.mean([strict[c]['f1'] for c in kept]):.3f}")
    print("\nmacro-F1, whole split: " + "; ".join(f"hedges={h} {m['whole']:.3f} (fit {m['fit (even)']:.3f}, "
                                                 f"check {m['check (odd)']:.3f})" for h, m in macro.items()))


#: The two readings of a hedged mention (``RuleLabeler(hedges=...)``), each scored against MeSH.
READINGS = {
    "chexpert": "CheXpert reading (rules_f1's default): every hedged mention is uncertain, counted positive",
    "graded": "graded reading (rules_f1 -O hedges=graded): a probable hedge ('likely', 'suggestive of', 'A or B') "
              "is positive, a merely possible one ('may', 'versus', 'cannot be excluded') negative",
}


def print_table(pred: np.ndarray, refs: list[set[str]], parts: dict[str, np.ndarray]) -> dict[str, float]:
    """Per-condition table and the macro-F1 of each part (whole, fit, check); returns the macros."""
    tables = {name: per_condition(pred[m], [r for r, k in zip(refs, m) if k]) for name, m in parts.items()}
    table = tables["whole"]
    print(f"{'condition':28s} {'support':>7s} {'pred':>6s} {'prec':>6s} {'recall':>6s} {'F1':>6s} "
          f"{'F1 fit':>7s} {'F1 chk':>7s}")
    for cond, row in table.items():
        print(f"{cond:28s} {row['support']:7d} {row['predicted']:6d} {row['precision']:6.3f} "
              f"{row['recall']:6.3f} {row['f1']:6.3f} {tables['fit (even)'][cond]['f1']:7.3f} "
              f"{tables['check (odd)'][cond]['f1']:7.3f}")
    kept = [c for c, row in table.items() if row["support"] >= MIN_SUPPORT]
    print(f"macro-F1 over the {len(kept)} conditions with MeSH support >= {MIN_SUPPORT} in the whole split:")
    out = {}
    for name, tab in tables.items():
        out[name] = float(np.mean([tab[c]["f1"] for c in kept]))
        print(f"  {name:12s} {out[name]:.3f}")
    return out

if __name__ == "__main__":
    main()
