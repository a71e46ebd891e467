"""Persistent cache of LLM answers (one SQLite file), so a rerun costs nothing and a killed run resumes.

A row is keyed by sha256 of the JSON of the caller's key parts (for a judge: model, prompt version and
hash, reference, candidate, sampling settings). Only answers that were accepted (parsed) are stored, and
each is committed the moment it arrives: a run killed after N answers leaves exactly those N rows, and
the next run sends only the missing requests. Failures are never cached; they are retried next time.

Every row is checked against the key it is looked up by: ``check_ = sha256(key, answer, counts, model)``
(rows of older rexeval versions, which have none, are checked by re-hashing their stored key parts). A
row that fails the check (copied under another key, edited, truncated) is ignored and asked again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rexeval.base.cache import cache_dir


def request_key(parts: Any) -> str:
    """Stable key of JSON-serialisable key parts (dict keys sorted)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedAnswer:
    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str | None


def _check(key: str, text: str, prompt_tokens: int | None, completion_tokens: int | None, model: str | None) -> str:
    blob = json.dumps([key, text, prompt_tokens or 0, completion_tokens or 0, model], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _legacy_row_matches(key: str, parts: str | None) -> bool:
    """A row written before ``check_`` existed: its stored key parts must hash to its key."""
    if not parts:
        return False
    try:
        return request_key(json.loads(parts)) == key
    except ValueError:  # truncated or edited parts
        return False


def default_path() -> Path | None:
    d = cache_dir()
    return None if d is None else d / "llm.sqlite"


class AnswerCache:
    """key -> accepted answer text (+ token counts). ``path=None`` keeps it in memory only."""

    def __init__(self, path: str | Path | None | object = "default") -> None:
        path = default_path() if path == "default" else path
        self.path = None if path is None else Path(path)  # type: ignore[arg-type]
        self._lock = threading.Lock()
        self._memory: dict[str, CachedAnswer] = {}
        self._db: sqlite3.Connection | None = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")  # readers (a second run) never block the writer
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, text TEXT NOT NULL, "
                "prompt_tokens INTEGER, completion_tokens INTEGER, model TEXT, created REAL, parts TEXT)"
            )
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(answers)")}
            if "check_" not in columns:
                self._db.execute("ALTER TABLE answers ADD COLUMN check_ TEXT")
            self._db.commit()
        #: rows found on disk that failed their check (asked again)
        self.rejected = 0

    def get_many(self, keys: list[str]) -> dict[str, CachedAnswer]:
        found = {k: self._memory[k] for k in keys if k in self._memory}
        want = [k for k in keys if k not in found]
        if want and self._db is not None:
            with self._lock:
                for i in range(0, len(want), 500):
                    chunk = want[i : i + 500]
                    rows = self._db.execute(
                        "SELECT key, text, prompt_tokens, completion_tokens, model, check_, parts FROM answers "
                        f"WHERE key IN ({','.join('?' * len(chunk))})",
                        chunk,
                    ).fetchall()
                    for k, text, pt, ct, model, check, parts in rows:
                        ok = check == _check(k, text, pt, ct, model) if check else _legacy_row_matches(k, parts)
                        if not ok or not isinstance(text, str):
                            self.rejected += 1
                            continue
                        found[k] = self._memory[k] = CachedAnswer(text, pt or 0, ct or 0, model)
        return found

    def put(self, key: str, answer: CachedAnswer, parts: Any = None) -> None:
        """Store and commit one accepted answer now (this is what makes an interrupted run resumable)."""
        self._memory[key] = answer
        if self._db is None:
            return
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO answers (key, text, prompt_tokens, completion_tokens, model, created, parts, "
                "check_) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, answer.text, answer.prompt_tokens, answer.completion_tokens, answer.model, time.time(),
                 None if parts is None else json.dumps(parts, ensure_ascii=False, default=str)[:10000],
                 _check(key, answer.text, answer.prompt_tokens, answer.completion_tokens, answer.model)),
            )
            self._db.commit()

    def __len__(self) -> int:
        if self._db is None:
            return len(self._memory)
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
