"""The five baselines and the common run: load, keep TEST out of TRAIN, predict, record metadata."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from baselines import oracle, priors, retrieval
from baselines.data import (
    Corpus,
    context_texts,
    corpus_fingerprint,
    exclude_studies,
    load_table,
    sibling_split_files,
    track_texts,
)
from rexeval._version import __version__
from rexeval.base.exceptions import ConfigError, InputError
from rexeval.base.io import write_meta, write_table
from rexeval.base.text import collapse_whitespace

BASELINES = ("copy-prior", "template", "random", "retrieval", "oracle-labels")
NO_PRIOR_POLICIES = ("template", "drop", "error")
NO_CONTEXT_POLICIES = ("template", "random", "error")
NORMAL_BY = ("auto", "column", "labeler", "frequency")
ORACLE_SUFFIX = " (ORACLE)"


@dataclass
class BaselineRun:
    """A baseline's predictions (``study_id``, ``report``, TEST order) and its run metadata."""

    predictions: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        write_table(self.predictions, path)
        write_meta(path, self.meta)
        return path


@dataclass
class Train:
    """The TRAIN studies a baseline may copy from: ids, track texts and contexts (no empty text)."""

    corpus: Corpus
    ids: list[str]
    texts: list[str]
    contexts: list[str | None]
    positions: list[int]  # row of each kept study in corpus.frame
    info: dict[str, Any]


def normalise(text: str) -> str:
    """The template's grouping key: lower case, whitespace collapsed."""
    return collapse_whitespace(text).lower()


# ------------------------------------------------------------------------------------------ preparing


def prepare_train(
    train: Corpus | str | Path | pd.DataFrame,
    test: Corpus,
    track: str,
    exclude: Sequence[str | Path] = (),
    auto_exclude_splits: bool = True,
) -> Train:
    """Load TRAIN, leave out every TEST study (and the excluded ones), keep studies with track text.

    Leaks are prevented by id: exact ids and IU report numbers (``CXR3030_IM-1405`` ~ ``CXR3030``).
    With ``auto_exclude_splits`` the sibling ReXrank split of a TEST file (``..._valid.json`` beside
    ``..._test.json`` and vice versa) is left out as well.
    """
    corpus = train if isinstance(train, Corpus) else load_table(train, "TRAIN")
    corpus = exclude_studies(corpus, test.study_ids, reason="excluded_test_studies")
    files: list[Path] = []
    ids: list[str] = []
    for item in exclude:
        p = Path(item)
        if p.exists():
            files.append(p)
        else:
            ids.append(str(item))
    if auto_exclude_splits and not test.source.startswith("<"):
        files += [f for f in sibling_split_files(test.source) if f not in files]
    for f in files:
        ids += load_table(f, "EXCLUDE").study_ids
    if ids:
        corpus = exclude_studies(corpus, ids, reason="excluded_other_studies")
    texts = track_texts(corpus, track)
    contexts = context_texts(corpus)
    keep = [i for i, t in enumerate(texts) if t]
    kept_ids = [corpus.frame["study_id"].iloc[i] for i in keep]
    kept_texts = [texts[i] for i in keep]  # type: ignore[misc]
    dropped = [corpus.frame["study_id"].iloc[i] for i, t in enumerate(texts) if not t]
    info = {
        "source": corpus.info.get("source", corpus.source),
        "source_sha256": corpus.info.get("sha256"),
        "exclude_files": [str(f) for f in files],
        "n_excluded_test_studies": corpus.info.get("n_excluded_test_studies", 0),
        "n_excluded_other_studies": corpus.info.get("n_excluded_other_studies", 0),
        "n_dropped_no_text": len(dropped),
        "dropped_no_text": dropped,
        "track": track,
        "n_used": len(keep),
        "corpus_hash": corpus_fingerprint(kept_ids, kept_texts),
    }
    return Train(corpus, kept_ids, kept_texts, [contexts[i] for i in keep], keep, info)


# ------------------------------------------------------------------------------------------- template


def _labeler(name: str):
    try:
        from rexeval.backends.labelers import get_labeler  # type: ignore[import-not-found]
    except ImportError:
        return None
    return get_labeler(name)


#: TRAIN label matrix by (corpus hash, labeler signature): several baselines on one TRAIN label it once.
_LABEL_CACHE: dict[tuple[str, str], np.ndarray] = {}


