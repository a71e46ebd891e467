"""Checkpoints are loaded with ``weights_only=True`` only: an unsafe or broken file skips its metric with
one line and never runs code; a full unpickle happens only for a file pinned by sha256 (and is recorded)."""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers.paths import shared_path

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from rexeval.run.scoring import score  # noqa: E402
from tests.helpers.chexbert_fixtures import build_chexbert, tiny_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAIRS = pd.DataFrame({"study_id": ["a", "b"], "prediction": ["No effusion.", "Cardiomegaly."],
                      "reference": ["Small effusion.", "Cardiomegaly."]})


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def tiny_state(tmp_path_factory):
    vocab = shared_path("tokenizers", "bert-base-uncased", "vocab.txt")
    hub = tmp_path_factory.mktemp("hub")
    ckpt = build_chexbert(hub, seed=3, config=tiny_config())
    return torch.load(str(ckpt), weights_only=True)["model_state_dict"], vocab


def _folder(tmp_path: Path, vocab: Path, blob=None, raw: bytes | None = None) -> Path:
    folder = tmp_path / "chexbert"
    folder.mkdir()
    (folder / "vocab.txt").write_bytes(vocab.read_bytes())
    if raw is not None:
        (folder / "chexbert.pth").write_bytes(raw)
    else:
        torch.save(blob, str(folder / "chexbert.pth"))
    return folder


@pytest.fixture
def env(monkeypatch, tmp_path):
    from rexeval.backends.models.chexbert import _shared_keyed

    monkeypatch.setenv("REXEVAL_CACHE", "off")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty_hub"))
    monkeypatch.delenv("REXEVAL_TRUST_PICKLE", raising=False)
    monkeypatch.delenv("REXEVAL_BERT_BASE_UNCASED", raising=False)
    _shared_keyed.cache_clear()
    yield monkeypatch
    _shared_keyed.cache_clear()


def test_a_checkpoint_that_runs_a_command_is_refused_and_never_executed(tiny_state, tmp_path, env):
    state, vocab = tiny_state
    marker = tmp_path / "pwned"
    folder = _folder(tmp_path, vocab, {"model_state_dict": state, "x": _Payload(marker)})
    env.setenv("REXEVAL_CHEXBERT", str(folder))
    res = score(PAIRS, metrics=["semb_score", "rules_f1"], n_resamples=0, progress=False)
    assert not marker.exists(), "loading chexbert.pth executed the command it carries"
    reason = res.summary["skipped"]["semb_score"]
    sha = hashlib.sha256((folder / "chexbert.pth").read_bytes()).hexdigest()
    assert "full unpickle" in reason and f"REXEVAL_TRUST_PICKLE={sha}" in reason
    assert "rules_f1_5_micro" in res.summary["metrics"]  # the other metrics still ran


def test_a_trusted_pickle_loads_only_when_pinned_and_is_recorded(tiny_state, tmp_path, env):
    state, vocab = tiny_state
    # an old training checkpoint with its argparse options: not loadable with weights_only=True
    folder = _folder(tmp_path, vocab, {"model_state_dict": state, "args": argparse.Namespace(lr=1e-5)})
    env.setenv("REXEVAL_CHEXBERT", str(folder))
    refused = score(PAIRS, metrics=["semb_score"], n_resamples=0, progress=False)
    assert "semb_score" in refused.summary["skipped"]
    env.setenv("REXEVAL_TRUST_PICKLE", hashlib.sha256((folder / "chexbert.pth").read_bytes()).hexdigest())
    with pytest.warns(UserWarning, match="full pickle"):
        res = score(PAIRS, metrics=["semb_score"], n_resamples=0, progress=False)
    assert res.summary["metrics"]["semb_score"]["n"] == 2
    assert "pickle:trusted-by-sha256" in res.summary["metrics"]["semb_score"]["signature"]


