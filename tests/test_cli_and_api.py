"""The score and compare commands end to end, and the Python API that mirrors them."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import rexeval
from rexeval.base.exceptions import ConfigError, InputError, RexevalError
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


@pytest.mark.slow
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
    assert "errors_struct_total_sig" in summary["metrics"] and "errors_struct" not in out  # keys stay in the files
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


# ----- issue 22: the first hour ---------------------------------------------------------------------------

def test_version_flag_prints_the_version():
    res = run_cli("--version")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == rexeval.__version__


def _rexrank_style_refs(tmp_path):
    """A ReXrank-like file: a whole 'report' beside the two sections, as iu_xray_test.json has."""
    df = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    refs = {sid: {"report": f"Findings: {ref} Impression: No acute process.", "section_findings": ref,
                  "section_impression": "No acute process."} for sid, ref in zip(df.study_id, df.reference)}
    (tmp_path / "refs.json").write_text(json.dumps(refs))
    df[["study_id", "prediction"]].to_csv(tmp_path / "preds.csv", index=False)
    return tmp_path / "preds.csv", tmp_path / "refs.json"


def test_track_auto_stops_when_the_references_allow_several_texts(tmp_path):
    preds, refs = _rexrank_style_refs(tmp_path)
    res = run_cli("score", preds, "--refs", refs, "-m", "bleu", "--no-progress", "-o", tmp_path / "run")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    line = res.stderr.strip()
    assert len(line.splitlines()) == 1 and "refs.json" in line and "--track" in line
    for choice in ("findings = ", "findings-impression = ", "report = "):
        assert choice in line
    assert not (tmp_path / "run").exists()
    with pytest.raises(InputError, match="several reference texts"):
        rexeval.score(preds, refs, metrics="bleu", progress=False)


def test_the_track_is_shown_in_the_table_the_leaderboard_and_the_report(tmp_path):
    preds, refs = _rexrank_style_refs(tmp_path)
    res = run_cli("score", preds, "--refs", refs, "-m", "bleu", "--track", "findings", "--no-progress",
                  "--bootstrap", "0", "-o", tmp_path / "a")
    assert res.returncode == 0, res.stderr
    assert "track findings" in res.stdout.splitlines()[0]  # the table's title
    whole = run_cli("score", preds, "--refs", refs, "-m", "bleu", "--track", "report", "--no-progress",
                    "--bootstrap", "0", "--json")
    summary = json.loads(whole.stdout)
    assert summary["input"]["reference_source"] == "column 'report'"
    assert "track findings" not in run_cli("score", EXAMPLE, "-m", "bleu", "--no-progress").stdout.splitlines()[0]
    board = run_cli("leaderboard", tmp_path / "a", "-o", tmp_path / "board.md")
    assert board.returncode == 0, board.stderr
    assert "Reference text: track findings." in (tmp_path / "board.md").read_text()
    report = run_cli("report", tmp_path / "a", "-o", tmp_path / "report.html")
    assert report.returncode == 0, report.stderr
    assert "track findings" in (tmp_path / "report.html").read_text()


@pytest.mark.shared
def test_moerad_iu_bleu_needs_a_track_and_the_findings_track_gives_the_leaderboards_value():
    from tests.helpers.paths import shared_path

    preds = shared_path("conformance", "moerad_iu_test", "preds.csv")
    refs = shared_path("rexrank", "iu_xray_test.json")
    assert run_cli("score", preds, "--refs", refs, "-m", "bleu", "--no-progress").returncode == 2
    values = {}
    for track in ("findings", "report"):
        res = run_cli("score", preds, "--refs", refs, "-m", "bleu", "--track", track, "--json", "--no-progress",
                      "--bootstrap", "0")
        values[track] = json.loads(res.stdout)["metrics"]["bleu"]["value"]
    assert values["findings"] == pytest.approx(0.2704, abs=5e-5)  # docs/scoring.md, the leaderboard's track
    assert values["report"] == pytest.approx(0.2061, abs=5e-5)  # what `auto` silently gave before


def test_nothing_scored_exits_2_with_each_fix_and_writes_no_run(tmp_path):
    env = {"REXEVAL_CRIMSON_PATH": "", "HF_HUB_CACHE": str(tmp_path / "empty-hub"), "REXEVAL_CACHE": "off",
           "OPENAI_BASE_URL": "", "REXEVAL_LLM_BASE_URL": "", "REXEVAL_GREEN_BASE_URL": "", "REXEVAL_GREEN_PATH": ""}
    res = run_cli("score", EXAMPLE, "-m", "crimson,green", "--no-progress", "-o", tmp_path / "run", env=env)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr and res.stdout == ""
    line = res.stderr.strip()
    assert len(line.splitlines()) == 1 and "nothing was scored" in line
    assert "crimson:" in line and "green:" in line and line.count("Fix:") == 2
    assert not (tmp_path / "run").exists()
    partial = run_cli("score", EXAMPLE, "-m", "bleu,crimson", "--no-progress", "--bootstrap", "0", env=env)
    assert partial.returncode == 0 and "skipped" in partial.stdout  # one metric scored: the run stands


def test_metrics_accept_the_prefixes_and_patterns_the_readme_shows():
    from rexeval.metrics import metrics_for

    assert metrics_for("errors_struct_*") == ["errors_struct"]
    assert metrics_for("errors_llm_*") == ["errors_llm"]
    # the names before the one-scheme rename still select the same metrics
    assert metrics_for("struct_err_*") == ["errors_struct"]
    assert metrics_for("llm_errors_*") == ["errors_llm"]
    assert metrics_for("rules_f1_*") == ["rules_f1", "rules_f1_study"]  # both write rules_f1_* keys
    assert metrics_for("srrbert_*_f1") == ["srrbert"]
    assert metrics_for("struct_err") == ["errors_struct"]
    assert metrics_for("inv_radcliq_v1") == ["radcliq"]
    result = rexeval.score(EXAMPLE, metrics="struct_err_*", progress=False, n_resamples=0)
    assert "errors_struct_total_sig" in result.summary["metrics"]
    with pytest.raises(ConfigError, match="ambiguous"):
        metrics_for("rad")
    res = run_cli("score", EXAMPLE, "-m", "blue", "--no-progress")
    assert res.returncode == 2 and "unknown metric 'blue'; did you mean bleu, bleu4?" in res.stderr


def test_score_takes_lists_of_texts_by_keyword():
    preds = ["The heart is normal in size. The lungs are clear.", "Small left pleural effusion."]
    refs = ["Heart size is normal. Lungs are clear.", "Left pleural effusion."]
    result = rexeval.score(predictions=preds, references=refs, metrics=["bleu"], progress=False, n_resamples=0)
    assert isinstance(result, rexeval.ScoreResult)
    assert result.per_study["study_id"].tolist() == ["0", "1"]
    frame = pd.DataFrame({"study_id": ["0", "1"], "prediction": preds, "reference": refs})
    from_frame = rexeval.score(frame, metrics=["bleu"], progress=False, n_resamples=0)
    assert result.per_study["bleu"].tolist() == from_frame.per_study["bleu"].tolist()
    named = rexeval.score(predictions=preds, references=refs, study_ids=["a", "b"], metrics="bleu", progress=False)
    assert named.per_study["study_id"].tolist() == ["a", "b"]
    swapped = rexeval.score(predictions=refs, references=preds, metrics="bleu", progress=False, n_resamples=0)
    assert swapped.summary["input"]["reference_source"] == "column 'reference'"


@pytest.mark.parametrize("call,message", [
    (lambda: rexeval.score(["a"], ["b"]), "predictions=\\[...\\], references=\\[...\\]"),
    (lambda: rexeval.score(predictions=["a", "b"], references=["c"]), "differ in length"),
    (lambda: rexeval.score(predictions=["a"]), "references= is missing"),
    (lambda: rexeval.score(predictions="a", references="b"), "must be a list"),
    (lambda: rexeval.score(predictions=["a"], references=["b"], study_ids=["x", "y"]), "differ in length"),
    (lambda: rexeval.score(EXAMPLE, predictions=["a"], references=["b"]), "not both"),
])
def test_score_with_lists_fails_clearly(call, message):
    with pytest.raises(RexevalError, match=message):
        call()
