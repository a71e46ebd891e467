"""Run directories: merges equal single runs, runs carry their metric options, runs scored differently are
refused, writes are atomic and locked, and every reader checks what it reads (exit 2, one line)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rexeval.base.exceptions import InputError
from rexeval.cli import app
from rexeval.run.scoring import score
from rexeval.run.subgroups import with_subgroups
from tests.helpers.cli import ROOT, run_cli

EXAMPLE = ROOT / "examples" / "example_preds.csv"
#: offline metrics with non-default options: errors_struct with its per-type means, and a condition F1
#: whose uncertain labels count as negative (other keys, other statistics than the defaults)
METRICS = ["bleu", "errors_struct", "rules_f1"]
OPTIONS = {"rules_f1": {"uncertain": "negative"}, "errors_struct": {"per_type": True}}
UNEG = "rules_f1_14_micro_uneg"
runner = CliRunner()


def _one_line_error(res, code: int = 2) -> str:
    """The CLI answered with exit ``code`` and one line on stderr, never a traceback."""
    out = res.stderr if hasattr(res, "stderr") else res.output
    assert res.exit_code == code if hasattr(res, "exit_code") else res.returncode == code, out
    assert "Traceback" not in out, out
    exc = getattr(res, "exception", None)
    assert exc is None or isinstance(exc, SystemExit), repr(exc)
    lines = [ln for ln in out.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, out
    return lines[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Predictions and references (with sex and age for --by) from the shipped example."""
    d = tmp_path_factory.mktemp("data")
    df = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    refs = df[["study_id", "reference"]].assign(
        sex=["M", "F", "female", "", "male", "F"] * 4, age=[str(a) for a in np.arange(24) * 3 + 20])
    refs.to_csv(d / "refs.csv", index=False)
    df[["study_id", "prediction"]].to_csv(d / "preds.csv", index=False)
    worse = df[["study_id"]].assign(prediction="No acute cardiopulmonary process. Mild cardiomegaly.")
    worse.to_csv(d / "worse.csv", index=False)
    return d


def _scored(data, out, *, shard=None, preds="preds.csv", by=("sex", "age_group"), **kw):
    res = score(data / preds, data / "refs.csv", metrics=METRICS, metric_options=OPTIONS, n_resamples=200,
                progress=False, shard=shard, name="sys", **kw)
    if by:
        res = with_subgroups(res, list(by), min_group_size=3)
    res.write(out)
    return out


# ----- issue 14: a merged run equals the single-process run -------------------------------------------

def test_merge_equals_single_run_with_conditions_options_and_subgroups(data, tmp_path):
    single = json.loads((_scored(data, tmp_path / "single") / "summary.json").read_text())
    for i in (1, 2, 3):
        _scored(data, tmp_path / f"s{i}", shard=f"{i}/3")
    res = run_cli("merge", tmp_path / "s2", tmp_path / "s3", tmp_path / "s1", "-o", tmp_path / "merged", "-q")
    assert res.returncode == 0, res.stderr
    merged = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert UNEG in merged["metrics"]
    for doc in (single, merged):
        doc.pop("versions"), doc.pop("merged_from", None)
    assert set(merged) == set(single)
    for section in single:  # every section, compared whole: conditions, subgroups, metric options, ...
        assert merged[section] == single[section], section
    for name in ("per_study.csv", "subgroups.csv", "groups.csv", "texts.csv"):
        a = pd.read_csv(tmp_path / "single" / name, dtype={"study_id": str})
        b = pd.read_csv(tmp_path / "merged" / name, dtype={"study_id": str})
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=name)
    assert "rules_uneg" in single["conditions"] and single["subgroups"]["by"] == ["sex", "age_group"]


def test_merge_recomputes_conditions_and_subgroups_not_shard_ones(data, tmp_path):
    """With default options too: the per-condition table and the subgroup table are of all studies."""
    def run(out, shard=None):
        res = score(data / "preds.csv", data / "refs.csv", metrics=["rules_f1"], n_resamples=100, progress=False,
                    shard=shard)
        res = with_subgroups(res, ["sex"], min_group_size=3)
        res.write(out)
        return json.loads((out / "summary.json").read_text())

    single = run(tmp_path / "single")
    for i in (1, 2):
        run(tmp_path / f"s{i}", f"{i}/2")
    res = run_cli("merge", tmp_path / "s1", tmp_path / "s2", "-o", tmp_path / "merged", "-q")
    assert res.returncode == 0, res.stderr
    merged = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert merged["conditions"] == single["conditions"]
    assert merged["subgroups"] == single["subgroups"]


