"""Nearest-neighbour search for the retrieval baseline: TF-IDF / BM25 over text, cosine over embeddings.

Written with numpy/scipy only (no scikit-learn in core). Scores are exact and deterministic; ties go to
the lowest TRAIN position, so the same TRAIN order gives the same neighbours everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from rexeval.base.exceptions import InputError

_TOKEN = re.compile(r"[a-z0-9]+")
#: Words that carry no information about the patient: the IU anonymisation token, the section labels
#: that every ReXrank context carries, the literal None for a missing section, and common function words.
STOPWORDS = frozenset(
    """xxxx indication indications comparison comparisons none history a an the of and or for with to in on
    at by is are was were be as from this that no not yes""".split()
)

METHODS = ("tfidf", "bm25")


def tokenize(text: str | None) -> list[str]:
    if not text:
        return []
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


class TextIndex:
    """An index over TRAIN context texts; :meth:`best` returns each query's nearest TRAIN document.

    tfidf: sublinear tf (1 + ln tf), idf = ln((1 + N) / (1 + df)) + 1, L2-normalised rows, cosine.
    bm25: Okapi BM25 (k1 = 1.2, b = 0.75, idf = ln(1 + (N - df + 0.5) / (df + 0.5))), each distinct
    query term counted once.
    """

    def __init__(self, docs: Sequence[str | None], method: str = "tfidf", k1: float = 1.2, b: float = 0.75):
        if method not in METHODS:
            raise InputError(f"unknown retrieval method {method!r}; use one of {', '.join(METHODS)}")
        self.method, self.k1, self.b = method, k1, b
        tokens = [tokenize(d) for d in docs]
        vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for i, toks in enumerate(tokens):
            counts: dict[int, int] = {}
            for t in toks:
                j = vocab.setdefault(t, len(vocab))
                counts[j] = counts.get(j, 0) + 1
            for j, c in sorted(counts.items()):
                rows.append(i)
                cols.append(j)
                vals.append(c)
        self.vocab = vocab
        n = len(tokens)
        tf = sp.csr_matrix((np.asarray(vals, float), (rows, cols)), shape=(n, len(vocab)))
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(vocab)).astype(float)
        self.n_docs = n
        if method == "tfidf":
            self.idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
            w = tf.copy()
            w.data = 1.0 + np.log(w.data)
            w = w.multiply(self.idf[None, :]).tocsr()
            norms = np.sqrt(np.asarray(w.multiply(w).sum(axis=1)).ravel())
            norms[norms == 0] = 1.0
            self.matrix = sp.diags(1.0 / norms) @ w
        else:
            self.idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
            lengths = np.asarray(tf.sum(axis=1)).ravel()
            avg = lengths.mean() if n and lengths.mean() > 0 else 1.0
            tf = tf.tocoo()
            denom = tf.data + k1 * (1.0 - b + b * lengths[tf.row] / avg)
            data = self.idf[tf.col] * tf.data * (k1 + 1.0) / denom
            self.matrix = sp.csr_matrix((data, (tf.row, tf.col)), shape=tf.shape)
        self.matrix = sp.csr_matrix(self.matrix)

    def _query_matrix(self, queries: Sequence[str | None]) -> sp.csr_matrix:
        rows, cols, vals = [], [], []
        for i, q in enumerate(queries):
            counts: dict[int, int] = {}
            for t in tokenize(q):
                j = self.vocab.get(t)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            for j, c in sorted(counts.items()):
                rows.append(i)
                cols.append(j)
                vals.append(c)
        q = sp.csr_matrix((np.asarray(vals, float), (rows, cols)), shape=(len(queries), len(self.vocab)))
        if self.method == "tfidf":
            q.data = 1.0 + np.log(q.data)
            q = q.multiply(self.idf[None, :]).tocsr()
            norms = np.sqrt(np.asarray(q.multiply(q).sum(axis=1)).ravel())
            norms[norms == 0] = 1.0
            return sp.csr_matrix(sp.diags(1.0 / norms) @ q)
        q.data = np.ones_like(q.data)  # BM25: each distinct query term once
        return q

    def scores(self, queries: Sequence[str | None]) -> np.ndarray:
        """(n_queries, n_docs) similarity matrix (dense; TRAIN corpora here are thousands of reports)."""
        return np.asarray((self._query_matrix(queries) @ self.matrix.T).todense())

    def best(self, queries: Sequence[str | None], chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """Index of the best TRAIN document per query (lowest index on ties) and its score."""
        idx = np.empty(len(queries), dtype=np.int64)
        top = np.empty(len(queries), dtype=float)
        for start in range(0, len(queries), chunk):
            s = self.scores(queries[start : start + chunk])
            # Round away float noise so that documents with the same score tie exactly.
            s = np.round(s, 12)
            idx[start : start + len(s)] = np.argmax(s, axis=1) if s.shape[1] else 0
            top[start : start + len(s)] = s.max(axis=1) if s.shape[1] else 0.0
        return idx, top


# ------------------------------------------------------------------------------------ image embeddings


def load_embeddings(source: str | Path | Mapping[str, Sequence[float]]) -> dict[str, np.ndarray]:
    """Image (or any) embeddings keyed by study id.

    Accepts a mapping, an ``.npz`` with arrays ``ids`` and ``embeddings`` (n, d), or a table (CSV/
    Parquet/JSONL) with ``study_id`` and one numeric column per dimension.
    """
    if isinstance(source, Mapping):
        return {str(k): np.asarray(v, dtype=float) for k, v in source.items()}
    path = Path(source)
    if not path.exists():
        raise InputError("embedding file not found", path=str(path))
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            if "ids" not in data or "embeddings" not in data:
                raise InputError("an .npz of embeddings needs arrays 'ids' and 'embeddings'", path=str(path))
            ids, emb = data["ids"], np.asarray(data["embeddings"], dtype=float)
        if emb.ndim != 2 or len(ids) != len(emb):
            raise InputError(f"'embeddings' must be (n, d) with n = len(ids); got {emb.shape} for {len(ids)} ids", path=str(path))
        return {str(i): e for i, e in zip(ids.tolist(), emb, strict=False)}
    from rexeval.base.io import read_table

    frame = read_table(path)
    id_col = next((c for c in frame.columns if str(c).lower() in ("study_id", "id")), None)
    if id_col is None:
        raise InputError("embedding table needs a study_id column", path=str(path))
    dims = [c for c in frame.columns if c not in (id_col, "_row")]
    out = {}
    for _, rec in frame.iterrows():
        try:
            out[str(rec[id_col])] = np.asarray([float(rec[c]) for c in dims], dtype=float)
        except (TypeError, ValueError):
            raise InputError("embedding values must be numbers", path=str(path), row=int(rec["_row"])) from None
    return out


def nearest_by_embedding(
    train_vectors: np.ndarray, query_vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine nearest neighbour (lowest index on ties)."""
    if train_vectors.shape[1] != query_vectors.shape[1]:
        raise InputError(
            f"TRAIN and TEST embeddings differ in dimension ({train_vectors.shape[1]} vs {query_vectors.shape[1]})"
        )

    def unit(m: np.ndarray) -> np.ndarray:
        n = np.linalg.norm(m, axis=1, keepdims=True)
        n[n == 0] = 1.0
        return m / n

    s = np.round(unit(query_vectors) @ unit(train_vectors).T, 12)
    return np.argmax(s, axis=1), s.max(axis=1)
