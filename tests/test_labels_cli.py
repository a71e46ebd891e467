"""``rexeval labels``: the label matrix file, and one-line errors (exit 2) on bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rexeval.backends.labelers import CONDITIONS
from rexeval.cli import app

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, ["labels", *map(str, args)])


def test_rules_labels_csv(tmp_path):
    src = tmp_path / "reports.csv"
    src.write_text(
        'study_id,report\n'
        's1,"No pleural effusion. Mild cardiomegaly."\n'
        's2,""\n'
        's3,"Possible left lower lobe pneumonia."\n'
        '007,"Normal chest."\n',
        encoding="utf-8",
    )
    out = tmp_path / "labels.csv"
    r = _run(src, "-o", out)
    assert r.exit_code == 0, r.output
    lines = out.read_text().splitlines()
    assert lines[0].split(",") == ["study_id", *CONDITIONS]
    cells = {line.split(",")[0]: line.split(",")[1:] for line in lines[1:]}
    col = {c: i for i, c in enumerate(CONDITIONS)}
    assert cells["s1"][col["Cardiomegaly"]] == "1" and cells["s1"][col["Pleural Effusion"]] == "0"
    assert cells["s1"][col["Edema"]] == ""  # not mentioned -> empty
    assert cells["s3"][col["Pneumonia"]] == "-1"
    assert cells["s2"] == [""] * 14  # empty report: no labels
    assert cells["007"][col["No Finding"]] == "1"  # ids stay strings
    assert "1 empty reports" in r.output


def test_jsonl_with_column_option(tmp_path):
    src = tmp_path / "r.jsonl"
    src.write_text(json.dumps({"id": "a", "findings": "Right pneumothorax."}) + "\n", encoding="utf-8")
    out = tmp_path / "l.jsonl"
    r = _run(src, "--column", "findings", "-o", out)
    assert r.exit_code == 0, r.output
    row = json.loads(out.read_text().splitlines()[0])
    assert row["study_id"] == "a" and row["Pneumothorax"] == 1


@pytest.mark.parametrize(
    "content,args,message",
    [
        ('study_id,words\na,"x"\n', [], "no report text column"),
        ('study_id,report\na,"x"\n', ["--column", "nope"], "no column 'nope'"),
        ('report\n"x"\n', [], "no study id column"),
        ('study_id,report\na,"x"\na,"y"\n', [], "duplicated study ids"),
        ('study_id,report\na,"x"\n', ["--labeler", "negbio"], "--labeler must be one of"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, content, args, message):
    src = tmp_path / "bad.csv"
    src.write_text(content, encoding="utf-8")
    r = _run(src, "-o", tmp_path / "o.csv", *args)
    assert r.exit_code == 2
    assert message in r.output and "Traceback" not in r.output


def test_non_text_report_names_row_and_column(tmp_path):
    src = tmp_path / "bad.jsonl"
    # (a JSON number in a report column is not rejected yet: rexeval.base.io loses its marker under pandas 3)
    src.write_text(json.dumps({"study_id": "a", "report": "ok"}) + "\n" + json.dumps({"study_id": "b", "report": ["x"]}) + "\n")
    r = _run(src, "-o", tmp_path / "o.csv")
    assert r.exit_code == 2
    assert "row 2" in r.output and "'report'" in r.output and "a list" in r.output


def test_chexbert_without_weights_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "nothing"))
    monkeypatch.delenv("REXEVAL_CHEXBERT", raising=False)
    src = tmp_path / "r.csv"
    src.write_text('study_id,report\na,"x"\n')
    r = _run(src, "--labeler", "chexbert", "-o", tmp_path / "o.csv")
    assert r.exit_code == 2
    assert "rexeval models download chexbert" in r.output and "Traceback" not in r.output


def test_help_lists_labels():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0 and "labels" in r.output


def test_graded_hedges_option(tmp_path):
    src = tmp_path / "reports.csv"
    src.write_text('study_id,report\ns1,"Possible left lower lobe pneumonia. Findings likely represent edema."\n',
                   encoding="utf-8")
    out = tmp_path / "labels.csv"
    r = _run(src, "-o", out, "--hedges", "graded")
    assert r.exit_code == 0, r.output
    assert "hedges:graded" in r.output
    row = out.read_text().splitlines()[1].split(",")[1:]
    col = {c: i for i, c in enumerate(CONDITIONS)}
    assert row[col["Pneumonia"]] == "0" and row[col["Edema"]] == "1"
    r = _run(src, "-o", out, "--hedges", "sure")
    assert r.exit_code == 2 and "hedges must be one of chexpert, graded" in r.output
