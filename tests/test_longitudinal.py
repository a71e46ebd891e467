"""Longitudinal evaluation on hand-written longitudinal pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from baselines.longitudinal import CATEGORIES, classify_change, longitudinal, wide
from rexeval.cli import app

CASES = [
    ("New right lower lobe opacity.", "new"),
    ("Interval development of a left pleural effusion.", "new"),
    ("There is a newly placed right IJ catheter.", "new"),
    ("Effusion has improved. New consolidation in the left base.", "new"),
    ("No new focal consolidation.", "no change"),
    ("Left pleural effusion has increased in size.", "progression"),
    ("Worsening bilateral airspace disease.", "progression"),
    ("The opacity is more prominent than before.", "progression"),
    ("Increased interstitial markings. Otherwise stable.", "progression"),
    ("No increase in the size of the effusion.", "no change"),
    ("Right upper lobe consolidation has improved.", "regression"),
    ("Decreased right pleural effusion.", "regression"),
    ("Interval resolution of the pneumothorax.", "regression"),
    ("The nodule is no longer seen.", "regression"),
    ("The effusion is not improved.", "no change"),
    ("Stable cardiomegaly.", "no change"),
    ("Unchanged appearance of the chest.", "no change"),
    ("No significant interval change.", "no change"),
    ("Similar to the prior examination.", "no change"),
    ("Persistent left basilar atelectasis.", "no change"),
    ("Lungs are clear. Heart size is normal.", "not stated"),
    ("The heart is enlarged.", "not stated"),
    ("", "not stated"),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_classify_change(text, expected):
    assert classify_change(text) == expected


def refs_frame() -> pd.DataFrame:
    rows = [
        ("a1", "p1", "2020-01-01", "Small left pleural effusion. Heart size is normal."),
        ("a2", "p1", "2020-02-01", "Small left pleural effusion, unchanged. Heart size is normal."),
        ("a3", "p1", "2020-03-01", "Left pleural effusion has increased. Heart size is normal."),
        ("b1", "p2", "2021-01-01", "Right lower lobe consolidation."),
        ("b2", "p2", "2021-01-05", "Right lower lobe consolidation has improved."),
        ("c1", "p3", "2019-05-01", "Lungs are clear. No pleural effusion."),
        ("c2", "p3", "2019-06-01", "Lungs are clear. No pleural effusion."),
        ("c3", "p3", "2019-07-01", "New right upper lobe opacity."),
        ("d1", "p4", "2019-05-01", "Lungs are clear."),
    ]
    return pd.DataFrame(rows, columns=["study_id", "subject_id", "study_date", "section_findings"])


def model_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"study_id": ["a1", "a2", "a3", "b1", "b2", "c1", "c2", "c3", "d1"],
         "report": ["Clear.", "Left effusion.", "Left pleural effusion has increased. Heart size is normal.", "Consolidation.",
                    "Improving consolidation.", "Clear.", "Lungs are clear.", "Right upper lobe opacity.", "Clear."]}
    )


def test_longitudinal_table_per_category_with_copy_prior():
    table = longitudinal({"model": model_frame()}, refs_frame(), metrics=["bleu"], n_resamples=50)
    assert table.attrs["n_with_prior"] == 5 and table.attrs["n_without_prior"] == 4
    assert table.attrs["categories"] == {
        "a2": "no change", "a3": "progression", "b2": "regression", "c2": "not stated", "c3": "new",
    }
    assert set(table["system"]) == {"model", "copy-prior"}
    assert set(table["category"]) == {"all", "new", "progression", "regression", "no change", "not stated"}
    cp = table[(table.system == "copy-prior") & (table.metric == "bleu")].set_index("category")["value"]
    # c2's reference repeats its prior word for word: copying the prior is a perfect BLEU-2.
    assert cp["not stated"] == pytest.approx(1.0)
    # The model copied a3's reference: BLEU-2 1 on the progression study.
    md = table[(table.system == "model") & (table.metric == "bleu")].set_index("category")["value"]
    assert md["progression"] == pytest.approx(1.0)
    assert (table["n"][table.category == "all"] == 5).all()
    w = wide(table)
    assert list(w["category"].unique()) == ["all", "new", "progression", "regression", "no change", "not stated"]


def test_longitudinal_without_priors_is_an_error():
    from rexeval.base.exceptions import InputError

    refs = refs_frame()
    refs["subject_id"] = [f"u{i}" for i in range(len(refs))]
    with pytest.raises(InputError, match="no reference study has a prior"):
        longitudinal({"m": model_frame()}, refs, metrics=["bleu"], n_resamples=0)


def test_longitudinal_cli(tmp_path):
    refs, preds = tmp_path / "refs.csv", tmp_path / "model.csv"
    refs_frame().to_csv(refs, index=False)
    model_frame().to_csv(preds, index=False)
    res = CliRunner().invoke(app, ["longitudinal", str(preds), "--refs", str(refs), "-m", "bleu,rouge_l",
                                   "--bootstrap", "20", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    long = pd.read_csv(tmp_path / "out" / "longitudinal.csv")
    assert set(long["metric"]) == {"bleu", "rouge_l"}
    assert np.isfinite(long["value"]).all()
    assert "| progression | 1 | copy-prior |" in (tmp_path / "out" / "longitudinal.md").read_text()


def test_categories_are_documented_in_order():
    assert CATEGORIES == ("new", "progression", "regression", "no change", "not stated")


@pytest.mark.parametrize("column", ["reference", "ground_truth", "gt_report", "target", "report"])
def test_longitudinal_reads_the_reference_columns_score_reads(tmp_path, column):
    from rexeval.base.align import REF_ALIASES

    assert column in REF_ALIASES
    refs, preds = tmp_path / "refs.csv", tmp_path / "model.csv"
    refs_frame().rename(columns={"section_findings": column}).to_csv(refs, index=False)
    model_frame().to_csv(preds, index=False)
    res = CliRunner().invoke(app, ["longitudinal", str(preds), "--refs", str(refs), "-m", "bleu", "--bootstrap", "0"])
    assert res.exit_code == 0, res.output
    expected = longitudinal({"model": model_frame()}, refs_frame(), metrics=["bleu"], n_resamples=0)
    got = longitudinal({"model": model_frame()}, pd.read_csv(refs), metrics=["bleu"], n_resamples=0)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))


def test_longitudinal_asks_for_a_track_when_the_references_allow_several(tmp_path):
    from rexeval.base.exceptions import InputError

    refs = refs_frame().assign(report=lambda f: "Findings: " + f["section_findings"])
    with pytest.raises(InputError, match="choose one with --track"):
        longitudinal({"model": model_frame()}, refs, metrics=["bleu"], n_resamples=0)
    table = longitudinal({"model": model_frame()}, refs, track="findings", metrics=["bleu"], n_resamples=0)
    assert table.attrs["n_with_prior"] == 5
