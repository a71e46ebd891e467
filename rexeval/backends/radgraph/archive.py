"""RadGraph model archives as published on StanfordAIMI/RRG_scorers: ``<model>.tar.gz`` holding
``config.json`` (allennlp configuration), ``vocabulary/`` (label namespaces) and ``weights.th`` (the
DyGIE state dict, encoder included).

Unpacking is safe: every member must be a plain file or folder that lands inside the target folder
(tarfile's ``data`` filter, plus an explicit check); the archive's total unpacked size, member count and
unpacked/packed ratio are limited (:class:`Limits`, read from the environment) and checked from the
headers while reading, before anything is written, so a decompression bomb is refused early; a folder
counts as unpacked only when a marker written last is present, so an interrupted unpack is redone. The
staging folder carries rexeval's owner marker, so one left by a killed process is removed by the next
unpack (:mod:`rexeval.base.tempdirs`). Without rexeval's cache the archive goes to a private ``mkdtemp``
folder removed at exit, SIGTERM included.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rexeval.base.exceptions import ConfigError
from rexeval.base.tempdirs import drop_marker, make_owned_dir, remove_on_exit, remove_stale

MEMBERS = ("config.json", "weights.th")
_DONE = ".rexeval-unpacked"
_STAGING = ".unpack-"
_PRIVATE = "rexeval-radgraph-"

#: Environment variables that set the unpacking limits, and their defaults. The published archives are
#: under 2 GB unpacked, hold a handful of files and barely compress (float weights: ratio about 1.1).
LIMIT_ENV = {
    "bytes": ("REXEVAL_ARCHIVE_MAX_BYTES", 16 * 2**30),
    "members": ("REXEVAL_ARCHIVE_MAX_MEMBERS", 10_000),
    "ratio": ("REXEVAL_ARCHIVE_MAX_RATIO", 50),
}
#: Below this unpacked size the ratio is not checked (tiny text files compress well and harm no one).
RATIO_FLOOR = 2**20


@dataclass(frozen=True)
class Limits:
    """Most an archive may unpack to: total bytes, members, and unpacked bytes per packed byte."""

    bytes: int
    members: int
    ratio: float

    @classmethod
    def from_env(cls) -> Limits:
        values: dict[str, float] = {}
        for key, (var, default) in LIMIT_ENV.items():
            raw = os.environ.get(var, "").strip()
            try:
                value = float(raw) if raw else float(default)
            except ValueError:
                value = float("nan")
            if not value > 0 or value == float("inf"):
                raise ConfigError(f"${var} = {raw!r} must be a positive number (default {default})")
            values[key] = value
        return cls(int(values["bytes"]), int(values["members"]), values["ratio"])


def _too_big(archive: Path, what: str, var: str) -> ConfigError:
    return ConfigError(f"radgraph archive {archive} {what}; refused as a possible decompression bomb "
                       f"(if the archive is genuine, raise the limit with ${var})")


def _check_members(tar: tarfile.TarFile, target: Path, archive: Path, limits: Limits | None = None) -> None:
    """Check every member from its header, stopping at the first limit crossed (nothing is written yet)."""
    limits = limits or Limits.from_env()
    packed = max(archive.stat().st_size, 1)
    root = target.resolve()
    total = 0
    for count, m in enumerate(tar, start=1):  # lazily: a bomb is refused after reading only its first part
        if count > limits.members:
            raise _too_big(archive, f"has more than {limits.members} members", LIMIT_ENV["members"][0])
        dest = (root / m.name).resolve()
        if dest != root and root not in dest.parents:
            raise ConfigError(f"radgraph archive {archive}: member {m.name!r} would land outside {root}")
        if not (m.isfile() or m.isdir()) or m.issparse():
            raise ConfigError(f"radgraph archive {archive}: member {m.name!r} is not a plain file or folder")
        total += m.size
        if total > limits.bytes:
            raise _too_big(archive, f"unpacks to more than {limits.bytes:,} bytes", LIMIT_ENV["bytes"][0])
        if total > RATIO_FLOOR and total > limits.ratio * packed:
            raise _too_big(archive, f"unpacks to more than {limits.ratio:g} times its size ({packed:,} bytes "
                                    f"packed, over {total:,} unpacked)", LIMIT_ENV["ratio"][0])


def unpack(archive: Path, target: Path) -> Path:
    """Unpack ``archive`` into ``target`` once (verified members only); return ``target``."""
    archive, target = Path(archive), Path(target)
    if (target / _DONE).is_file():
        return target
    target.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent, _STAGING)  # left by a killed unpack
    staging = make_owned_dir(target.parent, _STAGING, private=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            _check_members(tar, staging, archive)
            tar.extractall(path=staging, filter="data")
        drop_marker(staging)
        missing = [m for m in (*MEMBERS, "vocabulary") if not (staging / m).exists()]
        if missing:
            raise ConfigError(f"radgraph archive {archive} lacks {', '.join(missing)}")
        for item in staging.iterdir():
            dest = target / item.name
            if dest.is_dir():
                shutil.rmtree(dest)
            os.replace(item, dest)
        (target / _DONE).write_text(str(archive))
    except (tarfile.TarError, EOFError) as exc:
        raise ConfigError(f"radgraph archive {archive} is not a readable .tar.gz: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


_PRIVATE_FOLDERS: dict[tuple[str, str, str], Path] = {}
_PRIVATE_LOCK = threading.Lock()


def unpacked_folder(archive: Path, digest: str, model: str) -> Path:
    """Where ``archive`` is unpacked: ``<cache>/radgraph/<digest>/<model>`` under rexeval's cache (the
    layout the radgraph package takes as model_cache_dir), else a private temp folder (one per process and
    archive) removed at exit, SIGTERM included."""
    from rexeval.base.cache import cache_dir

    root = cache_dir()
    if root is not None:
        return unpack(archive, Path(root) / "radgraph" / digest / model)
    key = (str(Path(archive).resolve()), digest, model)
    with _PRIVATE_LOCK:
        if key in _PRIVATE_FOLDERS and (_PRIVATE_FOLDERS[key] / _DONE).is_file():
            return _PRIVATE_FOLDERS[key]
        tmp = Path(tempfile.gettempdir())
        remove_stale(tmp, _PRIVATE)  # left by killed runs
        private = make_owned_dir(tmp, _PRIVATE, private=True)  # mode 0700, ours alone
        remove_on_exit(private)
        _PRIVATE_FOLDERS[key] = unpack(archive, private / model)
        return _PRIVATE_FOLDERS[key]


def check_weights(folder: Path) -> None:
    """Refuse (ConfigError, one line) a ``weights.th`` that is not a tensors-only checkpoint: a full pickle
    can run code while it loads. Cheap: memory-mapped, tensors not read."""
    import pickle
    import zipfile

    import torch

    weights = Path(folder) / "weights.th"
    try:
        torch.load(weights, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(weights))
    except pickle.UnpicklingError as exc:
        first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:160]
        raise ConfigError(f"{weights} is not a tensors-only checkpoint and was not loaded: loading it would "
                          f"need a full unpickle, which can run code ({first})") from None
    except Exception as exc:  # noqa: BLE001 - torch raises RuntimeError/EOFError/zip errors for a bad file
        raise ConfigError(f"{weights} cannot be read as a checkpoint ({exc.__class__.__name__}: "
                          f"{str(exc).strip()[:120]})") from None


def read_vocabulary(folder: Path) -> dict[str, list[str]]:
    """allennlp vocabulary files: namespace -> tokens by index (padded namespaces start with padding)."""
    patterns = []
    pad_file = folder / "non_padded_namespaces.txt"
    if pad_file.is_file():
        patterns = [p.strip() for p in pad_file.read_text(encoding="utf-8").splitlines()]

    def non_padded(ns: str) -> bool:
        return any(ns.endswith(p[1:]) if p.startswith("*") else ns == p for p in patterns if p)

    vocab = {}
    for f in sorted(folder.iterdir()):
        if f.name.startswith(".") or f.name == pad_file.name or f.suffix != ".txt":
            continue
        lines = f.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
        if lines and lines[-1] == "":
            lines = lines[:-1]
        tokens = [t.replace("@@NEWLINE@@", "\n") for t in lines]
        vocab[f.stem] = tokens if non_padded(f.stem) else ["@@PADDING@@", *tokens]
    return vocab


@dataclass
class Archive:
    """An unpacked archive's configuration, label vocabularies and state dict."""

    folder: Path
    config: dict[str, Any]
    vocabulary: dict[str, list[str]]
    state: dict[str, Any]

    @classmethod
    def load(cls, folder: Path) -> Archive:
        import torch

        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        # weights_only: a checkpoint cannot run code while it loads; there is deliberately no fallback.
        try:
            state = torch.load(folder / "weights.th", map_location="cpu", weights_only=True)
        except Exception:  # noqa: BLE001 - the one-line reason (an unsafe pickle, a corrupt file)
            check_weights(folder)
            raise
        return cls(folder, config, read_vocabulary(folder / "vocabulary"), state)

    @property
    def encoder_name(self) -> str:
        return self.config["model"]["embedder"]["token_embedders"]["bert"]["model_name"]

    @property
    def max_length(self) -> int | None:
        return self.config["model"]["embedder"]["token_embedders"]["bert"].get("max_length")

    @property
    def is_random(self) -> bool:
        return bool(self.config.get("rexeval_random"))