def test_a_truncated_checkpoint_skips_the_metric_with_one_line(tiny_state, tmp_path, env):
    state, vocab = tiny_state
    good = tmp_path / "good.pth"
    torch.save({"model_state_dict": state}, str(good))
    folder = _folder(tmp_path, vocab, raw=good.read_bytes()[:5000])
    pairs = tmp_path / "pairs.csv"
    PAIRS.to_csv(pairs, index=False)
    environ = {**os.environ, "REXEVAL_CHEXBERT": str(folder), "REXEVAL_CACHE": "off",
               "HF_HUB_CACHE": str(tmp_path / "empty_hub"), "PYTHONPATH": str(ROOT)}
    environ.pop("REXEVAL_TRUST_PICKLE", None)
    proc = subprocess.run([sys.executable, "-m", "rexeval", "score", str(pairs), "-m", "semb_score,rules_f1",
                           "--bootstrap", "0", "--no-progress"], env=environ, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "semb_score" in ln and "skipped" in ln]
    assert len(lines) == 1 and "cannot be read" in lines[0], proc.stdout + proc.stderr
    assert "condition F1 (5, micro)" in proc.stdout  # the other metric still ran (its human name)


def test_a_truncated_safetensors_download_skips_the_metric(tmp_path, monkeypatch):
    from tests.helpers.rate_models import build_all

    ner, _ = build_all(tmp_path / "hub")
    weights = ner / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # an interrupted download
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("REXEVAL_CACHE", "off")
    for var in ("REXEVAL_RATE_NER", "REXEVAL_BIOLORD"):
        monkeypatch.delenv(var, raising=False)
    res = score(PAIRS, metrics=["ratescore", "bleu"], metric_options={"ratescore": {"device": "cpu"}},
                n_resamples=0, progress=False)
    reason = res.summary["skipped"]["ratescore"]
    assert "model.safetensors cannot be read" in reason and "rexeval models download" in reason
    assert res.summary["metrics"]["bleu"]["n"] == 2


def _same_size(a: dict, b: dict, folder: Path) -> tuple[bytes, bytes]:
    """Two torch.save files of equal size: the smaller one is padded until it matches the other."""
    paths = folder / "a.pth", folder / "b.pth"
    for blob, path in zip((a, b), paths):
        torch.save(blob, str(path))
    small = 0 if paths[0].stat().st_size < paths[1].stat().st_size else 1
    target = paths[1 - small].stat().st_size
    for pad in range(1, 4096):
        torch.save({**(a, b)[small], "pad": "y" * pad}, str(paths[small]))
        if paths[small].stat().st_size == target:
            return paths[0].read_bytes(), paths[1].read_bytes()
    raise AssertionError("no padding gives equal sizes")


def test_a_file_swapped_after_its_trusted_hash_is_not_unpickled(tiny_state, tmp_path, env):
    """The pin covers the bytes that are unpickled: a same-size file swapped in after the check (mtime
    restored) is refused, and its payload never runs."""
    from rexeval.backends.models.chexbert import _load_state_dict
    from rexeval.base.fingerprint import file_sha256

    state, vocab = tiny_state
    marker = tmp_path / "pwned"
    trusted, evil = _same_size({"model_state_dict": state, "args": argparse.Namespace(lr=1e-5)},
                               {"model_state_dict": state, "x": _Payload(marker)}, tmp_path)
    folder = _folder(tmp_path, vocab, raw=trusted)
    ckpt = folder / "chexbert.pth"
    env.setenv("REXEVAL_TRUST_PICKLE", hashlib.sha256(trusted).hexdigest())
    with pytest.warns(UserWarning, match="full pickle"):
        assert "bert.embeddings.word_embeddings.weight" in _load_state_dict(ckpt)
    assert file_sha256(ckpt) == hashlib.sha256(trusted).hexdigest()  # the check a run makes first
    st = ckpt.stat()
    ckpt.write_bytes(evil)  # the swap: same size, mtime put back
    os.utime(ckpt, ns=(st.st_atime_ns, st.st_mtime_ns))
    from rexeval.base.exceptions import MetricUnavailable

    with pytest.raises(MetricUnavailable, match="full unpickle"):
        _load_state_dict(ckpt)
    assert not marker.exists(), "the swapped file's payload ran"
