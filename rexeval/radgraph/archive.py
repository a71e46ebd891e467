"""RadGraph model archives as published on StanfordAIMI/RRG_scorers: ``<model>.tar.gz`` holding
``config.json`` (allennlp configuration), ``vocabulary/`` (label namespaces) and ``weights.th`` (the
DyGIE state dict, encoder included).

Unpacking is safe: every member must be a plain file or folder that lands inside the target folder
(tarfile's ``data`` filter, plus an explicit check), and a folder counts as unpacked only when a marker
written last is present, so an interrupted unpack is redone. Without rexeval's cache the archive goes to
a private ``mkdtemp`` folder removed at exit.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rexeval.exceptions import ConfigError

MEMBERS = ("config.json", "weights.th")
_DONE = ".rexeval-unpacked"


def _check_members(tar: tarfile.TarFile, target: Path, archive: Path) -> None:
    root = target.resolve()
    for m in tar.getmembers():
        dest = (root / m.name).resolve()
        if dest != root and root not in dest.parents:
            raise ConfigError(f"radgraph archive {archive}: member {m.name!r} would land outside {root}")
        if not (m.isfile() or m.isdir()):
            raise ConfigError(f"radgraph archive {archive}: member {m.name!r} is not a plain file or folder")


def unpack(archive: Path, target: Path) -> Path:
    """Unpack ``archive`` into ``target`` once (verified members only); return ``target``."""
    archive, target = Path(archive), Path(target)
    if (target / _DONE).is_file():
        return target
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            _check_members(tar, staging, archive)
            tar.extractall(path=staging, filter="data")
        missing = [m for m in (*MEMBERS, "vocabulary") if not (staging / m).exists()]
        if missing:
            raise ConfigError(f"radgraph archive {archive} lacks {', '.join(missing)}")
        for item in staging.iterdir():
            dest = target / item.name
            if dest.is_dir():
                shutil.rmtree(dest)
            os.replace(item, dest)
        (target / _DONE).write_text(str(archive))
    except tarfile.TarError as exc:
        raise ConfigError(f"radgraph archive {archive} is not a readable .tar.gz: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def unpacked_folder(archive: Path, digest: str, model: str) -> Path:
    """Where ``archive`` is unpacked: ``<cache>/radgraph/<digest>/<model>`` under rexeval's cache (the
    layout the radgraph package takes as model_cache_dir), else a private temp folder removed at exit."""
    from rexeval.cache import cache_dir

    root = cache_dir()
    if root is not None:
        return unpack(archive, Path(root) / "radgraph" / digest / model)
    private = Path(tempfile.mkdtemp(prefix="rexeval-radgraph-"))  # mode 0700, ours alone
    atexit.register(shutil.rmtree, private, True)
    return unpack(archive, private / model)


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
        state = torch.load(folder / "weights.th", map_location="cpu", weights_only=True)
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
