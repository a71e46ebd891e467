"""Subgroups: parse demographic fields from what benchmark files really contain, then score per group.

Sources, in order of preference, for each grouping column:

- ``age_group``: a column ``age_group``/``age_bin``; else ``age`` (numbers are binned, ranges kept);
  else the ``Age:`` field of a ReXrank ``context`` string (``Age:50-60.Gender:M.Indication: ...`` in
  MIMIC-CXR, ``Age:77.0.Gender:F.Indication: ...`` in CheXpert Plus); else an age stated in the context's
  indication text ("53 years", "35-year-old"); else ``missing``.
- ``sex``: a column ``sex``/``gender``/``patient_sex``; else the ``Gender:`` field of ``context``; else
  the sex stated in the indication text (IU X-ray: "XXXX-year-old female", "woman", "Male, 53 years");
  else ``missing``.
- anything else (``race``, ``ethnicity``, ``view``, ...): the column of that name (case-insensitive).

Cleaning (every raw value is mapped to exactly one group, and the mapping is counted in
``summary["subgroups"]["cleaning"]``, so nothing is dropped silently):

- absent values (None, NaN, empty, ``nan``, ``None``, ``null``, ``N/A``, ``___``) -> ``missing``;
- explicit unknowns (``Unknown``, ``Unknown/Not Reported``, ``Race and Ethnicity Unknown``, ``Not
  reported``, ``U``) -> ``unknown``; ``Patient Refused``/``Declined`` -> ``declined``;
- sex: ``M``/``Male``/``man``... -> ``male``; ``F``/``Female``/``woman``... -> ``female``; any other
  value -> ``other``; text that states both sexes -> ``ambiguous``;
- age ranges: ``50-60`` -> ``50-60``; an Excel-mangled range (``20-Oct`` or ``Oct-20``, i.e. ``10-20``
  read as a date) -> the range with the month's number (``10-20``); numbers (``77``, ``77.0``) ->
  the configured bin (default decades ``[0,10) ... [80,90)``, ``90+``; a number x falls in [lo, hi));
  negative or > 120 ages, and strings that are neither -> ``invalid``;
- other columns: the stripped value; absent/unknown values as above.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rexeval.base.exceptions import ConfigError, InputError

if TYPE_CHECKING:
    from rexeval.run.runs import Run
    from rexeval.run.runs.summary import SubgroupsInfo

MISSING, UNKNOWN, DECLINED, INVALID, AMBIGUOUS, OTHER = "missing", "unknown", "declined", "invalid", "ambiguous", "other"
#: Groups that are not a value of the attribute; listed after the real groups.
SPECIAL = (UNKNOWN, DECLINED, OTHER, AMBIGUOUS, INVALID, MISSING)
DEFAULT_AGE_BINS: tuple[float, ...] = (0, 10, 20, 30, 40, 50, 60, 70, 80, 90, math.inf)
DEFAULT_MIN_GROUP_SIZE = 30
MAX_AGE = 120

_ABSENT = {"", "nan", "none", "null", "n/a", "na", "___", "-", "?"}
_UNKNOWN = {"unknown", "unk", "u", "not reported", "unknown/not reported", "race and ethnicity unknown",
            "not available", "unavailable", "not specified"}
_DECLINED = {"patient refused", "refused", "declined", "declined to answer", "patient declined"}
_MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_SEX = {"m": "male", "male": "male", "man": "male", "men": "male", "boy": "male",
        "f": "female", "female": "female", "woman": "female", "women": "female", "girl": "female"}

_CONTEXT_AGE = re.compile(r"(?:^|\.)\s*Age:\s*(?P<age>.*?)\.(?=\s*(?:Gender:|Indication:|Comparison:|$))", re.S)
_CONTEXT_SEX = re.compile(r"(?:^|\.)\s*Gender:\s*(?P<sex>[^.]*?)\s*\.(?=\s*(?:Indication:|Comparison:|$))", re.S)
_CONTEXT_TEXT = re.compile(r"(?:Indication:|Clinical history:)(?P<text>.*?)(?=Comparison:|$)", re.S | re.I)
_SEX_WORDS = re.compile(r"\b(female|male|woman|women|man|men|girl|boy|gentleman|lady)\b", re.I)
#: A lone M/F counts only next to an age ("XXXX F with", "53 M", "53yo F"), never "F/U".
_SEX_LETTER = re.compile(r"(?:\b\d{1,3}|XXXX|year[- ]old|y/?o)\s*,?\s*\b([MF])\b(?![/.\w])")
_AGE_TEXT = re.compile(
    r"\b(\d{1,3})\s*(?:-|\s)?\s*(?:years?|yrs?|y/o|yo)\b(?!\s*(?:ago|history|hx))", re.I)
_RANGE = re.compile(r"^\s*(\d{1,3})\s*(?:-|–|to)\s*(\d{1,3})\s*$")
_PLUS = re.compile(r"^\s*(\d{1,3})\s*\+\s*$|^\s*>=?\s*(\d{1,3})\s*$")
_EXCEL = re.compile(r"^\s*(?:(\d{1,3})-([A-Za-z]{3})|([A-Za-z]{3})-(\d{1,3}))\s*$")


# ----- cleaning of single values ---------------------------------------------------------------------

def _absent(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in _ABSENT


def _special(value: Any) -> str | None:
    if _absent(value):
        return MISSING
    text = str(value).strip().lower()
    if text in _UNKNOWN:
        return UNKNOWN
    if text in _DECLINED:
        return DECLINED
    return None


def age_bin_label(lo: float, hi: float) -> str:
    return f"{lo:g}+" if math.isinf(hi) else f"{lo:g}-{hi:g}"


def bin_age(age: float, bins: Sequence[float] = DEFAULT_AGE_BINS) -> str:
    """The label of the bin [lo, hi) that holds ``age`` (``invalid`` outside 0..120)."""
    if math.isnan(age) or age < 0 or age > MAX_AGE:
        return INVALID
    for lo, hi in zip(bins[:-1], bins[1:], strict=False):
        if lo <= age < hi:
            return age_bin_label(lo, hi)
    return INVALID


def clean_age(value: Any, bins: Sequence[float] = DEFAULT_AGE_BINS) -> str:
    """An age or age range as found in a file -> its group label (see the module doc)."""
    special = _special(value)
    if special:
        return special
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return bin_age(float(value), bins)
    text = str(value).strip()
    try:
        return bin_age(float(text), bins)
    except ValueError:
        pass
    m = _RANGE.match(text)
    if m:
        lo, hi = sorted((int(m.group(1)), int(m.group(2))))
        return f"{lo}-{hi}" if hi <= MAX_AGE else INVALID
    m = _PLUS.match(text)
    if m:
        return f"{int(m.group(1) or m.group(2))}+"
    m = _EXCEL.match(text)
    if m:  # "10-20" that a spreadsheet read as 20 October ("20-Oct") or October 2020 ("Oct-20")
        num, mon = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        month = _MONTHS.get(mon.lower())
        if month is not None:
            lo, hi = sorted((month, int(num)))
            return f"{lo}-{hi}"
    return INVALID


def clean_sex(value: Any) -> str:
    special = _special(value)
    if special:
        return special
    return _SEX.get(str(value).strip().lower(), OTHER)


def clean_category(value: Any) -> str:
    special = _special(value)
    if special:
        return special
    return re.sub(r"\s+", " ", str(value).strip())


# ----- parsing of ReXrank context strings and indication text ----------------------------------------

def parse_context(context: Any) -> dict[str, str | None]:
    """Split a ReXrank ``context`` string into its ``age``, ``sex`` and free ``text`` (indication) fields."""
    out: dict[str, str | None] = {"age": None, "sex": None, "text": None}
    if _absent(context):
        return out
    text = str(context)
    m = _CONTEXT_AGE.search(text)
    if m:
        out["age"] = m.group("age").strip()
    m = _CONTEXT_SEX.search(text)
    if m:
        out["sex"] = m.group("sex").strip()
    m = _CONTEXT_TEXT.search(text)
    if m:
        body = m.group("text").strip()
        out["text"] = None if body.lower() in _ABSENT else body
    return out


def sex_from_text(text: Any) -> str | None:
    """male/female from words in free text; ``ambiguous`` if both; None if the text states neither."""
    if _absent(text):
        return None
    found = {_SEX.get(w.lower(), "female" if w.lower() == "lady" else "male") for w in _SEX_WORDS.findall(str(text))}
    found |= {_SEX[letter.lower()] for letter in _SEX_LETTER.findall(str(text))}
    if not found:
        return None
    return found.pop() if len(found) == 1 else AMBIGUOUS


def age_from_text(text: Any) -> float | None:
    """An explicit age in years from free text ("53 years", "35-year-old", "72 yo"); None otherwise."""
    if _absent(text):
        return None
    ages = {int(a) for a in _AGE_TEXT.findall(str(text))}
    ages = {a for a in ages if 0 < a <= MAX_AGE}
    return float(ages.pop()) if len(ages) == 1 else None


# ----- deriving the grouping columns -----------------------------------------------------------------

_ALIASES = {
    "age_group": ("age_group", "age_bin", "agegroup", "age_bucket", "age_range"),
    "age": ("age", "patient_age", "patientage", "age_years"),
    "sex": ("sex", "gender", "patient_sex", "patientsex"),
}


@dataclass
class Groups:
    """Group label per study for each grouping column, and how every raw value was mapped."""

    labels: pd.DataFrame  # one column per grouping column, row-aligned with the studies
    #: column -> list of {raw, group, source, count}
    cleaning: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: column -> {source: count of studies whose group came from it}
    sources: dict[str, dict[str, int]] = field(default_factory=dict)


def _find_col(frame: pd.DataFrame, names: Sequence[str]) -> str | None:
    lower = {str(c).lower(): c for c in frame.columns}
    for n in names:
        if n in lower:
            return lower[n]
    return None


def derive_groups(frame: pd.DataFrame, by: Sequence[str], age_bins: Sequence[float] = DEFAULT_AGE_BINS) -> Groups:
    """Group labels for ``by`` from a table of per-study attributes (reference columns and/or --meta)."""
    bins = tuple(float(b) for b in age_bins)
    if len(bins) < 2 or any(b >= c for b, c in zip(bins[:-1], bins[1:], strict=False)):
        raise ConfigError(f"age bins must be increasing and at least two edges, got {list(age_bins)}")
    n = len(frame)
    ctx_col = _find_col(frame, ("context",))
    parsed = [parse_context(v) for v in frame[ctx_col]] if ctx_col else [parse_context(None)] * n
    labels: dict[str, list[str]] = {}
    cleaning: dict[str, list[dict[str, Any]]] = {}
    sources: dict[str, dict[str, int]] = {}
    for name in by:
        key = name.strip()
        out: list[str] = []
        raw_map: Counter = Counter()
        src_count: Counter = Counter()
        if key in ("age_group", "age"):
            col_group = _find_col(frame, _ALIASES["age_group"])
            col_age = _find_col(frame, _ALIASES["age"])
            if col_group is None and col_age is None and ctx_col is None:
                raise ConfigError(_no_source(key, frame))
            for i in range(n):
                raw, src = None, MISSING
                for col in (col_group, col_age):
                    if col is not None and not _absent(frame[col].iloc[i]):
                        raw, src = frame[col].iloc[i], col
                        break
                if raw is None and parsed[i]["age"] is not None and not _absent(parsed[i]["age"]):
                    raw, src = parsed[i]["age"], "context Age:"
                if raw is None and parsed[i]["text"]:
                    age = age_from_text(parsed[i]["text"])
                    if age is not None:
                        raw, src = age, "context indication text"
                if raw is None:  # keep the explicit "unknown" a structured column said, if any
                    for col in (col_group, col_age):
                        if col is not None and frame[col].iloc[i] is not None:
                            raw, src = frame[col].iloc[i], col
                            break
                group = clean_age(raw, bins)
                out.append(group)
                raw_map[(_raw_repr(raw), group, src)] += 1
                src_count[src] += 1
        elif key in ("sex", "gender"):
            col = _find_col(frame, _ALIASES["sex"])
            if col is None and ctx_col is None:
                raise ConfigError(_no_source(key, frame))
            for i in range(n):
                raw, src, group = None, MISSING, None
                if col is not None and not _absent(frame[col].iloc[i]):
                    raw, src = frame[col].iloc[i], col
                elif parsed[i]["sex"] is not None and not _absent(parsed[i]["sex"]):
                    raw, src = parsed[i]["sex"], "context Gender:"
                elif parsed[i]["text"]:
                    group = sex_from_text(parsed[i]["text"])
                    if group is not None:
                        raw, src = _snippet(str(parsed[i]["text"])), "context indication text"
                if group is None:
                    group = clean_sex(raw if raw is not None else (frame[col].iloc[i] if col is not None else None))
                out.append(group)
                raw_map[(_raw_repr(raw) if src != "context indication text" else group + " (text)", group, src)] += 1
                src_count[src] += 1
        else:
            col = _find_col(frame, (key.lower(),))
            if col is None:
                raise ConfigError(_no_source(key, frame))
            for i in range(n):
                raw = frame[col].iloc[i]
                group = clean_category(raw)
                out.append(group)
                raw_map[(_raw_repr(raw), group, col)] += 1
                src_count[col if not _absent(raw) else MISSING] += 1
        labels[key] = out
        cleaning[key] = [{"raw": r, "group": g, "source": s, "count": c}
                         for (r, g, s), c in sorted(raw_map.items(), key=lambda kv: (-kv[1], str(kv[0])))]
        sources[key] = dict(src_count)
    return Groups(pd.DataFrame(labels), cleaning, sources)


def _raw_repr(raw: Any) -> str:
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return "<absent>"
    return str(raw)


def _snippet(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _no_source(key: str, frame: pd.DataFrame) -> str:
    cols = [str(c) for c in frame.columns if c != "study_id"]
    parsed = " and no ReXrank 'context' to parse" if key in ("age_group", "age", "sex", "gender") else ""
    return (f"--by {key}: no column for it in the references or --meta file{parsed} "
            f"(available columns: {', '.join(cols[:20]) or 'none'}; pass --meta FILE with study_id and {key})")


def group_order(values: Sequence[str]) -> list[str]:
    """Real groups first (age bins numerically, others alphabetically), then the special groups."""
    def key(v: str):
        if v in SPECIAL:
            return (2, SPECIAL.index(v), 0.0, v)
        m = re.match(r"^(\d+)", v)
        if m:
            return (0, 0, float(m.group(1)), v)
        return (1, 0, 0.0, v.lower())

    return sorted(set(values), key=key)


# ----- scoring per subgroup --------------------------------------------------------------------------

def subgroup_scores(
    columns: dict[str, np.ndarray],
    outputs: dict[str, Any],
    groups: pd.DataFrame,
    *,
    n_resamples: int = 1000,
    seed: int = 12345,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> pd.DataFrame:
    """Per grouping column, group and output: n, value with its bootstrap CI, and the difference from the
    overall value with its CI.

    The subgroup CI resamples the group's own studies (same aggregate, subset of rows). The difference's
    CI resamples all studies jointly and recomputes both the group's and the overall aggregate on each
    resample, so it accounts for the group being part of the whole.
    """
    from rexeval.stats.bootstrap import bootstrap_ci, percentile_ci, resample_counts

    n = len(groups)
    rows = []
    stats_all = {key: out.aggregate.stats(columns) for key, out in outputs.items()}
    overall = {key: float(out.aggregate.finalize(stats_all[key].sum(0))) for key, out in outputs.items()}
    for by in groups.columns:
        labels = groups[by].to_numpy()
        order = group_order(labels.tolist())
        masks = {g: labels == g for g in order}
        # Joint resamples of all studies for the differences (shared across groups and outputs).
        diffs: dict[tuple[str, str], list[np.ndarray]] = {(g, k): [] for g in order for k in outputs}
        if n_resamples > 0:
            for w in resample_counts(n, n_resamples, seed):
                for key, out in outputs.items():
                    s = stats_all[key]
                    total = out.aggregate.finalize(w @ s)
                    for g, mask in masks.items():
                        with np.errstate(invalid="ignore", divide="ignore"):
                            diffs[(g, key)].append(out.aggregate.finalize(w[:, mask] @ s[mask]) - total)
        for g in order:
            mask = masks[g]
            size = int(mask.sum())
            sub_cols = {c: v[mask] for c, v in columns.items()}
            for key, out in outputs.items():
                value = float(out.aggregate.finalize(stats_all[key][mask].sum(0)))
                lo, hi = bootstrap_ci(out.aggregate, sub_cols, n_resamples, seed)
                if n_resamples > 0:
                    dlo, dhi = percentile_ci(np.concatenate(diffs[(g, key)]))
                else:
                    dlo = dhi = float("nan")
                rows.append({
                    "by": by, "group": g, "n": size, "share": size / n if n else float("nan"),
                    "small": size < min_group_size, "metric": key, "higher_is_better": out.higher_is_better,
                    "value": value, "ci_lo": lo, "ci_hi": hi, "overall": overall[key],
                    "diff": value - overall[key], "diff_lo": dlo, "diff_hi": dhi,
                })
    return pd.DataFrame(rows)


def summary_block(table: pd.DataFrame, groups: Groups, min_group_size: int,
                  meta_info: dict | None = None) -> SubgroupsInfo:
    """What summary.json records under "subgroups"."""
    from rexeval.run.runs.summary import SubgroupsInfo

    results: dict[str, Any] = {}
    for r in table.itertuples(index=False):
        g = results.setdefault(r.by, {}).setdefault(r.group, {"n": r.n, "small": bool(r.small), "metrics": {}})
        g["metrics"][r.metric] = {"value": _f(r.value), "ci95": [_f(r.ci_lo), _f(r.ci_hi)],
                                  "diff": _f(r.diff), "diff_ci95": [_f(r.diff_lo), _f(r.diff_hi)]}
    return SubgroupsInfo(by=tuple(groups.labels.columns), min_group_size=min_group_size, sources=groups.sources,
                         cleaning=groups.cleaning, meta=meta_info or {}, results=results)


def _f(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def parse_bins(text: str | None) -> tuple[float, ...]:
    """``"0,18,40,65"`` -> (0, 18, 40, 65, inf); the last bin is open-ended unless it ends with ``inf``."""
    if not text:
        return DEFAULT_AGE_BINS
    try:
        edges = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--age-bins must be comma-separated numbers, got {text!r}") from None
    if not math.isinf(edges[-1]):
        edges.append(math.inf)
    return tuple(edges)


# ----- glue for `rexeval score --by` -------------------------------------------------------------------

def attributes_frame(study_ids: Sequence[str], ref_columns: pd.DataFrame | None, meta: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Per-study attributes: the reference file's other columns, with a ``--meta`` file joined on study id
    (its columns win over same-named reference columns). Studies the meta file lacks get absent values
    (-> ``missing``); they are counted in the returned info."""
    frame = pd.DataFrame({"study_id": list(study_ids)})
    if ref_columns is not None and len(ref_columns):
        extra = ref_columns.drop(columns=[c for c in ref_columns.columns if c == "study_id"]).reset_index(drop=True)
        frame = pd.concat([frame, extra], axis=1)
    info: dict[str, Any] = {}
    if meta:
        from rexeval.base.align import ID_ALIASES
        from rexeval.base.io import ROW, read_table

        table = read_table(meta)
        lower = {str(c).lower(): c for c in table.columns}
        id_col = next((lower[a] for a in ID_ALIASES if a in lower), None)
        if id_col is None:
            raise InputError(f"no study id column (expected one of {', '.join(ID_ALIASES)})", path=str(meta))
        table = table.drop(columns=[ROW]).rename(columns={id_col: "study_id"})
        table["study_id"] = table["study_id"].astype(str).str.strip()
        dup = table["study_id"][table["study_id"].duplicated()].unique().tolist()
        if dup:
            raise InputError(f"duplicated study ids in the meta file, e.g. {dup[:3]}", path=str(meta))
        frame = frame.drop(columns=[c for c in table.columns if c != "study_id" and c in frame.columns])
        frame = frame.merge(table, on="study_id", how="left")
        ids = set(table["study_id"])
        lacking = [s for s in study_ids if s not in ids]
        info = {"path": str(meta), "columns": [c for c in table.columns if c != "study_id"],
                "studies_without_meta": len(lacking), "example_ids": lacking[:5]}
    return frame, info


