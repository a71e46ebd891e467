"""Bad input: exit code 2, one clear line naming the problem, never a traceback."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import run_cli


def _write(path, text, mode="w"):
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


GOOD_REFS = "study_id,report\ns1,No effusion.\ns2,Mild cardiomegaly.\n"


def _case_files(tmp_path, name):
    refs = _write(tmp_path / "refs.csv", GOOD_REFS)
    cases = {
        "missing_file": ([str(tmp_path / "nope.csv"), "--refs", refs], ["nope.csv", "file not found"]),
        "empty_file": ([_write(tmp_path / "e.csv", ""), "--refs", refs], ["e.csv", "empty"]),
        "header_only": ([_write(tmp_path / "h.csv", "study_id,report\n"), "--refs", refs], ["h.csv", "no rows"]),
        "bad_encoding": (
            [_write(tmp_path / "latin.csv", "study_id,report\ns1,caf\xe9 effusion\n".encode("latin-1"), "wb"), "--refs", refs],
            ["latin.csv", "UTF-8", "line 2"],
        ),
        "missing_report_column": (
            [_write(tmp_path / "nocol.csv", "study_id,text\ns1,a\ns2,b\n"), "--refs", refs],
            ["nocol.csv", "no prediction column", "'text'"],
        ),
        "missing_id_column": (
            [_write(tmp_path / "noid.csv", "sid,report\ns1,a\n"), "--refs", refs],
            ["noid.csv", "no study id column"],
        ),
        "duplicated_ids": (
            [_write(tmp_path / "dup.csv", "study_id,report\ns1,a\ns2,b\ns1,c\n"), "--refs", refs],
            ["dup.csv", "duplicated study ids", "'s1'", "rows [1, 3]"],
        ),
        "ids_do_not_match": (
            [_write(tmp_path / "mis.csv", "study_id,report\ns1,a\ns3,b\n"), "--refs", refs],
            ["do not match", "'s2'", "'s3'", "--allow-missing"],
        ),
        "non_text_report_json": (
            [_write(tmp_path / "num.json", json.dumps([{"study_id": "s1", "report": "a"}, {"study_id": "s2", "report": 42}])), "--refs", refs],
            ["num.json", "row 2", "'report'", "number 42"],
        ),
        "list_report_jsonl": (
            [_write(tmp_path / "lst.jsonl", '{"study_id": "s1", "report": "a"}\n{"study_id": "s2", "report": ["x"]}\n'), "--refs", refs],
            ["lst.jsonl", "row 2", "list"],
        ),
        "json_neither_records_nor_keyed": (
            [_write(tmp_path / "odd.json", json.dumps({"a": 1, "b": [1, 2]})), "--refs", refs],
            ["odd.json", "neither a list of records nor an object keyed by study id"],
        ),
        "invalid_json": (
            [_write(tmp_path / "broken.json", '[{"study_id": "s1", "report": "a"'), "--refs", refs],
            ["broken.json", "invalid JSON", "line 1"],
        ),
        "invalid_jsonl_line": (
            [_write(tmp_path / "broken.jsonl", '{"study_id": "s1", "report": "a"}\n{oops}\n'), "--refs", refs],
            ["broken.jsonl", "row 2", "invalid JSON"],
        ),
        "unsupported_extension": ([_write(tmp_path / "p.xlsx", "x"), "--refs", refs], ["p.xlsx", "unsupported file type"]),
        "unknown_metric": ([refs, "--refs", refs, "--metrics", "bleu,nosuchmetric"], ["unknown metric", "nosuchmetric"]),
        "bad_track": ([refs, "--refs", refs, "--track", "impression"], ["--track must be one of"]),
        "track_needs_sections": ([refs, "--refs", refs, "--track", "findings"], ["refs.csv", "section_findings"]),
        "preds_only_without_reference": ([refs], ["refs.csv", "pass the references with --refs"]),
        "missing_study_id_value": (
            [_write(tmp_path / "blankid.csv", "study_id,report\ns1,a\n,b\n"), "--refs", refs],
            ["blankid.csv", "row 2", "missing study id"],
        ),
        "corrupt_parquet": ([_write(tmp_path / "bad.parquet", "not parquet"), "--refs", refs], ["bad.parquet", "Parquet"]),
        "directory_instead_of_file": ([tmp_path, "--refs", refs], ["unsupported file type"]),
    }
    return cases[name]


CASES = [
    "missing_file", "empty_file", "header_only", "bad_encoding", "missing_report_column", "missing_id_column",
    "duplicated_ids", "ids_do_not_match", "non_text_report_json", "list_report_jsonl",
    "json_neither_records_nor_keyed", "invalid_json", "invalid_jsonl_line", "unsupported_extension",
    "unknown_metric", "bad_track", "track_needs_sections", "preds_only_without_reference",
    "missing_study_id_value", "corrupt_parquet", "directory_instead_of_file",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_clear_line(tmp_path, case):
    args, needles = _case_files(tmp_path, case)
    res = run_cli("score", *map(str, args), "--no-progress")
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    for needle in needles:
        assert needle in res.stderr, f"{needle!r} not in: {res.stderr!r}"


def test_unknown_flag_exits_2_without_traceback(tmp_path):
    res = run_cli("score", "x.csv", "--no-such-flag")
    assert res.returncode == 2
    assert "No such option" in res.stderr and "Traceback" not in res.stderr


def test_allow_missing_scores_intersection_and_records_dropped(tmp_path):
    refs = _write(tmp_path / "refs.csv", GOOD_REFS + "s4,Clear lungs.\n")
    preds = _write(tmp_path / "p.csv", "study_id,report\ns1,No effusion.\ns2,Cardiomegaly.\ns9,extra\n")
    res = run_cli("score", preds, "--refs", refs, "--allow-missing", "--json", "--no-progress", "--bootstrap", "0")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["n_studies"] == 2
    assert summary["dropped"] == {"no_prediction": ["s4"], "no_reference": ["s9"]}
    assert "dropped 2 studies" in res.stderr


def test_empty_predictions_are_scored_and_counted(tmp_path):
    refs = _write(tmp_path / "refs.csv", GOOD_REFS)
    preds = _write(tmp_path / "p.jsonl", '{"study_id": "s1", "report": null}\n{"study_id": "s2", "report": "  "}\n')
    res = run_cli("score", preds, "--refs", refs, "--json", "--no-progress", "--bootstrap", "0", "--metrics", "bleu")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["empty_predictions"] == {"count": 2, "study_ids": ["s1", "s2"]}
    assert summary["metrics"]["bleu"]["value"] == 0.0
    assert summary["metrics"]["bleu"]["n"] == 2
