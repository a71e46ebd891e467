"""``rexeval train-data``: a training set (``data.path``) built from the files MIMIC-CXR, CheXpert Plus or
ReXGradient-160K ship, as the ReXrank-style JSON the data loader reads (trainers/data.py):

``{study_id: {section_findings, section_impression, context, key_image_path, image_path, prior_report,
prior_image_path, patient_id, split}}``

Image paths stay relative to the dataset's image folder (``data.image_root``); nothing is copied. A
study's prior is the same patient's previous study in the source's own order (date and time; CheXpert
Plus: ``patient_report_date_order``), among the studies read (all splits: the sources split by patient).

The layouts read, and where they are documented:

MIMIC-CXR (PhysioNet ``mimic-cxr`` 2.0.0 reports, ``mimic-cxr-jpg`` 2.0.0/2.1.0 images and tables)
    ``--reports``: the folder holding ``files/pXX/pSUBJECT/sSTUDY.txt`` (free-text reports with
    upper-case section headings, ``FINDINGS:``, ``IMPRESSION:``, ``INDICATION:``, ``COMPARISON:``; the
    sections are cut at those headings as MIT-LCP/mimic-cxr's ``txt/section_parser.py`` does, without its
    special cases); ``--metadata``: ``mimic-cxr-2.0.0-metadata.csv[.gz]`` (``dicom_id, subject_id,
    study_id, ViewPosition, StudyDate, StudyTime``); ``--splits``: ``mimic-cxr-2.0.0-split.csv[.gz]``
    (``dicom_id, study_id, subject_id, split``). Images: ``files/pXX/pSUBJECT/sSTUDY/DICOM_ID.jpg``.
CheXpert Plus (Stanford AIMI, ``df_chexpert_plus_240401.csv``)
    ``--table``: one row per image: ``path_to_image`` (``train/patientN/studyM/viewK_frontal.jpg``),
    ``frontal_lateral``, ``deid_patient_id``, ``patient_report_date_order``, ``section_findings``,
    ``section_impression``, ``section_clinical_history``/``section_history``, ``section_comparison``,
    ``split`` (else the path's first folder). ``--image-suffix .png`` for the PNG release.
ReXGradient-160K (``rajpurkarlab/ReXGradient-160K``, ``metadata/*_metadata*.json`` or ``.csv``)
    one record per study: ``id``/``StudyInstanceUid`` (or the JSON object's key), ``PatientID``,
    ``StudyDate``, ``Indication``, ``Comparison``, ``Findings``, ``Impression``, ``ImagePath`` (a list),
    ``ImageViewPosition`` (a list, same order). The report sections are the dataset card's four; the
    field names are those public code reads from the metadata file (not checked here against the file).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rexeval.base.exceptions import InputError

SOURCES = ("mimic-cxr", "chexpert-plus", "rexgradient")
FRONTAL = {"PA", "AP", "FRONTAL", "AP AXIAL", "PA LLD", "PA RLD", "AP LLD", "AP RLD"}

#: MIMIC-CXR section headings: the line-initial upper-case words before a colon.
_HEADING = re.compile(r"^[ \t]*([A-Z][A-Z /&,()-]{2,40}):", re.MULTILINE)
_INDICATION = ("indication", "history", "clinical history", "reason for examination", "clinical information")
_IMPRESSION = ("impression", "conclusion", "summary")


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):  # NaN from pandas
        return ""
    return " ".join(str(value).split())


def report_sections(text: str) -> dict[str, str]:
    """A free-text report cut at its upper-case headings: lower-cased heading -> the text under it."""
    marks = list(_HEADING.finditer(text))
    out: dict[str, str] = {}
    for mark, nxt in zip(marks, marks[1:] + [None], strict=True):
        body = text[mark.end() : nxt.start() if nxt else len(text)]
        key = " ".join(mark.group(1).lower().split())
        if _text(body):
            out[key] = (out[key] + " " if key in out else "") + _text(body)
    return out


def _first_of(sections: dict[str, str], names: Iterable[str]) -> str:
    return next((sections[n] for n in names if sections.get(n)), "")


def _context(indication: str, comparison: str) -> str:
    parts = [f"Indication: {indication.rstrip('.')}." if indication else "",
             f"Comparison: {comparison.rstrip('.')}." if comparison else ""]
    return " ".join(p for p in parts if p)


def _need(columns: Iterable[str], wanted: Iterable[str], path: Path) -> None:
    have = set(columns)
    for col in wanted:
        if col not in have:
            raise InputError(f"missing column {col!r} (columns: {', '.join(sorted(have))})", path=str(path),
                             column=col)


def _read_table(path: Path) -> Any:
    import pandas as pd

    if not path.is_file():
        raise InputError("file not found", path=str(path))
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # a malformed CSV: one line naming the file
        raise InputError(f"not a readable CSV ({exc})", path=str(path)) from None


def _frontal_first(images: list[tuple[str, str]]) -> list[str]:
    """Paths ordered frontal views first (stable otherwise)."""
    return [p for _, p in sorted(images, key=lambda vp: vp[0].upper().strip() not in FRONTAL)]


def _study(sid: str, patient: str, order: Any, split: str, findings: str, impression: str, context: str,
           images: list[tuple[str, str]]) -> dict[str, Any]:
    paths = _frontal_first(images)
    frontal = [p for v, p in images if v.upper().strip() in FRONTAL]
    return {
        "study_id": sid, "patient_id": patient, "order": order, "split": split,
        "section_findings": findings, "section_impression": impression, "context": context,
        "key_image_path": paths[0] if paths else None, "image_path": paths,
        "_frontal": frontal or paths[:1],
    }


def with_priors(studies: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """ReXrank-style records keyed by study id, each with its patient's previous study's report (findings,
    else impression) and films (frontal ones; all when none is marked frontal)."""
    by_patient: dict[str, list[dict[str, Any]]] = {}
    for s in studies:
        by_patient.setdefault(s["patient_id"], []).append(s)
    out: dict[str, dict[str, Any]] = {}
    for s in studies:
        history = sorted(by_patient[s["patient_id"]], key=lambda x: (x["order"], x["study_id"]))
        i = next(k for k, x in enumerate(history) if x is s)
        prior = history[i - 1] if i > 0 else None
        record = {k: v for k, v in s.items() if k not in ("study_id", "order", "_frontal")}
        record["prior_report"] = (prior["section_findings"] or prior["section_impression"]) if prior else None
        record["prior_image_path"] = list(prior["_frontal"]) if prior else []
        out[s["study_id"]] = record
    return out


def read_mimic_cxr(reports: Path, metadata: Path, splits: Path | None = None) -> list[dict[str, Any]]:
    meta = _read_table(metadata)
    _need(meta.columns, ("dicom_id", "subject_id", "study_id", "ViewPosition", "StudyDate", "StudyTime"), metadata)
    if splits is not None:
        table = _read_table(splits)
        _need(table.columns, ("dicom_id", "split"), splits)
        meta = meta.merge(table[["dicom_id", "split"]], on="dicom_id", how="left")
    root = reports / "files" if (reports / "files").is_dir() else reports
    studies = []
    for study_id, rows in meta.groupby("study_id", sort=True):
        subject = rows["subject_id"].iloc[0]
        folder = f"p{subject[:2]}/p{subject}"
        path = root / folder / f"s{study_id}.txt"
        if not path.is_file():
            raise InputError(f"report of study {study_id} not found (expected files/{folder}/s{study_id}.txt)",
                             path=str(path))
        sections = report_sections(path.read_text(encoding="utf-8", errors="replace"))
        images = [(str(r.ViewPosition), f"files/{folder}/s{study_id}/{r.dicom_id}.jpg")
                  for r in rows.itertuples()]
        when = min(f"{d}{t.split('.')[0]:0>6}" for d, t in zip(rows["StudyDate"], rows["StudyTime"], strict=True))
        split = rows["split"].iloc[0] if "split" in rows and rows["split"].iloc[0] else ""
        studies.append(_study(
            str(study_id), str(subject), when, split or "",
            sections.get("findings", ""), _first_of(sections, _IMPRESSION),
            _context(_first_of(sections, _INDICATION), sections.get("comparison", "")), images,
        ))
    return studies


def read_chexpert_plus(table_path: Path, image_suffix: str | None = None) -> list[dict[str, Any]]:
    table = _read_table(table_path)
    _need(table.columns, ("path_to_image", "deid_patient_id", "patient_report_date_order", "section_findings",
                          "section_impression"), table_path)
    table["_study"] = table["path_to_image"].map(lambda p: str(Path(p).parent))
    studies = []
    for folder, rows in table.groupby("_study", sort=True):
        first = rows.iloc[0]
        history = first.get("section_clinical_history") or first.get("section_history") or ""
        images = []
        for r in rows.itertuples():
            path = str(r.path_to_image)
            if image_suffix:
                path = str(Path(path).with_suffix(image_suffix))
            images.append((str(getattr(r, "frontal_lateral", "") or ""), path))
        parts = Path(folder).parts
        sid = "_".join(parts[-2:])
        split = first.get("split") or (parts[0] if len(parts) > 2 else "")
        try:
            order = int(float(first["patient_report_date_order"]))
        except ValueError:
            raise InputError(f"patient_report_date_order {first['patient_report_date_order']!r} is not a number",
                             path=str(table_path), row=int(rows.index[0]),
                             column="patient_report_date_order") from None
        studies.append(_study(
            sid, str(first["deid_patient_id"]), order, str(split),
            _text(first["section_findings"]), _text(first["section_impression"]),
            _context(_text(history), _text(first.get("section_comparison", ""))), images,
        ))
    return studies


def _listing(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    text = _text(value)
    if text.startswith("["):
        try:
            return [str(v) for v in ast.literal_eval(text)]
        except (ValueError, SyntaxError):
            pass
    return [text] if text else []


def read_rexgradient(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise InputError("file not found", path=str(path))
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"not readable JSON ({exc})", path=str(path)) from None
        rows = ([{"_key": k, **v} for k, v in data.items()] if isinstance(data, dict) else list(data))
    else:
        rows = _read_table(path).to_dict(orient="records")
    studies = []
    for i, row in enumerate(rows):
        sid = _text(row.get("id") or row.get("StudyInstanceUid") or row.get("_key"))
        if not sid:
            raise InputError("no study id (id, StudyInstanceUid or the object's key)", path=str(path), row=i)
        if "ImagePath" not in row:
            raise InputError("missing field 'ImagePath'", path=str(path), row=i, column="ImagePath")
        paths = _listing(row.get("ImagePath"))
        views = _listing(row.get("ImageViewPosition")) or [""] * len(paths)
        studies.append(_study(
            sid, _text(row.get("PatientID")) or sid, _text(row.get("StudyDate")), _text(row.get("split")),
            _text(row.get("Findings")), _text(row.get("Impression")),
            _context(_text(row.get("Indication")), _text(row.get("Comparison"))),
            list(zip(views + [""] * (len(paths) - len(views)), paths, strict=False)),
        ))
    return studies


def build_training_set(source: str, *, reports: Path | None = None, metadata: Path | None = None,
                       splits: Path | None = None, table: Path | None = None, split: str | None = None,
                       image_suffix: str | None = None) -> dict[str, dict[str, Any]]:
    """The ReXrank-style records of ``source``; only ``split`` (as the source names it) when given, and
    only studies with findings or an impression. Priors are looked up among all the studies read."""
    from rexeval.base.exceptions import ConfigError

    if source == "mimic-cxr":
        if reports is None or metadata is None:
            raise ConfigError("mimic-cxr needs --reports (the folder with files/pXX/...) and --metadata")
        studies = read_mimic_cxr(reports, metadata, splits)
    elif source == "chexpert-plus":
        if table is None:
            raise ConfigError("chexpert-plus needs --table (df_chexpert_plus_240401.csv)")
        studies = read_chexpert_plus(table, image_suffix)
    elif source == "rexgradient":
        if table is None:
            raise ConfigError("rexgradient needs --table (the metadata JSON or CSV)")
        studies = read_rexgradient(table)
    else:
        raise ConfigError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
    records = with_priors(studies)
    return {sid: r for sid, r in records.items()
            if (split is None or r["split"] == split) and (r["section_findings"] or r["section_impression"])}
