"""Baselines on small hand-made corpora: each picks what its definition says, bad input fails clearly."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from baselines import run_baseline
from baselines.core import most_frequent, prepare_train
from baselines.data import (
    Corpus,
    exclude_studies,
    iu_report_number,
    load_table,
    track_texts,
)
from baselines.oracle import CONDITIONS, labels_to_report
from baselines.retrieval import TextIndex, tokenize
from rexeval.base.exceptions import ConfigError, InputError
from rexeval.cli import app
from tests.helpers.paths import ROOT  # noqa: E402

NORMAL_A = "The lungs are clear. No pleural effusion or pneumothorax. Heart size is normal."
NORMAL_B = "Normal chest radiograph."
ABNORMAL = "Right lower lobe consolidation consistent with pneumonia."


def train_frame() -> pd.DataFrame:
    # ABNORMAL is the most frequent report overall (4x); NORMAL_A the most frequent normal one
    # (3x, in two spellings); NORMAL_B is normal but rarer (2x).
    rows = [
        ("t1", ABNORMAL, 0, "fever and cough"),
        ("t2", NORMAL_A, 1, "routine preoperative exam"),
        ("t3", ABNORMAL, 0, "fever productive cough"),
        ("t4", NORMAL_B, 1, "chest pain"),
        ("t5", "the lungs are clear.  No pleural effusion or pneumothorax. heart size is normal.", 1, "dyspnea"),
        ("t6", ABNORMAL, 0, "cough"),
        ("t7", NORMAL_B, 1, "pain"),
        ("t8", NORMAL_A, 1, "rib fracture after a fall from a ladder"),
        ("t9", ABNORMAL, 0, "fever"),
    ]
    return pd.DataFrame(rows, columns=["study_id", "section_findings", "No Finding", "context"])


def query_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "study_id": ["q1", "q2", "q3"],
            "section_findings": ["Left rib fracture.", "Consolidation.", "Clear."],
            "context": ["fall from ladder, rib fracture?", "fever and cough", None],
        }
    )


# ---------------------------------------------------------------------------------------- template


def test_template_is_the_most_frequent_normal_report():
    run = run_baseline("template", query_frame(), train_frame())
    # NORMAL_A occurs 3 times by normalised text (t2, t5, t8); its spelling that occurs most is NORMAL_A.
    assert run.predictions["report"].tolist() == [NORMAL_A] * 3
    assert run.meta["template"]["template_count"] == 3
    assert "No Finding" in run.meta["template"]["normal_by"]


def test_template_by_frequency_ignores_normality():
    run = run_baseline("template", query_frame(), train_frame(), normal_by="frequency")
    assert run.predictions["report"].tolist() == [ABNORMAL] * 3


def test_most_frequent_groups_by_normalised_text_and_breaks_ties_by_first_seen():
    assert most_frequent(["b x", "A", "a", "B  X"]) == ("b x", 2)
    assert most_frequent(["z", "y", "Y"]) == ("y", 2)


def test_train_without_a_normal_report_is_a_clear_error():
    train = train_frame()
    train["No Finding"] = 0
    with pytest.raises(InputError, match="TRAIN has no normal report"):
        run_baseline("template", query_frame(), train)


# ------------------------------------------------------------------------------------------ random


def test_random_is_seeded_and_per_study():
    train = train_frame()
    a = run_baseline("random", query_frame(), train, seed=7)
    b = run_baseline("random", query_frame(), train, seed=7)
    assert a.predictions.equals(b.predictions)
    assert set(a.predictions["report"]) <= set(track_texts(load_table(train), "findings"))
    # A study's draw depends on the seed and its own id only, not on the other test studies.
    alone = run_baseline("random", query_frame().iloc[[2]], train, seed=7)
    assert alone.predictions["report"].iloc[0] == a.predictions["report"].iloc[2]
    draws = {tuple(run_baseline("random", query_frame(), train, seed=s).meta["source_study_ids"]) for s in range(8)}
    assert len(draws) > 1


# --------------------------------------------------------------------------------------- retrieval


@pytest.mark.parametrize("method", ["tfidf", "bm25"])
def test_retrieval_finds_the_obvious_neighbour(method):
    run = run_baseline("retrieval", query_frame(), train_frame(), method=method)
    # q1 "fall from ladder, rib fracture?" -> t8 "rib fracture after a fall from a ladder";
    # q2 "fever and cough" -> t1 (exact same context).
    assert run.meta["source_study_ids"][:2] == ["t8", "t1"]
    assert run.predictions["report"].tolist()[:2] == [NORMAL_A, ABNORMAL]


def test_retrieval_study_without_context_follows_the_policy():
    run = run_baseline("retrieval", query_frame(), train_frame())
    assert run.meta["no_context"] == {"policy": "template", "count": 1, "study_ids": ["q3"]}
    assert run.predictions["report"].iloc[2] == NORMAL_A
    with pytest.raises(InputError, match="q3.*no context"):
        run_baseline("retrieval", query_frame(), train_frame(), no_context="error")
    rnd = run_baseline("retrieval", query_frame(), train_frame(), no_context="random", seed=3)
    assert rnd.meta["no_context"]["count"] == 1


def test_retrieval_context_sharing_no_word_with_train_is_no_context():
    test = query_frame()
    test.loc[0, "context"] = "zzz qqq"
    run = run_baseline("retrieval", test, train_frame())
    assert run.meta["no_context"]["study_ids"] == ["q1", "q3"]


def test_tfidf_equals_scikit_learn():
    sk = pytest.importorskip("sklearn.feature_extraction.text")
    docs = ["fever and cough", "rib fracture after a fall", "fever fever chest pain", "cough"]
    queries = ["fever with cough", "fall rib"]
    ours = TextIndex(docs, "tfidf").scores(queries)
    vec = sk.TfidfVectorizer(tokenizer=tokenize, lowercase=False, sublinear_tf=True, token_pattern=None)
    d = vec.fit_transform(docs)
    expected = (vec.transform(queries) @ d.T).toarray()
    np.testing.assert_allclose(ours, expected, atol=1e-12)


def test_bm25_by_hand():
    docs = ["fever cough", "rib fracture fall", "fever"]
    s = TextIndex(docs, "bm25").scores(["fever"])[0]
    n, df, avg = 3, 2, 2.0
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    expected = [idf * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / avg)), 0.0, idf * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 1 / avg))]
    np.testing.assert_allclose(s, expected, rtol=1e-12)


def test_retrieval_on_user_embeddings(tmp_path):
    train = train_frame()
    emb_train = {sid: [float(i == k) for k in range(9)] for i, sid in enumerate(train["study_id"])}
    # q1 points at t4's axis, q2 at t6's; q3 has no embedding -> policy.
    emb_test = {"q1": [0, 0, 0, 0.9, 0.1, 0, 0, 0, 0], "q2": [0, 0, 0, 0, 0, 0.2, 1.0, 0, 0]}
    path = tmp_path / "test_emb.npz"
    np.savez(path, ids=np.array(list(emb_test)), embeddings=np.array(list(emb_test.values()), float))
    run = run_baseline("retrieval", query_frame(), train, train_embeddings=emb_train, test_embeddings=path)
    assert run.meta["source_study_ids"][:2] == ["t4", "t7"]
    assert run.meta["parameters"]["method"] == "embedding"
    assert run.meta["no_context"]["study_ids"] == ["q3"]


# -------------------------------------------------------------------------------------- copy-prior


def longitudinal_frame() -> pd.DataFrame:
    rows = [
        ("s1", "p1", "2020-01-01", "First study of p1."),
        ("s2", "p1", "2021-06-01", "Second study of p1."),
        ("s3", "p1", "2022-03-01", "Third study of p1."),
        ("s4", "p1", "2023-01-01", "Fourth study of p1."),
        ("s5", "p2", "2022-01-01", "Only study of p2."),
        ("s6", "p3", "2022-01-01", "p3 morning."),
        ("s7", "p3", "2022-01-01", "p3 same day."),
    ]
    return pd.DataFrame(rows, columns=["study_id", "subject_id", "study_date", "section_findings"])


def test_copy_prior_picks_the_latest_earlier_study():
    frame = longitudinal_frame()
    test = frame[frame["study_id"].isin(["s3", "s5", "s7"])]
    train = frame[~frame["study_id"].isin(["s3", "s5", "s7"])]  # s4 (later) is in TRAIN too
    run = run_baseline("copy-prior", test, train, no_prior="drop")
    # s3 -> s2 (not s1: older; not s4: later); s5 has no earlier study; s7's only other study is same-day.
    assert run.predictions.to_dict("list") == {"study_id": ["s3"], "report": ["Second study of p1."]}
    assert run.meta["prior_policy"] == "drop"
    assert run.meta["no_prior"]["study_ids"] == ["s5", "s7"]
    assert run.meta["prior_sources"] == ["subject:s2", None, None]


def test_copy_prior_uses_earlier_test_studies_and_order_column():
    frame = longitudinal_frame().drop(columns="study_date")
    frame["order"] = ["1", "2", "3", "4", "1", "1", "2"]
    run = run_baseline("copy-prior", frame, None, no_prior="drop")
    got = dict(zip(run.predictions["study_id"], run.predictions["report"], strict=True))
    assert got == {"s2": "First study of p1.", "s3": "Second study of p1.", "s4": "Third study of p1.", "s7": "p3 morning."}


def test_copy_prior_falls_back_to_the_template():
    frame = longitudinal_frame()
    run = run_baseline("copy-prior", frame[frame.study_id == "s5"], train_frame())
    assert run.predictions["report"].tolist() == [NORMAL_A]
    assert run.meta["no_prior"] == {"policy": "template", "count": 1, "study_ids": ["s5"]}
    with pytest.raises(InputError, match="no prior report"):
        run_baseline("copy-prior", frame[frame.study_id == "s5"], None, no_prior="error")


def test_copy_prior_from_a_prior_report_column():
    test = pd.DataFrame({"study_id": ["x"], "prior_report": ["Old  report.\nStable."], "section_findings": ["r"]})
    run = run_baseline("copy-prior", test, None, no_prior="error")
    assert run.predictions["report"].tolist() == ["Old report. Stable."]


def test_prior_pointing_at_itself_is_an_error():
    test = pd.DataFrame({"study_id": ["a", "b"], "prior_study_id": [None, "b"], "section_findings": ["x", "y"]})
    with pytest.raises(InputError, match=r"row 2 \(study_id 'b'\).*points at the study itself"):
        run_baseline("copy-prior", test, None, no_prior="drop")


def test_prior_pointing_at_a_later_study_is_an_error():
    test = pd.DataFrame(
        {"study_id": ["a", "b"], "prior_study_id": ["b", None], "study_date": ["2020-01-01", "2020-05-01"],
         "section_findings": ["x", "y"]}
    )
    with pytest.raises(InputError, match="prior study 'b' is not earlier"):
        run_baseline("copy-prior", test, None, no_prior="drop")
    test.loc[0, "prior_study_id"] = "nowhere"
    with pytest.raises(InputError, match="'nowhere' is in neither TEST nor TRAIN"):
        run_baseline("copy-prior", test, None, no_prior="drop")


def test_copy_prior_without_prior_information_or_with_bad_dates():
    with pytest.raises(InputError, match="copy-prior needs a prior_report column"):
        run_baseline("copy-prior", query_frame(), train_frame())
    frame = longitudinal_frame()
    frame.loc[2, "study_date"] = "not a date"
    with pytest.raises(InputError, match="row 3.*cannot read study_date"):
        run_baseline("copy-prior", frame, None, no_prior="drop")


# ------------------------------------------------------------------------------------ oracle-labels


def test_oracle_labels_from_label_columns_is_marked_as_oracle():
    test = query_frame()
    for c in CONDITIONS:
        test[c] = None
    test.loc[0, "Fracture"] = 1
    test.loc[0, "Pneumothorax"] = 0
    test.loc[1, "Consolidation"] = -1
    test.loc[2, "No Finding"] = 1
    run = run_baseline("oracle-labels", test)
    assert run.predictions["report"].tolist() == [
        "There is no pneumothorax. There is a fracture.",
        "Possible consolidation.",
        "No acute cardiopulmonary abnormality.",
    ]
    assert run.meta["oracle"] is True and "ORACLE" in run.meta["name"]


def test_labels_to_report_skips_not_mentioned():
    assert labels_to_report([math.nan] * 14) == ""
    assert labels_to_report(["", "1", "", "", "", "", "", "", "", "0.0"] + [""] * 4) == (
        "There is cardiomegaly. There is no pleural effusion."
    )


# ----------------------------------------------------------------------------------- data, tracks


def test_tracks_apply_to_train_as_to_references():
    frame = pd.DataFrame(
        {"study_id": ["a", "b", "c"], "section_findings": ["F  one.", None, "F three."],
         "section_impression": ["I one.", "I two.", None]}
    )
    c = load_table(frame)
    assert track_texts(c, "findings") == ["F one.", None, "F three."]
    assert track_texts(c, "findings-impression") == ["Findings: F one. Impression: I one.", None, None]
    tr = prepare_train(frame, load_table(pd.DataFrame({"study_id": ["z"]}), "TEST"), "findings")
    assert tr.ids == ["a", "c"] and tr.info["dropped_no_text"] == ["b"]


def test_test_studies_never_enter_train():
    train = train_frame()
    test = pd.DataFrame({"study_id": ["t2", "t5"], "context": ["x", "y"]})
    run = run_baseline("random", test, train)
    assert run.meta["train"]["n_excluded_test_studies"] == 2
    assert not set(run.meta["source_study_ids"]) & {"t2", "t5"}


def test_iu_ids_match_on_report_number():
    assert iu_report_number("CXR3030_IM-1405") == 3030
    assert iu_report_number("CXR3030") == 3030
    assert iu_report_number("CXR30300") == 30300
    assert iu_report_number("p10_s5") is None
    c = Corpus(pd.DataFrame({"study_id": ["CXR1", "CXR12", "CXR123", "other"], "_row": [1, 2, 3, 4]}), "<x>")
    kept = exclude_studies(c, ["CXR12_IM-0001", "other"]).study_ids
    assert kept == ["CXR1", "CXR123"]


def test_unknown_baseline_and_missing_train_are_config_errors():
    with pytest.raises(ConfigError, match="unknown baseline"):
        run_baseline("copy-everything", query_frame(), train_frame())
    with pytest.raises(ConfigError, match="needs TRAIN"):
        run_baseline("template", query_frame())


# ------------------------------------------------------------------------------------- CLI, metadata


def test_cli_writes_predictions_and_metadata_that_score_picks_up(tmp_path):
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    train_frame().to_csv(train, index=False)
    query_frame().to_csv(test, index=False)
    out = tmp_path / "preds.csv"
    res = CliRunner().invoke(app, ["baseline", "retrieval", "--train", str(train), "--test", str(test), "-o", str(out), "--seed", "5"])
    assert res.exit_code == 0, res.output
    meta = json.loads(Path(str(out) + ".meta.json").read_text())
    assert meta["baseline"] == "retrieval" and meta["seed"] == 5 and meta["oracle"] is False
    assert len(meta["train"]["corpus_hash"]) == 64
    from rexeval.run.scoring import score

    summary = score(out, test, track="findings", n_resamples=0, progress=False).summary
    assert summary["run"]["name"] == "retrieval"
    assert summary["run"]["train"]["corpus_hash"] == meta["train"]["corpus_hash"]


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path):
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    frame = train_frame()
    frame["No Finding"] = 0
    frame.to_csv(train, index=False)
    query_frame().to_csv(test, index=False)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "rexeval", "baseline", "template", "--train", str(train), "--test", str(test), "-o", str(tmp_path / "p.csv")],
        capture_output=True, text=True, env=env,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "TRAIN has no normal report" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


# ------------------------------------------------------------------------- with the condition labeler


def test_template_by_labeler_skips_the_frequent_abnormal_report():
    pytest.importorskip("rexeval.backends.labelers")
    train = train_frame().drop(columns="No Finding")
    run = run_baseline("template", query_frame(), train)
    assert run.meta["template"]["normal_by"].endswith("No Finding == 1")
    assert run.predictions["report"].iloc[0] == NORMAL_A  # not ABNORMAL, the most frequent overall


def test_template_by_labeler_without_any_normal_report_is_an_error():
    pytest.importorskip("rexeval.backends.labelers")
    train = pd.DataFrame({"study_id": ["a", "b"], "section_findings": [ABNORMAL, "Large left pleural effusion."]})
    with pytest.raises(InputError, match="TRAIN has no normal report.*normal-by frequency"):
        run_baseline("template", query_frame(), train)


def test_oracle_labels_from_the_labeler_read_back_the_same_labels():
    labelers = pytest.importorskip("rexeval.backends.labelers")
    refs = [
        "Heart size is normal. No pleural effusion or pneumothorax.",
        "Large right pleural effusion. Possible right lower lobe pneumonia.",
        "Endotracheal tube in place. Mild pulmonary edema.",
        "Calcified granuloma in the right upper lobe. No focal consolidation.",
        "Cardiomegaly. Left rib fracture.",
    ]
    test = pd.DataFrame({"study_id": [f"s{i}" for i in range(len(refs))], "section_findings": refs})
    run = run_baseline("oracle-labels", test)
    lab = labelers.get_labeler("rules")
    want, got = lab.label(refs), lab.label(run.predictions["report"].tolist())
    np.testing.assert_array_equal(np.nan_to_num(got, nan=9), np.nan_to_num(want, nan=9))
    assert run.meta["oracle"] is True and run.meta["name"] == "oracle-labels (ORACLE)"


# ---------------------------------------------------------------------------------- more bad input


def test_duplicate_and_non_text_rows_are_located():
    train = train_frame()
    train.loc[3, "study_id"] = "t1"
    with pytest.raises(InputError, match=r"duplicated study id 't1' on rows \[1, 4\]"):
        run_baseline("random", query_frame(), train)
    bad = [{"study_id": "a", "section_findings": ["not", "text"]}]
    with pytest.raises(InputError, match="row 1.*expected text, got a list"):
        run_baseline("random", query_frame(), pd.DataFrame(bad))


def test_embedding_tables_and_dimension_mismatch(tmp_path):
    train = train_frame()
    table = pd.DataFrame({"study_id": train["study_id"], "d0": range(9), "d1": [1.0] * 9})
    path = tmp_path / "train_emb.csv"
    table.to_csv(path, index=False)
    run = run_baseline("retrieval", query_frame(), train, train_embeddings=path,
                       test_embeddings={"q1": [8.0, 1.0], "q2": [0.0, 1.0], "q3": [3.0, 1.0]})
    # Cosine: q1 ~ t9 (8,1); q2 ~ t1 (0,1); q3 (3,1) ~ t4 (3,1).
    assert run.meta["source_study_ids"] == ["t9", "t1", "t4"]
    with pytest.raises(InputError, match="differ in dimension"):
        run_baseline("retrieval", query_frame(), train, train_embeddings=path, test_embeddings={"q1": [1.0, 2.0, 3.0]})
    with pytest.raises(ConfigError, match="needs both"):
        run_baseline("retrieval", query_frame(), train, train_embeddings=path)


def test_bad_policies_are_config_errors():
    with pytest.raises(ConfigError, match="no_prior must be one of"):
        run_baseline("copy-prior", query_frame(), train_frame(), no_prior="skip")
    with pytest.raises(ConfigError, match="no_context must be one of"):
        run_baseline("retrieval", query_frame(), train_frame(), no_context="nearest")
    with pytest.raises(ConfigError, match="normal_by must be one of"):
        run_baseline("template", query_frame(), train_frame(), normal_by="vibes")


def test_copy_prior_needs_train_only_for_the_template_fallback():
    frame = longitudinal_frame()
    with_prior = frame[frame.study_id.isin(["s1", "s2"])]
    run = run_baseline("copy-prior", with_prior[with_prior.study_id == "s2"].assign(prior_report="Earlier."), None)
    assert run.predictions["report"].tolist() == ["Earlier."]
    with pytest.raises(ConfigError, match="needs TRAIN.*template fallback"):
        run_baseline("copy-prior", frame[frame.study_id == "s5"], None)


def test_a_prepared_train_is_checked_against_test_and_track():
    test = load_table(query_frame(), "TEST")
    tr = prepare_train(train_frame(), test, "findings")
    assert run_baseline("random", test, tr).meta["train"]["corpus_hash"] == tr.info["corpus_hash"]
    with pytest.raises(ConfigError, match="prepared for track 'findings'"):
        run_baseline("random", test, tr, track="report")
    leaky = load_table(pd.DataFrame({"study_id": ["t1"], "context": ["x"]}), "TEST")
    with pytest.raises(InputError, match="prepared TRAIN contains TEST studies"):
        run_baseline("random", leaky, tr)