def with_subgroups(result: Run, by: Sequence[str], *, meta: str | None = None,
                   age_bins: Sequence[float] = DEFAULT_AGE_BINS, min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
                   n_resamples: int | None = None, seed: int | None = None) -> Run:
    """``result`` with its subgroup table (``subgroup_table``, the summary's ``subgroups`` and the
    per-study group labels a merge needs), as a new :class:`~rexeval.run.runs.Run`; ``result`` is unchanged."""
    n_resamples = result.summary.bootstrap.n_resamples if n_resamples is None else n_resamples
    seed = result.summary.bootstrap.seed if seed is None else seed
    ref_columns = result.pairs.ref_columns if result.pairs is not None else None
    per_study = result.per_study
    if per_study is None:
        raise InputError("subgroups need per-study values (per_study.csv)", path=str(result.path or ""))
    ids = per_study["study_id"].astype(str).tolist()
    frame, meta_info = attributes_frame(ids, ref_columns, meta)
    groups = derive_groups(frame, by, age_bins)
    columns = {c: per_study[c].to_numpy(dtype=float) for c in per_study.columns if c != "study_id"}
    outputs = {k: o for k, o in result.outputs.items() if k in result.summary.metrics}
    table = subgroup_scores(columns, outputs, groups.labels, n_resamples=n_resamples, seed=seed,
                            min_group_size=min_group_size)
    block = replace(summary_block(table, groups, min_group_size, meta_info),
                    age_bins=tuple(b if not math.isinf(b) else "inf" for b in age_bins))
    # kept on the result so the run directory holds them (subgroups.csv, groups.csv: what a merge needs)
    labels = pd.concat([pd.DataFrame({"study_id": ids}), groups.labels.reset_index(drop=True)], axis=1)
    return replace(result, summary=replace(result.summary, subgroups=block), subgroup_table=table,
                   group_labels=labels)


