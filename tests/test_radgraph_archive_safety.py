"""RadGraph archives: an unsafe weights.th skips the metric with one line (exit 2 under --strict) and never
runs code; a decompression bomb is refused before anything is written (configurable limits); the private
unpack folder goes away on SIGTERM; staging folders left by killed unpacks are removed, and only those."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pandas as pd
import pytest

from rexeval.base.exceptions import ConfigError
from tests.helpers.paths import ROOT, shared_path

MB = 2**20


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _archive(path: Path, weights: bytes = b"w" * 100, **extra: bytes) -> Path:
    return _tar(path, {"config.json": b"{}", "vocabulary/ner.txt": b"A\nB\n", "weights.th": weights, **extra})


def _clean_env(monkeypatch):
    for var in ("REXEVAL_ARCHIVE_MAX_BYTES", "REXEVAL_ARCHIVE_MAX_MEMBERS", "REXEVAL_ARCHIVE_MAX_RATIO"):
        monkeypatch.delenv(var, raising=False)


def test_a_decompression_bomb_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    from rexeval.backends.radgraph.archive import unpack

    _clean_env(monkeypatch)
    bomb = _archive(tmp_path / "bomb.tar.gz", weights=bytes(64 * MB))  # 64 MB of zeros, ~65 KB packed
    assert bomb.stat().st_size < MB
    target = tmp_path / "cache" / "radgraph"
    with pytest.raises(ConfigError, match=r"bomb\.tar\.gz unpacks to more than 50 times its size.*"
                                          r"decompression bomb.*\$REXEVAL_ARCHIVE_MAX_RATIO"):
        unpack(bomb, target)
    assert not any(target.iterdir())  # nothing unpacked
    assert [p.name for p in target.parent.iterdir()] == ["radgraph"]  # no staging folder left
    monkeypatch.setenv("REXEVAL_ARCHIVE_MAX_RATIO", "5000")  # the limit is the user's to raise
    assert (unpack(bomb, target) / "weights.th").stat().st_size == 64 * MB


def test_total_size_and_member_count_limits(tmp_path, monkeypatch):
    from rexeval.backends.radgraph.archive import unpack

    _clean_env(monkeypatch)
    archive = _archive(tmp_path / "a.tar.gz", weights=os.urandom(4000))
    monkeypatch.setenv("REXEVAL_ARCHIVE_MAX_BYTES", "3000")
    with pytest.raises(ConfigError, match=r"more than 3,000 bytes.*\$REXEVAL_ARCHIVE_MAX_BYTES"):
        unpack(archive, tmp_path / "t1")
    monkeypatch.delenv("REXEVAL_ARCHIVE_MAX_BYTES")
    monkeypatch.setenv("REXEVAL_ARCHIVE_MAX_MEMBERS", "2")
    with pytest.raises(ConfigError, match=r"more than 2 members.*\$REXEVAL_ARCHIVE_MAX_MEMBERS"):
        unpack(archive, tmp_path / "t2")
    monkeypatch.setenv("REXEVAL_ARCHIVE_MAX_MEMBERS", "many")
    with pytest.raises(ConfigError, match=r"\$REXEVAL_ARCHIVE_MAX_MEMBERS = 'many' must be a positive number"):
        unpack(archive, tmp_path / "t3")
    monkeypatch.delenv("REXEVAL_ARCHIVE_MAX_MEMBERS")
    assert (unpack(archive, tmp_path / "t4") / "weights.th").stat().st_size == 4000


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _swap_weights(archive: Path, weights: bytes) -> None:
    members = {}
    with tarfile.open(archive, "r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile():
                members[m.name] = tar.extractfile(m).read()
    members["weights.th"] = weights
    _tar(archive, members)


@pytest.fixture
def pickled_hub(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    shared_path("tokenizers", "bert-base-uncased", "vocab.txt")
    from rexeval.backends.standins import build_radgraph

    hub = tmp_path / "hub"
    archive = build_radgraph(hub, "radgraph", "small", seed=0)
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    torch.save({"x": _Payload(marker)}, buf)
    _swap_weights(archive, buf.getvalue())
    pairs = tmp_path / "pairs.csv"
    pd.DataFrame({"study_id": ["a", "b"], "prediction": ["No effusion.", "Mild cardiomegaly."],
                  "reference": ["Small effusion.", "Cardiomegaly."]}).to_csv(pairs, index=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_CACHE": str(hub), "HF_HUB_OFFLINE": "1",
           "REXEVAL_CACHE": str(tmp_path / "cache")}
    for var in ("REXEVAL_RADGRAPH_PYTHON", "REXEVAL_RADGRAPH_DIR"):
        env.pop(var, None)
    return pairs, env, marker


def test_pickled_weights_skip_the_metric_with_one_line(pickled_hub):
    pairs, env, marker = pickled_hub
    cmd = [sys.executable, "-m", "rexeval", "score", str(pairs), "-m", "radgraph,bleu", "--bootstrap", "0",
           "--no-progress", "--json"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and not marker.exists()
    lines = [ln for ln in proc.stderr.splitlines() if "radgraph" in ln]
    assert len(lines) == 1 and "full unpickle" in lines[0] and "weights.th" in lines[0], proc.stderr
    import json

    summary = json.loads(proc.stdout)
    assert "radgraph" in summary["skipped"] and summary["metrics"]["bleu"]["n"] == 2
    strict = subprocess.run(cmd + ["--strict"], env=env, capture_output=True, text=True, timeout=600)
    assert strict.returncode == 2 and "Traceback" not in strict.stderr, strict.stderr[-3000:]
    errors = [ln for ln in strict.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "full unpickle" in errors[0] and "--strict" in errors[0], strict.stderr
    assert not marker.exists()


_HOLD = """
import sys, time
from pathlib import Path
from rexeval.backends.radgraph.archive import unpacked_folder
folder = unpacked_folder(Path(sys.argv[1]), "digest", "radgraph")
print(folder, flush=True)
time.sleep(120)
"""


def test_the_private_unpack_folder_goes_away_on_sigterm(tmp_path):
    archive = _archive(tmp_path / "radgraph.tar.gz")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REXEVAL_CACHE": "off", "TMPDIR": str(scratch)}
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(archive)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        folder = Path(proc.stdout.readline().strip())
        assert (folder / "weights.th").is_file() and folder.parent.parent == scratch
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGTERM  # still dies of the signal
    assert not folder.parent.exists() and list(scratch.iterdir()) == []


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _scratch(folder: Path, pid: int, created: float | None = None, host: str | None = None) -> Path:
    import json
    import socket

    folder.mkdir(parents=True)
    (folder / "partial.bin").write_bytes(b"x")
    (folder / ".rexeval-owner").write_text(json.dumps(
        {"pid": pid, "host": host or socket.gethostname(), "created": created or time.time()}))
    return folder


def test_staging_left_by_a_killed_unpack_is_removed_and_nothing_else(tmp_path, monkeypatch):
    from rexeval.backends.radgraph.archive import unpack

    _clean_env(monkeypatch)
    parent = tmp_path / "cache" / "radgraph" / "digest"
    dead = _scratch(parent / ".unpack-dead", _dead_pid())
    old_elsewhere = _scratch(parent / ".unpack-old", 1, created=time.time() - 3 * 86400, host="other-host")
    live = _scratch(parent / ".unpack-live", os.getppid())  # a running process (pytest's parent)
    recent_elsewhere = _scratch(parent / ".unpack-remote", 1, host="other-host")
    users = parent / ".unpack-mine"  # same prefix, no marker: not rexeval's
    users.mkdir()
    (users / "notes.txt").write_text("keep")
    unpack(_archive(tmp_path / "a.tar.gz"), parent / "radgraph")
    assert not dead.exists() and not old_elsewhere.exists()
    assert live.is_dir() and recent_elsewhere.is_dir() and (users / "notes.txt").read_text() == "keep"
    assert not (parent / "radgraph" / ".rexeval-owner").exists()  # the marker never lands in the result
