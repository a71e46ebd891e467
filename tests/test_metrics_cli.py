"""``rexeval metrics``: the listing of every registered metric and whether it can run here now."""

from __future__ import annotations

import json

import pytest

from rexeval.metrics import REGISTRY
from tests.helpers.cli import run_cli
from tests.helpers.paths import shared_path


def _listing(tmp_path, hub=None):
    env = {"HF_HUB_CACHE": str(hub or tmp_path / "empty-hub"), "REXEVAL_CACHE": str(tmp_path / "c")}
    for var in ("REXEVAL_DISTILROBERTA_DIR", "REXEVAL_LLM_BASE_URL", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT"):
        env[var] = ""
    res = run_cli("metrics", "--json", env=env)
    assert res.returncode == 0, res.stderr
    return {row["key"]: row for row in json.loads(res.stdout)}


def test_lists_every_registered_metric_with_outputs_and_needs(tmp_path):
    rows = _listing(tmp_path)
    assert list(rows) == list(REGISTRY)
    assert rows["bleu"]["available"] is True
    assert rows["bleu"]["outputs"][0] == {"key": "bleu", "direction": "higher", "range": ["0", "1"],
                                         "aggregate": "mean", "per_study": True}
    # no weights in an empty HF cache: skipped, with the exact download command as the fix
    bs = rows["bertscore"]
    assert bs["available"] is False and bs["models"] == ["distilroberta-base"]
    assert "rexeval models download distilroberta-base" in bs["fix"]
    assert rows["errors_llm"]["endpoint"] == "required" and rows["errors_llm"]["available"] is False
    crimson = rows["crimson"]
    assert crimson["endpoint"] == "optional (or the local model)" and crimson["extras"] == ["llm"] and crimson["available"] is False
    assert "--llm-base-url" in crimson["reason"]
    assert crimson["outputs"][0] == {"key": "crimson", "direction": "higher", "range": ["-1", "1"],
                                     "aggregate": "mean", "per_study": True}
    assert "radgraph" in rows["temporal_f1"]["models"] and "REXEVAL_TEMPORAL_F1_NER=none" in rows["temporal_f1"]["fix"]
    assert rows["radeval_bertscore"]["models"] == ["radeval-modernbert"]
    radcliq = rows["radcliq"]
    assert set(radcliq["requires"]) >= {"bleu", "bertscore"}
    assert any(o["key"] == "radcliq_v1" and o["direction"] == "lower" for o in radcliq["outputs"])


def test_a_model_placed_in_the_cache_makes_its_metric_ready(tmp_path):
    pytest.importorskip("transformers")
    shared_path("tokenizers", "roberta-base", "vocab.json")
    from tests.helpers.model_fixtures import build_distilroberta

    hub = tmp_path / "hub"
    build_distilroberta(hub)
    rows = _listing(tmp_path, hub)
    assert rows["bertscore"]["available"] is True, rows["bertscore"]["reason"]


def test_text_listing_and_unknown_name(tmp_path):
    res = run_cli("metrics", "--metrics", "bleu,rouge_l")
    assert res.returncode == 0
    assert "bleu: ↑ higher is better, range [0, 1]" in res.stdout and "rouge_l" in res.stdout
    bad = run_cli("metrics", "--metrics", "nope")
    assert bad.returncode == 2 and "unknown metric 'nope'" in bad.stderr and "Traceback" not in bad.stderr
