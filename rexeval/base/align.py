"""Pair predictions with references by study id, strictly.

Duplicated ids, ids present in only one file, missing columns and non-text reports are errors that name
the file, row and column. ``allow_missing=True`` keeps the intersection and records every dropped id.
Reference text for ReXrank's two tracks is built as ReXrank builds it (docs/metrics.md §1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from rexeval.base.exceptions import InputError
from rexeval.base.fingerprint import references_sha256, study_ids_sha256
from rexeval.base.io import ROW, describe_non_text, read_meta, read_table
from rexeval.base.text import collapse_whitespace

Track = Literal["auto", "findings", "findings-impression", "report"]
TRACKS: tuple[str, ...] = ("auto", "findings", "findings-impression", "report")

ID_ALIASES = ("study_id", "id", "study", "studyid")
# Order matters: the specific names win over the generic "report".
PRED_ALIASES = (
    "prediction",
    "predictions",
    "pred",
    "generated",
    "generated_report",
    "generation",
    "model_prediction",
    "hypothesis",
    "candidate",
    "report",
)
REF_ALIASES = (
    "reference",
    "references",
    "ref",
    "ground_truth",
    "groundtruth",
    "gt",
    "gt_report",
    "reference_report",
    "target",
    "report",
)
FINDINGS, IMPRESSION = "section_findings", "section_impression"

#: Prediction texts that are a missing value spelled out by some writer; counted and warned about.
LITERAL_MISSING = frozenset({"NaN", "nan", "None", "null", "NULL"})

#: How many offending ids an error message lists before summarising with a count.
SHOW_IDS = 5


def find_column(frame: pd.DataFrame, aliases: tuple[str, ...], exclude: tuple[str, ...] = ()) -> str | None:
    """The frame's column named by the first of ``aliases`` (lower case) that it has, else None."""
    lower = {str(c).lower(): c for c in frame.columns if c != ROW}
    for alias in aliases:
        if alias in lower and lower[alias] not in exclude:
            return lower[alias]
    return None


def _columns_hint(frame: pd.DataFrame) -> str:
    cols = [c for c in frame.columns if c != ROW]
    return ", ".join(map(repr, cols[:12])) + (" ..." if len(cols) > 12 else "")


def _list_ids(ids: list[str]) -> str:
    shown = ", ".join(map(repr, ids[:SHOW_IDS]))
    return f"{shown}{', ...' if len(ids) > SHOW_IDS else ''} ({len(ids)} in all)"


def study_ids(frame: pd.DataFrame, path: str) -> list[str]:
    """The study ids of a table read by :func:`rexeval.base.io.read_table`; missing or duplicated ids are an InputError."""
    col = find_column(frame, ID_ALIASES)
    if col is None:
        raise InputError(
            f"no study id column (expected one of {', '.join(ID_ALIASES)}; found {_columns_hint(frame)})",
            path=path,
        )
    ids = []
    for value, row in zip(frame[col], frame[ROW]):
        if value is None or str(value).strip() == "":
            raise InputError("missing study id", path=path, row=int(row), column=col)
        if isinstance(value, (bool, list, dict)):
            raise InputError(f"study id must be text or a number, got {describe_non_text(value)}", path=path, row=int(row), column=col)
        ids.append(_id_text(value))
    seen: dict[str, int] = {}
    dups: list[str] = []
    for sid, row in zip(ids, frame[ROW]):
        if sid in seen:
            if sid not in dups:
                dups.append(sid)
        else:
            seen[sid] = int(row)
    if dups:
        first = dups[0]
        rows = [int(r) for s, r in zip(ids, frame[ROW]) if s == first]
        more = f", ...] ({len(rows)} rows in all)" if len(rows) > SHOW_IDS else "]"
        shown = "[" + ", ".join(map(str, rows[:SHOW_IDS])) + more
        raise InputError(
            f"duplicated study ids: {_list_ids(dups)}; e.g. {first!r} is on rows {shown}",
            path=path,
            column=col,
        )
    return ids