def test_merge_adds_up_the_llm_judge_accounts(tmp_path, monkeypatch):
    """metric_runs of an LLM judge: the merged account is the one run's (requests, tokens, failures)."""
    pytest.importorskip("openai")
    import re

    from tests.helpers.llm_server import FakeChatServer, two_line

    n = 9
    df = pd.DataFrame({"study_id": [f"s{k}" for k in range(n)], "prediction": [f"candidate {k}" for k in range(n)],
                       "reference": [f"reference {k}" for k in range(n)]})
    df.to_csv(tmp_path / "p.csv", index=False)

    def answer(user: str) -> str:
        k = int(re.search(r"candidate (\d+)", user).group(1))
        return "garbled" if k == 4 else two_line([k % 2, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0])

    with FakeChatServer(answer) as server:
        opts = {"errors_llm": {"base_url": server.base_url, "model": "judge-1", "timeout": 2, "max_retries": 1,
                               "parse_retries": 0, "concurrency": 2}}
        for out, shard in (("single", None), ("s1", "1/3"), ("s2", "2/3"), ("s3", "3/3")):
            monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / f"cache_{out}"))  # no answers shared between runs
            score(tmp_path / "p.csv", metrics=["errors_llm"], metric_options=opts, n_resamples=50, progress=False,
                  shard=shard).write(tmp_path / out)
    res = run_cli("merge", tmp_path / "s1", tmp_path / "s2", tmp_path / "s3", "-o", tmp_path / "m", "-q")
    assert res.returncode == 0, res.stderr
    single, merged = (json.loads((tmp_path / d / "summary.json").read_text())["metric_runs"]["errors_llm"]
                      for d in ("single", "m"))
    for doc in (single, merged):
        doc.pop("seconds"), doc.pop("max_in_flight")  # timings
    assert single["http_requests"] == n and single["failed"] == 1  # the test's own premise
    assert merged == single


# ----- issue 14: a run carries the options it was scored with; readers use them -----------------------

def test_compare_and_leaderboard_use_the_recorded_options(data, tmp_path):
    from rexeval.reports.compare import compare
    from rexeval.reports.leaderboard import build_leaderboard
    from rexeval.run.runs import load_runs

    a = _scored(data, tmp_path / "a", by=())
    b = _scored(data, tmp_path / "b", preds="worse.csv", by=())
    table = compare(a, b, n_permutations=200, n_resamples=50)
    assert {UNEG, "rules_f1_5_macro_uneg", "rules_accuracy_14_uneg"} <= set(table.metric)
    assert json.loads((a / "summary.json").read_text())["metric_options"]["rules_f1"] == {"uncertain": "negative"}
    board = build_leaderboard(load_runs([a, b]), rank_by=UNEG, n_permutations=200)
    assert board.table["group"].notna().all(), board.notes  # per-study values rebuilt the _uneg F1


def test_score_option_flag_sets_and_records_metric_options(data, tmp_path):
    res = run_cli("score", data / "preds.csv", "--refs", data / "refs.csv", "-m", "rules_f1", "--bootstrap", "0",
                  "--no-progress", "-O", "rules_f1.uncertain=negative", "-o", tmp_path / "run")
    assert res.returncode == 0, res.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["metric_options"] == {"rules_f1": {"uncertain": "negative"}} and UNEG in summary["metrics"]
    assert "uncertain" in _one_line_error(run_cli("score", EXAMPLE, "-m", "rules_f1", "-O", "rules_f1.uncertain=maybe"))
    assert "METRIC.NAME=VALUE" in _one_line_error(run_cli("score", EXAMPLE, "-O", "uncertain=negative"))


# ----- issue 13: runs scored differently are refused, unless explicitly allowed -------------------------

