"""`rexeval score --engine ray` against the local engine, on a local Ray with 2 CPUs started here.

Deselect with ``-m 'not ray'``. Kept small: the whole module starts one Ray and scores a few dozen studies.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rexeval.base.align import load_pairs
from rexeval.cli import app
from rexeval.run.scoring import score_pairs
from tests.helpers.paths import shared_path

N_STUDIES = 24


def _pairs_files(tmp_path, n=N_STUDIES):
    folder = shared_path("conformance", "moerad_iu_test")
    p = pd.read_csv(folder / "preds.csv", dtype=str).iloc[:n]
    g = pd.read_csv(folder / "gts.csv", dtype=str).iloc[:n]
    p.to_csv(tmp_path / "p.csv", index=False)
    g.to_csv(tmp_path / "g.csv", index=False)
    return tmp_path / "p.csv", tmp_path / "g.csv"


def test_engine_ray_without_ray_exits_2_with_the_fix(tmp_path, monkeypatch):
    p, g = _pairs_files(tmp_path, 3)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError, as when it is not installed
    r = CliRunner().invoke(app, ["score", str(p), "-r", str(g), "-m", "bleu", "--engine", "ray", "--no-progress"])
    assert r.exit_code == 2, r.output
    assert "pip install 'rexeval[ray]'" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["score", str(p), "-r", str(g), "-m", "bleu", "--workers", "2", "--no-progress"])
    assert r.exit_code == 2 and "--engine ray" in r.output


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    # Ray runs workers at nice 15; on a busy CI machine that starves them for minutes
    os.environ.setdefault("RAY_worker_niceness", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


def _engine(**kw):
    from rexeval.engines.ray import RayEngine, RayOptions

    return RayEngine(RayOptions(**{"workers": 2, "batch_size": 5, "ship_sys_path": True, **kw}))


def _same_run(a_dir, b_dir, close=()):
    """Byte-identical run directories; columns in ``close`` only to 1e-9 (see the model test)."""
    a = (a_dir / "summary.json").read_text()
    b = (b_dir / "summary.json").read_text()
    if not close:
        assert a == b
        assert (a_dir / "per_study.csv").read_bytes() == (b_dir / "per_study.csv").read_bytes()
        return
    sa, sb = json.loads(a), json.loads(b)
    for key in close:
        ea, eb = sa["metrics"].pop(key), sb["metrics"].pop(key)
        assert eb["value"] == pytest.approx(ea["value"], abs=1e-9)
        assert eb["ci95"] == pytest.approx(ea["ci95"], abs=1e-9)
        assert {k: v for k, v in ea.items() if k not in ("value", "ci95")} == {k: v for k, v in eb.items() if k not in ("value", "ci95")}
    assert sa == sb
    pa, pb = pd.read_csv(a_dir / "per_study.csv"), pd.read_csv(b_dir / "per_study.csv")
    np.testing.assert_allclose(pb[list(close)], pa[list(close)], rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(pa.drop(columns=list(close)), pb.drop(columns=list(close)), check_exact=True)


@pytest.mark.ray
def test_default_set_and_by_identical_to_local(ray_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))  # model metrics skip the same way
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("REXEVAL_CACHE", "off")
    p, g = _pairs_files(tmp_path)
    meta = pd.DataFrame({"study_id": pd.read_csv(p, dtype=str).study_id,
                         "sex": ["female", "male"] * (N_STUDIES // 2), "site": ["a"] * 10 + ["b"] * 14})
    meta.to_csv(tmp_path / "meta.csv", index=False)
    base = ["score", str(p), "-r", str(g), "--bootstrap", "200", "--no-progress", "--by", "sex,site",
            "--meta", str(tmp_path / "meta.csv"), "--min-group-size", "5"]
    runner = CliRunner()
    r = runner.invoke(app, base + ["-o", str(tmp_path / "local")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, base + ["-o", str(tmp_path / "ray"), "--engine", "ray", "--workers", "2",
                                   "--ray-batch-size", "5"])
    assert r.exit_code == 0, r.output
    _same_run(tmp_path / "local", tmp_path / "ray")
    assert (tmp_path / "local" / "subgroups.csv").read_bytes() == (tmp_path / "ray" / "subgroups.csv").read_bytes()
    summary = json.loads((tmp_path / "ray" / "summary.json").read_text())
    # the comparison means something: lexical, rule and condition metrics ran, subgroups are there
    assert {"bleu", "bleu4", "rouge_l", "rules_f1_14_micro"} <= set(summary["metrics"])
    assert summary["subgroups"]["results"]["sex"]["male"]["n"] == N_STUDIES // 2
    assert summary["metrics"]["bleu"]["n"] == N_STUDIES


@pytest.fixture(scope="module")
def model_hub(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    shared_path("tokenizers", "roberta-base", "vocab.json")
    shared_path("tokenizers", "bert-base-uncased", "vocab.txt")
    from tests.helpers.chexbert_fixtures import build_chexbert, tiny_config
    from tests.helpers.model_fixtures import build_distilroberta

    hub = tmp_path_factory.mktemp("hub")
    build_distilroberta(hub)
    build_chexbert(hub, seed=1, config=tiny_config())
    return hub


@pytest.fixture
def model_env(model_hub, monkeypatch, tmp_path):
    from rexeval.backends.models.chexbert import _shared_keyed

    monkeypatch.setenv("HF_HUB_CACHE", str(model_hub))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_HOME", raising=False)
    for var in ("REXEVAL_DISTILROBERTA_DIR", "REXEVAL_CHEXBERT", "REXEVAL_BERT_BASE_UNCASED"):
        monkeypatch.delenv(var, raising=False)
    _shared_keyed.cache_clear()
    yield
    _shared_keyed.cache_clear()


def _score(pairs, metrics, engine=None, cache=None, monkeypatch=None):
    monkeypatch.setenv("REXEVAL_CACHE", str(cache))  # one cache per engine: no value comes from the other run
    return score_pairs(pairs, metrics, n_resamples=200, progress=False, engine=engine)


@pytest.mark.slow
@pytest.mark.ray
def test_random_weight_model_metrics_identical_to_local(ray_cluster, model_env, tmp_path, monkeypatch):
    from rexeval.metrics import resolve_metrics

    p, g = _pairs_files(tmp_path)
    pairs = load_pairs(str(p), str(g))
    names = ["bertscore", "semb_score", "chexbert_f1", "bleu"]
    local = _score(pairs, resolve_metrics(names, {"bertscore": {"device": "cpu"}}), None, tmp_path / "c1", monkeypatch)
    with _engine() as engine:
        remote = _score(pairs, resolve_metrics(names, {"bertscore": {"device": "cpu"}}), engine, tmp_path / "c2", monkeypatch)
    assert not engine.failures
    local.write(tmp_path / "local")
    remote.write(tmp_path / "ray")
    # exact for every metric: CheXbert pads each text by its own length (it used to pad to the batch's
    # longest text, which moved semb_score by up to 4.5e-11 between batches of 5 and 24 studies)
    _same_run(tmp_path / "local", tmp_path / "ray")
    assert not remote.summary["skipped"]
    for key in ("bertscore", "semb_score"):
        assert remote.summary["metrics"][key]["n"] == N_STUDIES
        assert np.unique(remote.per_study[key]).size > N_STUDIES // 2  # real, varied model outputs


@pytest.mark.slow
@pytest.mark.ray
def test_worker_killed_mid_run_is_retried_with_identical_values(ray_cluster, model_env, tmp_path, monkeypatch):
    from rexeval.metrics import get_metric
    from tests.helpers.ray_doubles import BertScorePausing

    p, g = _pairs_files(tmp_path)
    pairs = load_pairs(str(p), str(g))
    local = _score(pairs, [get_metric("bertscore", device="cpu")], None, tmp_path / "c1", monkeypatch)
    arm = tmp_path / "arm"
    arm.mkdir()
    (arm / "arm").touch()
    killed: list[int] = []

    def kill_when_paused():
        deadline = time.monotonic() + 300
        while not (arm / "pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        pid = int((arm / "pid").read_text())
        assert pid != os.getpid()
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_when_paused, daemon=True)
    killer.start()
    with _engine(max_retries=2) as engine:
        remote = _score(pairs, [BertScorePausing(str(arm), device="cpu")], engine, tmp_path / "c2", monkeypatch)
    killer.join(timeout=5)
    assert killed, "the worker was never paused, so nothing was killed"
    assert not (arm / "arm").exists() and (arm / "claimed").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)  # that worker process is gone
    assert not engine.failures
    pd.testing.assert_frame_equal(remote.per_study, local.per_study, check_exact=True)
    assert remote.summary["metrics"] == local.summary["metrics"]


@pytest.mark.slow
@pytest.mark.ray
def test_study_that_fails_or_hangs_is_nan_and_the_rest_scored(ray_cluster, tmp_path, monkeypatch):
    from rexeval.metrics import get_metric
    from tests.helpers.ray_doubles import BleuFailingOn

    monkeypatch.setenv("REXEVAL_CACHE", "off")
    p, g = _pairs_files(tmp_path)
    pairs = load_pairs(str(p), str(g))
    ids = list(pairs.study_ids)
    bad, hung = ids[7], ids[16]
    local = score_pairs(pairs, [get_metric("bleu")], n_resamples=0, progress=False)
    with _engine(timeout=15, max_retries=1) as engine:  # 15 s: well past a worker's start here
        remote = score_pairs(pairs, [BleuFailingOn(bad, hung)], n_resamples=0, progress=False, engine=engine)
    got = remote.per_study.set_index("study_id")["bleu"]
    want = local.per_study.set_index("study_id")["bleu"]
    assert np.isnan(got[bad]) and np.isnan(got[hung])
    others = [s for s in ids if s not in (bad, hung)]
    assert got[others].tolist() == want[others].tolist()
    entry = remote.summary["metrics"]["bleu"]
    assert entry["n_failed"] == 2 and entry["n"] == N_STUDIES - 2
    assert entry["value"] == pytest.approx(float(np.mean(want[others])), abs=1e-15)
    failed = remote.summary["metric_runs"]["bleu"]["engine"]["failed_studies"]
    reasons = {f["study_id"]: f["reason"] for f in failed}
    assert set(reasons) == {bad, hung}
    assert "injected failure" in reasons[bad] and "timeout" in reasons[hung]
