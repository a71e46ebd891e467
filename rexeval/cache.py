"""On-disk cache of per-text results (embeddings, parses) keyed by content hash.

Re-scoring a benchmark then only runs the new predictions: reference-side work is computed once.
Keys are sha256(namespace signature + text), so a change of model, revision or options never returns
a stale value. Storage is one SQLite file (safe across processes) under ``$REXEVAL_CACHE`` or
``~/.cache/rexeval``; ``REXEVAL_CACHE=off`` disables it.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def cache_dir() -> Path | None:
    value = os.environ.get("REXEVAL_CACHE")
    if value and value.lower() in {"off", "0", "none", "false"}:
        return None
    return Path(value) if value else Path.home() / ".cache" / "rexeval"


def text_key(namespace: str, text: str) -> str:
    return hashlib.sha256(f"{namespace}\x00{text}".encode()).hexdigest()


def _dump(value: Any) -> bytes:
    if isinstance(value, np.ndarray):
        buf = io.BytesIO()
        np.save(buf, value, allow_pickle=False)
        return b"N" + buf.getvalue()
    return b"P" + pickle.dumps(value, protocol=4)


def _load(blob: bytes) -> Any:
    if blob[:1] == b"N":
        return np.load(io.BytesIO(blob[1:]), allow_pickle=False)
    return pickle.loads(blob[1:])


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
                self._db.execute("CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value BLOB)")
                self._db.commit()
            except (OSError, sqlite3.Error):
                self._db = None  # a read-only home must not stop scoring; memory cache still works
        self.hits = 0
        self.misses = 0

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
                        f"SELECT key, value FROM cache WHERE key IN ({','.join('?' * len(chunk))})", chunk
                    ).fetchall()
                    for k, blob in rows:
                        value = _load(blob)
                        self._memory[k] = value
                        found[want[k]] = value
        return found

    def put_many(self, items: dict[str, Any]) -> None:
        rows = []
        for t, value in items.items():
            k = text_key(self.namespace, t)
            self._memory[k] = value
            rows.append((k, _dump(value)))
        if rows and self._db is not None:
            with self._lock:
                self._db.executemany("INSERT OR REPLACE INTO cache (key, value) VALUES (?, ?)", rows)
                self._db.commit()

    def compute(self, texts: Sequence[str], fn: Callable[[list[str]], Sequence[Any]]) -> list[Any]:
        """Values for ``texts`` (in order), calling ``fn`` once on the distinct texts not yet cached."""
        unique = list(dict.fromkeys(texts))
        found = self.get_many(unique)
        todo = [t for t in unique if t not in found]
        self.hits += len(unique) - len(todo)
        self.misses += len(todo)
        if todo:
            new = dict(zip(todo, fn(todo)))
            self.put_many(new)
            found.update(new)
        return [found[t] for t in texts]
