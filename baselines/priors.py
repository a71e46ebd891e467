"""Find each test study's prior report for the copy-prior baseline.

Resolution order for a TEST study (the first that applies wins):

1. a non-empty ``prior_report`` column: copied as given (whitespace collapsed);
2. a non-empty ``prior_study_id`` column: that study's text, looked up in TEST then TRAIN. Pointing at
   itself, at an unknown study, or at a study that is not earlier (when both have a date/order) is an
   error naming the row;
3. ``subject_id`` plus ``study_date`` (ISO date/time) or ``order`` (a number): the latest study of the
   same subject strictly earlier than this one, among TEST and TRAIN studies that have text for the
   track. Same-time studies are not priors. A missing or unparsable date/order is an error naming the row.

A study with none of these has no prior and follows the run's ``no_prior`` policy (see ``copy_prior``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from baselines.data import Corpus, track_texts
from rexeval.base.exceptions import InputError
from rexeval.base.io import ROW
from rexeval.base.text import collapse_whitespace


@dataclass
class PriorLookup:
    text: str | None
    #: "prior_report", "prior_study_id:<id>", "subject:<id>", or None when no prior.
    source: str | None


def _time_key(corpus: Corpus) -> tuple[str | None, list[float]]:
    f = corpus.frame
    col = "study_date" if "study_date" in f else "order" if "order" in f else None
    if col is None:
        return None, [math.nan] * len(f)
    out = []
    for value, row, sid in zip(f[col], f[ROW], f["study_id"], strict=False):
        if value is None or (isinstance(value, str) and not value.strip()):
            out.append(math.nan)
            continue
        try:
            if col == "order":
                out.append(float(value))
            else:
                out.append(pd.Timestamp(str(value).strip()).value / 1e9)
        except (TypeError, ValueError):
            raise InputError(
                f"cannot read {col} {value!r} as {'a number' if col == 'order' else 'a date'}",
                path=corpus.source, row=int(row), column=col, study_id=sid,
            ) from None
    return col, out


def has_prior_information(test: Corpus) -> bool:
    f = test.frame
    return "prior_report" in f or "prior_study_id" in f or ("subject_id" in f and ("study_date" in f or "order" in f))


def find_priors(test: Corpus, train: Corpus | None, track: str) -> list[PriorLookup]:
    """The prior report of every TEST study (see the module docstring for the rules)."""
    if not has_prior_information(test):
        raise InputError(
            "copy-prior needs a prior_report column, a prior_study_id column, or subject_id with "
            "study_date (or order) in TEST",
            path=test.source,
        )
    corpora = [test] + ([train] if train is not None else [])
    # Pool of candidate prior studies: id -> (subject, time, text); TEST first, so its rows win on a
    # duplicate id (the same study in both files is the same study).
    pool: dict[str, tuple[str | None, float, str | None]] = {}
    time_cols = {}
    for corpus in corpora:
        try:
            texts = track_texts(corpus, track)
        except InputError:
            texts = [None] * len(corpus)
        col, times = _time_key(corpus)
        time_cols[id(corpus)] = (col, times)
        subjects = corpus.frame["subject_id"].tolist() if "subject_id" in corpus.frame else [None] * len(corpus)
        for sid, subj, t, text in zip(corpus.frame["study_id"], subjects, times, texts, strict=False):
            if sid not in pool:
                pool[sid] = (None if subj is None else str(subj).strip(), t, text)
    by_subject: dict[str, list[tuple[float, int, str]]] = {}
    for order, (sid, (subj, t, text)) in enumerate(pool.items()):
        if subj and text and not math.isnan(t):
            by_subject.setdefault(subj, []).append((t, order, sid))

    f = test.frame
    test_col, test_times = time_cols[id(test)]
    out: list[PriorLookup] = []
    for i, sid in enumerate(f["study_id"]):
        row = int(f[ROW].iloc[i])
        given = f["prior_report"].iloc[i] if "prior_report" in f else None
        if isinstance(given, str) and given.strip():
            out.append(PriorLookup(collapse_whitespace(given), "prior_report"))
            continue
        pid = f["prior_study_id"].iloc[i] if "prior_study_id" in f else None
        if pid is not None and str(pid).strip():
            pid = str(pid).strip()
            if pid == sid:
                raise InputError("prior_study_id points at the study itself", path=test.source, row=row, column="prior_study_id", study_id=sid)
            if pid not in pool:
                raise InputError(f"prior study {pid!r} is in neither TEST nor TRAIN", path=test.source, row=row, column="prior_study_id", study_id=sid)
            _, pt, ptext = pool[pid]
            t = test_times[i]
            if not math.isnan(t) and not math.isnan(pt) and pt >= t:
                raise InputError(
                    f"prior study {pid!r} is not earlier than this study (its {test_col} is the same or later)",
                    path=test.source, row=row, column="prior_study_id", study_id=sid,
                )
            out.append(PriorLookup(ptext, f"prior_study_id:{pid}") if ptext else PriorLookup(None, None))
            continue
        subj = f["subject_id"].iloc[i] if "subject_id" in f else None
        if subj is not None and str(subj).strip() and test_col is not None:
            t = test_times[i]
            if math.isnan(t):
                raise InputError(f"missing {test_col} for a study with a subject_id", path=test.source, row=row, column=test_col, study_id=sid)
            earlier = [c for c in by_subject.get(str(subj).strip(), []) if c[0] < t and c[2] != sid]
            if earlier:
                # Latest earlier study; on equal times the one listed first (TEST before TRAIN).
                best = max(earlier, key=lambda c: (c[0], -c[1]))
                out.append(PriorLookup(pool[best[2]][2], f"subject:{best[2]}"))
                continue
        out.append(PriorLookup(None, None))
    return out
