"""Reading prediction and reference files into tables of strings.

Every reader returns a DataFrame whose cells are ``str`` or ``None`` (never numbers: study ids such as
``CXR3030_IM-1405`` or MIMIC's 8-digit ids must not be cast), plus a ``_row`` column with the 1-based
record number used in error messages. Supported: CSV/TSV, JSONL, JSON (a list of records, or an object
keyed by study id whose values are records or plain report strings) and Parquet.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from rexeval.base.exceptions import InputError, install_hint

ROW = "_row"

#: Sidecar file that carries run metadata (baseline name, seed, ...) next to a predictions file.
META_SUFFIX = ".meta.json"

_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def detect_format(path: Path) -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"unsupported file type {path.suffix or '(none)'!r}; use one of "
            + ", ".join(sorted(set(_FORMATS))),
            path=str(path),
        )
    return fmt


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputError("file not found", path=str(path))
    if path.is_dir():
        raise InputError("is a directory, expected a file", path=str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", path=str(path)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not valid UTF-8 (byte {exc.start}, line {line}); re-save the file as UTF-8",
            path=str(path),
        ) from None
    if not text.strip():
        raise InputError("file is empty", path=str(path))
    return text


def _cell(value: Any, *, path: str, row: int, column: str) -> Any:
    """Normalise one cell to str or None; reject containers and booleans (not text)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (bool, list, dict)):
        return value  # kept as is; a column used as text rejects it (see describe_non_text)
    # Numbers (and other scalars) are kept as they are: fine as an id (the caller turns it into its
    # literal spelling), not as a report (the caller rejects it, naming row and column).
    return value


def is_number_cell(value: object) -> bool:
    import numbers

    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def describe_non_text(value: object) -> str | None:
    """Why a cell is not report text (a number, list, object or boolean), or None if it is text."""
    if value is None:
        return None
    if is_number_cell(value):
        return f"the number {value}"
    if isinstance(value, (bool, list, dict)):
        return f"a {type(value).__name__} ({json.dumps(value)[:60]})"
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy arrays from Parquet
        return f"an array ({str(value)[:60]})"
    return None


def _records_to_frame(records: list[dict[str, Any]], path: str) -> pd.DataFrame:
    rows = []
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            raise InputError(
                f"expected a JSON object (a record), got {type(rec).__name__}", path=path, row=i
            )
        rows.append({str(k): _cell(v, path=path, row=i, column=str(k)) for k, v in rec.items()})
    frame = pd.DataFrame(rows, dtype=object)  # object dtype: keep ids and texts exactly as read
    frame = frame.where(frame.notna(), None)
    frame[ROW] = range(1, len(frame) + 1)
    return frame


def _read_json(text: str, path: str) -> pd.DataFrame:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", path=path) from None
    except RecursionError:
        raise InputError("JSON nested too deeply (records are objects of texts)", path=path) from None
    if isinstance(data, list):
        if not data:
            raise InputError("JSON list is empty: no records", path=path)
        return _records_to_frame(data, path)
    if isinstance(data, dict) and data:
        values = list(data.values())
        if all(isinstance(v, dict) for v in values):
            # ReXrank layout: {study_id: {"report": ..., "section_findings": ..., ...}}
            records = []
            for key, rec in data.items():
                rec = dict(rec)
                if "study_id" in rec and str(rec["study_id"]) != key:
                    raise InputError(
                        f"record keyed {key!r} carries a different study_id {rec['study_id']!r}", path=path
                    )
                rec["study_id"] = key
                records.append(rec)
            return _records_to_frame(records, path)
        if all(isinstance(v, str) or v is None for v in values):
            return _records_to_frame([{"study_id": k, "report": v} for k, v in data.items()], path)
    raise InputError(
        "JSON is neither a list of records nor an object keyed by study id "
        "(whose values are records or report strings)",
        path=path,
    )


