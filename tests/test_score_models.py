"""`rexeval score` without model weights, --shard + `rexeval merge`, --device plumbing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rexeval.base.exceptions import MetricUnavailable
from rexeval.cli import app
from rexeval.metrics import REGISTRY
from rexeval.metrics.base import Metric, Output, mean_of
from tests.helpers.paths import shared_path


class SembScoreDouble(Metric):
    """Test double for the CheXbert SembScore metric (built on another branch): weights missing."""

    name = "semb_score"

    def outputs(self):
        return [Output("semb_score", True, (-1.0, 1.0), mean_of("semb_score"))]

    def check_available(self):
        raise MetricUnavailable("model chexbert not found locally", "run `rexeval models download chexbert`")

    def compute(self, batch):  # never reached: unavailable
        raise AssertionError


@pytest.fixture
def no_weights(monkeypatch, tmp_path):
    if "semb_score" not in REGISTRY:  # the real metric, when present, is used (and skipped the same way)
        monkeypatch.setitem(REGISTRY, "semb_score", "tests.test_score_models:SembScoreDouble")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    for var in ("REXEVAL_DISTILROBERTA_DIR", "REXEVAL_RADGRAPH_DIR", "REXEVAL_CHEXBERT_DIR", "REXEVAL_CHEXBERT_PATH"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def test_score_590_iu_pairs_without_weights(no_weights):
    folder = shared_path("conformance", "moerad_iu_test")
    out = no_weights / "run"
    r = CliRunner().invoke(app, ["score", str(folder / "preds.csv"), "-r", str(folder / "gts.csv"),
                                 "--bootstrap", "50", "--no-progress", "-o", str(out)])
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_studies"] == 590
    assert summary["metrics"]["bleu"]["value"] == pytest.approx(0.270432, abs=1e-6)  # docs/metrics.md §2
    for name in ("bertscore", "radgraph", "semb_score"):
        assert name in summary["skipped"]
        assert "Fix:" in summary["skipped"][name] and "rexeval models download" in summary["skipped"][name]
    assert "radcliq" in summary["skipped"] and "skipped" in summary["skipped"]["radcliq"]
    assert "bertscore" not in summary["metrics"] and "inv_radcliq_v1" not in summary["metrics"]


def test_strict_fails_when_weights_missing(no_weights):
    folder = shared_path("conformance", "moerad_iu_test")
    r = CliRunner().invoke(app, ["score", str(folder / "preds.csv"), "-r", str(folder / "gts.csv"),
                                 "-m", "bertscore", "--strict", "--no-progress", "--bootstrap", "0"])
    assert r.exit_code == 2
    assert "rexeval models download distilroberta-base" in r.output


def _write_pairs(tmp_path, n=23):
    folder = shared_path("conformance", "moerad_iu_test")
    p = pd.read_csv(folder / "preds.csv", dtype=str).iloc[:n]
    g = pd.read_csv(folder / "gts.csv", dtype=str).iloc[:n]
    p["study_id"] = [f"s{i:03d}" for i in range(n)]
    g["study_id"] = p["study_id"]
    p.loc[4, "report"] = ""  # an empty prediction, to follow through the shards
    p.to_csv(tmp_path / "p.csv", index=False)
    g.to_csv(tmp_path / "g.csv", index=False)
    return tmp_path / "p.csv", tmp_path / "g.csv"


def test_shards_merge_to_the_unsharded_run(tmp_path):
    p, g = _write_pairs(tmp_path)
    base = ["score", str(p), "-r", str(g), "-m", "bleu,rouge_l", "--bootstrap", "200", "--no-progress"]
    runner = CliRunner()
    assert runner.invoke(app, base + ["-o", str(tmp_path / "full")]).exit_code == 0
    for i in (3, 1, 2):
        r = runner.invoke(app, base + ["--shard", f"{i}/3", "-o", str(tmp_path / f"s{i}")])
        assert r.exit_code == 0, r.output
    s2 = json.loads((tmp_path / "s2" / "summary.json").read_text())
    assert s2["shard"] == {"index": 2, "count": 3, "n_total": 23} and s2["n_studies"] == 8  # rows 7..14
    r = runner.invoke(app, ["merge", str(tmp_path / "s3"), str(tmp_path / "s1"), str(tmp_path / "s2"),
                            "-o", str(tmp_path / "merged"), "-q"])
    assert r.exit_code == 0, r.output
    full = json.loads((tmp_path / "full" / "summary.json").read_text())
    merged = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert merged["n_studies"] == 23
    for key in ("bleu", "rouge_l"):
        assert merged["metrics"][key]["value"] == pytest.approx(full["metrics"][key]["value"], abs=1e-15)
        assert merged["metrics"][key]["ci95"] == pytest.approx(full["metrics"][key]["ci95"], abs=1e-15)
        assert merged["metrics"][key]["signature"] == full["metrics"][key]["signature"]
    assert merged["empty_predictions"] == full["empty_predictions"]
    a = pd.read_csv(tmp_path / "full" / "per_study.csv")
    b = pd.read_csv(tmp_path / "merged" / "per_study.csv")
    pd.testing.assert_frame_equal(a, b)


def test_merge_errors(tmp_path):
    p, g = _write_pairs(tmp_path, 10)
    runner = CliRunner()
    for i in (1, 2):
        runner.invoke(app, ["score", str(p), "-r", str(g), "-m", "bleu", "--bootstrap", "0", "--no-progress",
                            "--shard", f"{i}/3", "-o", str(tmp_path / f"s{i}")])
    r = runner.invoke(app, ["merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "-o", str(tmp_path / "m")])
    assert r.exit_code == 2 and "missing shard(s) [3]" in r.output
    r = runner.invoke(app, ["merge", str(tmp_path / "s1"), str(tmp_path / "s1"), "-o", str(tmp_path / "m")])
    assert r.exit_code == 2 and "more than once" in r.output
    r = runner.invoke(app, ["score", str(p), "-r", str(g), "-m", "bleu", "--shard", "0/3"])
    assert r.exit_code == 2 and "1..n" in r.output
    r = runner.invoke(app, ["score", str(p), "-r", str(g), "-m", "bleu", "--shard", "x"])
    assert r.exit_code == 2 and "i/n" in r.output


def test_device_option_reaches_model_metrics_only():
    from rexeval.run.scoring import with_model_options

    opts = with_model_options({"bleu": {}}, device="cuda:1", fp16=True)
    assert opts["bertscore"] == {"device": "cuda:1", "fp16": True}
    assert opts["radgraph"] == {"device": "cuda:1"}
    assert opts["bleu"] == {}
    assert np.all([("device" not in v) for k, v in opts.items() if k in ("bleu", "bleu4", "rouge_l")])