def _labeler_signature(lab, name: str) -> str:
    try:
        return str(lab.signature())
    except Exception:  # a labeler without a signature still names itself
        return f"labeler:{name}"


def _no_finding_index(labeler) -> int:
    try:
        from rexeval.backends.labelers import CONDITIONS  # type: ignore[import-not-found]
    except ImportError:
        CONDITIONS = oracle.CONDITIONS
    return list(CONDITIONS).index("No Finding")


def _column_flags(values: Sequence[Any]) -> list[bool]:
    out = []
    for v in values:
        try:
            out.append(float(v) == 1.0)
        except (TypeError, ValueError):
            out.append(False)
    return out


def normal_mask(train: Train, normal_by: str = "auto", labeler: str = "rules") -> tuple[list[bool], str]:
    """Which TRAIN reports are normal, and how that was decided.

    column: a ``No Finding`` column in TRAIN equal to 1. labeler: the condition labeler's "No Finding"
    (``rexeval.backends.labelers``). frequency: every report is a candidate (no normality test). auto: column if
    present, else the labeler if installed, else frequency.
    """
    if normal_by not in NORMAL_BY:
        raise ConfigError(f"normal_by must be one of {', '.join(NORMAL_BY)}, not {normal_by!r}")
    frame = train.corpus.frame
    col = next((c for c in frame.columns if str(c).strip().lower() == "no finding"), None)
    if normal_by in ("auto", "column") and col is not None:
        flags = _column_flags(frame[col].iloc[train.positions].tolist())
        return flags, f"TRAIN column {col!r} == 1"
    if normal_by == "column":
        raise InputError("normal_by='column' needs a 'No Finding' column in TRAIN", path=train.corpus.source)
    if normal_by in ("auto", "labeler"):
        lab = _labeler(labeler)
        if lab is not None:
            key = (train.info["corpus_hash"], _labeler_signature(lab, labeler))
            if key not in _LABEL_CACHE:
                _LABEL_CACHE.clear()  # one TRAIN corpus at a time is enough
                _LABEL_CACHE[key] = np.asarray(lab.label(train.texts), dtype=float)
            labels = _LABEL_CACHE[key]
            flags = (labels[:, _no_finding_index(lab)] == 1).tolist()
            return flags, f"{_labeler_signature(lab, labeler)}: No Finding == 1"
        if normal_by == "labeler":
            raise ConfigError("normal_by='labeler' needs rexeval.backends.labelers (the condition labeler), not installed here")
    return [True] * len(train.texts), "frequency (no normality test: no 'No Finding' column or labeler)"


def most_frequent(texts: Sequence[str]) -> tuple[str, int]:
    """The most frequent text by :func:`normalise`; its most frequent spelling. Ties: first seen."""
    groups: dict[str, Counter] = {}
    first: dict[str, int] = {}
    for i, t in enumerate(texts):
        key = normalise(t)
        groups.setdefault(key, Counter())[t] += 1
        first.setdefault(key, i)
    key = max(groups, key=lambda k: (sum(groups[k].values()), -first[k]))
    spellings = groups[key]
    order = {t: i for i, t in reversed(list(enumerate(texts)))}
    text = max(spellings, key=lambda t: (spellings[t], -order[t]))
    return text, sum(spellings.values())


def template_report(train: Train, normal_by: str = "auto", labeler: str = "rules") -> tuple[str, dict[str, Any]]:
    flags, how = normal_mask(train, normal_by, labeler)
    normals = [t for t, ok in zip(train.texts, flags, strict=False) if ok]
    if not normals:
        raise InputError(
            f"TRAIN has no normal report ({how}; {len(train.texts)} reports), so there is no normal template; "
            "use normal_by='frequency' (--normal-by frequency) to take the most frequent report instead",
            path=train.corpus.source,
        )
    text, count = most_frequent(normals)
    return text, {"normal_by": how, "n_normal": len(normals), "template_count": count, "template": text}


# ------------------------------------------------------------------------------------------- baselines


def _pick_random(study_id: str, seed: int, n: int) -> int:
    """A TRAIN index drawn from (seed, study id) alone: a study's draw never depends on the others."""
    digest = hashlib.sha256(f"{seed}\x00{study_id}".encode()).digest()
    return int(np.random.default_rng(int.from_bytes(digest[:8], "little")).integers(n))


def _fallback(policy: str, sid: str, train: Train, seed: int, template: str | None) -> str:
    if policy == "random":
        return train.texts[_pick_random(sid, seed, len(train.texts))]
    assert template is not None
    return template


