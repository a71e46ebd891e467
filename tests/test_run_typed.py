"""The typed, versioned run (issue 24, items 1 and 5): summary.json read and written in one place, old runs
load, adding subgroups or merging never changes a run in place, and ``rexeval.score()`` writes the very
files ``rexeval score`` writes."""

from __future__ import annotations

import copy
import dataclasses
import json
import re

import numpy as np
import pandas as pd
import pytest

import rexeval
from rexeval.run.runs import SCHEMA_VERSION, MetricEntry, Summary, load_run, random_weights_line
from rexeval.run.scoring import ScoreOptions, score
from tests.helpers.cli import ROOT, run_cli

EXAMPLE = ROOT / "examples" / "example_preds.csv"
FILES = ("summary.json", "per_study.csv", "texts.csv", "subgroups.csv", "groups.csv")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The shipped example split into predictions and references that carry sex and age (for --by)."""
    d = tmp_path_factory.mktemp("data")
    df = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    df[["study_id", "reference"]].assign(
        sex=["M", "F", "female", "", "male", "F"] * 4, age=[str(a) for a in np.arange(24) * 3 + 20],
    ).to_csv(d / "refs.csv", index=False)
    df[["study_id", "prediction"]].to_csv(d / "preds.csv", index=False)
    return d


# ----- one place reads and writes summary.json -----------------------------------------------------------

def test_a_written_summary_reads_back_to_the_same_bytes(data, tmp_path):
    res = score(data / "preds.csv", data / "refs.csv", metrics=["bleu", "rules_f1"], n_resamples=20,
                progress=False, by=["sex"], min_group_size=3, out=tmp_path / "run")
    text = (tmp_path / "run" / "summary.json").read_text()
    assert Summary.from_json(json.loads(text)).dumps() == text
    loaded = load_run(tmp_path / "run")
    assert loaded.summary == res.summary
    assert loaded.summary.dumps() == text
    entry = loaded.summary.metrics["bleu"]
    assert isinstance(entry, MetricEntry) and entry.metric == "bleu" and entry.higher_is_better is True
    assert entry.n == 24 and entry.n_failed == 0 and entry.range == (0.0, 1.0)
    assert loaded.summary.subgroups.by == ("sex",) and "rules" in loaded.summary.conditions


def test_fields_of_a_later_rexeval_are_kept_when_read_and_written():
    doc = {"schema_version": 1, "n_studies": 2, "versions": {"rexeval": "9.0.0"},
           "metrics": {"bleu": {"value": 0.5, "ci95": [0.4, 0.6], "signature": "bleu|x", "metric": "bleu",
                                "calibrated": True}},
           "a_new_section": {"k": [1, 2]}}
    out = Summary.from_json(doc).to_json()
    assert out["metrics"]["bleu"]["calibrated"] is True
    assert out["a_new_section"] == {"k": [1, 2]}
    assert Summary.from_json(out).to_json() == out


def test_the_summary_is_frozen_and_its_json_view_is_a_copy(data):
    res = score(data / "preds.csv", data / "refs.csv", metrics=["bleu"], n_resamples=0, progress=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.summary.n_studies = 3  # type: ignore[misc]
    res.summary["metrics"]["bleu"]["value"] = 2.0  # the view is rebuilt on every read
    assert res.summary.metrics["bleu"].value != 2.0 and res.summary["metrics"]["bleu"]["value"] != 2.0


def test_a_run_written_before_schema_version_loads(tmp_path):
    """A 0.1-era summary: no schema_version, random_weights, metric_options, literal_missing_predictions."""
    run = tmp_path / "old"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({
        "n_studies": 2,
        "metrics": {
            "bleu": {"value": 0.25, "ci95": [0.1, 0.4], "higher_is_better": True, "range": [0, 1],
                     "aggregate": "mean", "signature": "bleu|n:2|rexeval:0.0.9", "metric": "bleu", "n": 2},
            "radgraph": {"value": 0.5, "ci95": [None, None], "higher_is_better": True, "aggregate": "mean",
                         "signature": "radgraph|weights:RANDOM-STAND-IN:x", "metric": "radgraph", "n": 2},
        },
        "skipped": {}, "dropped": {}, "n_dropped": 0,
        "empty_predictions": {"count": 0, "study_ids": []}, "empty_references": {"count": 0, "study_ids": []},
        "input": {"preds": "p.csv", "track": "findings"}, "bootstrap": {"method": "percentile", "n_resamples": 7,
                                                                         "seed": 3},
        "run": {"name": "old-system", "model": "m1"}, "versions": {"rexeval": "0.0.9"},
    }))
    pd.DataFrame({"study_id": ["a", "b"], "bleu": [0.2, 0.3], "radgraph": [0.5, 0.5]}).to_csv(
        run / "per_study.csv", index=False)
    loaded = load_run(run, need_per_study=True)
    s = loaded.summary
    assert s.schema_version == SCHEMA_VERSION and loaded.name == "old-system" and s.run.meta == {"model": "m1"}
    assert s.metric_options == {} and s.literal_missing_predictions is None
    assert s.bootstrap.n_resamples == 7 and s.bootstrap.seed == 3 and s.input.track == "findings"
    assert s.metrics["radgraph"].range is None and s.metrics["bleu"].value == 0.25
    assert s.random_weight_metrics() == ["radgraph"]  # read from the signature's stand-in mark
    assert random_weights_line(s).startswith("RANDOM WEIGHTS: radgraph ")
    written = s.to_json()
    assert "literal_missing_predictions" not in written and written["random_weights"] == ["radgraph"]
    assert loaded.aggregate("bleu") is not None  # the registered metric rebuilds its aggregate


# ----- nothing changes a run in place ---------------------------------------------------------------------

def test_subgroups_return_a_new_run_and_leave_the_scored_one_alone(data):
    from rexeval.run.subgroups import with_subgroups

    res = score(data / "preds.csv", data / "refs.csv", metrics=["bleu"], n_resamples=20, progress=False)
    before = copy.deepcopy(res.summary.to_json())
    grouped = with_subgroups(res, ["sex"], min_group_size=3)
    assert grouped is not res and grouped.summary.subgroups.by == ("sex",)
    assert res.summary.subgroups is None and res.subgroup_table is None and res.group_labels is None
    assert res.summary.to_json() == before
    assert grouped.per_study is res.per_study  # the per-study values are shared, not recomputed


def test_shard_and_merge_leave_their_inputs_alone(data, tmp_path):
    from rexeval.base.align import load_pairs
    from rexeval.run.shard import apply_shard, merge_runs

    pairs = load_pairs(data / "preds.csv", data / "refs.csv")
    info = copy.deepcopy(pairs.info)
    part = apply_shard(pairs, "1/2")
    assert len(part) == 12 and pairs.info == info and len(pairs) == 24
    for i in (1, 2):
        score(data / "preds.csv", data / "refs.csv", metrics=["bleu"], n_resamples=20, progress=False,
              shard=f"{i}/2", by=["sex"], min_group_size=3, out=tmp_path / f"s{i}")
    shards = [(tmp_path / f"s{i}" / "summary.json").read_text() for i in (1, 2)]
    merged = merge_runs([tmp_path / "s1", tmp_path / "s2"])
    assert merged.summary.shard is None and merged.summary.n_studies == 24
    assert merged.summary.subgroups is not None and merged.summary.merged_from
    assert [(tmp_path / f"s{i}" / "summary.json").read_text() for i in (1, 2)] == shards


# ----- rexeval.score() is rexeval score ---------------------------------------------------------------------

def test_the_api_writes_the_files_the_cli_writes(data, tmp_path):
    flags = ["-m", "bleu,rules_f1,errors_struct", "-O", "rules_f1.uncertain=negative", "--bootstrap", "30",
             "--seed", "5", "--by", "sex,age_group", "--min-group-size", "3", "--name", "sys"]
    res = run_cli("score", data / "preds.csv", "-r", data / "refs.csv", *flags, "-o", tmp_path / "cli",
                  "--no-progress")
    assert res.returncode == 0, res.stderr
    rexeval.score(data / "preds.csv", data / "refs.csv", metrics="bleu,rules_f1,errors_struct",
                  metric_options={"rules_f1": {"uncertain": "negative"}}, n_resamples=30, seed=5,
                  by=["sex", "age_group"], min_group_size=3, name="sys", progress=False, out=tmp_path / "api")
    for name in FILES:
        cli, api = (tmp_path / "cli" / name).read_bytes(), (tmp_path / "api" / name).read_bytes()
        if name == "summary.json":  # the versions block is the same process's; compare it all the same
            assert json.loads(cli) == json.loads(api)
        assert cli == api, name


def test_score_takes_one_options_object_or_its_fields(data):
    options = ScoreOptions(metrics=("bleu",), n_resamples=0, progress=False, name="x")
    a = score(data / "preds.csv", data / "refs.csv", options=options)
    b = score(data / "preds.csv", data / "refs.csv", options=options, name="y")  # a keyword overrides it
    assert a.summary.run.name == "x" and b.summary.run.name == "y"
    assert a.summary.metrics["bleu"] == b.summary.metrics["bleu"]
    from rexeval.base.exceptions import ConfigError

    with pytest.raises(ConfigError, match="unknown settings n_boot"):
        score(data / "preds.csv", data / "refs.csv", n_boot=3)


def test_require_a_metric_is_the_clis_policy(data, monkeypatch):
    from rexeval.base.exceptions import MetricUnavailable, RexevalError
    from rexeval.metrics import lookup

    def unavailable(self):
        raise MetricUnavailable("not here", "nothing to fix")

    monkeypatch.setattr(lookup("bleu"), "check_available", unavailable)
    kept = score(data / "preds.csv", data / "refs.csv", metrics=["bleu"], n_resamples=0, progress=False)
    assert list(kept.summary.skipped) == ["bleu"] and not kept.summary.metrics
    with pytest.raises(RexevalError, match="no metric could run"):
        score(data / "preds.csv", data / "refs.csv", metrics=["bleu"], n_resamples=0, progress=False,
              require_a_metric=True)


def test_cli_flags_fill_the_one_metric_options_mapping():
    from rexeval.cli.score import cli_metric_options
    from rexeval.run.scoring import with_model_options

    opts = cli_metric_options(["bertscore.device=cuda:1", "rules_f1.uncertain=negative"], device="cpu", fp16=True,
                              prompt="chexprompt", judge_strict=True)
    assert opts["bertscore"] == {"device": "cuda:1", "fp16": True}  # -O wins over --device
    assert opts["radgraph"] == {"device": "cpu"}
    assert opts["rules_f1"] == {"uncertain": "negative"}
    assert opts["errors_llm"]["prompt"] == "chexprompt" and opts["errors_llm"]["strict"] is True
    assert "bleu" not in opts  # no device option for a metric without a model
    assert cli_metric_options([], device="cpu") == with_model_options({}, device="cpu")


# ----- no module outside rexeval.run.runs reads summary keys -------------------------------------------------------

SUMMARY_KEYS = ("metrics", "n_studies", "skipped", "dropped", "n_dropped", "input", "run", "bootstrap",
                "metric_options", "versions", "random_weights", "subgroups", "shard", "conditions",
                "metric_runs", "empty_predictions", "empty_references", "literal_missing_predictions",
                "study_ids_sha256", "schema_version", "merged_from")
KEY_READ = re.compile(r"""(?<!`)summary(?:\[|\.get\(|\.setdefault\(|\.pop\()\s*["'](""" + "|".join(SUMMARY_KEYS) + ")[\"']")


RUN_PACKAGE = ROOT / "rexeval" / "run" / "runs"  # the one place that reads and writes summary.json


def test_no_module_outside_the_run_package_reads_summary_keys():
    assert (RUN_PACKAGE / "summary.py").is_file(), "the run package moved: update RUN_PACKAGE"
    offenders = []
    for folder in ("rexeval", "baselines", "trainers", "leaderboards"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if RUN_PACKAGE in path.parents:
                continue
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#")[0]
                if KEY_READ.search(code):
                    offenders.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
