"""Longitudinal evaluation: metrics per temporal-change category, with copy-prior alongside.

The category of a study is read from its *reference* report by :func:`classify_change`. Rules (applied
per sentence, after lower-casing):

* **new** — ``new`` / ``newly`` / ``interval development|appearance of`` / ``has developed`` /
  ``now present``, unless negated (``no new ...``, ``without new ...``), which is a statement of no change.
* **progression** — ``increase(d|ing)``, ``worse(n|ned|ning)``, ``progress(ed|ion|ing|ive)``,
  ``enlarging``, ``interval enlargement``, ``more prominent|extensive|pronounced``, ``larger``,
  ``extension``; negated (``no increase``, ``not increased``) it is *no change*.
* **regression** — ``decrease(d|ing)``, ``improve(d|ing|ment)``, ``resolve(d|s|ing)``,
  ``resolution``, ``less prominent|extensive|pronounced``, ``smaller``, ``diminish(ed|ing)``,
  ``no longer (seen|visible|present)``, ``interval clearing``, ``(has )?cleared``; negated
  (``not improved``) it is *no change*.
* **no change** — ``unchanged``, ``stable``, ``no (significant |interval )*change``, ``not
  (significantly )?changed``, ``similar (to|in)``, ``again (seen|noted|demonstrated)``, ``persist…``,
  ``redemonstrat…``, ``re-demonstrat…``, ``constant``, ``no new``.
* **not stated** — none of the above.

A report with several cues takes the first of: new, progression, regression, no change. Any new or
worsening finding is what a reader must not miss, so it dominates mixed reports (e.g. "effusion
improved, new consolidation" is *new*).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rexeval.base.exceptions import InputError
from rexeval.base.io import read_table
from rexeval.stats.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, bootstrap_ci

CATEGORIES = ("new", "progression", "regression", "no change", "not stated")

_NEG = r"(?:\bno\b|\bnot\b|\bwithout\b|\bnegative for\b)(?:\s+\w+){0,2}\s+"
_PATTERNS: dict[str, str] = {
    "new": r"\bnew(?:ly)?\b|\binterval (?:development|appearance) of\b|\bhas developed\b|\bnow present\b",
    "progression": (
        r"\bincreas(?:e|ed|ing)\b|\bworse(?:n|ned|ning)?\b|\bprogress(?:ed|ion|ing|ive)?\b|\benlarging\b|"
        r"\binterval enlargement\b|\bmore (?:prominent|extensive|pronounced|conspicuous)\b|\blarger\b|\bextension\b"
    ),
    "regression": (
        r"\bdecreas(?:e|ed|ing)\b|\bimprov(?:e|ed|ing|ement)\b|\bresol(?:ve|ved|ves|ving|ution)\b|"
        r"\bless (?:prominent|extensive|pronounced|conspicuous)\b|\bsmaller\b|\bdiminish(?:ed|ing)?\b|"
        r"\bno longer (?:seen|visible|present|identified)\b|\binterval clearing\b|\bcleared\b"
    ),
    "no change": (
        r"\bunchanged\b|\bstable\b|\bno (?:significant |interval |appreciable )*change\b|"
        r"\bnot (?:significantly )?changed\b|\bsimilar (?:to|in)\b|\bagain (?:seen|noted|demonstrated)\b|"
        r"\bpersist\w*\b|\bre-?demonstrat\w*\b|\bconstant\b"
    ),
}
_COMPILED = {k: re.compile(v) for k, v in _PATTERNS.items()}
_NEGATED = {k: re.compile(_NEG + r"(?:" + v + r")") for k, v in _PATTERNS.items() if k != "no change"}
_SENT = re.compile(r"(?<=[.;!?])\s+|\n+")


def sentence_cues(sentence: str) -> set[str]:
    """The change categories one sentence states (negated change cues count as 'no change')."""
    s = sentence.lower()
    found: set[str] = set()
    for cat in ("new", "progression", "regression"):
        hits = list(_COMPILED[cat].finditer(s))
        if not hits:
            continue
        negated = {m.end() for m in _NEGATED[cat].finditer(s)}
        for m in hits:
            found.add("no change" if m.end() in negated else cat)
    if _COMPILED["no change"].search(s):
        found.add("no change")
    return found


def classify_change(text: str | None) -> str:
    """The temporal change a report states: new, progression, regression, no change or not stated."""
    if not text:
        return "not stated"
    cues: set[str] = set()
    for sentence in _SENT.split(text):
        cues |= sentence_cues(sentence)
    for cat in CATEGORIES[:-1]:
        if cat in cues:
            return cat
    return "not stated"


def longitudinal(
    systems: Mapping[str, str | Path | pd.DataFrame],
    refs: str | Path | pd.DataFrame,
    *,
    train: str | Path | pd.DataFrame | None = None,
    track: str = "auto",
    metrics: list[str] | None = None,
    copy_prior: bool = True,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Every metric per change category for each system, on the studies that have a prior.

    ``refs`` must carry prior information (see ``baselines.priors``). Studies without a prior are left
    out of this view (their number is in ``.attrs["n_without_prior"]``). With ``copy_prior`` the
    copy-prior baseline is scored alongside as the system named ``copy-prior``.
    Returns a long table: category, n, system, metric, value, ci_lo, ci_hi (category "all" included).
    """
    from baselines.core import run_baseline
    from baselines.data import choose_track, load_table, track_texts
    from rexeval.run.scoring import score

    ref_corpus = load_table(refs, "REFS")
    track = choose_track(ref_corpus, track)
    prior_run = run_baseline("copy-prior", ref_corpus, train, track=track, no_prior="drop")
    with_prior = prior_run.predictions["study_id"].tolist()
    if not with_prior:
        raise InputError("no reference study has a prior: nothing to evaluate longitudinally", path=ref_corpus.source)
    keep = set(with_prior)
    texts = dict(zip(ref_corpus.study_ids, track_texts(ref_corpus, track), strict=True))
    category = {s: classify_change(texts[s]) for s in with_prior}
    ref_frame = ref_corpus.frame[ref_corpus.frame["study_id"].isin(keep)].drop(columns="_row")

    runs: dict[str, Any] = {}
    for name, preds in systems.items():
        frame = read_table(preds) if not isinstance(preds, pd.DataFrame) else preds.copy()
        id_col = next((c for c in frame.columns if str(c).lower() in ("study_id", "id", "study", "studyid")), None)
        if id_col is None:
            raise InputError("no study id column", path=str(preds) if not isinstance(preds, pd.DataFrame) else None)
        frame = frame[frame[id_col].astype(str).isin(keep)].drop(columns=[c for c in ("_row",) if c in frame])
        runs[name] = score(frame, ref_frame, metrics=metrics, track=track, n_resamples=0, progress=False)
    if copy_prior:
        runs["copy-prior"] = score(prior_run.predictions, ref_frame, metrics=metrics, track=track, n_resamples=0, progress=False)

    rows = []
    for name, res in runs.items():
        ids = res.per_study["study_id"].astype(str).tolist()
        cats = np.array([category[s] for s in ids])
        cols = {c: res.per_study[c].to_numpy(dtype=float) for c in res.per_study.columns if c != "study_id"}
        for cat in ("all",) + CATEGORIES:
            mask = np.ones(len(ids), bool) if cat == "all" else cats == cat
            if not mask.any():
                continue
            sub = {k: v[mask] for k, v in cols.items()}
            for key, out in res.outputs.items():
                value = out.aggregate.value(sub)
                lo, hi = bootstrap_ci(out.aggregate, sub, n_resamples, seed)
                rows.append(
                    {"category": cat, "n": int(mask.sum()), "system": name, "metric": key,
                     "value": value, "ci_lo": lo, "ci_hi": hi}
                )
    table = pd.DataFrame(rows)
    table.attrs["n_with_prior"] = len(with_prior)
    table.attrs["n_without_prior"] = prior_run.meta["no_prior"]["count"]
    table.attrs["categories"] = category
    return table


def wide(table: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """One row per (category, system), one column per metric: ``value [lo, hi]``."""
    def cell(r) -> str:
        if np.isnan(r.ci_lo):
            return f"{r.value:.{digits}f}"
        return f"{r.value:.{digits}f} [{r.ci_lo:.{digits}f}, {r.ci_hi:.{digits}f}]"

    t = table.assign(cell=table.apply(cell, axis=1))
    order = {c: i for i, c in enumerate(("all",) + CATEGORIES)}
    out = t.pivot_table(index=["category", "n", "system"], columns="metric", values="cell", aggfunc="first", sort=False)
    out = out.reset_index()
    out["_o"] = out["category"].map(order)
    return out.sort_values(["_o", "system"], kind="stable").drop(columns="_o").reset_index(drop=True)