def run_baseline(
    name: str,
    test: str | Path | pd.DataFrame | Corpus,
    train: str | Path | pd.DataFrame | Corpus | Train | None = None,
    *,
    track: str = "findings",
    seed: int = 0,
    exclude: Sequence[str | Path] = (),
    auto_exclude_splits: bool = True,
    normal_by: str = "auto",
    labeler: str = "rules",
    method: str = "tfidf",
    no_context: str = "template",
    no_prior: str = "template",
    train_embeddings: str | Path | Mapping[str, Sequence[float]] | None = None,
    test_embeddings: str | Path | Mapping[str, Sequence[float]] | None = None,
) -> BaselineRun:
    """Run one baseline on TEST, copying from TRAIN. Returns predictions + metadata (see README)."""
    if name not in BASELINES:
        raise ConfigError(f"unknown baseline {name!r}; use one of {', '.join(BASELINES)}")
    if no_prior not in NO_PRIOR_POLICIES:
        raise ConfigError(f"no_prior must be one of {', '.join(NO_PRIOR_POLICIES)}, not {no_prior!r}")
    if no_context not in NO_CONTEXT_POLICIES:
        raise ConfigError(f"no_context must be one of {', '.join(NO_CONTEXT_POLICIES)}, not {no_context!r}")
    test_c = test if isinstance(test, Corpus) else load_table(test, "TEST")
    params: dict[str, Any] = {}
    meta: dict[str, Any] = {
        "name": name,
        "baseline": name,
        "oracle": name == "oracle-labels",
        "track": track,
        "seed": seed,
        "test": {"source": test_c.source, "sha256": test_c.info.get("sha256"), "n_studies": len(test_c)},
        "rexeval_version": __version__,
    }
    # copy-prior needs TRAIN only for the template fallback, i.e. only if some study has no prior.
    needs_train = name in ("template", "random", "retrieval")
    tr: Train | None = None
    if isinstance(train, Train):
        # Prepared once by the caller for several baselines on the same TEST (see leaderboards/).
        if len(exclude_studies(train.corpus, test_c.study_ids)) != len(train.corpus):
            raise InputError("the prepared TRAIN contains TEST studies; prepare it with prepare_train(train, test)")
        if train.info.get("track") != track:
            raise ConfigError(f"TRAIN was prepared for track {train.info.get('track')!r}, not {track!r}")
        tr = train
        meta["train"] = tr.info
    elif train is not None:
        tr = prepare_train(train, test_c, track, exclude, auto_exclude_splits)
        if not tr.texts and needs_train:
            raise InputError(f"TRAIN has no study with text for track {track!r}", path=tr.corpus.source)
        meta["train"] = tr.info
    elif needs_train:
        raise ConfigError(f"baseline {name!r} needs TRAIN (--train)")

    sids = test_c.study_ids
    reports: list[str | None]
    template: str | None = None

    def get_template() -> str:
        nonlocal template
        if template is None:
            if tr is None:
                raise ConfigError(
                    f"baseline {name!r} needs TRAIN (--train) for its template fallback; "
                    "pass TRAIN or choose another policy (--no-prior drop / error)"
                )
            template, tinfo = template_report(tr, normal_by, labeler)
            meta["template"] = tinfo
            params.update(normal_by=normal_by, labeler=labeler)
        return template

    if name == "template":
        reports = [get_template()] * len(sids)
    elif name == "random":
        assert tr is not None
        picks = [_pick_random(s, seed, len(tr.texts)) for s in sids]
        reports = [tr.texts[i] for i in picks]
        meta["source_study_ids"] = [tr.ids[i] for i in picks]
    elif name == "retrieval":
        assert tr is not None
        params.update(method="embedding" if train_embeddings is not None else method, no_context=no_context)
        reports, sources, fallback_ids = _retrieve(
            tr, test_c, sids, method, train_embeddings, test_embeddings, no_context, seed, get_template
        )
        meta["source_study_ids"] = sources
        meta["no_context"] = {"policy": no_context, "count": len(fallback_ids), "study_ids": fallback_ids}
    elif name == "copy-prior":
        found = priors.find_priors(test_c, tr.corpus if tr else None, track)
        reports, missing = [], []
        for sid, p in zip(sids, found, strict=False):
            if p.text:
                reports.append(p.text)
                continue
            missing.append(sid)
            if no_prior == "error":
                raise InputError("no prior report for this study (no_prior='error')", path=test_c.source, study_id=sid)
            reports.append(get_template() if no_prior == "template" else None)
        params["no_prior"] = no_prior
        meta["prior_policy"] = no_prior
        meta["prior_sources"] = [p.source for p in found]
        meta["no_prior"] = {"policy": no_prior, "count": len(missing), "study_ids": missing}
    else:  # oracle-labels
        reports, how = _oracle_reports(test_c, track, labeler)
        params.update(labels_from=how)
        meta["name"] = name + ORACLE_SUFFIX
        meta["oracle_note"] = "built from the reference's own condition labels: an upper bound, not a model"

    keep = [i for i, r in enumerate(reports) if r is not None]
    preds = pd.DataFrame({"study_id": [sids[i] for i in keep], "report": [reports[i] for i in keep]})
    meta["parameters"] = params
    meta["n_predictions"] = len(preds)
    return BaselineRun(preds, meta)