def _id_text(value: object) -> str:
    """Ids are strings; a JSON/Parquet integer id keeps its literal digits (never 1.0 or 1e6)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def column_texts(frame: pd.DataFrame, col: str, path: str, ids: list[str]) -> list[str | None]:
    """The texts of column ``col`` (None where missing); a value that is not text is an InputError."""
    out: list[str | None] = []
    for value, row, sid in zip(frame[col], frame[ROW], ids):
        problem = describe_non_text(value)
        if problem:
            raise InputError(f"expected report text, got {problem}", path=path, row=int(row), column=col, study_id=sid)
        out.append(value)
    return out


@dataclass
class Pairs:
    """Aligned predictions and references, plus what alignment counted and dropped."""

    study_ids: list[str]
    predictions: list[str]
    references: list[str]
    #: Columns of the reference file other than the texts (context, age, sex, ...), row-aligned.
    ref_columns: pd.DataFrame
    #: Facts about the input that the summary records: dropped ids, empty texts, sources.
    info: dict[str, Any] = field(default_factory=dict)
    #: Run metadata from a ``.meta.json`` sidecar of the predictions file.
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.study_ids)

    def subset(self, keep: list[int]) -> Pairs:
        return Pairs(
            [self.study_ids[i] for i in keep],
            [self.predictions[i] for i in keep],
            [self.references[i] for i in keep],
            self.ref_columns.iloc[keep].reset_index(drop=True),
            dict(self.info),
            dict(self.meta),
        )


def build_reference(findings: str | None, impression: str | None, track: str) -> str:
    """ReXrank's reference text for a track.

    findings: the findings section. findings-impression: exactly ``Findings: {f} Impression: {i}`` with a
    missing section written as the literal ``None`` (ReXrank's evaluation script formats Python's None).
    """
    if track == "findings":
        return findings or ""
    return f"Findings: {findings} Impression: {impression}"


def track_choices(ref_col: str | None) -> dict[str, str]:
    """Each track and what its reference text is (``ref_col``: the file's reference column, if any)."""
    return {
        "findings": f"the {FINDINGS} text, ReXrank's findings track",
        "findings-impression": f"'Findings: {{findings}} Impression: {{impression}}' from {FINDINGS} and "
                               f"{IMPRESSION}, ReXrank's findings + impression track",
        "report": f"the {ref_col or 'reference'!r} column as written",
    }


def reference_texts(
    frame: pd.DataFrame, path: str, track: str, ids: list[str], info: dict, exclude: tuple[str, ...] = ()
) -> list[str | None]:
    """The reference text of each row for ``track`` (``auto``: the only one the file allows); ``info`` gets the choice."""
    ref_col = find_column(frame, REF_ALIASES, exclude=exclude)
    f_col = find_column(frame, (FINDINGS, "findings"))
    i_col = find_column(frame, (IMPRESSION, "impression"))
    if track == "auto":
        # auto takes the one text the file allows; with several, a silent pick would change the numbers
        # (ReXrank's IU "report" is findings + impression, its findings track scores the findings alone)
        described = track_choices(ref_col)
        possible = [t for t, ok in (("findings", f_col), ("findings-impression", f_col and i_col), ("report", ref_col)) if ok]
        if len(possible) > 1:
            raise InputError(
                "REFS allow several reference texts; choose one with --track: "
                + "; ".join(f"{t} = {described[t]}" for t in possible),
                path=path,
            )
        if not possible:
            raise InputError(
                f"no reference column (expected one of {', '.join(REF_ALIASES)}; found {_columns_hint(frame)})",
                path=path,
            )
        track = possible[0]
    if track == "report":
        if ref_col is None:
            raise InputError(
                f"--track report needs a reference column (one of {', '.join(REF_ALIASES)}; found {_columns_hint(frame)})",
                path=path,
            )
        info["reference_source"] = f"column {ref_col!r}"
        return column_texts(frame, ref_col, path, ids)
    if f_col is None:
        raise InputError(f"--track {track} needs a {FINDINGS!r} column (found {_columns_hint(frame)})", path=path)
    findings = column_texts(frame, f_col, path, ids)
    if track == "findings":
        info["reference_source"] = f"track findings: column {f_col!r}"
        info["missing_findings"] = [s for s, f in zip(ids, findings) if not f or not f.strip()]
        return [build_reference(f, None, track) for f in findings]
    if i_col is None:
        raise InputError(f"--track {track} needs a {IMPRESSION!r} column (found {_columns_hint(frame)})", path=path)
    impressions = column_texts(frame, i_col, path, ids)
    # ReXrank writes None for a missing section; count those so the summary can warn about them.
    info["reference_source"] = f"track findings-impression: 'Findings: {{{f_col}}} Impression: {{{i_col}}}'"
    info["none_sections"] = {
        "findings": [s for s, f in zip(ids, findings) if f is None],
        "impression": [s for s, i in zip(ids, impressions) if i is None],
    }
    return [build_reference(f, i, track) for f, i in zip(findings, impressions)]


def load_pairs(
    preds: str | Path | pd.DataFrame,
    refs: str | Path | pd.DataFrame | None = None,
    *,
    track: str = "auto",
    allow_missing: bool = False,
    collapse_ws: bool = True,
) -> Pairs:
    """Read, validate and align predictions and references.

    ``preds`` / ``refs`` may be paths or DataFrames (with the same column conventions).
    """
    if track not in TRACKS:
        raise InputError(f"unknown track {track!r}; use one of {', '.join(TRACKS)}")
    pred_frame, pred_path = as_frame(preds, "PREDS")
    info: dict[str, Any] = {"preds": pred_path, "track": track}
    meta = read_meta(pred_path) if isinstance(preds, (str, Path)) else {}
    pred_ids = study_ids(pred_frame, pred_path)

    if refs is None:
        # One file holding both texts: a specific prediction column, or "report" beside a reference column.
        pred_col = find_column(pred_frame, PRED_ALIASES[:-1])
        if pred_col is None and find_column(pred_frame, REF_ALIASES[:-1]) is not None:
            pred_col = find_column(pred_frame, ("report",))
        if pred_col is None:
            raise InputError(
                "holds no prediction column besides a reference "
                f"(found {_columns_hint(pred_frame)}); pass the references with --refs",
                path=pred_path,
            )
        ref_frame, ref_path, ref_ids = pred_frame, pred_path, pred_ids
        info["refs"] = pred_path
    else:
        pred_col = find_column(pred_frame, PRED_ALIASES)
        if pred_col is None:
            raise InputError(
                f"no prediction column (expected one of {', '.join(PRED_ALIASES)}; found {_columns_hint(pred_frame)})",
                path=pred_path,
            )
        ref_frame, ref_path = as_frame(refs, "REFS")
        ref_ids = study_ids(ref_frame, ref_path)
        info["refs"] = ref_path
    info["prediction_source"] = f"column {pred_col!r}"

    pred_texts = column_texts(pred_frame, pred_col, pred_path, pred_ids)
    exclude = (pred_col,) if ref_frame is pred_frame else ()
    ref_texts = reference_texts(ref_frame, ref_path, track, ref_ids, info, exclude)

    # Strict alignment on string ids.
    pred_index = {s: i for i, s in enumerate(pred_ids)}
    ref_index = {s: i for i, s in enumerate(ref_ids)}
    only_pred = [s for s in pred_ids if s not in ref_index]
    only_ref = [s for s in ref_ids if s not in pred_index]
    if (only_pred or only_ref) and not allow_missing:
        parts = []
        if only_ref:
            parts.append(f"{len(only_ref)} reference studies have no prediction: {_list_ids(only_ref)}")
        if only_pred:
            parts.append(f"{len(only_pred)} predictions have no reference: {_list_ids(only_pred)}")
        raise InputError(
            "study ids do not match between PREDS and REFS; "
            + "; ".join(parts)
            + ". Use --allow-missing to score the intersection.",
            path=pred_path,
        )
    info["dropped"] = {"no_prediction": only_ref, "no_reference": only_pred}
    order = [s for s in ref_ids if s in pred_index]  # reference order is the benchmark's order
    if not order:
        raise InputError("PREDS and REFS share no study id", path=pred_path)

    predictions, references, empty_pred, empty_ref, literal_missing = [], [], [], [], []
    for sid in order:
        p = pred_texts[pred_index[sid]]
        r = ref_texts[ref_index[sid]]
        if isinstance(p, str) and p.strip() in LITERAL_MISSING:
            literal_missing.append(sid)
        p = "" if p is None else (collapse_whitespace(p) if collapse_ws else p)
        r = "" if r is None else (collapse_whitespace(r) if collapse_ws else r)
        if not p.strip():
            empty_pred.append(sid)
        if not r.strip():
            empty_ref.append(sid)
        predictions.append(p)
        references.append(r)
    info["empty_predictions"] = empty_pred
    info["empty_references"] = empty_ref
    # A prediction that is literally "NaN"/"None"/"null" is scored as that text, and counted: it is
    # usually a missing generation that a script wrote out (Python's None, pandas' NaN, JSON's null).
    info["literal_missing_predictions"] = literal_missing
    info["collapse_whitespace"] = collapse_ws
    info["references_sha256"] = references_sha256(order, references)
    info["study_ids_sha256"] = study_ids_sha256(order)

    drop_cols = {ROW} | ({pred_col} if ref_frame is pred_frame else set())
    extra = ref_frame.drop(columns=[c for c in ref_frame.columns if c in drop_cols])
    extra = extra.iloc[[ref_index[s] for s in order]].reset_index(drop=True)
    return Pairs(order, predictions, references, extra, info, meta)


def as_frame(source: str | Path | pd.DataFrame, role: str) -> tuple[pd.DataFrame, str]:
    """A table (file or DataFrame) with missing values as None and a 1-based row column, and its name for errors."""
    if isinstance(source, pd.DataFrame):
        frame = source.astype(object).where(source.notna(), None).copy()
        frame[ROW] = range(1, len(frame) + 1)
        return frame, f"<{role} DataFrame>"
    return read_table(source), str(source)