@pytest.fixture(scope="module")
def track_runs(tmp_path_factory, data):
    """The same predictions scored on the two ReXrank tracks."""
    d = tmp_path_factory.mktemp("tracks")
    df = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    refs = df[["study_id"]].assign(section_findings=df["reference"], section_impression="No acute process.")
    refs.to_csv(d / "refs.csv", index=False)
    for track in ("findings", "findings-impression"):
        res = run_cli("score", data / "preds.csv", "--refs", d / "refs.csv", "--track", track, "-m", "bleu",
                      "--bootstrap", "50", "--no-progress", "-o", d / track, "--name", track)
        assert res.returncode == 0, res.stderr
    return d


def test_compare_refuses_runs_on_different_tracks(track_runs, tmp_path):
    line = _one_line_error(run_cli("compare", track_runs / "findings", track_runs / "findings-impression",
                                   "--permutations", "100"))
    assert "track" in line and "findings-impression" in line and "--allow-mismatch" in line
    res = run_cli("compare", track_runs / "findings", track_runs / "findings-impression", "--permutations", "100",
                  "--allow-mismatch", "-o", tmp_path / "cmp.csv")
    assert res.returncode == 0, res.stderr
    assert "track" in pd.read_csv(tmp_path / "cmp.csv")["mismatch_allowed"].iloc[0]


def test_leaderboard_refuses_runs_on_different_tracks(track_runs, tmp_path):
    line = _one_line_error(run_cli("leaderboard", track_runs / "findings", track_runs / "findings-impression"))
    assert "track" in line
    res = run_cli("leaderboard", track_runs / "findings", track_runs / "findings-impression", "--allow-mismatch",
                  "--permutations", "100", "-o", tmp_path / "lb.md")
    assert res.returncode == 0, res.stderr
    assert "--allow-mismatch" in (tmp_path / "lb.md").read_text() and "track" in (tmp_path / "lb.md").read_text()


def test_merge_refuses_a_shard_of_another_system(data, tmp_path):
    def shard(preds, i):
        res = run_cli("score", data / preds, "--refs", data / "refs.csv", "-m", "bleu", "--bootstrap", "50",
                      "--no-progress", "--shard", f"{i}/3", "-o", tmp_path / f"{preds}{i}")
        assert res.returncode == 0, res.stderr
        return tmp_path / f"{preds}{i}"

    parts = [shard("preds.csv", 1), shard("worse.csv", 2), shard("preds.csv", 3)]
    line = _one_line_error(run_cli("merge", *parts, "-o", tmp_path / "m"))
    assert "predictions (sha256" in line and not (tmp_path / "m").exists()
    res = run_cli("merge", *parts, "-o", tmp_path / "m", "--allow-mismatch", "-q")
    assert res.returncode == 0, res.stderr
    assert any("predictions" in d for d in json.loads((tmp_path / "m" / "summary.json").read_text())["mismatch_allowed"])


def test_merge_refuses_shards_with_other_metric_options(data, tmp_path):
    for i, policy in ((1, "negative"), (2, "ignore")):
        res = score(data / "preds.csv", data / "refs.csv", metrics=["rules_f1"], shard=f"{i}/2", n_resamples=0,
                    metric_options={"rules_f1": {"uncertain": policy}}, progress=False)
        res.write(tmp_path / f"s{i}")
    line = _one_line_error(run_cli("merge", tmp_path / "s1", tmp_path / "s2", "-o", tmp_path / "m"))
    assert "rules_f1" in line


# ----- issue 13: atomic, locked run directories; an existing --out --------------------------------------

def test_out_that_is_a_file_fails_before_scoring(tmp_path):
    (tmp_path / "f").write_text("x")
    line = _one_line_error(run_cli("score", EXAMPLE, "-m", "bleu", "--no-progress", "-o", tmp_path / "f"))
    assert "is a file" in line