def _read_jsonl(text: str, path: str) -> pd.DataFrame:
    records = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON on this line: {exc.msg}", path=path, row=lineno) from None
        except RecursionError:
            raise InputError("JSON nested too deeply (a record is an object of texts)", path=path, row=lineno) from None
    if not records:
        raise InputError("no records", path=path)
    return _records_to_frame(records, path)


def _check_field_counts(text: str, path: str, sep: str) -> None:
    """Every record must have as many fields as the header: pandas would otherwise take a first column
    as the index when rows end with a stray delimiter (shifting every column), or pad short rows."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text), delimiter=sep)
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))  # a long report is one field; restored below
    try:
        header = next(reader, None)
        if header is None:
            return
        record = 0
        for fields in reader:
            if not fields:  # a blank line (pandas skips it too)
                continue
            record += 1
            if len(fields) != len(header):
                hint = (" (every data line ends with a delimiter? remove it, or add a column to the header)"
                        if len(fields) == len(header) + 1 and fields[-1] == "" else "")
                raise InputError(f"{len(fields)} fields but the header has {len(header)}{hint}",
                                 path=path, row=record)
    except csv.Error as exc:
        raise InputError(f"malformed {'CSV' if sep == ',' else 'TSV'} near line {reader.line_num}: {exc}", path=path) from None
    finally:
        csv.field_size_limit(limit)


def _read_delimited(text: str, path: str, sep: str) -> pd.DataFrame:
    import io

    _check_field_counts(text, path, sep)
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[], on_bad_lines="error",
            index_col=False,  # never an implicit index: a column is data or an error
        )
    except pd.errors.ParserError as exc:
        raise InputError(f"malformed {'CSV' if sep == ',' else 'TSV'}: {exc}".strip(), path=path) from None
    except pd.errors.EmptyDataError:
        raise InputError("no columns (is the file empty?)", path=path) from None
    if frame.empty:
        raise InputError("has a header but no rows", path=path)
    frame.columns = [str(c).strip() for c in frame.columns]
    # The first unnamed column of a pandas-written CSV is its index: keep it but never use it as data.
    frame = frame.astype(object)
    frame[ROW] = range(1, len(frame) + 1)
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except ImportError:
        raise InputError(f"reading Parquet needs pyarrow: {install_hint('parquet')}", path=str(path)) from None
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise InputError(f"not a readable Parquet file ({type(exc).__name__}: {exc})", path=str(path)) from None
    if frame.empty:
        raise InputError("Parquet file has no rows", path=str(path))
    return _records_to_frame(frame.to_dict(orient="records"), str(path))


def read_table(path: str | Path) -> pd.DataFrame:
    """Read any supported file into a DataFrame of strings/None with a ``_row`` column."""
    path = Path(path)
    fmt = detect_format(path)
    if fmt == "parquet":
        if not path.exists():
            raise InputError("file not found", path=str(path))
        return _read_parquet(path)
    text = _read_text(path)
    if fmt == "json":
        return _read_json(text, str(path))
    if fmt == "jsonl":
        return _read_jsonl(text, str(path))
    return _read_delimited(text, str(path), "," if fmt == "csv" else "\t")


def read_meta(path: str | Path) -> dict[str, Any]:
    """Run metadata stored beside a predictions file (``preds.csv.meta.json``), or {}."""
    side = Path(str(path) + META_SUFFIX)
    if not side.exists():
        return {}
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"run metadata is not valid JSON ({exc})", path=str(side)) from None
    if not isinstance(meta, dict):
        raise InputError("run metadata must be a JSON object", path=str(side))
    return meta


def write_meta(path: str | Path, meta: dict[str, Any]) -> Path:
    side = Path(str(path) + META_SUFFIX)
    side.write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return side


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a DataFrame in the format its extension names (csv, tsv, jsonl, json, parquet)."""
    path = Path(path)
    fmt = detect_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif fmt == "json":
        frame.to_json(path, orient="records", force_ascii=False, indent=1)
    else:
        frame.to_parquet(path, index=False)
