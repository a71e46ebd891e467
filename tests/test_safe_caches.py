"""The on-disk caches hold data only: a planted pickle is never executed, a mismatched row is recomputed."""

from __future__ import annotations

import os
import pickle
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from rexeval.base.cache import TextCache


class _Payload:
    """Unpickling this runs a shell command that creates ``marker`` (the attack the issue reproduced)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _tables(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        return [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]


def _value_columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in con.execute(f"PRAGMA table_info({table})") if r[1] != "key"]


def test_planted_pickle_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    calls: list[list[str]] = []

    def embed(todo):
        calls.append(list(todo))
        return [np.full(3, len(t), np.float32) for t in todo]

    TextCache("ns", tmp_path).compute(["a", "bb"], embed)
    db = tmp_path / "textcache.sqlite"
    # overwrite every stored value, in whatever table the cache uses, with a pickle that runs a command
    evil = b"P" + pickle.dumps(_Payload(marker), protocol=4)
    with sqlite3.connect(db) as con:
        for table in _tables(db):
            con.execute(f"UPDATE {table} SET value = ?", (evil,))
    cache = TextCache("ns", tmp_path)
    values = cache.compute(["a", "bb"], embed)
    assert not marker.exists(), "reading the cache executed a planted pickle"
    assert [v.tolist() for v in values] == [[1, 1, 1], [2, 2, 2]]
    assert calls[-1] == ["a", "bb"]  # the poisoned rows were recomputed, not used


def test_a_row_copied_under_another_key_is_recomputed(tmp_path):
    def length(todo):
        return [np.array([len(t)], np.int64) for t in todo]

    TextCache("ns", tmp_path).compute(["short", "a much longer text"], length)
    db = tmp_path / "textcache.sqlite"
    from rexeval.base.cache import text_key

    k_short, k_long = text_key("ns", "short"), text_key("ns", "a much longer text")
    with sqlite3.connect(db) as con:
        for table in _tables(db):
            cols = _value_columns(con, table)
            row = con.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE key = ?", (k_long,)).fetchone()
            if row is None:
                continue
            con.execute(f"UPDATE {table} SET {', '.join(c + ' = ?' for c in cols)} WHERE key = ?", (*row, k_short))
    recomputed: list[str] = []

    def length_logged(todo):
        recomputed.extend(todo)
        return length(todo)

    values = TextCache("ns", tmp_path).compute(["short", "a much longer text"], length_logged)
    assert [int(v[0]) for v in values] == [5, 18]
    assert recomputed == ["short"]


def test_values_come_back_as_they_went_in(tmp_path):
    # the shapes the metrics cache: arrays (CheXbert, BERTScore), entity tuples (RaTEScore), parse dicts
    # (RadGraph, with None for a failed parse)
    values = {
        "emb": np.arange(6, dtype=np.float32).reshape(2, 3),
        "ents": [("left effusion", "ABNORMALITY"), ("lung", "ANATOMY")],
        "parse": {"text": "x", "entities": {"1": {"tokens": "x", "label": "OBS-DP", "relations": [["modify", "2"]]}}},
        "failed": None,
        "mixed": {"vec": np.array([1.5, np.nan]), "n": np.int64(3), "pair": (1, "a")},
    }
    TextCache("ns", tmp_path).put_many(values)
    got = TextCache("ns", tmp_path).get_many(list(values))
    np.testing.assert_array_equal(got["emb"], values["emb"])
    assert got["emb"].dtype == np.float32
    assert got["ents"] == values["ents"] and isinstance(got["ents"][0], tuple)
    assert got["parse"] == values["parse"]
    assert "failed" in got and got["failed"] is None
    np.testing.assert_array_equal(got["mixed"]["vec"], values["mixed"]["vec"])
    assert got["mixed"]["n"] == 3 and got["mixed"]["pair"] == (1, "a")


def test_non_data_values_are_refused(tmp_path):
    with pytest.raises(TypeError, match="data only"):
        TextCache("ns", tmp_path).put_many({"x": object()})
    with pytest.raises(ValueError):
        TextCache("ns", tmp_path).put_many({"x": np.array([object()], dtype=object)})


def test_llm_answer_cache_ignores_a_row_stored_under_another_key(tmp_path):
    from rexeval.backends.llm.cache import AnswerCache, CachedAnswer, request_key

    path = tmp_path / "llm.sqlite"
    cache = AnswerCache(path)
    k1, k2 = request_key({"candidate": "one"}), request_key({"candidate": "two"})
    cache.put(k1, CachedAnswer("answer for one", 1, 1, "m"), {"candidate": "one"})
    cache.put(k2, CachedAnswer("answer for two", 1, 1, "m"), {"candidate": "two"})
    cache.close()
    with sqlite3.connect(path) as con:
        cols = _value_columns(con, "answers")
        row = con.execute(f"SELECT {', '.join(cols)} FROM answers WHERE key = ?", (k2,)).fetchone()
        con.execute(f"UPDATE answers SET {', '.join(c + ' = ?' for c in cols)} WHERE key = ?", (*row, k1))
    got = AnswerCache(path).get_many([k1, k2])
    assert k1 not in got  # asked again instead of answering "one" with two's answer
    assert got[k2].text == "answer for two"