def print_subgroups(table: pd.DataFrame, console: Any = None) -> None:
    """One terminal table per grouping column, one row per metric x group (readable with many metrics)."""
    import sys

    from rich.console import Console
    from rich.table import Table

    from rexeval.base.display import display_name

    console = console or Console(width=None if sys.stdout.isatty() else 160)
    for by, part in table.groupby("by", sort=False):
        t = Table(title=f"subgroups by {by} (Δ = group − overall; * = fewer studies than the minimum group size)")
        for col, justify in (("metric", "left"), ("group", "left"), ("n", "right"), ("value [95% CI]", "right"),
                             ("Δ vs overall [95% CI]", "right")):
            t.add_column(col, justify=justify)  # type: ignore[arg-type]  # rich's Literal
        for metric, g in part.groupby("metric", sort=False):
            for i, r in enumerate(g.itertuples(index=False)):
                t.add_row(display_name(str(metric)) if i == 0 else "", str(r.group), f"{r.n}{' *' if r.small else ''}",
                          f"{r.value:.4f} [{r.ci_lo:.4f}, {r.ci_hi:.4f}]",
                          f"{r.diff:+.4f} [{r.diff_lo:+.4f}, {r.diff_hi:+.4f}]", end_section=i == len(g) - 1)
        console.print(t)
