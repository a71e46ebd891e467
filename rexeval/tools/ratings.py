"""Readers for human rating sets, the input of ``rexeval meta-eval``.

Every reader returns a :class:`Ratings`: one row per rated (prediction, reference) pair with a unique
``pair_id``, the ``study_id`` of its reference (the cluster unit of the bootstrap when a reference has
several candidates), the two texts and one numeric column per human judgement. Where the set has one
column per rater, ``raters`` names them and ``human_mean`` holds their mean.

Layouts (``layout=``):

``wide``
    CSV/JSONL/Parquet, one row per pair: ``study_id``, ``prediction``, ``reference`` (the aliases
    ``rexeval score`` accepts) and numeric human columns. An optional ``pair_id`` (or ``candidate`` /
    ``origin``) column tells candidates of one study apart.
``long``
    One row per (pair, rater): ``study_id``, ``prediction``, ``reference``, ``rater`` and ``score``
    (or ``errors``); pivoted to one column per rater.
``rexval``
    ReXVal (Yu et al. 2023, PhysioNet ``rexval-dataset`` 1.0.0, credentialed access: obtain it at
    https://physionet.org/content/rexval-dataset/1.0.0/ after signing its data use agreement). A
    directory holding ``50_samples_gt_and_candidates.csv`` (one row per study: ``study_id``,
    ``gt_report`` and one column of candidate text per retrieval metric -- ``radgraph``, ``bertscore``,
    ``s_emb``, ``bleu``; a long variant with ``study_number``, ``candidate_type``/``origin`` and a
    generated-report column is read too) and ``6_valid_raters_per_rater_error_categories.csv`` (one
    row per study_number x candidate_type x rater_index x error_category x clinically_significant with
    ``num_errors``). Each rater's errors are summed over categories per pair (clinically significant
    only by default); a rater with no row for a pair counted 0 errors there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rexeval.base.exceptions import InputError

if TYPE_CHECKING:
    import pandas as pd

LAYOUTS = ("auto", "wide", "long", "rexval")
REXVAL_PAIRS = "50_samples_gt_and_candidates.csv"
REXVAL_ERRORS = "6_valid_raters_per_rater_error_categories.csv"
REXVAL_CANDIDATES = ("radgraph", "bertscore", "s_emb", "bleu")
ERROR_KINDS = ("significant", "insignificant", "all")

_ID = ("study_id", "study_number", "id", "study", "studyid")
_PRED = ("prediction", "predictions", "pred", "generated", "generated_report", "candidate_report",
         "generation", "hypothesis", "candidate", "report")
_REF = ("reference", "references", "ref", "ground_truth", "groundtruth", "gt", "gt_report",
        "reference_report", "ground_truth_report")
_PAIR = ("pair_id", "candidate_type", "origin", "candidate_id", "system", "model")
_RATER = ("rater", "rater_id", "rater_index", "annotator", "reader")
_SCORE = ("score", "rating", "errors", "num_errors", "value")


@dataclass
class Ratings:
    """Rated pairs: ``frame`` has pair_id, study_id, prediction, reference and the human columns."""

    frame: pd.DataFrame
    human: list[str]
    raters: list[str] = field(default_factory=list)
    #: Per human column: True when a higher value means a better report (a score), False for error counts.
    higher_is_better: dict[str, bool] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def n_pairs(self) -> int:
        return len(self.frame)

    @property
    def n_studies(self) -> int:
        return int(self.frame["study_id"].nunique())


def _find(columns, aliases, exclude=()) -> str | None:
    lower = {str(c).lower(): c for c in columns if c not in exclude}
    for a in aliases:
        if a in lower:
            return lower[a]
    return None


def _read_table(path: Path) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        raise InputError("file not found", path=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True, dtype=False)
        if suffix == ".json":
            return pd.read_json(path, dtype=False)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"cannot read the ratings: {str(exc).splitlines()[0]}", path=str(path)) from None


def _numeric(frame: pd.DataFrame, column: str, path: str, *, count: bool = False, required: bool = False) -> Any:
    """A column as floats; an empty cell is NaN (not rated) unless ``required``. A value that is not a
    finite number, and for an error count (``count``) a negative one, is an error naming its row."""
    import numpy as np
    import pandas as pd

    raw = frame[column]
    values = pd.to_numeric(raw.replace({"": None}), errors="coerce")
    blank = raw.isna() | (raw.astype(str).str.strip() == "")
    checks = (
        (values.isna() & ~blank, "not a number: {!r}"),
        (np.isinf(values.to_numpy(dtype=float)), "not a finite number: {!r}"),
        ((values < 0).to_numpy() if count else np.zeros(len(raw), bool), "an error count cannot be negative: {!r}"),
        (blank.to_numpy() if required else np.zeros(len(raw), bool), "no value (an empty cell is not a count of 0){}"),
    )
    for bad, message in checks:
        bad = np.asarray(bad, dtype=bool)
        if bad.any():
            row = int(bad.nonzero()[0][0])
            shown = raw.iloc[row] if "{!r}" in message else ""
            raise InputError(message.format(shown), path=path, row=row + 2, column=str(column))
    return values.astype(float)


def _no_repeated_rows(frame: pd.DataFrame, path: str) -> None:
    """An exact copy of an earlier row would be counted twice: an error naming both rows."""
    try:
        repeated = frame.duplicated()
    except TypeError:  # unhashable cells (lists in JSON): such a file fails on its texts anyway
        return
    if repeated.any():
        row = int(repeated.to_numpy().nonzero()[0][0])
        same = frame.iloc[:row].eq(frame.iloc[row]).all(axis=1).to_numpy().nonzero()[0]
        first = f" {int(same[0]) + 2}" if len(same) else " above"
        raise InputError(f"repeats row{first} exactly (it would be counted twice); remove one of them",
                         path=path, row=row + 2)


def guess_higher_is_better(column: str) -> bool:
    """Error counts (a name with 'error', 'mistake' or 'count') are lower-is-better; anything else a score."""
    low = column.lower()
    return not any(w in low for w in ("error", "mistake", "count", "n_err"))


def _texts(frame: pd.DataFrame, path: str) -> tuple[str, str, str]:
    sid = _find(frame.columns, _ID)
    pred = _find(frame.columns, _PRED)
    ref = _find(frame.columns, _REF, exclude=(pred,))
    for name, col, aliases in (("study id", sid, _ID), ("prediction", pred, _PRED), ("reference", ref, _REF)):
        if col is None:
            raise InputError(f"no {name} column (expected one of {', '.join(aliases)}; found "
                             f"{', '.join(map(str, frame.columns))})", path=path)
    return sid, pred, ref  # type: ignore[return-value]


def _pair_ids(frame: pd.DataFrame, sid: str, path: str) -> Any:
    """A unique id per pair: the pair/candidate column, else study_id (+ #k when a study repeats)."""
    pair = _find(frame.columns, _PAIR)
    if pair is not None and pair.lower() == "pair_id":
        ids = frame[pair].astype(str)
    elif pair is not None:
        ids = frame[sid].astype(str) + "#" + frame[pair].astype(str)
    else:
        k = frame.groupby(sid).cumcount().astype(str)
        repeated = frame[sid].duplicated(keep=False)
        ids = frame[sid].astype(str).where(~repeated, frame[sid].astype(str) + "#" + k)
    dup = ids.duplicated()
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(f"pair {ids.iloc[row]!r} appears twice", path=path, row=row + 2)
    return ids


def read_wide(path: str | Path, human: list[str] | None = None, raters: list[str] | None = None) -> Ratings:
    import pandas as pd

    p = Path(path)
    frame = _read_table(p)
    _no_repeated_rows(frame, str(p))
    sid, pred, ref = _texts(frame, str(p))
    used = {sid, pred, ref, _find(frame.columns, _PAIR)}
    wanted = list(human or []) + [r for r in (raters or []) if r not in (human or [])]
    for col in wanted:
        if col not in frame.columns:
            raise InputError(f"no human column {col!r} (found {', '.join(map(str, frame.columns))})", path=str(p))
    if not wanted:  # every numeric column that is not a text or id column
        for col in frame.columns:
            if col in used:
                continue
            values = pd.to_numeric(frame[col].replace({"": None}), errors="coerce")
            if values.notna().any() and (values.notna() | (frame[col].astype(str).str.strip() == "")).all():
                wanted.append(col)
        if not wanted:
            raise InputError("no numeric human column found; name them with --human", path=str(p))
    out = pd.DataFrame({
        "pair_id": _pair_ids(frame, sid, str(p)).to_numpy(),
        "study_id": frame[sid].astype(str).to_numpy(),
        "prediction": frame[pred].astype(str).to_numpy(),
        "reference": frame[ref].astype(str).to_numpy(),
    })
    for col in wanted:
        out[str(col)] = _numeric(frame, col, str(p), count=not guess_higher_is_better(str(col))).to_numpy()
    human_cols = [str(c) for c in (human or [c for c in wanted if c not in (raters or [])])]
    ratings = _with_mean(Ratings(out, human_cols, [str(r) for r in raters or []],
                                 source={"layout": "wide", "path": str(p)}))
    if human and ratings.raters:  # the named columns come first (the paired tests use the first)
        ratings.human = [str(h) for h in human] + [h for h in ratings.human if h not in human]
    return ratings


def read_long(path: str | Path) -> Ratings:
    p = Path(path)
    frame = _read_table(p)
    _no_repeated_rows(frame, str(p))
    sid, pred, ref = _texts(frame, str(p))
    rater = _find(frame.columns, _RATER)
    score = _find(frame.columns, _SCORE)
    if rater is None or score is None:
        raise InputError(f"the long layout needs a rater column ({', '.join(_RATER)}) and a score column "
                         f"({', '.join(_SCORE)})", path=str(p))
    frame = frame.copy()
    frame["_score"] = _numeric(frame, score, str(p), count=not guess_higher_is_better(str(score)))
    pair = _find(frame.columns, _PAIR)
    key = [sid, pair] if pair is not None else [sid, pred]
    firsts = frame.drop_duplicates(key)[[c for c in (sid, pred, ref, pair) if c is not None]].reset_index(drop=True)
    ids = _pair_ids(firsts, sid, str(p))
    dup = frame.duplicated(key + [rater])
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(f"rater {frame[rater].iloc[row]!r} rated this pair twice", path=str(p), row=row + 2)
    wide = frame.pivot(index=key, columns=rater, values="_score")
    rater_names = [f"rater_{r}" for r in wide.columns]
    wide.columns = rater_names
    wide = wide.reset_index()
    import pandas as pd

    out = pd.DataFrame({"pair_id": ids.to_numpy(), "study_id": firsts[sid].astype(str).to_numpy(),
                        "prediction": firsts[pred].astype(str).to_numpy(),
                        "reference": firsts[ref].astype(str).to_numpy()})
    merged = firsts[key].merge(wide, on=key, how="left")
    for name in rater_names:
        out[name] = merged[name].to_numpy(dtype=float)
    hib = guess_higher_is_better(str(score))
    ratings = Ratings(out, [], rater_names, {r: hib for r in rater_names},
                      source={"layout": "long", "path": str(p), "score_column": str(score)})
    return _with_mean(ratings)


def _with_mean(r: Ratings) -> Ratings:
    """Add ``human_mean`` (mean over the raters who rated the pair) when there are rater columns."""
    if r.raters:
        if len(r.raters) < 2:
            raise InputError("one column per rater needs at least two raters")
        r.frame["human_mean"] = r.frame[r.raters].mean(axis=1, skipna=True)
        if "human_mean" not in r.human:
            r.human.insert(0, "human_mean")
        hib = {r.higher_is_better.get(c, guess_higher_is_better(c)) for c in r.raters}
        r.higher_is_better.setdefault("human_mean", hib.pop() if len(hib) == 1 else True)
    for col in r.human + r.raters:
        r.higher_is_better.setdefault(col, guess_higher_is_better(col))
    return r


def _rexval_files(path: Path) -> tuple[Path, Path]:
    if path.is_dir():
        pairs, errors = path / REXVAL_PAIRS, path / REXVAL_ERRORS
        if not pairs.is_file():
            found = sorted(path.glob("*gt_and_candidates*.csv"))
            pairs = found[0] if found else pairs
        if not errors.is_file():
            found = sorted(path.glob("*error_categories*.csv"))
            errors = found[0] if found else errors
    else:
        pairs, errors = path, path.parent / REXVAL_ERRORS
    for f in (pairs, errors):
        if not f.is_file():
            raise InputError(f"ReXVal file missing: {f.name} (the rexval layout reads {REXVAL_PAIRS} and "
                             f"{REXVAL_ERRORS} from one directory; obtain them from "
                             "https://physionet.org/content/rexval-dataset/1.0.0/)", path=str(f))
    return pairs, errors


_TRUE, _FALSE = ("true", "1", "yes", "1.0"), ("false", "0", "no", "0.0")


def _flag(frame: pd.DataFrame, column: str, path: str) -> Any:
    """A yes/no column as booleans; anything else (``maybe``, empty) is an error naming its row."""
    text = frame[column].astype(str).str.strip().str.lower()
    unknown = ~(text.isin(_TRUE) | text.isin(_FALSE))
    if unknown.any():
        row = int(unknown.to_numpy().nonzero()[0][0])
        raise InputError(f"expected true or false (or 1/0, yes/no), got {frame[column].iloc[row]!r}",
                         path=path, row=row + 2, column=column)
    return text.isin(_TRUE)


def read_rexval(path: str | Path, errors: str = "significant") -> Ratings:
    """ReXVal's two CSVs -> one row per (study, candidate) with one error-count column per rater."""
    import pandas as pd

    if errors not in ERROR_KINDS:
        raise InputError(f"ReXVal error kind must be one of {', '.join(ERROR_KINDS)}, not {errors!r}")
    pairs_path, errors_path = _rexval_files(Path(path))
    pairs = _read_table(pairs_path)
    ann = _read_table(errors_path)
    need = ("study_number", "candidate_type", "rater_index", "clinically_significant", "num_errors")
    for col in need:
        if col not in ann.columns:
            raise InputError(f"no column {col!r} (ReXVal's error file has {', '.join(need)}, error_category)",
                             path=str(errors_path))
    _no_repeated_rows(pairs, str(pairs_path))
    _no_repeated_rows(ann, str(errors_path))
    ann = ann.copy()
    ann["num_errors"] = _numeric(ann, "num_errors", str(errors_path), count=True, required=True)
    sig = _flag(ann, "clinically_significant", str(errors_path))
    for col in ("study_number", "candidate_type", "rater_index"):
        ann[col] = ann[col].astype(str).str.strip()

    # The pairs file: long (study_number + candidate_type/origin + generated text) or ReXVal's wide rows.
    ref = _find(pairs.columns, ("gt_report", "ground_truth", "ground_truth_report", "reference"))
    if ref is None:
        raise InputError("no ground-truth report column (gt_report)", path=str(pairs_path))
    origin = _find(pairs.columns, ("candidate_type", "origin"))
    if origin is not None:
        sid = _find(pairs.columns, ("study_number", "study_id"))
        gen = _find(pairs.columns, ("generated", "generated_report", "candidate", "candidate_report", "prediction"))
        if sid is None or gen is None:
            raise InputError("a long ReXVal pairs file needs study_number and a generated-report column",
                             path=str(pairs_path))
        long = pd.DataFrame({"study": pairs[sid].astype(str).str.strip(), "candidate_type": pairs[origin].astype(str),
                             "prediction": pairs[gen].astype(str), "reference": pairs[ref].astype(str)})
    else:
        cands = [c for c in pairs.columns if c in REXVAL_CANDIDATES] or [
            c for c in pairs.columns if c not in (ref,) and c.lower() not in _ID]
        sid = _find(pairs.columns, ("study_number", "study_id"))
        studies = sorted(set(ann["study_number"]))
        ids = pairs[sid].astype(str).str.strip().tolist() if sid is not None else []
        if sid is not None and set(studies) <= set(ids):
            keys = ids  # the error file's study_number is the pairs file's id
        else:  # study_number is the row position, 0- or 1-based; which one is decided by the set of values
            n = len(pairs)
            if set(studies) <= {str(i) for i in range(n)} and "0" in studies:
                keys = [str(i) for i in range(n)]
            elif set(studies) <= {str(i) for i in range(1, n + 1)}:
                keys = [str(i) for i in range(1, n + 1)]
            else:
                raise InputError(f"study_number values {studies[:3]}... match neither the study ids nor the "
                                 f"row positions of {pairs_path.name}", path=str(errors_path))
        rows = []
        for i, key in enumerate(keys):
            for c in cands:
                rows.append({"study": key, "candidate_type": c, "prediction": str(pairs[c].iloc[i]),
                             "reference": str(pairs[ref].iloc[i])})
        long = pd.DataFrame(rows)

    chosen = ann[sig] if errors == "significant" else ann[~sig] if errors == "insignificant" else ann
    raters = sorted(set(ann["rater_index"]), key=lambda r: (len(r), r))
    counts = chosen.groupby(["study_number", "candidate_type", "rater_index"])["num_errors"].sum()
    rated = set(zip(ann["study_number"], ann["candidate_type"], strict=True))
    missing = [k for k in zip(long["study"], long["candidate_type"], strict=True) if k not in rated]
    if missing:
        raise InputError(f"{len(missing)} pairs have no rating, e.g. study {missing[0][0]!r} candidate "
                         f"{missing[0][1]!r}", path=str(errors_path))
    out = pd.DataFrame({
        "pair_id": (long["study"] + "#" + long["candidate_type"]).to_numpy(),
        "study_id": long["study"].to_numpy(),
        "candidate_type": long["candidate_type"].to_numpy(),
        "prediction": long["prediction"].to_numpy(),
        "reference": long["reference"].to_numpy(),
    })
    names = []
    for r in raters:
        name = f"errors_rater{r}"
        names.append(name)
        out[name] = [float(counts.get((s, c, r), 0.0)) for s, c in zip(long["study"], long["candidate_type"], strict=True)]
    ratings = Ratings(out, [], names, {n: False for n in names},
                      source={"layout": "rexval", "pairs": str(pairs_path), "errors": str(errors_path),
                              "error_kind": errors})
    r = _with_mean(ratings)
    r.frame = r.frame.rename(columns={"human_mean": "errors_mean"})
    r.human = ["errors_mean" if h == "human_mean" else h for h in r.human]
    r.higher_is_better["errors_mean"] = False
    r.higher_is_better.pop("human_mean", None)
    return r


def read_ratings(path: str | Path, *, layout: str = "auto", human: list[str] | None = None,
                 raters: list[str] | None = None, rexval_errors: str = "significant") -> Ratings:
    """Read a rating set in one of :data:`LAYOUTS` (``auto`` picks rexval for a directory holding ReXVal's
    files, long for a table with rater and score columns, wide otherwise)."""
    from rexeval.base.exceptions import ConfigError

    if layout not in LAYOUTS:
        raise ConfigError(f"--layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    p = Path(path)
    if layout == "auto":
        if p.is_dir() or p.name == REXVAL_PAIRS:
            layout = "rexval"
        else:
            head = _read_table(p)
            layout = "long" if _find(head.columns, _RATER) and _find(head.columns, _SCORE) and not human else "wide"
    if layout == "rexval":
        r = read_rexval(p, rexval_errors)
    elif layout == "long":
        r = read_long(p)
    else:
        return read_wide(p, human, raters)
    if human:  # pick among the reader's columns
        for h in human:
            if h not in r.frame.columns:
                raise InputError(f"no human column {h!r}; this layout gives {', '.join(r.human + r.raters)}",
                                 path=str(p))
        r.human = list(human)
    return r
