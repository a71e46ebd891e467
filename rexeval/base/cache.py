"""On-disk cache of per-text results (embeddings, parses) keyed by content hash.

Re-scoring a benchmark then only runs the new predictions: reference-side work is computed once.
Keys are sha256(namespace signature + text), so a change of model, revision or options never returns
a stale value. Storage is one SQLite file (safe across processes) under ``$REXEVAL_CACHE`` or
``~/.cache/rexeval``; ``REXEVAL_CACHE=off`` disables it.

The file holds data only, never a pickle: a value is a numpy array (``np.save`` without pickle) or
JSON (tuples and numeric arrays inside it are tagged so they come back as they went in). Each row also
stores ``check = sha256(key + value bytes)``: a row whose check does not match its key (copied from
another text, truncated, hand-edited, or written by an older rexeval as a pickle) is ignored and
recomputed. Reading a row never executes anything.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Tags of the JSON encoding for values JSON has no type for.
_TUPLE = "\x00tuple"
_ARRAY = "\x00ndarray"


def cache_dir() -> Path | None:
    value = os.environ.get("REXEVAL_CACHE")
    if value and value.lower() in {"off", "0", "none", "false"}:
        return None
    return Path(value) if value else Path.home() / ".cache" / "rexeval"


def text_key(namespace: str, text: str) -> str:
    return hashlib.sha256(f"{namespace}\x00{text}".encode()).hexdigest()


def _check(key: str, blob: bytes) -> str:
    return hashlib.sha256(key.encode() + b"\x00" + blob).hexdigest()


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)  # object arrays raise here: they are not data
    return buf.getvalue()


def _to_json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {_ARRAY: base64.b64encode(_npy(value)).decode("ascii")}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {_TUPLE: [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        if _TUPLE in value or _ARRAY in value:
            raise TypeError("a cached dict may not use the cache's own tag keys")
        return {str(k): _to_json(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"the text cache stores data only (arrays, JSON values), not {type(value).__name__}")


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and _TUPLE in value:
            return tuple(_from_json(v) for v in value[_TUPLE])
        if len(value) == 1 and _ARRAY in value:
            return np.load(io.BytesIO(base64.b64decode(value[_ARRAY])), allow_pickle=False)
        return {k: _from_json(v) for k, v in value.items()}
    return value


def _dump(value: Any) -> bytes:
    if isinstance(value, np.ndarray):
        return b"N" + _npy(value)
    return b"J" + json.dumps(_to_json(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _load(blob: bytes) -> Any:
    """Decode a stored value; ValueError for anything that is not one of the two data formats."""
    kind, body = blob[:1], blob[1:]
    if kind == b"N":
        return np.load(io.BytesIO(body), allow_pickle=False)
    if kind == b"J":
        return _from_json(json.loads(body.decode("utf-8")))
    raise ValueError("not a data entry")  # e.g. b"P" + pickle from rexeval <= 0.x: never unpickled


class TextCache:
    """Map text -> value for one namespace (e.g. ``"chexbert|<revision>|cls"``), memory + disk."""

    def __init__(self, namespace: str, directory: Path | None | str = "default") -> None:
        self.namespace = namespace
        self._memory: dict[str, Any] = {}
        self._lock = threading.Lock()
        directory = cache_dir() if directory == "default" else directory
        self._db: sqlite3.Connection | None = None
        if directory is not None:
            try:
                Path(directory).mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(Path(directory) / "textcache.sqlite"), timeout=60, check_same_thread=False)
                # the data-only table (rows of the old pickle table "cache" are never read)
                self._db.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB, check_ TEXT)")
                self._db.commit()
            except (OSError, sqlite3.Error):
                self._db = None  # a read-only home must not stop scoring; memory cache still works
        self.hits = 0
        self.misses = 0
        #: rows found on disk but ignored (check mismatch or undecodable); they are recomputed
        self.rejected = 0

    def get_many(self, texts: Iterable[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        want: dict[str, str] = {}
        for t in texts:
            k = text_key(self.namespace, t)
            if k in self._memory:
                found[t] = self._memory[k]
            else:
                want[k] = t
        if want and self._db is not None:
            keys = list(want)
            with self._lock:
                for i in range(0, len(keys), 500):
                    chunk = keys[i : i + 500]
                    rows = self._db.execute(
                        f"SELECT key, value, check_ FROM entries WHERE key IN ({','.join('?' * len(chunk))})", chunk
                    ).fetchall()
                    for k, blob, check in rows:
                        if not isinstance(blob, bytes) or check != _check(k, blob):
                            self.rejected += 1
                            continue
                        try:
                            value = _load(blob)
                        except (ValueError, UnicodeDecodeError, EOFError, OSError):
                            self.rejected += 1
                            continue
                        self._memory[k] = value
                        found[want[k]] = value
        return found

    def put_many(self, items: dict[str, Any]) -> None:
        rows = []
        for t, value in items.items():
            k = text_key(self.namespace, t)
            self._memory[k] = value
            blob = _dump(value)
            rows.append((k, blob, _check(k, blob)))
        if rows and self._db is not None:
            with self._lock:
                try:
                    self._db.executemany("INSERT OR REPLACE INTO entries (key, value, check_) VALUES (?, ?, ?)", rows)
                    self._db.commit()
                except sqlite3.Error:
                    # another writer held the file past the timeout (or the disk is full): the values stay in
                    # memory for this run and are recomputed by a later one; a cache never fails a score
                    self._db.rollback()

    def compute(self, texts: Sequence[str], fn: Callable[[list[str]], Sequence[Any]],
                progress: Callable[[int], None] | None = None) -> list[Any]:
        """Values for ``texts`` (in order), calling ``fn`` once on the distinct texts not yet cached.
        ``progress`` (of a caller counting distinct texts) is told of the cached ones before ``fn`` runs."""
        unique = list(dict.fromkeys(texts))
        found = self.get_many(unique)
        todo = [t for t in unique if t not in found]
        self.hits += len(unique) - len(todo)
        self.misses += len(todo)
        if progress and len(found):
            progress(len(found))
        if todo:
            new = dict(zip(todo, fn(todo)))
            self.put_many(new)
            found.update(new)
        return [found[t] for t in texts]