def _retrieve(tr, test_c, sids, method, train_emb, test_emb, no_context, seed, get_template):
    n = len(sids)
    best = np.full(n, -1, dtype=np.int64)
    score = np.zeros(n)
    if train_emb is not None or test_emb is not None:
        if train_emb is None or test_emb is None:
            raise ConfigError("embedding retrieval needs both TRAIN and TEST embeddings")
        tr_map, te_map = retrieval.load_embeddings(train_emb), retrieval.load_embeddings(test_emb)
        have = [i for i, s in enumerate(tr.ids) if s in tr_map]
        if not have:
            raise InputError("no TRAIN study has an embedding (ids must match TRAIN study ids)")
        mat = np.stack([tr_map[tr.ids[i]] for i in have])
        q_idx = [i for i, s in enumerate(sids) if s in te_map]
        if q_idx:
            idx, top = retrieval.nearest_by_embedding(mat, np.stack([te_map[sids[i]] for i in q_idx]))
            best[q_idx] = np.asarray(have)[idx]
            score[q_idx] = top
        usable = np.zeros(n, dtype=bool)
        usable[q_idx] = True
    else:
        docs_ok = [i for i, c in enumerate(tr.contexts) if c]
        if not docs_ok:
            raise InputError("no TRAIN study has a context/indication to retrieve on", path=tr.corpus.source)
        index = retrieval.TextIndex([tr.contexts[i] for i in docs_ok], method)
        queries = context_texts(test_c)
        idx, top = index.best(queries)
        best = np.asarray(docs_ok)[idx]
        score = top
        # A study without context, or whose context shares no word with any TRAIN context, has no neighbour.
        usable = np.array([bool(q) for q in queries]) & (top > 0)
    reports, sources, fallback = [], [], []
    for i, sid in enumerate(sids):
        if usable[i]:
            reports.append(tr.texts[best[i]])
            sources.append(tr.ids[best[i]])
            continue
        if no_context == "error":
            raise InputError(
                "no context to retrieve on (empty, absent, or sharing no word with TRAIN); "
                "use no_context='template' or 'random'",
                path=test_c.source, study_id=sid,
            )
        fallback.append(sid)
        reports.append(_fallback(no_context, sid, tr, seed, get_template() if no_context == "template" else None))
        sources.append(None)
    return reports, sources, fallback


def _oracle_reports(test_c: Corpus, track: str, labeler: str) -> tuple[list[str], str]:
    frame = test_c.frame
    lower = {str(c).strip().lower(): c for c in frame.columns}
    names = list(oracle.CONDITIONS)
    if all(c.lower() in lower for c in names):
        cols = [lower[c.lower()] for c in names]
        rows = frame[cols].values.tolist()
        return [oracle.labels_to_report(r, names) for r in rows], "TEST label columns"
    lab = _labeler(labeler)
    if lab is None:
        raise ConfigError(
            "oracle-labels needs the reference labels: the 14 CheXpert columns in TEST or the condition "
            "labeler (rexeval.backends.labelers), which is not installed here"
        )
    from rexeval.backends.labelers import CONDITIONS  # type: ignore[import-not-found]

    texts = [t or "" for t in track_texts(test_c, track)]
    labels = np.asarray(lab.label(texts), dtype=float)
    out = [oracle.labels_to_report([None if math.isnan(v) else v for v in row], list(CONDITIONS)) for row in labels]
    return out, f"{_labeler_signature(lab, labeler)} on the TEST references ({track})"
