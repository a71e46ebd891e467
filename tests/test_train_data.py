"""`rexeval train-data`: hand-made files in each source's documented layout (cited in
trainers/build_data.py) become the training set the data loader reads, with each study's prior."""

from __future__ import annotations

import gzip
import json

import pytest

from rexeval.base.exceptions import InputError
from tests.helpers.cli import run_cli

MIMIC_REPORT_1 = """                                 FINAL REPORT
 EXAMINATION:  CHEST (PA AND LAT)

 INDICATION:  ___F with cough  // eval for pneumonia

 TECHNIQUE:  Chest PA and lateral

 COMPARISON:  None.

 FINDINGS:

 The lungs are clear.  No pleural effusion or
 pneumothorax.  Heart size is normal.

 IMPRESSION:

 No acute cardiopulmonary process.
"""
MIMIC_REPORT_2 = """                                 FINAL REPORT
 INDICATION:  Dyspnea.

 COMPARISON:  Chest radiograph from ___.

 FINDINGS:

 New small left pleural effusion.  Heart size is normal.

 IMPRESSION:

 Small left effusion.
"""
MIMIC_REPORT_3 = """                                 FINAL REPORT
 HISTORY:  Trauma.

 IMPRESSION:

 No displaced rib fracture.
"""


def _mimic(tmp_path):
    """mimic-cxr reports (files/pXX/pSUBJECT/sSTUDY.txt) and the mimic-cxr-jpg metadata and split tables."""
    files = tmp_path / "mimic-cxr-reports" / "files"
    for subject, study, text in (("10000032", "50000001", MIMIC_REPORT_1), ("10000032", "50000002", MIMIC_REPORT_2),
                                 ("11000011", "50000003", MIMIC_REPORT_3)):
        folder = files / f"p{subject[:2]}" / f"p{subject}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"s{study}.txt").write_text(text)
    meta = tmp_path / "mimic-cxr-2.0.0-metadata.csv"
    meta.write_text(
        "dicom_id,subject_id,study_id,PerformedProcedureStepDescription,ViewPosition,Rows,Columns,StudyDate,StudyTime\n"
        "lat1,10000032,50000001,CHEST (PA AND LAT),LATERAL,3056,2544,21800506,213014.531\n"
        "pa1,10000032,50000001,CHEST (PA AND LAT),PA,3056,2544,21800506,213014.531\n"
        "ap2,10000032,50000002,CHEST (PORTABLE AP),AP,2539,3050,21800626,165500.312\n"
        "ap3,11000011,50000003,CHEST (PORTABLE AP),AP,2539,3050,21100101,010101\n"
    )
    split = tmp_path / "mimic-cxr-2.0.0-split.csv.gz"
    with gzip.open(split, "wt") as f:
        f.write("dicom_id,study_id,subject_id,split\nlat1,50000001,10000032,train\npa1,50000001,10000032,train\n"
                "ap2,50000002,10000032,train\nap3,50000003,11000011,test\n")
    return tmp_path / "mimic-cxr-reports", meta, split


def test_mimic_cxr_sections_images_and_priors(tmp_path):
    from trainers.build_data import build_training_set

    reports, meta, split = _mimic(tmp_path)
    recs = build_training_set("mimic-cxr", reports=reports, metadata=meta, splits=split, split="train")
    assert sorted(recs) == ["50000001", "50000002"]  # the test split's study is left out
    first, second = recs["50000001"], recs["50000002"]
    assert first["section_findings"] == "The lungs are clear. No pleural effusion or pneumothorax. Heart size is normal."
    assert first["section_impression"] == "No acute cardiopulmonary process."
    assert first["context"] == "Indication: ___F with cough // eval for pneumonia. Comparison: None."
    # frontal first, under mimic-cxr-jpg's files/pXX/pSUBJECT/sSTUDY/DICOM.jpg
    assert first["image_path"] == ["files/p10/p10000032/s50000001/pa1.jpg", "files/p10/p10000032/s50000001/lat1.jpg"]
    assert first["key_image_path"] == "files/p10/p10000032/s50000001/pa1.jpg"
    assert first["prior_report"] is None and first["prior_image_path"] == []
    assert second["prior_report"] == first["section_findings"]  # the patient's earlier study
    assert second["prior_image_path"] == ["files/p10/p10000032/s50000001/pa1.jpg"]  # its frontal film
    everything = build_training_set("mimic-cxr", reports=reports, metadata=meta, splits=split)
    assert everything["50000003"]["section_findings"] == ""  # impression only: kept for findings-impression
    assert everything["50000003"]["context"] == "Indication: Trauma."