def test_non_empty_out_is_refused_and_overwrite_clears_stale_files(tmp_path):
    out = tmp_path / "run"
    assert run_cli("score", EXAMPLE, "-m", "bleu", "--no-progress", "-o", out).returncode == 0
    (out / "subgroups.csv").write_text("by,group\nsex,stale\n")  # from an earlier run with --by
    line = _one_line_error(run_cli("score", EXAMPLE, "-m", "bleu", "--no-progress", "-o", out))
    assert "--overwrite" in line and (out / "subgroups.csv").exists()
    res = run_cli("score", EXAMPLE, "-m", "bleu", "--no-progress", "-o", out, "--overwrite")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out.iterdir()) == ["per_study.csv", "summary.json", "texts.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary or lock files left beside it


def test_overwrite_never_clears_a_folder_that_holds_no_run(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    line = _one_line_error(run_cli("score", EXAMPLE, "-m", "bleu", "--no-progress", "-o", tmp_path, "--overwrite"))
    assert "holds no rexeval run" in line and (tmp_path / "notes.txt").exists()


def _files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("other_summary", ['{"my": "other tool"}', "{}", '{"metrics": {}, "n_studies": 3}', "not json"])
def test_overwrite_refuses_a_folder_whose_run_file_names_are_another_tools(tmp_path, other_summary):
    """Issue 21 item 1: a summary.json and texts.csv of another tool beside the user's own files; nothing
    of it may be removed."""
    d = tmp_path / "d"
    (d / "docs").mkdir(parents=True)
    (d / "docs" / "thesis.tex").write_text("t\n")
    (d / "summary.json").write_text(other_summary)
    (d / "texts.csv").write_text("id,text\n1,mine\n")
    before = _files(d)
    line = _one_line_error(run_cli("score", EXAMPLE, "-m", "bleu", "--no-progress", "-o", d, "--overwrite"))
    assert "holds no rexeval run" in line, line
    assert _files(d) == before


def test_overwrite_refuses_a_run_that_also_holds_the_users_files(tmp_path):
    out = tmp_path / "run"
    assert run_cli("score", EXAMPLE, "-m", "bleu", "--no-progress", "-o", out).returncode == 0
    (out / "notes").mkdir()
    (out / "notes" / "thesis.tex").write_text("t\n")
    (out / "todo.txt").write_text("mine\n")
    before = _files(out)
    line = _one_line_error(run_cli("score", EXAMPLE, "-m", "bleu", "--no-progress", "-o", out, "--overwrite"))
    assert "notes/" in line and "todo.txt" in line and "did not write" in line, line
    assert _files(out) == before


def test_runs_carry_a_schema_version_and_old_runs_can_still_be_overwritten(tmp_path):
    from rexeval.run.runs import SCHEMA_VERSION

    out = tmp_path / "run"
    assert run_cli("score", EXAMPLE, "-m", "bleu", "--no-progress", "-o", out).returncode == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["schema_version"] == SCHEMA_VERSION
    del summary["schema_version"]  # a run written before the field existed
    (out / "summary.json").write_text(json.dumps(summary))
    res = run_cli("score", EXAMPLE, "-m", "rouge_l", "--no-progress", "-o", out, "--overwrite")
    assert res.returncode == 0, res.stderr
    assert list(json.loads((out / "summary.json").read_text())["metrics"]) == ["rouge_l"]


def test_write_interrupted_midway_leaves_the_old_run_intact(tmp_path, monkeypatch):
    old = score(EXAMPLE, metrics=["bleu"], n_resamples=0, progress=False, name="old")
    old.write(tmp_path / "run")
    new = score(EXAMPLE, metrics=["bleu", "rouge_l"], n_resamples=0, progress=False, name="new")
    real = pd.DataFrame.to_csv

    def dies_halfway(self, path=None, *a, **kw):  # a kill while per_study.csv is being written
        real(self.iloc[: len(self) // 2], path, *a, **kw)
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        new.write(tmp_path / "run", overwrite=True)
    monkeypatch.undo()
    from rexeval.run.runs import load_run

    run = load_run(tmp_path / "run", need_per_study=True)
    assert run.name == "old" and len(run.per_study) == 24 and list(run.metrics) == ["bleu"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    new.write(tmp_path / "run", overwrite=True)
    assert load_run(tmp_path / "run").name == "new"


def test_a_second_writer_of_the_same_out_is_refused(tmp_path):
    from rexeval.run.runs import RunDirWriter

    with RunDirWriter(tmp_path / "run"):  # another process scoring into it
        res = run_cli("score", EXAMPLE, "-m", "bleu", "--no-progress", "-o", tmp_path / "run")
        line = _one_line_error(res)
        assert "another rexeval process is writing" in line
    res = run_cli("score", EXAMPLE, "-m", "bleu", "--no-progress", "-o", tmp_path / "run")
    assert res.returncode == 0, res.stderr


def test_two_processes_writing_the_same_out_one_wins_whole(tmp_path):
    """Two `rexeval score -o RUN` at once: exactly one writes (the other exits 2), and RUN is one whole run."""
    import os
    import subprocess
    import sys

    from rexeval.run.runs import load_run

    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [subprocess.Popen([sys.executable, "-m", "rexeval", "score", str(EXAMPLE), "-m", "bleu,rouge_l",
                               "--no-progress", "--name", name, "-o", str(tmp_path / "run")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
             for name in ("first", "second")]
    codes = [p.wait(timeout=120) for p in procs]
    errors = [p.stderr.read() for p in procs]
    assert sorted(codes) == [0, 2], errors
    loser = errors[codes.index(2)]
    assert "Traceback" not in loser and ("another rexeval process" in loser or "--overwrite" in loser), loser
    run = load_run(tmp_path / "run", need_per_study=True)
    assert run.name == ("first", "second")[codes.index(0)] and len(run.per_study) == 24


# ----- issue 13: readers check what they read and never traceback ---------------------------------------

@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("good")
    score(EXAMPLE, metrics=["bleu"], n_resamples=0, progress=False).write(d / "run")
    return d / "run"


def _broken(tmp_path, good_run, how: str):
    bad = tmp_path / "bad"
    shutil.copytree(good_run, bad)
    summary, per_study = bad / "summary.json", bad / "per_study.csv"
    if how == "truncated_rows":  # killed while writing per_study.csv beside the old summary
        lines = per_study.read_text().splitlines()
        per_study.write_text("\n".join(lines[:10]) + "\n")
    elif how == "empty_per_study":
        per_study.write_text("")
    elif how == "other_studies":
        per_study.write_text(per_study.read_text().replace("ex001", "zz999"))
    elif how == "summary_list":
        summary.write_text("[]")
    elif how == "summary_bad_value":
        doc = json.loads(summary.read_text())
        doc["metrics"]["bleu"]["value"] = "high"
        summary.write_text(json.dumps(doc))
    elif how == "summary_metrics_list":
        summary.write_text(json.dumps({"metrics": [1, 2]}))
    elif how == "summary_not_json":
        summary.write_text('{"metrics": {')
    elif how == "summary_deep":
        summary.write_text("[" * 100_000 + "]" * 100_000)
    elif how == "summary_bad_n":
        doc = json.loads(summary.read_text())
        doc["n_studies"] = "many"
        summary.write_text(json.dumps(doc))
    elif how == "stale_subgroups":
        (bad / "subgroups.csv").write_text("by,group,metric\nsex,male,bleu\n")
    return bad


BROKEN = ["truncated_rows", "empty_per_study", "other_studies", "summary_list", "summary_bad_value",
          "summary_metrics_list", "summary_not_json", "summary_deep", "summary_bad_n", "stale_subgroups"]


@pytest.mark.parametrize("how", BROKEN)
def test_readers_reject_a_broken_run_with_one_line(tmp_path, good_run, how):
    bad = _broken(tmp_path, good_run, how)
    for args in (["leaderboard", str(bad), str(good_run)], ["compare", str(bad), str(good_run)],
                 ["merge", str(bad), "-o", str(tmp_path / "m")], ["report", str(bad), "-o", str(tmp_path / "r.html")],
                 ["plot", str(bad), "--kind", "errors", "-o", str(tmp_path / "plots")]):
        _one_line_error(runner.invoke(app, args))
    with pytest.raises(InputError):
        from rexeval.run.runs import load_run

        load_run(bad)


def test_deeply_nested_json_input_is_one_line(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "deep.jsonl").write_text('{"study_id": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    for name in ("deep.json", "deep.jsonl"):
        line = _one_line_error(runner.invoke(app, ["score", str(tmp_path / name), "-m", "bleu", "--no-progress"]))
        assert "nested too deeply" in line


# ----- issue 13: CSV rows that end with a delimiter; --name; literal missing predictions --------------

def test_csv_rows_ending_with_a_comma_are_an_error_not_shifted_columns(tmp_path):
    from rexeval.base.align import load_pairs

    p = tmp_path / "preds.csv"
    p.write_text("study_id,prediction,reference\ns1,No effusion.,Small effusion.,\ns2,Clear lungs.,Clear.,\n")
    with pytest.raises(InputError, match=r"row 1: 4 fields but the header has 3"):
        load_pairs(p)
    q = tmp_path / "short.csv"
    q.write_text("study_id,prediction,reference\ns1,No effusion.\ns2,Clear lungs.,Clear.\n")
    with pytest.raises(InputError, match=r"row 1: 2 fields"):
        load_pairs(q)
    ok = tmp_path / "quoted.csv"  # a comma and a line break inside quotes are text, not fields
    ok.write_text('study_id,prediction,reference\ns1,"No effusion,\nno edema.",Clear.\n')
    assert load_pairs(ok).predictions == ["No effusion, no edema."]


def test_name_with_a_newline_is_rejected():
    line = _one_line_error(runner.invoke(app, ["score", str(EXAMPLE), "-m", "bleu", "--name", "a\nb"]))
    assert "--name" in line


def test_literal_nan_none_null_predictions_are_counted_and_warned(tmp_path):
    df = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    df.loc[[1, 4, 7], "prediction"] = ["NaN", "None", "null"]
    df.to_csv(tmp_path / "p.csv", index=False)
    res = run_cli("score", tmp_path / "p.csv", "-m", "bleu", "--no-progress", "-o", tmp_path / "run")
    assert res.returncode == 0, res.stderr
    assert "3 predictions are literally 'NaN', 'None' or 'null'" in res.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["literal_missing_predictions"] == {"count": 3, "study_ids": ["ex002", "ex005", "ex008"]}
    from rexeval.run.runs import load_run

    texts = load_run(tmp_path / "run").texts  # the texts stay text when read back
    assert texts.set_index("study_id").loc[["ex002", "ex005", "ex008"], "prediction"].tolist() == ["NaN", "None", "null"]


def _imports(module: str) -> set[str]:
    """Every rexeval module a source file imports, at the top or inside functions."""
    import ast

    base = ROOT / module.replace(".", "/")
    files = sorted(base.glob("*.py")) if base.is_dir() else [base.with_suffix(".py")]  # a package: all of it
    found = set()
    for file in files:
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("rexeval")}


def test_run_directory_has_one_home_and_no_import_loop():
    import importlib

    assert "rexeval.run.scoring" not in _imports("rexeval.run.shard")  # scoring -> shard only
    for reader in ("rexeval.run.runs", "rexeval.reports.leaderboard", "rexeval.reports.plots", "rexeval.reports.html_report"):
        assert not {"rexeval.run.scoring", "rexeval.run.shard"} & _imports(reader), reader
    import rexeval
    from rexeval.run import runs

    assert rexeval.load_run is runs.load_run  # one reader of run directories
    assert getattr(importlib.import_module("rexeval.reports.compare"), "load_run", runs.load_run) is runs.load_run


def test_a_run_written_with_the_old_error_key_names_loads_under_the_new_ones(tmp_path):
    """Runs written before the one-scheme rename (struct_err_*, llm_errors_*) still compare with new runs."""
    from rexeval.reports.compare import compare
    from rexeval.run.runs import load_run

    new = tmp_path / "new"
    score(str(EXAMPLE), metrics=["bleu", "errors_struct"], n_resamples=50, progress=False).write(new)
    old = tmp_path / "old"
    shutil.copytree(new, old)
    for name in ("summary.json", "per_study.csv"):  # write the old spelling into the copy, as 0.1 did
        text = (old / name).read_text().replace("errors_struct_", "struct_err_")
        (old / name).write_text(text)
    assert "struct_err_total_sig" in json.loads((old / "summary.json").read_text())["metrics"]
    run = load_run(old, need_per_study=True)
    assert "errors_struct_total_sig" in run.metrics and "struct_err_total_sig" not in run.metrics
    assert "errors_struct_total_sig" in run.per_study.columns
    table = compare(new, old, n_permutations=50, n_resamples=50)
    row = table[table["metric"] == "errors_struct_total_sig"]
    assert len(row) == 1 and float(row["delta"].iloc[0]) == 0.0
