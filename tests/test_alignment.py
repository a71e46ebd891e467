"""Input contract: formats, column aliases, string ids, tracks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rexeval.base.align import build_reference, load_pairs
from rexeval.base.exceptions import InputError
from rexeval.run.scoring import score
from tests.helpers.paths import shared_path


def test_all_formats_give_the_same_pairs(tmp_path):
    recs = [{"study_id": "CXR3030_IM-1405", "generated": "Lungs clear.", "gt": "Lungs are clear."},
            {"study_id": "00012345", "generated": "Small effusion.", "gt": "Small left effusion."}]
    frame = pd.DataFrame(recs)
    frame.to_csv(tmp_path / "p.csv", index=False)
    (tmp_path / "p.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
    (tmp_path / "p.json").write_text(json.dumps(recs))
    keyed = {r["study_id"]: {"generated": r["generated"], "gt": r["gt"]} for r in recs}
    (tmp_path / "k.json").write_text(json.dumps(keyed))
    frame.to_parquet(tmp_path / "p.parquet")
    results = [load_pairs(tmp_path / f) for f in ("p.csv", "p.jsonl", "p.json", "k.json", "p.parquet")]
    for pairs in results:
        assert pairs.study_ids == ["CXR3030_IM-1405", "00012345"]  # MIMIC-style id keeps its zeros
        assert pairs.predictions == ["Lungs clear.", "Small effusion."]
        assert pairs.references == ["Lungs are clear.", "Small left effusion."]


def test_rexrank_submission_json_with_model_prediction(tmp_path):
    sub = {"s1": {"model_prediction": "No effusion."}, "s2": {"model_prediction": "Cardiomegaly."}}
    refs = {"s2": {"report": "Mild cardiomegaly."}, "s1": {"report": "No pleural effusion."}}
    (tmp_path / "sub.json").write_text(json.dumps(sub))
    (tmp_path / "refs.json").write_text(json.dumps(refs))
    pairs = load_pairs(tmp_path / "sub.json", tmp_path / "refs.json")
    assert pairs.study_ids == ["s2", "s1"]  # the reference file's order
    assert pairs.predictions == ["Cardiomegaly.", "No effusion."]


def test_numeric_looking_ids_are_never_cast(tmp_path):
    (tmp_path / "p.csv").write_text("study_id,report\n007,a\n1e3,b\n")
    (tmp_path / "r.csv").write_text("study_id,report\n1e3,b\n007,a\n")
    pairs = load_pairs(tmp_path / "p.csv", tmp_path / "r.csv")
    assert pairs.study_ids == ["1e3", "007"]


def test_whitespace_is_collapsed_in_both_texts(tmp_path):
    df = pd.DataFrame({"study_id": ["a"], "prediction": ["Lungs\n clear.\t "], "reference": [" No  effusion.\n"]})
    pairs = load_pairs(df)
    assert pairs.predictions == ["Lungs clear."] and pairs.references == ["No effusion."]


def test_findings_impression_reference_uses_literal_none():
    assert build_reference("Clear.", None, "findings-impression") == "Findings: Clear. Impression: None"
    assert build_reference(None, "Normal.", "findings-impression") == "Findings: None Impression: Normal."
    assert build_reference("Clear.", "Normal.", "findings") == "Clear."


def test_none_sections_are_counted(tmp_path):
    refs = {"s1": {"section_findings": "Clear lungs.", "section_impression": None},
            "s2": {"section_findings": "Effusion.", "section_impression": "Effusion."}}
    (tmp_path / "r.json").write_text(json.dumps(refs))
    (tmp_path / "p.csv").write_text("study_id,report\ns1,Clear.\ns2,Effusion.\n")
    pairs = load_pairs(tmp_path / "p.csv", tmp_path / "r.json", track="findings-impression")
    assert pairs.references[0] == "Findings: Clear lungs. Impression: None"
    assert pairs.info["none_sections"] == {"findings": [], "impression": ["s1"]}


def test_keyed_json_with_conflicting_inner_id_is_an_error(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps({"s1": {"study_id": "s2", "report": "x"}}))
    with pytest.raises(InputError, match="different study_id"):
        load_pairs(tmp_path / "r.json", tmp_path / "r.json")


@pytest.mark.shared
def test_rexrank_findings_track_reproduces_moerad_references():
    base = shared_path("conformance", "moerad_iu_test")
    test_json = shared_path("rexrank", "iu_xray_test.json")
    gts = pd.read_csv(base / "gts.csv", dtype=str)
    pairs = load_pairs(base / "preds.csv", test_json, track="findings")
    assert pairs.study_ids == gts.study_id.tolist()
    assert pairs.references == gts.report.tolist()


@pytest.mark.shared
def test_findings_track_bleu_equals_published_per_study_values():
    base = shared_path("conformance", "moerad_iu_test")
    result = score(base / "preds.csv", shared_path("rexrank", "iu_xray_test.json"), track="findings",
                   metrics=["bleu"], n_resamples=0, progress=False)
    expected = pd.read_csv(base / "report_scores.csv")["bleu_score"].to_numpy()
    assert np.max(np.abs(result.per_study["bleu"].to_numpy() - expected)) <= 1e-9
    assert result.value("bleu") == pytest.approx(0.270432, abs=1e-6)


@pytest.mark.shared
def test_findings_impression_track_equals_rexrank_report_field():
    test_json = shared_path("rexrank", "iu_xray_test.json")
    raw = json.loads(test_json.read_text())
    preds = pd.DataFrame({"study_id": list(raw), "report": ["x"] * len(raw)})
    pairs = load_pairs(preds, test_json, track="findings-impression")
    from rexeval.base.text import collapse_whitespace
    assert pairs.references == [collapse_whitespace(raw[s]["report"]) for s in pairs.study_ids]