def test_chexpert_plus_rows_per_image_become_studies(tmp_path):
    from trainers.build_data import build_training_set

    table = tmp_path / "df_chexpert_plus_240401.csv"
    table.write_text(
        "path_to_image,path_to_dcm,frontal_lateral,ap_pa,deid_patient_id,patient_report_date_order,report,"
        "section_clinical_history,section_comparison,section_findings,section_impression,split\n"
        "train/patient00001/study2/view1_frontal.jpg,x.dcm,Frontal,AP,p1,2,r,Fever.,Prior study.,"
        "Right lower lobe opacity.,Pneumonia.,train\n"
        "train/patient00001/study1/view2_lateral.jpg,x.dcm,Lateral,,p1,1,r,Cough.,None.,Clear lungs.,Normal.,train\n"
        "train/patient00001/study1/view1_frontal.jpg,x.dcm,Frontal,PA,p1,1,r,Cough.,None.,Clear lungs.,Normal.,train\n"
        "valid/patient00002/study1/view1_frontal.jpg,x.dcm,Frontal,AP,p2,1,r,,,,Cardiomegaly.,valid\n"
    )
    recs = build_training_set("chexpert-plus", table=table, image_suffix=".png")
    assert sorted(recs) == ["patient00001_study1", "patient00001_study2", "patient00002_study1"]
    s1, s2 = recs["patient00001_study1"], recs["patient00001_study2"]
    assert s1["image_path"] == ["train/patient00001/study1/view1_frontal.png", "train/patient00001/study1/view2_lateral.png"]
    assert s1["context"] == "Indication: Cough. Comparison: None."
    assert s2["prior_report"] == "Clear lungs." and s2["prior_image_path"] == [s1["key_image_path"]]
    assert list(build_training_set("chexpert-plus", table=table, split="valid")) == ["patient00002_study1"]


def test_rexgradient_metadata_json_to_training_set_read_by_the_loader(tmp_path):
    from trainers.build_data import build_training_set
    from trainers.config import DataConfig
    from trainers.data import load_records

    meta = tmp_path / "train_metadata.json"
    meta.write_text(json.dumps({
        "a": {"id": "GRDN1", "PatientID": "P1", "StudyDate": "20200101", "Indication": "cough",
              "Comparison": "none", "Findings": "Lungs are clear.", "Impression": "Normal.",
              "ImagePath": ["deid_png/P1/s1/lat.png", "deid_png/P1/s1/pa.png"], "ImageViewPosition": ["LL", "PA"]},
        "b": {"id": "GRDN2", "PatientID": "P1", "StudyDate": "20210101", "Indication": "dyspnea",
              "Comparison": "prior", "Findings": "Small right effusion.", "Impression": "Effusion.",
              "ImagePath": ["deid_png/P1/s2/ap.png"], "ImageViewPosition": ["AP"]},
    }))
    recs = build_training_set("rexgradient", table=meta)
    assert recs["GRDN1"]["image_path"] == ["deid_png/P1/s1/pa.png", "deid_png/P1/s1/lat.png"]
    assert recs["GRDN2"]["prior_report"] == "Lungs are clear."
    out = tmp_path / "train.json"
    res = run_cli("train-data", "rexgradient", "--table", meta, "-o", out)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1]) == {"out": str(out), "studies": 2, "with_prior": 1}
    images = tmp_path / "images"
    for rel in ("deid_png/P1/s1/pa.png", "deid_png/P1/s1/lat.png", "deid_png/P1/s2/ap.png"):
        (images / rel).parent.mkdir(parents=True, exist_ok=True)
        (images / rel).write_bytes(b"")
    loaded = {r["study_id"]: r for r in load_records(DataConfig(
        path=str(out), image_root=str(images), prior_column="prior_report", max_images=1, max_prior_images=1))}
    assert loaded["GRDN2"]["reference"] == "Small right effusion."
    assert loaded["GRDN2"]["image_paths"] == [str(images / "deid_png/P1/s2/ap.png"), str(images / "deid_png/P1/s1/pa.png")]
    assert "Prior report: Lungs are clear." in loaded["GRDN2"]["text"]


def test_a_missing_column_names_the_file_and_column(tmp_path):
    from trainers.build_data import build_training_set

    table = tmp_path / "df.csv"
    table.write_text("path_to_image,deid_patient_id\na/b/c.jpg,p1\n")
    with pytest.raises(InputError, match="patient_report_date_order") as err:
        build_training_set("chexpert-plus", table=table)
    assert err.value.path == str(table)
    res = run_cli("train-data", "chexpert-plus", "--table", table, "-o", tmp_path / "out.json")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert [ln for ln in res.stderr.splitlines() if ln.strip()][-1].count("df.csv") == 1
