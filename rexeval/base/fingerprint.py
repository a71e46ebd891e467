"""Content hashes: of model files (on-disk caches are keyed by the weights themselves) and of what a run
was scored on (its study ids and reference texts, so runs scored on different inputs are told apart)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

_SHA: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | Path) -> str:
    """sha256 of a file, memoised per process by (path, size, mtime)."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _SHA:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _SHA[key] = h.hexdigest()
    return _SHA[key]


def study_ids_sha256(study_ids: Iterable[str]) -> str:
    """Order-free fingerprint of a set of study ids (a shard, a merge and a single run agree on it)."""
    h = hashlib.sha256()
    for sid in sorted(str(s) for s in study_ids):
        h.update(sid.encode("utf-8") + b"\n")
    return h.hexdigest()


def references_sha256(study_ids: Iterable[str], references: Iterable[str]) -> str:
    """Fingerprint of the reference texts as scored (after track building), keyed by study id."""
    h = hashlib.sha256()
    for sid, ref in sorted(zip(map(str, study_ids), map(str, references), strict=True)):
        h.update(sid.encode("utf-8") + b"\t" + ref.encode("utf-8") + b"\n")
    return h.hexdigest()
