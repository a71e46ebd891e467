"""The score and compare commands end to end, and the Python API that mirrors them."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import rexeval
from tests.helpers.cli import ROOT, run_cli

EXAMPLE = ROOT / "examples" / "example_preds.csv"


def test_help_does_not_import_torch_or_pandas():
    code = (
        "import sys, runpy; sys.argv=['rexeval','--help'];\n"
        "try:\n runpy.run_module('rexeval', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "print('HEAVY', sorted(m for m in ('torch','transformers','pandas','matplotlib','openai') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY []" in res.stdout, res.stdout + res.stderr


def test_shipped_example_scores_and_writes_run_dir(tmp_path):
    res = run_cli("score", EXAMPLE, "--out", tmp_path / "run", "--no-progress", "--name", "example")
    assert res.returncode == 0, res.stderr
    assert "BLEU-2" in res.stdout and "1 empty predictions" in res.stderr
    per_study = pd.read_csv(tmp_path / "run" / "per_study.csv", dtype={"study_id": str})
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert len(per_study) == 24 and per_study.study_id.iloc[0] == "ex001"
    for key in ("bleu", "bleu4", "rouge_l"):
        entry = summary["metrics"][key]
        assert entry["value"] == pytest.approx(per_study[key].mean())
        assert entry["ci95"][0] <= entry["value"] <= entry["ci95"][1]
        assert entry["higher_is_better"] is True
        assert entry["signature"].startswith(key + "|") and f"rexeval:{rexeval.__version__}" in entry["signature"]
    assert "ws:collapse" in summary["metrics"]["bleu"]["signature"]
    assert summary["run"]["name"] == "example"
    assert summary["empty_predictions"]["study_ids"] == ["ex007"]
    assert summary["bootstrap"] == {"method": "percentile", "n_resamples": 1000, "seed": 12345}
    assert summary["versions"]["rexeval"] == rexeval.__version__


def test_json_flag_prints_summary(tmp_path):
    res = run_cli("score", EXAMPLE, "--json", "--no-progress", "--metrics", "bleu")
    assert res.returncode == 0
    summary = json.loads(res.stdout)
    assert list(summary["metrics"]) == ["bleu"] and summary["n_studies"] == 24


def test_api_mirrors_cli(tmp_path):
    result = rexeval.score(EXAMPLE, metrics=["bleu", "rouge_l"], progress=False)
    cli = json.loads(run_cli("score", EXAMPLE, "--json", "--no-progress", "--metrics", "bleu,rouge_l").stdout)
    assert result.summary["metrics"]["bleu"] == cli["metrics"]["bleu"]
    assert list(result.per_study.columns) == ["study_id", "bleu", "rouge_l"]


def test_compare_cli_writes_table(tmp_path):
    df = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    worse = df.assign(prediction="No acute findings.")
    worse.to_csv(tmp_path / "worse.csv", index=False)
    lexical = ("--metrics", "bleu,bleu4,rouge_l")
    assert run_cli("score", EXAMPLE, "-o", tmp_path / "a", "--no-progress", *lexical).returncode == 0
    assert run_cli("score", tmp_path / "worse.csv", "-o", tmp_path / "b", "--no-progress", *lexical).returncode == 0
    res = run_cli("compare", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "cmp.csv", "--permutations", "2000")
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(tmp_path / "cmp.csv")
    text_metrics = {"bleu", "bleu4", "rouge_l"}  # the default set also holds errors_struct's outputs
    assert text_metrics <= set(table.metric)
    table = table[table.metric.isin(text_metrics)]
    assert (table.better == "A").all() and (table.p_holm < 0.05).all()


def test_compare_rejects_runs_on_different_studies(tmp_path):
    df = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    df.iloc[:10].to_csv(tmp_path / "part.csv", index=False)
    run_cli("score", EXAMPLE, "-o", tmp_path / "a", "--no-progress", "--bootstrap", "0")
    run_cli("score", tmp_path / "part.csv", "-o", tmp_path / "b", "--no-progress", "--bootstrap", "0")
    res = run_cli("compare", tmp_path / "a", tmp_path / "b")
    assert res.returncode == 2 and "different studies" in res.stderr and "Traceback" not in res.stderr


def test_default_table_is_grouped_under_human_names(tmp_path):
    wide = {"COLUMNS": "200"}  # no wrapping: the order of the rows is read off the text
    res = run_cli("score", EXAMPLE, "--no-progress", "-o", tmp_path / "run", env=wide)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    order = ["ReXrank", "BLEU-2", "Clinical", "significant errors per report", "all errors per report",
             "condition F1 (14, micro)", "Other", "BLEU-4", "ROUGE-L"]
    positions = [out.index(name) for name in order]
    assert positions == sorted(positions)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert "struct_err_total_sig" in summary["metrics"] and "struct_err" not in out  # keys stay in the files
    assert "share of reports" not in out and "more numbers: --columns all" in out
    full = run_cli("score", EXAMPLE, "--no-progress", "--columns", "all", env=wide).stdout
    for key in summary["metrics"]:  # every number, each beside its key
        assert key in full
    assert "share of reports with 0 significant errors" in full
    bad = run_cli("score", EXAMPLE, "--no-progress", "--columns", "bleu,nope", env=wide)
    assert bad.returncode == 2 and "nope" in bad.stderr and "Traceback" not in bad.stderr


def test_compare_at_80_columns_keeps_whole_names(tmp_path):
    df = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    df.assign(prediction="No acute findings.").to_csv(tmp_path / "worse.csv", index=False)
    assert run_cli("score", EXAMPLE, "-o", tmp_path / "a", "--no-progress", "--bootstrap", "50").returncode == 0
    assert run_cli("score", tmp_path / "worse.csv", "-o", tmp_path / "b", "--no-progress", "--bootstrap", "50").returncode == 0
    res = run_cli("compare", tmp_path / "a", tmp_path / "b", "--permutations", "200", "--bootstrap", "50",
                  env={"COLUMNS": "80"})
    assert res.returncode == 0, res.stderr
    assert max(len(line) for line in res.stdout.splitlines()) <= 80
    assert "…" not in res.stdout and "struct_" not in res.stdout  # nothing cut short, no raw keys
    assert "BLEU-2 ↑" in res.stdout and "ROUGE-L ↑" in res.stdout
    words = res.stdout.split()
    assert {"significant", "errors", "report"} <= set(words)  # "significant errors per report", wrapped
