"""srrbert on a random-weight SRR-BERT in the real architecture, against RadEval's own SRRBert.evaluate.

The label set is RadEval's mapping file: the comparison needs the RadEval package (REXEVAL_RADEVAL_PATH =
a folder holding it, e.g. ``pip install --no-deps --target DIR radeval``); without it the other tests run
on a stand-in package holding a mapping of 163 placeholder labels. NLTK's punkt_tab cannot be downloaded
here, so both sides split sentences with a Punkt stand-in that has empty parameters.
"""

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
pytest.importorskip("nltk")

from rexeval.base.exceptions import MetricUnavailable  # noqa: E402
from rexeval.metrics.base import Batch  # noqa: E402
from rexeval.metrics.srrbert import SRRBert, sample_prf, split_sentences  # noqa: E402
from tests.helpers.peer_models import build_srrbert, punkt_tab_standin  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RADEVAL = os.environ.get("REXEVAL_RADEVAL_PATH")
EDGE = [("1. Heart is normal.2. Lungs clear", "Cardiomegaly. Small left effusion."),
        ("", "No acute process."), ("Stable.Right effusion 3.5 cm", "")]


def _standin_radeval(root: Path, n_labels: int = 163) -> Path:
    """A stand-in ``radeval`` package holding only a mapping file of placeholder labels (same layout)."""
    folder = root / "radeval" / "metrics" / "SRRBert"
    folder.mkdir(parents=True)
    mapping = {f"placeholder label {i} (Present)": i for i in range(n_labels)}
    (folder / "leaves_with_statuses_mapping.json").write_text(json.dumps(mapping))
    return root


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    shared_path("tokenizers", "bert-base-uncased", "vocab.txt")
    hub = tmp_path_factory.mktemp("hub")
    nltk_data = punkt_tab_standin(tmp_path_factory.mktemp("nltk"))
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(RADEVAL or str(_standin_radeval(tmp_path_factory.mktemp("standin"))))
        for k, v in {"HF_HUB_CACHE": str(hub), "HF_HUB_OFFLINE": "1", "NLTK_DATA": str(nltk_data),
                     "REXEVAL_CACHE": str(tmp_path_factory.mktemp("c"))}.items():
            mp.setenv(k, v)
        import nltk

        mp.setattr(nltk.data, "path", [str(nltk_data)] + list(nltk.data.path))
        m = SRRBert(device="cpu")
        build_srrbert(hub, len(m.labels))
        m.check_available()
        yield m


@pytest.fixture(scope="module")
def pairs():
    folder = shared_path("conformance", "moerad_iu_test")
    p = pd.read_csv(folder / "preds.csv", dtype=str, keep_default_na=False).report.tolist()[:10]
    g = pd.read_csv(folder / "gts.csv", dtype=str, keep_default_na=False).report.tolist()[:10]
    return p + [e[0] for e in EDGE], g + [e[1] for e in EDGE]


def _cols(m, p, g):
    return m.compute(Batch([f"s{i}" for i in range(len(p))], p, g))


def test_equals_radeval_on_the_same_random_weights(env, pairs, tmp_path):
    if not RADEVAL:
        pytest.skip("set REXEVAL_RADEVAL_PATH to an install of the RadEval package (pip install --no-deps radeval)")
    p, g = pairs
    cols = _cols(env, p, g)
    data = tmp_path / "in.json"
    data.write_text(json.dumps({"preds": p, "refs": g}))
    res = subprocess.run([sys.executable, str(ROOT / "tests" / "helpers" / "peer_radeval.py"), "srrbert", str(data)],
                         capture_output=True, text=True, env=os.environ, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    peer = json.loads(res.stdout.strip().splitlines()[-1])
    assert cols["srrbert_sample_f1"].tolist() == peer["sample_f1"]
    assert cols["srrbert_sample_precision"].tolist() == peer["sample_p"]
    assert cols["srrbert_sample_recall"].tolist() == peer["sample_r"]
    for avg in ("micro", "macro", "weighted"):
        out = next(o for o in env.outputs() if o.key == f"srrbert_{avg}_f1")
        assert out.aggregate.value(cols) == pytest.approx(peer["avg"][f"{avg} avg"], abs=1e-12)
    per = env.summary_extra(cols)["conditions"]["srrbert"]
    assert list(per) == list(peer["per_label"])
    for label, (f1, support) in peer["per_label"].items():
        assert per[label]["support"] == support and per[label]["f1"] == pytest.approx(f1, abs=1e-12)


@pytest.mark.slow
def test_batch_invariance_alone_shuffled_and_repeated_reference(env, pairs):
    p, g = pairs
    keys = ["srrbert_sample_f1"] + [c for c in _cols(env, p[:1], g[:1]) if c.startswith("srrbert_pred.")][:40]
    together = _cols(env, p, g)
    order = np.random.default_rng(1).permutation(len(p))
    shuffled = _cols(env, [p[i] for i in order], [g[i] for i in order])
    for k in keys:
        assert np.array_equal(shuffled[k], together[k][order])
    for i in (0, 4, len(p) - 1):
        alone = _cols(env, [p[i]], [g[i]])
        assert all(alone[k][0] == together[k][i] for k in keys)
    group = _cols(env, p[:8], [g[2]] * 8)
    for i in range(8):
        assert _cols(env, [p[i]], [g[2]])["srrbert_sample_f1"][0] == group["srrbert_sample_f1"][i]


def test_sentence_split_rules(env):
    assert split_sentences("1. Heart is normal.2. Lungs clear") == ["Heart is normal.", "Lungs clear."]
    assert split_sentences("") == ["."]


def test_sample_scores_by_hand():
    ref = np.array([[1, 1, 0, 0], [0, 0, 0, 0]])
    pred = np.array([[1, 0, 1, 0], [0, 0, 0, 0]])
    p, r, f = sample_prf(ref, pred)
    eps = 1e-8  # labels on: 0 (tp), 1 (fn), 2 (fp) -> F1 = (2/(2+eps) + 0 + 0) / 3
    assert f[0] == pytest.approx((2 / (2 + eps)) / 3, rel=1e-15) and f[1] == 1.0 and p[1] == r[1] == 1.0


def test_missing_weights_skip_with_the_fix(tmp_path, monkeypatch):
    if not RADEVAL:
        pytest.skip("set REXEVAL_RADEVAL_PATH")
    monkeypatch.syspath_prepend(RADEVAL)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "none"))
    for var in ("REXEVAL_SRRBERT_LEAVES_WITH_STATUSES_DIR", "REXEVAL_CXR_BERT_TOKENIZER_DIR"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(MetricUnavailable) as err:
        SRRBert().check_available()
    assert "rexeval models download srr-bert-leaves-with-statuses" in err.value.fix


def test_missing_label_set_names_the_package(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "radeval" else real(name, *a))
    with pytest.raises(MetricUnavailable) as err:
        SRRBert().check_available()
    assert "radeval" in err.value.fix
