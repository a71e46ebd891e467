"""radeval_bertscore on a random-weight RadEvalModernBERT (ModernBERT-base architecture, stand-in tokenizer),
against RadEval's vendored bert_score on the same folder (peer re-run when REXEVAL_RADEVAL_PATH is set)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers.paths import shared_path

pytest.importorskip("transformers")

from rexeval.base.exceptions import MetricUnavailable  # noqa: E402
from rexeval.metrics import resolve_metrics  # noqa: E402
from rexeval.metrics.base import Batch  # noqa: E402
from rexeval.metrics.radeval_bertscore import RadEvalBertScore  # noqa: E402
from tests.helpers.peer_models import build_radeval_modernbert  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N = 10


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    shared_path("tokenizers", "roberta-base", "vocab.json")
    root = tmp_path_factory.mktemp("hub")
    snap = build_radeval_modernbert(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_CACHE", str(root))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("REXEVAL_CACHE", str(tmp_path_factory.mktemp("rxcache")))
        mp.delenv("REXEVAL_RADEVAL_MODERNBERT_DIR", raising=False)
        yield snap


@pytest.fixture(scope="module")
def metric(hub):
    m = RadEvalBertScore(device="cpu")
    m.check_available()
    return m


@pytest.fixture(scope="module")
def pairs():
    folder = shared_path("conformance", "moerad_iu_test")
    p = pd.read_csv(folder / "preds.csv", dtype=str, keep_default_na=False).report.tolist()[:N]
    g = pd.read_csv(folder / "gts.csv", dtype=str, keep_default_na=False).report.tolist()[:N]
    return p + ["", "Heart size normal."], g + ["Lungs are clear.", ""]


@pytest.mark.slow
def test_equals_radeval_bertscore_on_the_same_weights(metric, hub, pairs, tmp_path):
    if not os.environ.get("REXEVAL_RADEVAL_PATH"):
        pytest.skip("set REXEVAL_RADEVAL_PATH to an install of the RadEval package (pip install --no-deps radeval)")
    p, g = pairs
    ours = metric.score_pairs(p, g)
    data = tmp_path / "in.json"
    data.write_text(json.dumps({"model": str(hub), "preds": p, "refs": g, "n_alone": 3}))
    res = subprocess.run([sys.executable, str(ROOT / "tests" / "helpers" / "peer_radeval.py"), "bertscore", str(data)],
                         capture_output=True, text=True, env=os.environ, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    peer = json.loads(res.stdout.strip().splitlines()[-1])
    assert [metric.encode(t) for t in p + g] == peer["ids"]
    assert np.abs(ours["radeval_bertscore"] - np.array(peer["f"])).max() <= 1e-6
    assert np.abs(ours["radeval_bertscore_p"] - np.array(peer["p"])).max() <= 1e-6
    assert ours["radeval_bertscore"][-2:].tolist() == [0.0, 0.0] == peer["f"][-2:]  # bert_score's empty rule
    # the peer's own value for a pair depends on its batch only through float rounding
    assert np.abs(np.array(peer["alone"]) - np.array(peer["f"][:3])).max() <= 1e-6


def test_differs_from_the_leaderboard_bertscore_by_key_and_signature(metric):
    sig = metric.signature()
    assert sig.startswith("radeval_bertscore|model:IAMJB/RadEvalModernBERT@") and "layers:22" in sig
    assert "rescale:none" in sig
    keys = [o.key for o in metric.outputs()]
    assert keys == ["radeval_bertscore", "radeval_bertscore_p", "radeval_bertscore_r"]
    assert [m.name for m in resolve_metrics(["radeval_bertscore"])] == ["radeval_bertscore"]


@pytest.mark.slow
def test_batch_invariance_alone_shuffled_and_repeated_reference(metric, pairs):
    p, g = pairs

    def f(pp, gg):
        return metric.compute(Batch([str(i) for i in range(len(pp))], pp, gg))["radeval_bertscore"]

    together = f(p, g)
    order = np.random.default_rng(2).permutation(len(p))
    assert np.array_equal(f([p[i] for i in order], [g[i] for i in order]), together[order])
    for i in (0, 3, len(p) - 2):
        assert f([p[i]], [g[i]])[0] == together[i]
    group = f(p[:8], [g[1]] * 8)
    assert [f([p[i]], [g[1]])[0] for i in range(8)] == group.tolist()


def test_missing_weights_skip_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "none"))
    monkeypatch.delenv("REXEVAL_RADEVAL_MODERNBERT_DIR", raising=False)
    with pytest.raises(MetricUnavailable) as err:
        RadEvalBertScore().check_available()
    assert "rexeval models download radeval-modernbert" in err.value.fix
    assert "REXEVAL_RADEVAL_MODERNBERT_DIR" in err.value.fix
