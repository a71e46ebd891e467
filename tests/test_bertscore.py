"""BERTScore against bert_score on the same random-weight distilroberta-base, plus the no-weights path.

The checkpoint is built here with random weights in distilroberta-base's exact architecture and the
real RoBERTa BPE files, and placed in a temporary HF cache under the hub id ``distilroberta-base``,
where rexeval resolves it. bert_score is pointed at the same snapshot folder
(``model_type=<folder>`` + ``baseline_path=<its own distilroberta-base.tsv>``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers.paths import shared_path

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from rexeval.base.exceptions import MetricUnavailable  # noqa: E402
from rexeval.metrics.base import Batch  # noqa: E402
from rexeval.metrics.bertscore import BASELINE, EMPTY_F, BertScore  # noqa: E402
from tests.helpers.model_fixtures import build_distilroberta  # noqa: E402
from tests.helpers.paths import ROOT  # noqa: E402

N_PAIRS = 24


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    shared_path("tokenizers", "roberta-base", "vocab.json")
    root = tmp_path_factory.mktemp("hub")
    snap = build_distilroberta(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_CACHE", str(root))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("REXEVAL_CACHE", str(tmp_path_factory.mktemp("rxcache")))
        mp.delenv("REXEVAL_DISTILROBERTA_DIR", raising=False)
        yield {"root": root, "snapshot": snap}


@pytest.fixture(scope="module")
def iu_pairs():
    folder = shared_path("conformance", "moerad_iu_test")
    p = pd.read_csv(folder / "preds.csv", dtype=str).report.tolist()
    g = pd.read_csv(folder / "gts.csv", dtype=str).report.tolist()
    return p, g


@pytest.fixture(scope="module")
def scorer(hub):
    m = BertScore(device="cpu")
    m.check_available()
    return m


@pytest.fixture(scope="module")
def peer(hub):
    bert_score = pytest.importorskip("bert_score")
    baseline = Path(bert_score.__file__).parent / "rescale_baseline" / "en" / "distilroberta-base.tsv"
    return bert_score.BERTScorer(
        model_type=str(hub["snapshot"]), num_layers=5, rescale_with_baseline=True, idf=False,
        lang="en", baseline_path=str(baseline), device="cpu",
    )


def test_baseline_constants_are_bert_scores_layer5_row():
    bert_score = pytest.importorskip("bert_score")
    tsv = Path(bert_score.__file__).parent / "rescale_baseline" / "en" / "distilroberta-base.tsv"
    row = pd.read_csv(tsv).iloc[5]
    assert int(row["LAYER"]) == 5
    assert BASELINE == (row["P"], row["R"], row["F"])
    assert round(EMPTY_F, 6) == -5.550157


def test_resolved_from_hf_cache_under_hub_id(scorer, hub):
    assert scorer._resolve().source == "hf-cache"
    assert scorer._resolve().path == hub["snapshot"]
    assert "distilroberta-base@000000000000" in scorer.signature()


def test_prefix_space_tokenization(scorer):
    vocab = __import__("json").loads(shared_path("tokenizers", "roberta-base", "vocab.json").read_text())
    ids = scorer.encode("  Heart size normal.  ")
    assert ids[0] == vocab["<s>"] and ids[-1] == vocab["</s>"]
    assert ids[1] == vocab["\u0120Heart"]  # 'ĠHeart': the slow tokenizer's add_prefix_space=True
    long = scorer.encode("effusion " * 700)
    assert len(long) == 512 and long[-1] == vocab["</s>"]


@pytest.mark.slow
def test_equals_bert_score_per_study(scorer, peer, iu_pairs):
    p, g = iu_pairs
    preds = p[:N_PAIRS] + [g[3]]  # + an exact copy
    refs = g[:N_PAIRS] + [g[3]]
    ours = scorer.score_pairs(preds, refs)
    P, R, F = peer.score(preds, refs)
    # Same float32 arithmetic in the same order as bert_score, so values agree to float32 noise.
    for key, theirs in (("bertscore_p", P), ("bertscore_r", R), ("bertscore", F)):
        diff = np.abs(ours[key] - theirs.numpy().astype(np.float64))
        assert diff.max() <= 1e-6, (key, diff.max())
    # raw (un-rescaled) F within 1e-6 / 3.3e-7
    raw_ours = ours["bertscore"] * (1 - BASELINE[2]) + BASELINE[2]
    raw_theirs = F.numpy().astype(np.float64) * (1 - BASELINE[2]) + BASELINE[2]
    assert np.abs(raw_ours - raw_theirs).max() <= 3.5e-7


def test_truncation_matches_bert_score(scorer, peer, iu_pairs):
    _, g = iu_pairs
    long = "The lungs are clear. " * 120  # > 512 tokens: both truncate to 512 ids
    ours = scorer.score_pairs([long], [g[0]])
    _, _, F = peer.score([long], [g[0]])
    assert abs(ours["bertscore"][0] - float(F[0])) <= 1e-6


def test_empty_prediction_scores_the_spec_constant(scorer, iu_pairs):
    _, g = iu_pairs
    out = scorer.score_pairs(["", "   ", p_ := "Heart size normal."], [g[0], g[1], ""])
    assert out["bertscore"][0] == pytest.approx(-5.550157, abs=1e-6)
    assert out["bertscore"][1] == pytest.approx(-5.550157, abs=1e-6)
    assert out["bertscore"][2] == pytest.approx(-5.550157, abs=1e-6)  # empty reference
    assert out["bertscore_p"][0] == pytest.approx(-BASELINE[0] / (1 - BASELINE[0]))
    assert out["bertscore_r"][0] == pytest.approx(-BASELINE[1] / (1 - BASELINE[1]))
    assert p_


def test_idf_from_fixed_corpus_matches_bert_score(hub, iu_pairs, tmp_path):
    bert_score = pytest.importorskip("bert_score")
    p, g = iu_pairs
    corpus = g[100:160]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(corpus) + "\n")
    m = BertScore(device="cpu", idf_corpus=str(path))
    ours = m.score_pairs(p[:6], g[:6])
    alone = m.score_pairs([p[4]], [g[4]])
    assert alone["bertscore"][0] == ours["bertscore"][4]  # IDF never comes from the batch
    baseline = Path(bert_score.__file__).parent / "rescale_baseline" / "en" / "distilroberta-base.tsv"
    peer = bert_score.BERTScorer(
        model_type=str(hub["snapshot"]), num_layers=5, rescale_with_baseline=True, idf=True, idf_sents=corpus,
        lang="en", baseline_path=str(baseline), device="cpu", nthreads=0,
    )
    P, R, F = peer.score(p[:6], g[:6])
    assert np.abs(ours["bertscore"] - F.numpy()).max() <= 1e-6
    assert "idf:corpus-sha256:" in m.signature()
    assert m.signature() != BertScore(device="cpu").signature()


def test_reference_embeddings_cached(hub, iu_pairs, tmp_path, monkeypatch):
    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "c"))
    p, g = iu_pairs
    first = BertScore(device="cpu").score_pairs(p[:3], g[:3])
    m = BertScore(device="cpu")
    calls = []
    m._load()
    real = m._embed
    m._embed = lambda ids, progress=None: (calls.append(len(ids)), real(ids, progress))[1]
    again = m.score_pairs(p[:3], g[:3])
    assert calls == [3]  # only the predictions ran; references came from the disk cache
    for k in first:
        assert np.array_equal(first[k], again[k])


def test_progress_moves_batch_by_batch_and_ends_at_every_study(hub, iu_pairs, tmp_path, monkeypatch):
    # issue 22 item 5: the bar sat at 0/590 and jumped to the end; now each embedded batch advances it
    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "c"))
    p, g = iu_pairs
    n = 40
    for run in ("cold", "references from the cache"):
        steps: list[int] = []
        BertScore(device="cpu", batch_size=4).compute(Batch([str(i) for i in range(n)], p[:n], g[:n], progress=steps.append))
        # cold: every batch of texts is a step; cached: the references in one step, then the predictions' batches
        assert sum(steps) == n and len(steps) >= (5 if run == "cold" else 2) and max(steps) < n, (run, steps)


def test_loading_prints_no_transformers_progress_bar(hub, capfd):
    from transformers.utils import logging as hf_logging

    hf_logging.enable_progress_bar()
    BertScore(device="cpu")._load()
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()  # switched off around the loading only


def test_metric_compute_and_outputs(scorer, iu_pairs):
    p, g = iu_pairs
    out = scorer.compute(Batch(["a", "b"], p[:2], g[:2]))
    assert set(out) == {"bertscore", "bertscore_p", "bertscore_r"}
    keys = {o.key: o for o in scorer.outputs()}
    assert keys["bertscore"].higher_is_better and keys["bertscore"].value_range[1] == 1.0


def test_missing_model_unavailable_with_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.delenv("REXEVAL_DISTILROBERTA_DIR", raising=False)
    with pytest.raises(MetricUnavailable) as exc:
        BertScore().check_available()
    assert "rexeval models download distilroberta-base" in str(exc.value)


def test_fp16_needs_cuda(hub):
    from rexeval.base.exceptions import ConfigError

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ConfigError):
        BertScore(device="cpu", fp16=True).check_available()


# -- CLI: rexeval models, and scoring with no weights ------------------------------------------

def _run(args, env_extra):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_extra}
    return subprocess.run([sys.executable, "-m", "rexeval", *args], capture_output=True, text=True, env=env, timeout=600)


def test_models_cli_found_and_missing(hub, tmp_path):
    r = _run(["models"], {"HF_HUB_CACHE": str(hub["root"])})
    assert r.returncode == 0, r.stderr
    block = r.stdout.split("distilroberta-base")[0]
    assert r.stdout.splitlines()[0].startswith("found") or "found   distilroberta-base" in r.stdout or block is not None
    line = next(ln for ln in r.stdout.splitlines() if ln.endswith("used by bertscore)"))
    assert line.startswith("found")
    r = _run(["models"], {"HF_HUB_CACHE": str(tmp_path / "none")})
    line = next(ln for ln in r.stdout.splitlines() if ln.endswith("used by bertscore)"))
    assert line.startswith("MISSING")
    assert "fix: run `rexeval models download distilroberta-base`" in r.stdout
    assert "REXEVAL_DISTILROBERTA_DIR" in r.stdout
    r = _run(["models", "download", "no-such-model"], {"HF_HUB_CACHE": str(tmp_path / "none")})
    assert r.returncode == 2 and "unknown model" in r.stderr


def test_equals_bert_score_under_transformers4(iu_pairs, tmp_path):
    """bert_score as ReXrank ran it (transformers<5, slow tokenizer): needs a side venv."""
    import json

    exe = os.environ.get("REXEVAL_TF4_PYTHON") or os.environ.get("REXEVAL_RADGRAPH_PYTHON")
    if not exe:
        pytest.skip("set REXEVAL_TF4_PYTHON to a Python with torch, transformers<5, bert-score, pandas")
    p, g = iu_pairs
    pairs = tmp_path / "pairs.json"
    pairs.write_text(json.dumps({"preds": p[:12] + ["", "Heart normal."], "refs": g[:12] + ["Lungs clear.", ""]}))
    res = subprocess.run([exe, str(ROOT / "tests" / "peer" / "bertscore_tf4.py"), str(tmp_path / "hub"), str(pairs)],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if res.returncode != 0 and "No module named 'bert_score'" in res.stderr:
        pytest.skip(f"{exe} has no bert_score")
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["transformers"].split(".")[0] == "4"
    assert out["ids_equal"]
    assert np.abs(np.array(out["ours"]) - np.array(out["peer"])).max() <= 2e-6
    assert np.abs(np.array(out["ours_p"]) - np.array(out["peer_p"])).max() <= 2e-6
    assert out["ours"][-1] == pytest.approx(EMPTY_F) and out["peer"][-2] == pytest.approx(EMPTY_F, abs=1e-6)
