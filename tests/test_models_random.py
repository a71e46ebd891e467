"""`rexeval models random`: a stand-in never takes over a real cache's refs/main, and every score computed
on a stand-in says RANDOM WEIGHTS (terminal table, summary.json, leaderboard, HTML report) naming the metric."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import ROOT, run_cli
from tests.helpers.paths import SHARED

EXAMPLE = ROOT / "examples" / "example_preds.csv"
REAL_REV = "e7e3ad4a4ab4a2fbc2bd1ee7f8a59bd4dc21d5b1"  # a commit hash: what a real download's snapshot is named
needs_tokenizers = pytest.mark.skipif(not (SHARED / "data" / "tokenizers" / "roberta-base").is_dir(),
                                      reason="stand-ins need the shared roberta-base tokenizer files")


def _real_cache(hub):
    repo = hub / "models--distilroberta-base"
    (repo / "snapshots" / REAL_REV).mkdir(parents=True)
    (repo / "snapshots" / REAL_REV / "config.json").write_text('{"model_type": "roberta"}')
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REAL_REV)
    return repo


def test_models_random_refuses_a_cache_holding_a_real_snapshot(tmp_path):
    """Issue 21 item 2: pointing refs/main at a random snapshot made later scores silently random."""
    repo = _real_cache(tmp_path / "hub")
    res = run_cli("models", "random", "distilroberta-base", "--size", "small", "-o", tmp_path / "hub")
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "real snapshot" in lines[0] and "--force" in lines[0], res.stderr
    assert "Traceback" not in res.stderr
    assert (repo / "refs" / "main").read_text() == REAL_REV
    assert sorted(p.name for p in (repo / "snapshots").iterdir()) == [REAL_REV]


@needs_tokenizers
def test_models_random_force_writes_into_a_real_cache(tmp_path):
    repo = _real_cache(tmp_path / "hub")
    res = run_cli("models", "random", "distilroberta-base", "--size", "small", "--force", "-o", tmp_path / "hub")
    assert res.returncode == 0, res.stderr
    assert (repo / "refs" / "main").read_text().startswith("random")
    assert (repo / "snapshots" / REAL_REV / "config.json").is_file()  # the real snapshot itself is kept


@pytest.mark.slow
@needs_tokenizers
def test_scores_on_a_stand_in_say_random_weights_everywhere(tmp_path):
    hub = tmp_path / "hub"
    assert run_cli("models", "random", "distilroberta-base", "--size", "small", "-o", hub).returncode == 0
    env = {"HF_HUB_CACHE": str(hub), "HF_HUB_OFFLINE": "1", "REXEVAL_CACHE": str(tmp_path / "cache"),
           "COLUMNS": "200"}
    env["REXEVAL_DISTILROBERTA_DIR"] = ""  # an exported real model must not win over the stand-in
    res = run_cli("score", EXAMPLE, "-m", "bleu,bertscore", "--bootstrap", "20", "--no-progress",
                  "-o", tmp_path / "run", env=env)
    assert res.returncode == 0, res.stderr
    assert "RANDOM WEIGHTS: bertscore" in res.stdout, res.stdout
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["random_weights"] == ["bertscore"]
    assert "bleu" in summary["metrics"]  # a real-weight metric beside it is not named
    assert run_cli("leaderboard", tmp_path / "run", "-o", tmp_path / "lb.md").returncode == 0
    assert "RANDOM WEIGHTS: bertscore" in (tmp_path / "lb.md").read_text()
    res = run_cli("report", tmp_path / "run", "-o", tmp_path / "report.html")
    assert res.returncode == 0, res.stderr
    assert '<p class="warn"><b>RANDOM WEIGHTS: bertscore' in (tmp_path / "report.html").read_text()


def test_runs_without_the_field_are_read_from_their_signatures():
    """Runs written before summary.json listed them: the signature's stand-in marks name them."""
    from rexeval.run.runs import random_weights_line

    summary = {"metrics": {
        "bleu": {"metric": "bleu", "signature": "bleu|n:2|rexeval:0.1.0"},
        "chexbert_f1_14_micro": {"metric": "chexbert_f1", "signature": "chexbert_f1|model:StanfordAIMI/RRG_scorers@random0000small"},
        "radgraph": {"metric": "radgraph", "signature": "radgraph|weights:RANDOM-STAND-IN:StanfordAIMI/RRG_scorers@x"},
    }}
    line = random_weights_line(summary)
    assert line.startswith("RANDOM WEIGHTS: chexbert_f1, radgraph ")
    assert random_weights_line({"metrics": {"bleu": summary["metrics"]["bleu"]}}) is None
