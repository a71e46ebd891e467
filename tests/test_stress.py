"""rexeval stress: each perturbation does what its category says, is reproducible from its seed, and a
perturbation that does not apply is counted, never faked."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from rexeval.labelers import CONDITIONS
from rexeval.labelers.rules import RuleLabeler
from rexeval.stress import (
    CATEGORIES,
    CLINICAL,
    FALSE_FINDINGS,
    perturb,
    perturb_all,
    perturbation_seed,
    run_stress,
    split_sentences,
    wilson,
)
from tests.helpers.cli import run_cli
from tests.helpers.paths import shared_path

RICH = ("Small left pleural effusion. Mild cardiomegaly. A right internal jugular catheter terminates in the SVC. "
        "A 5 mm nodule in the right upper lobe is unchanged. No pneumothorax. The osseous structures are unremarkable.")
NORMAL = "The lungs are clear."


def _labels(text):
    return dict(zip(CONDITIONS, RuleLabeler().label_one(text), strict=True))


def _seeded(category, text=RICH, seed=0):
    return perturb(text, category, perturbation_seed(seed, "r1", category))


def test_every_category_applies_to_a_rich_report_and_reproduces_from_its_seed():
    for cat in CATEGORIES:
        p = _seeded(cat)
        assert p.applicable, cat
        assert p.perturbed != p.original
        assert perturb(RICH, cat, p.seed) == p  # the seed alone reproduces it


def test_clinical_edits_change_what_they_claim():
    orig_sents = split_sentences(RICH)
    lat = _seeded("laterality_swap").perturbed
    assert len(re.findall(r"\b(?:left|right)\b", lat, re.I)) == 3
    assert re.findall(r"\bleft\b", lat, re.I) != re.findall(r"\bleft\b", RICH, re.I)
    assert set(lat.split()) ^ set(RICH.split()) <= {"left", "right"}

    size = _seeded("measurement_change").perturbed
    assert re.search(r"\bA (10|15|2\.5) mm nodule\b", size) and "A 5 mm" not in size

    omitted = split_sentences(_seeded("omission").perturbed)
    assert len(omitted) < len(orig_sents) and set(omitted) <= set(orig_sents)

    added = split_sentences(_seeded("false_finding").perturbed)
    extra = set(added) - set(orig_sents)
    assert len(added) == len(orig_sents) + 1 and extra <= set(FALSE_FINDINGS.values())

    device = _seeded("device_change")
    assert device.detail.startswith("removal") and "catheter" not in device.perturbed

    assert _seeded("temporal_change").perturbed.count("new") == 1

    sev = _seeded("severity_change").perturbed.split()
    assert sum(a != b for a, b in zip(sev, RICH.split(), strict=True)) == 1

    flip = _seeded("negation_flip")
    condition = flip.detail.split(":")[0]
    before, after = _labels(RICH)[condition], _labels(flip.perturbed)[condition]
    assert (before in (1.0, -1.0)) != (after in (1.0, -1.0))


def test_meaning_preserving_edits_keep_sentences_and_labels():
    reordered = _seeded("sentence_reorder").perturbed
    assert sorted(split_sentences(reordered)) == sorted(split_sentences(RICH)) and reordered != RICH
    case = _seeded("case_whitespace").perturbed
    assert " ".join(case.split()).lower() == RICH.lower()
    for cat in ("synonym_swap", "normal_phrasing"):
        got = _labels(_seeded(cat).perturbed)
        want = _labels(RICH)
        assert all((got[c] == want[c]) or (got[c] != got[c] and want[c] != want[c]) for c in CONDITIONS), cat


def test_not_applicable_is_counted_not_faked():
    table = perturb_all(["n1", "n2"], [NORMAL, ""], seed=3)
    assert len(table) == 2 * len(CATEGORIES)
    na = table[~table["applicable"]]
    assert (na["perturbed"] == "").all()
    assert {"laterality_swap", "measurement_change", "omission", "sentence_reorder", "severity_change",
            "temporal_change"} <= set(na[na["ref_id"] == "n1"]["category"])
    assert not table[table["ref_id"] == "n2"]["applicable"].any()  # an empty reference: nothing applies


def test_run_stress_table_counts_and_bleu_sees_a_changed_word():
    refs = [RICH, NORMAL, "Heart size is normal. Mild left basilar atelectasis. No effusion."]
    res = run_stress(["a", "b", "c"], refs, ["bleu"], seed=1, progress=False)
    tab = res.table.set_index("category")
    assert ((tab["n_applicable"] + tab["n_not_applicable"]) == 3).all()
    # BLEU of a report against itself is 1 and below 1 once one content word changes.
    assert tab.loc["laterality_swap", "share"] == 1.0
    assert tab.loc["laterality_swap", "n_scored"] == 2
    assert set(res.table["measure"][res.table["category"].isin(CLINICAL)]) == {"sensitivity"}
    lo, hi = wilson(2, 2)
    assert tab.loc["laterality_swap", "ci_lo"] == lo and hi == 1.0


def test_wilson_interval_known_values():
    # Wilson (1927) interval for 8/10 at z = 1.96: 0.4902 .. 0.9433 (textbook value).
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)


def test_cli_on_iu_references_is_reproducible(tmp_path):
    refs = shared_path("rexrank", "iu_xray_test.json")
    outs = []
    for name, seed in (("a", "0"), ("b", "0"), ("c", "1")):
        res = run_cli("stress", refs, "--track", "findings", "--metrics", "bleu", "--limit", "60", "--seed", seed,
                      "-o", tmp_path / name, "--no-progress", timeout=600)
        assert res.returncode == 0, res.stderr
        outs.append(pd.read_csv(tmp_path / name / "perturbations.csv", keep_default_na=False))
    pd.testing.assert_frame_equal(outs[0], outs[1])
    assert (outs[0]["perturbed"] != outs[2]["perturbed"]).any()
    table = pd.read_csv(tmp_path / "a" / "stress_table.csv")
    assert ((table["n_applicable"] + table["n_not_applicable"]) == 60).all()
    assert (tmp_path / "a" / "stress_heatmap.png").is_file()
    for _, row in outs[0][outs[0]["applicable"]].head(40).iterrows():
        assert perturb(row["original"], row["category"], int(row["seed"])).perturbed == row["perturbed"]
