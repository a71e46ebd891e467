"""rexeval's native RadGraph: equal to the radgraph package, batch-invariant, safe archives, and the
`rexeval score -m radgraph,radcliq` path in one environment on random-weight stand-ins."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from rexeval.base.exceptions import ConfigError
from tests.helpers.paths import shared_path

ROOT = Path(__file__).resolve().parents[1]
RECORDED = Path(__file__).with_name("data") / "radgraph_package_small.json.gz"
MODEL_TYPES = ("radgraph", "radgraph-xl", "modern-radgraph-xl")


def recorded_file() -> dict:
    return json.loads(gzip.decompress(RECORDED.read_bytes()))


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """Small random archives of the three model types, built from seed 0 as when the package's
    annotations were recorded (benchmarks/radgraph_equality.py --record)."""
    shared_path("tokenizers", "bert-base-uncased", "vocab.txt")
    from rexeval.backends.standins import build_radgraph

    folder = tmp_path_factory.mktemp("hub")
    for model_type in MODEL_TYPES:
        build_radgraph(folder, model_type, "small", seed=0)
    return folder


def native(hub, model_type, tmp_path, **kw):
    from rexeval.backends.radgraph.archive import unpack
    from rexeval.backends.radgraph.model import NativeRadGraph

    os.environ["HF_HUB_CACHE"] = str(hub)
    archive = next((hub / "models--StanfordAIMI--RRG_scorers" / "snapshots").glob(f"*/{model_type}.tar.gz"))
    return NativeRadGraph(unpack(archive, tmp_path / model_type), model_type, **kw)


@pytest.mark.slow
@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_equal_to_recorded_package_annotations(hub, model_type, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    recorded = recorded_file()
    texts, expected = recorded["texts"], recorded["annotations"][model_type]
    got = native(hub, model_type, tmp_path).parse(texts)
    assert sum(len(a["entities"]) for a in expected if a) > 20  # the random heads do label spans
    assert sum(len(e["relations"]) for a in expected if a for e in a["entities"].values()) > 0
    for text, a, b in zip(texts, got, expected):
        assert a == b, text[:80]


@pytest.mark.slow
@pytest.mark.parametrize("model_type", ["radgraph-xl", "modern-radgraph-xl"])
def test_batch_invariance(hub, model_type, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    texts = recorded_file()["texts"]
    model = native(hub, model_type, tmp_path, max_tokens=600)  # several encoder batches
    full = model.parse(texts)
    order = list(range(len(texts)))[::-1][1::2] + list(range(len(texts)))[::-1][0::2]
    shuffled = model.parse([texts[i] for i in order])
    for pos, i in enumerate(order):
        assert shuffled[pos] == full[i]
    for i in (7, 11, 22):
        assert model.parse([texts[i]]) == [full[i]]
        assert model.parse([texts[i]] * 8) == [full[i]] * 8
        mixed = model.parse([texts[i]] * 4 + texts[:5] + [texts[i]] * 4)
        assert mixed[:4] == [full[i]] * 4 and mixed[-4:] == [full[i]] * 4


def test_long_report_is_folded_like_the_package(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    model = native(hub, "radgraph", tmp_path)
    text = recorded_file()["texts"][22]
    pieces = sum(len(p) for p in model._word_pieces(text.split()))
    assert pieces > 1000  # three encoder segments: the recorded equality covers the folding path
    assert len(model._rows([1] * pieces)[1]) == 3


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_unpack_refuses_members_outside_the_folder(tmp_path):
    from rexeval.backends.radgraph.archive import unpack

    bad = _tar(tmp_path / "bad.tar.gz", {"config.json": b"{}", "../escaped.txt": b"x", "weights.th": b""})
    with pytest.raises(ConfigError, match="outside"):
        unpack(bad, tmp_path / "target")
    assert not (tmp_path / "escaped.txt").exists()
    incomplete = _tar(tmp_path / "inc.tar.gz", {"config.json": b"{}"})
    with pytest.raises(ConfigError, match="lacks"):
        unpack(incomplete, tmp_path / "target2")


def test_weights_load_without_pickle_fallback(tmp_path):
    import pickle

    from rexeval.backends.radgraph.archive import Archive

    folder = tmp_path / "m"
    (folder / "vocabulary").mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "weights.th").write_bytes(pickle.dumps({"x": Path("/")}))  # not a tensor-only checkpoint
    with pytest.raises(Exception) as exc:
        Archive.load(folder)
    assert "weights_only" in str(exc.value) or "Unsupported" in str(exc.value) or "load" in str(exc.value).lower()


@pytest.mark.slow
def test_score_cli_radgraph_and_radcliq_on_random_stand_ins(tmp_path):
    shared_path("tokenizers", "roberta-base", "vocab.json")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_CACHE": str(tmp_path / "hub"),
           "REXEVAL_CACHE": str(tmp_path / "cache")}
    env.pop("REXEVAL_RADGRAPH_PYTHON", None)
    for name in ("radgraph", "chexbert", "distilroberta-base"):
        r = subprocess.run([sys.executable, "-m", "rexeval", "models", "random", name, "-o", str(tmp_path / "hub"),
                            "--size", "small"], capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "mean nothing" in r.stderr
    (tmp_path / "p.csv").write_text("study_id,report\na,Small left pleural effusion.\nb,Heart size is normal.\nc,\n")
    (tmp_path / "g.csv").write_text("study_id,report\na,Left effusion is small.\nb,Heart size is normal. Lungs clear.\nc,No acute process.\n")
    r = subprocess.run([sys.executable, "-m", "rexeval", "score", str(tmp_path / "p.csv"), "-r", str(tmp_path / "g.csv"),
                        "-m", "radgraph,radcliq", "--strict", "--no-progress", "--bootstrap", "0", "-o", str(tmp_path / "run")],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    import pandas as pd

    per = pd.read_csv(tmp_path / "run" / "per_study.csv")
    assert per[["radgraph", "radcliq_v1"]].notna().all().all()
    assert per.loc[per.study_id == "c", "radgraph"].item() == 0.0  # empty prediction
    summary = (tmp_path / "run" / "summary.json").read_text()
    assert "RANDOM-STAND-IN" in summary and "rexeval-native" in summary


def test_missing_encoder_config_is_unavailable_with_fix(tmp_path, monkeypatch):
    from rexeval.backends.standins import build_radgraph
    from rexeval.base.exceptions import MetricUnavailable
    from rexeval.metrics.radgraph import RadGraph

    shared_path("tokenizers", "bert-base-uncased", "vocab.txt")
    build_radgraph(tmp_path / "hub", "radgraph", "small")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("REXEVAL_RADGRAPH_PYTHON", raising=False)
    RadGraph().check_available()  # archive and encoder config present
    import shutil

    for repo in (tmp_path / "hub").glob("models--microsoft--*"):
        shutil.rmtree(repo)
    with pytest.raises(MetricUnavailable, match="encoder"):
        RadGraph().check_available()


def test_metric_progress_moves_per_report_and_cached_texts_count_at_once(hub, tmp_path, monkeypatch):
    # issue 22 item 5: the bar advanced once, after every report was parsed
    from rexeval.metrics.base import Batch
    from rexeval.metrics.radgraph import RadGraph

    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("REXEVAL_RADGRAPH_PYTHON", raising=False)
    texts = [t for t in dict.fromkeys(recorded_file()["texts"]) if t.strip()][:12]
    preds, refs = texts[:6], texts[6:]
    for run in ("cold", "cached"):
        steps: list[int] = []
        RadGraph(model="radgraph-xl", device="cpu").compute(Batch([str(i) for i in range(6)], preds, refs,
                                                                  progress=steps.append))
        assert sum(steps) == 6, (run, steps)
        assert len(steps) >= 3 if run == "cold" else steps == [6], (run, steps)
