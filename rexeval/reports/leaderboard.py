"""Leaderboards: one row per system, the metrics with their CIs, the rank and rank groups.

Rank groups (the procedure, exactly):

1. Systems are sorted by the rank metric (``--rank-by``; its direction comes from the summary), best
   first; a missing value sorts last. ``rank`` = 1 + the number of systems with a strictly better value.
2. Only systems with per-study values for the rank metric on the same set of studies take part. The test
   is a two-sided paired approximate-randomisation test of the rank metric's own aggregate
   (:func:`rexeval.stats.paired.paired_test`: per study, swap the two systems with probability 1/2;
   p = (1 + #{|Δ*| >= |Δ|}) / (P + 1)).
3. The best system leads group 1. The leader is tested against every system ranked below it; these
   p-values form one family and are Holm-adjusted together (``adjust="holm"``, the default; ``"none"``
   keeps them raw). Walking down from the leader, systems whose adjusted p-value is >= alpha join the
   leader's group; the first system that is separated (adjusted p < alpha) ends the group and leads the
   next group, whose family is the systems below it. Repeat until every system has a group.

So groups are contiguous in rank order, every member of a group is statistically indistinguishable from
the group's best system, and each group's leader is significantly worse than the leader of the group
above. P is raised when needed so that the smallest attainable adjusted p-value, (family size)/(P + 1),
can fall below alpha (at least 2 x family size / alpha permutations). Systems without per-study
values, or scored on other studies than the best tested system, get no group (``group`` is empty and
``notes`` says why).

Published rows (``--published``) are shown in a block of their own under the compared systems, in the
published table's own order (ReXrank's key, 1/RadCliQ-v1, when it has it): they take no rank number and
no group, since their numbers are not per study and their test sets and versions may differ.

What is shown: the rank key first, then the headline numbers in the display order of
:mod:`rexeval.base.display` (ReXrank columns, clinical, other), at most :data:`MAX_METRICS` metric columns per
block by default, under human names; ``columns="all"`` shows every metric. The CSV keeps every metric.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rexeval.base.exceptions import ConfigError, InputError
from rexeval.run.runs import Run, random_weights_line, refuse_differences, scoring_differences
from rexeval.stats import DEFAULT_PERMUTATIONS, DEFAULT_SEED
from rexeval.stats.paired import holm, paired_test

#: ReXrank's rank key first, then the declared fallbacks (the first one every run has ranks).
DEFAULT_RANK_BY = ("inv_radcliq_v1", "radcliq_v1", "bleu")
#: Metric columns per block by default (with rank, group, system and n: 12 columns).
MAX_METRICS = 8
ALPHA = 0.05
FORMATS = ("md", "tex", "html", "csv")


@dataclass
class Leaderboard:
    """The table (one row per system) and everything needed to render and explain it."""

    table: pd.DataFrame
    metrics: list[str]
    higher_is_better: dict[str, bool]
    rank_by: str
    tests: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    alpha: float = ALPHA
    adjust: str = "holm"
    n_permutations: int = DEFAULT_PERMUTATIONS
    title: str = "Leaderboard"
    #: the metric columns shown for the compared systems and for the published block
    columns: list[str] = field(default_factory=list)
    published_columns: list[str] = field(default_factory=list)
    #: why the rank key was chosen (a fallback names what was missing)
    rank_reason: str = ""

    # ----- blocks ----------------------------------------------------------------------------------
    def _runs(self) -> pd.DataFrame:
        return self.table[self.table["source"] == "run"] if "source" in self.table else self.table

    def _published(self) -> pd.DataFrame:
        return self.table[self.table["source"] != "run"] if "source" in self.table else self.table.iloc[:0]

    def caption(self) -> str:
        """One line: which key ranks, its direction, and why it was chosen."""
        from rexeval.base.display import display_name

        arrow = "higher" if self.higher_is_better.get(self.rank_by, True) else "lower"
        text = f"Ranked by {display_name(self.rank_by)} (`{self.rank_by}`, {arrow} is better)"
        return text + (f"; {self.rank_reason}" if self.rank_reason else "") + "."

    def published_caption(self) -> str:
        from rexeval.base.display import display_name

        pub = self._published()
        key = _published_key(pub, self.rank_by)
        order = f"{display_name(key)} as published" if key is not None else "the published table's order"
        return (f"Published rows ({len(pub)}), ordered by {order}: listed for reference, not ranked or grouped "
                "with the systems above (no per-study values; other runs, other versions).")

    # ----- renderers -------------------------------------------------------------------------------
    def to_csv(self, path: str | Path | None = None) -> str:
        text = self.table.to_csv(index=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_markdown(self, digits: int = 3) -> str:
        runs, pub = self._runs(), self._published()
        parts = [self.caption(), ""]
        if not runs.empty:
            parts.append(_md_table(["rank", "group", "system", "n"], ["---:", "---:", "---", "---:"], runs,
                                   self.columns, self.higher_is_better, digits,
                                   lambda row: [_fmt_int(row["rank"]), _fmt_int(row["group"]),
                                                _md_escape(_display_name(row)), _fmt_int(row["n_studies"])]))
        if not pub.empty:
            parts += [self.published_caption(), ""]
            parts.append(_md_table(["published system"], ["---"], pub, self.published_columns,
                                   self.higher_is_better, digits, lambda row: [_md_escape(_display_name(row, False))]))
        return "\n".join(parts) + "\n" + self._footnote("md") + "\n"

    def to_latex(self, digits: int = 3) -> str:
        """booktabs tabulars: the compared systems, then (if any) the published rows in their own."""
        out = ["% rexeval leaderboard; needs \\usepackage{booktabs}", "% " + self.caption()]
        runs, pub = self._runs(), self._published()
        if not runs.empty:
            out += _tex_table(["Rank", "Group", "System", "$n$"], "rrlr", runs, self.columns, self.higher_is_better,
                              digits, lambda row: [_fmt_int(row["rank"], "--"), _fmt_int(row["group"], "--"),
                                                   _tex_escape(_display_name(row)), _fmt_int(row["n_studies"], "--")])
        if not pub.empty:
            out.append("% " + self.published_caption())
            out += _tex_table(["Published system"], "l", pub, self.published_columns, self.higher_is_better, digits,
                              lambda row: [_tex_escape(_display_name(row, False))])
        out.append("% " + self._footnote("plain"))
        return "\n".join(out) + "\n"

    def to_html(self, digits: int = 3, standalone: bool = True) -> str:
        """Sortable tables (click a header); self-contained: inline CSS and JavaScript, no network."""
        runs, pub = self._runs(), self._published()
        body = [f'<p class="caption">{html.escape(self.caption())}</p>']
        if not runs.empty:
            body.append(_html_table("lb", ["Rank", "Group", "System", "n"], runs, self.columns,
                                    self.higher_is_better, digits,
                                    lambda row: [_td(_fmt_int(row["rank"]), row["rank"]),
                                                 _td(_fmt_int(row["group"]), row["group"]),
                                                 _td(html.escape(_display_name(row)), None, text_key=str(row["system"])),
                                                 _td(_fmt_int(row["n_studies"]), row["n_studies"])]))
        if not pub.empty:
            body.append(f'<p class="caption">{html.escape(self.published_caption())}</p>')
            body.append(_html_table("lb-published", ["Published system"], pub, self.published_columns,
                                    self.higher_is_better, digits,
                                    lambda row: [_td(html.escape(_display_name(row, False)), None,
                                                     text_key=str(row["system"]))],
                                    row_class="published"))
        table = "".join(body) + f'<p class="note">{html.escape(self._footnote("plain"))}</p>'
        if not standalone:
            return table + _SORT_JS
        return (
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>"
            + html.escape(self.title) + "</title><style>" + TABLE_CSS + "</style></head><body>"
            + f"<h1>{html.escape(self.title)}</h1>" + table + _SORT_JS + "</body></html>\n"
        )

    def write(self, out: str | Path, formats: tuple[str, ...] = FORMATS, stem: str = "leaderboard") -> list[Path]:
        """Write to ``out``: a file whose suffix picks the format, or a directory for all formats."""
        out = Path(out)
        suffix = out.suffix.lower().lstrip(".")
        suffix = {"markdown": "md", "latex": "tex", "htm": "html"}.get(suffix, suffix)
        if suffix in FORMATS:
            targets = [(suffix, out)]
        else:
            out.mkdir(parents=True, exist_ok=True)
            targets = [(f, out / f"{stem}.{f}") for f in formats]
        written = []
        for fmt, path in targets:
            path.parent.mkdir(parents=True, exist_ok=True)
            writers: dict[str, Callable[[], str]] = {"md": self.to_markdown, "tex": self.to_latex,
                                                     "html": self.to_html, "csv": self.to_csv}
            text = writers[fmt]()
            path.write_text(text, encoding="utf-8")
            written.append(path)
        if not suffix and not self.tests.empty:
            p = out / f"{stem}_tests.csv"
            self.tests.to_csv(p, index=False)
            written.append(p)
        return written

    # ----- helpers ---------------------------------------------------------------------------------
    def _footnote(self, style: str) -> str:
        text = (
            "Values with 95% bootstrap CIs. "
            f"Group: systems that a two-sided paired randomisation test ({self.n_permutations} permutations, "
            f"{'Holm-adjusted over each group leader’s comparisons' if self.adjust == 'holm' else 'unadjusted'}, "
            f"alpha={self.alpha}) cannot separate from their group's best system share its group."
        )
        if self.notes:
            text += " Notes: " + " ".join(self.notes)
        return text


# ----- building --------------------------------------------------------------------------------------

def choose_rank_by(runs: list[Run], rank_by: str | None, published: pd.DataFrame | None = None) -> tuple[str, str]:
    """The rank key and why: ``rank_by`` when given, else the first of :data:`DEFAULT_RANK_BY` that every
    run has (ReXrank's 1/RadCliQ-v1 first). Published rows do not decide it when there are runs: they are
    not ranked with them."""
    available = [set(r.metrics) for r in runs]
    if not available and published is not None and not published.empty:
        available.append({c for c in published.columns if published[c].notna().any()})
    if not available:
        raise ConfigError("no runs and no published table to build a leaderboard from")
    common = set.intersection(*available)
    if rank_by is not None:
        from rexeval.metrics.error_schema import current_key

        rank_by = current_key(rank_by)
        if rank_by not in set.union(*available):
            raise ConfigError(f"--rank-by {rank_by!r} is not a metric of these runs (they have: {', '.join(sorted(set.union(*available)))})")
        return rank_by, "chosen with --rank-by" if rank_by != DEFAULT_RANK_BY[0] else ""
    for key in DEFAULT_RANK_BY:
        if key in common:
            if key == DEFAULT_RANK_BY[0]:
                return key, ""
            from rexeval.base.display import display_name

            lacking = [k for k in DEFAULT_RANK_BY[: DEFAULT_RANK_BY.index(key)]]
            return key, (f"a fallback: ReXrank's key {display_name(lacking[0])} is not in every run "
                         f"(fallback order: {', '.join(DEFAULT_RANK_BY)})")
    if common:
        return sorted(common)[0], f"none of {', '.join(DEFAULT_RANK_BY)} is in every run; the first shared key"
    raise ConfigError("the runs share no metric; pass --rank-by")


def shown_metrics(rows: pd.DataFrame, metrics: list[str], rank_by: str | None, columns: str) -> list[str]:
    """The metric columns shown for ``rows``: those with a value, the rank key first; by default the
    headline numbers only, at most :data:`MAX_METRICS`; ``"all"`` every one."""
    from rexeval.base.display import display, ordered

    present = [k for k in metrics if k in rows and pd.to_numeric(rows[k], errors="coerce").notna().any()]
    if columns == "given":
        return present
    rest = ordered(k for k in present if k != rank_by)
    head = [rank_by] if rank_by in present else []
    if columns == "all":
        return head + rest
    # by default a mean whose inverse is shown (RadCliQ-v1 beside 1/RadCliQ-v1) leaves room for another number
    rest = [k for k in rest if display(k).headline and f"inv_{k}" not in present]
    return (head + rest)[:MAX_METRICS]


def build_leaderboard(
    runs: list[Run],
    *,
    rank_by: str | None = None,
    metrics: list[str] | None = None,
    published: pd.DataFrame | None = None,
    alpha: float = ALPHA,
    adjust: str = "holm",
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    title: str = "Leaderboard",
    allow_mismatch: bool = False,
    columns: str = "default",
) -> Leaderboard:
    """Build the leaderboard from loaded runs (and optionally a published table's rows).

    ``metrics`` picks the metric columns (all of them are then shown); otherwise every metric goes into
    the table (and the CSV) and ``columns`` picks what the Markdown, LaTeX and HTML show: ``"default"``
    (the rank key and the headline numbers, at most :data:`MAX_METRICS` per block) or ``"all"``.

    Runs scored differently (references, track, study set, metric options, rexeval version) are
    refused unless ``allow_mismatch``; the differences are then listed in the table's notes."""
    if adjust not in ("holm", "none"):
        raise ConfigError(f"adjust must be 'holm' or 'none', not {adjust!r}")
    if not 0 < alpha < 1:
        raise ConfigError("alpha must be between 0 and 1")
    check_same_direction(runs)
    differences = refuse_differences(scoring_differences([(r.name, r.summary) for r in runs]),
                                     "rexeval leaderboard", allow_mismatch)
    if columns not in ("default", "all"):
        raise ConfigError(f"--columns must be default or all, not {columns!r}")
    rank_by, rank_reason = choose_rank_by(runs, rank_by, published)
    directions: dict[str, bool] = {}
    for run in runs:
        for key, entry in run.metrics.items():
            directions.setdefault(key, entry.higher_is_better is not False)
    if published is not None and not published.empty:
        for key, hib in published.attrs.get("higher_is_better", {}).items():
            directions.setdefault(key, hib)
    directions.setdefault(rank_by, True)
    if metrics is None:
        order: list[str] = []
        for run in runs:
            order += [k for k in run.metrics if k not in order]
        if published is not None and not published.empty:
            order += [k for k in published.attrs.get("metric_columns", []) if k not in order]
        from rexeval.base.display import ordered

        metrics = [rank_by] + ordered(k for k in order if k != rank_by)
        shown = columns
    else:
        shown = "given"
        unknown = [k for k in metrics if k not in directions]
        if unknown:
            raise ConfigError(f"unknown metric(s) {', '.join(unknown)}; available: {', '.join(directions)}")
        if rank_by not in metrics:
            metrics = [rank_by] + list(metrics)

    rows = []
    for run in runs:
        row: dict[str, Any] = {"system": run.name, "source": "run", "n_studies": run.summary.n_studies, "path": str(run.path)}
        for key in metrics:
            found = run.metrics.get(key)
            ci = (found.ci95 if found else None) or (None, None)
            row[key] = _num(found.value if found else None)
            row[f"{key}_lo"], row[f"{key}_hi"] = _num(ci[0]), _num(ci[1])
        rows.append(row)
    if published is not None and not published.empty:
        for _, prow in published.iterrows():
            row = {"system": prow["system"], "source": prow.get("source", "published"), "n_studies": None, "path": ""}
            for key in metrics:
                row[key] = _num(prow.get(key))
                row[f"{key}_lo"] = row[f"{key}_hi"] = None
            for extra in ("flag", "published_rank"):
                if extra in prow:
                    row[extra] = prow[extra]
            rows.append(row)
    table = pd.DataFrame(rows)
    hib = directions[rank_by]
    is_run = table["source"] == "run"
    key_values = pd.to_numeric(table[rank_by], errors="coerce")
    sort_key = -key_values if hib else key_values
    # the published block keeps the published table's own order: ReXrank's key when it has it
    pub_key = _published_key(table[~is_run], rank_by)
    if pub_key is not None:
        pub_values = pd.to_numeric(table[pub_key], errors="coerce")
        pub_sort = -pub_values if directions.get(pub_key, True) else pub_values
        sort_key = sort_key.where(is_run, pub_sort)
    elif "published_rank" in table:
        sort_key = sort_key.where(is_run, pd.to_numeric(table["published_rank"], errors="coerce"))
    table = (table.assign(_b=(~is_run).astype(int), _k=sort_key.fillna(np.inf))
             .sort_values(["_b", "_k"], kind="stable").drop(columns=["_b", "_k"]).reset_index(drop=True))
    is_run = table["source"] == "run"
    vals = pd.to_numeric(table[rank_by], errors="coerce").to_numpy(dtype=float)
    run_vals = vals[is_run.to_numpy()]
    ranks: list[int | None] = []
    for v, ranked in zip(vals, is_run, strict=True):
        if np.isnan(v) or not ranked:
            ranks.append(None)  # published rows take no rank from the systems compared
        else:
            better = np.sum(run_vals > v) if hib else np.sum(run_vals < v)
            ranks.append(int(better) + 1)
    table.insert(0, "rank", pd.array(ranks, dtype="Int64"))
    extra_notes = []
    if rank_by.startswith("inv_") and np.any(run_vals[~np.isnan(run_vals)] <= 0):
        extra_notes.append(f"{rank_by} is <= 0 for some systems (their mean {rank_by[4:]} is negative): "
                           "1/mean reverses order there, so compare those on the mean itself.")

    board = Leaderboard(table, metrics, {k: directions.get(k, True) for k in metrics}, rank_by, alpha=alpha,
                        adjust=adjust, n_permutations=n_permutations, title=title, rank_reason=rank_reason,
                        columns=shown_metrics(table[is_run], metrics, rank_by, shown),
                        published_columns=shown_metrics(table[~is_run], metrics, pub_key or rank_by, shown))
    groups, tests, notes = rank_groups(table, runs, rank_by, alpha=alpha, adjust=adjust,
                                       n_permutations=n_permutations, seed=seed)
    table.insert(1, "group", pd.array(groups, dtype="Int64"))
    board.table = table
    board.tests = tests
    board.n_permutations = tests.attrs.get("n_permutations", n_permutations)
    if published is not None and not published.empty and published.attrs.get("table_id"):
        src = published.attrs.get("source", {})
        notes.append(f"Published rows: {published.attrs['table_id']} ({src.get('repository', '')}, branch "
                     f"{src.get('branch', '')} @ {src.get('commit', '')}, {src.get('date', '')}); as published, no CIs; "
                     "⚠ = the published 1/RadCliQ-v1 is not reproduced from the row's own sub-metric columns.")
    if differences:
        extra_notes.append("Combined although scored differently (--allow-mismatch): " + "; ".join(differences) + ".")
    random_line = random_weights_line([r.summary for r in runs])
    track_note = [f"Reference text: {runs[0].summary.input.track_label}."] if runs else []
    board.notes = ([random_line + "."] if random_line else []) + track_note + notes + extra_notes
    return board


def rank_groups(
    table: pd.DataFrame,
    runs: list[Run],
    rank_by: str,
    *,
    alpha: float = ALPHA,
    adjust: str = "holm",
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
) -> tuple[list[int | None], pd.DataFrame, list[str]]:
    """Group numbers for the rows of ``table`` (sorted best first) by the procedure in the module doc."""
    by_name = {r.name: r for r in runs}
    notes: list[str] = []
    testable: list[int] = []  # row indices, best first
    aggs: dict[int, Any] = {}
    cols: dict[int, dict[str, np.ndarray]] = {}
    ref_ids: list[str] | None = None
    for i, row in table.iterrows():
        if row.get("source") != "run" or row["rank"] is pd.NA or row["rank"] is None:
            continue
        run = by_name[row["system"]]
        agg = run.aggregate(rank_by)
        if agg is None:
            why = "no per_study.csv" if run.per_study is None else f"per-study values cannot rebuild {rank_by}"
            notes.append(f"{run.name}: no group ({why}).")
            continue
        assert run.per_study is not None  # aggregate() is None without it
        ids = run.per_study["study_id"].astype(str).tolist()
        if ref_ids is None:
            ref_ids = ids
            order = None
        elif sorted(ids) != sorted(ref_ids):
            notes.append(f"{run.name}: no group (scored on other studies than {table.loc[testable[0], 'system']}).")
            continue
        else:
            row_of = {s: j for j, s in enumerate(ids)}
            order = np.array([row_of[s] for s in ref_ids])
        c = run.columns()
        if order is not None:
            c = {k: v[order] for k, v in c.items()}
        testable.append(i)
        aggs[i], cols[i] = agg, c

    # Enough permutations that the smallest attainable Holm-adjusted p-value, (family size)/(P + 1), is
    # well below alpha; otherwise no system could ever be separated.
    family_max = max(len(testable) - 1, 1)
    n_used = max(n_permutations, math.ceil(2 * family_max / alpha))
    if n_used > n_permutations:
        notes.append(f"permutations raised from {n_permutations} to {n_used} so that {family_max} comparisons can reach "
                     f"alpha={alpha} after adjustment.")
    records: list[dict[str, Any]] = []
    groups: list[int | None] = [None] * len(table)
    pos = 0
    current = 0
    while pos < len(testable):
        leader = testable[pos]
        current += 1
        groups[leader] = current
        below = testable[pos + 1:]
        family = []
        for b in below:  # the leader's family: itself vs every system ranked below it
            res = paired_test(rank_by, aggs[leader], cols[leader], cols[b], n_permutations=n_used, n_resamples=0, seed=seed)
            family.append({"leader": table.loc[leader, "system"], "better": table.loc[leader, "system"],
                           "worse": table.loc[b, "system"], "metric": rank_by, "delta": res.delta, "p_value": res.p_value})
        adjusted = holm([f["p_value"] for f in family]) if adjust == "holm" else [f["p_value"] for f in family]
        step = len(below) + 1
        for k, (f, p_adj) in enumerate(zip(family, adjusted, strict=True)):
            f["p_adjusted"] = p_adj
            f["separated"] = not (p_adj >= alpha)  # NaN (undefined difference) separates, conservatively
            if step == len(below) + 1 and f["separated"]:
                step = k + 1  # the first separated system leads the next group
        for k in range(step - 1):
            groups[below[k]] = current
        records += family
        pos += step
    tests = pd.DataFrame(records, columns=["leader", "better", "worse", "metric", "delta", "p_value", "p_adjusted", "separated"])
    tests.attrs["n_permutations"] = n_used
    return groups, tests, notes


# ----- rendering helpers -----------------------------------------------------------------------------

TABLE_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;color:#1b1b1b}
table{border-collapse:collapse;font-size:14px;margin:8px 0}
th,td{padding:5px 10px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
th{background:#f3f3f3;cursor:pointer;user-select:none;position:sticky;top:0}
th:hover{background:#e4e4e4}
td:nth-child(3),th:nth-child(3){text-align:left}
tr.published td{color:#555;font-style:italic}
tr:hover td{background:#fafae6}
.note{font-size:12px;color:#555;max-width:1100px}
.caption{font-size:13px;color:#333;margin:14px 0 4px}
"""

_SORT_JS = """<script>
function sortBy(th){var col=th.cellIndex,t=th.closest('table'),b=t.tBodies[0],rows=Array.from(b.rows);
var asc=t.getAttribute('data-col')==col&&t.getAttribute('data-dir')!='asc';
rows.sort(function(x,y){var a=x.cells[col].getAttribute('data-v'),c=y.cells[col].getAttribute('data-v');
var na=parseFloat(a),nc=parseFloat(c);if(isNaN(na)&&isNaN(nc))return asc?String(a).localeCompare(c):String(c).localeCompare(a);
if(isNaN(na))return 1;if(isNaN(nc))return -1;return asc?na-nc:nc-na;});
rows.forEach(function(r){b.appendChild(r);});t.setAttribute('data-col',col);t.setAttribute('data-dir',asc?'asc':'desc');}
</script>"""


def _published_key(rows: pd.DataFrame, rank_by: str) -> str | None:
    """The key that orders a published block: ReXrank's (1/RadCliQ-v1) when the rows have it, else the
    rank key; None when they have neither."""
    for key in (DEFAULT_RANK_BY[0], rank_by):
        if key in rows and pd.to_numeric(rows[key], errors="coerce").notna().any():
            return key
    return None


def _best(rows: pd.DataFrame, keys: list[str], higher_is_better: dict[str, bool]) -> dict[str, set]:
    best: dict[str, set] = {}
    for k in keys:
        col = pd.to_numeric(rows[k], errors="coerce")
        if col.notna().any():
            target = col.max() if higher_is_better.get(k, True) else col.min()
            best[k] = set(col.index[col == target])
    return best


def _md_table(head: list[str], align: list[str], rows: pd.DataFrame, keys: list[str],
              higher_is_better: dict[str, bool], digits: int, lead: Any) -> str:
    head = head + [_label(k, higher_is_better.get(k, True), "md") for k in keys]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align + ["---:"] * len(keys)) + "|"]
    for _, row in rows.iterrows():
        lines.append("| " + " | ".join(lead(row) + [_cell_text(row, k, digits) for k in keys]) + " |")
    return "\n".join(lines) + "\n"


def _tex_table(head: list[str], spec: str, rows: pd.DataFrame, keys: list[str],
               higher_is_better: dict[str, bool], digits: int, lead: Any) -> list[str]:
    best = _best(rows, keys, higher_is_better)
    out = ["\\begin{tabular}{" + spec + "c" * len(keys) + "}", "\\toprule",
           " & ".join(head + [_label(k, higher_is_better.get(k, True), "tex") for k in keys]) + " \\\\",
           "\\midrule"]
    for i, row in rows.iterrows():
        cells = lead(row)
        for k in keys:
            v = row.get(k)
            if v is None or _isnan(v):
                cells.append("--")
                continue
            text = f"{v:.{digits}f}"
            if i in best.get(k, ()):
                text = "\\textbf{" + text + "}"
            lo, hi = row.get(f"{k}_lo"), row.get(f"{k}_hi")
            if lo is not None and hi is not None and not _isnan(lo) and not _isnan(hi):
                text += " {\\scriptsize [" + f"{lo:.{digits}f}, {hi:.{digits}f}" + "]}"
            cells.append(text)
        out.append(" & ".join(cells) + " \\\\")
    return out + ["\\bottomrule", "\\end{tabular}"]


def _html_table(table_id: str, head: list[str], rows: pd.DataFrame, keys: list[str],
                higher_is_better: dict[str, bool], digits: int, lead: Any, row_class: str = "") -> str:
    head_cells = [html.escape(h) for h in head] + [_label(k, higher_is_better.get(k, True), "html") for k in keys]
    titles = head + keys  # the summary key as the header's tooltip
    ths = "".join(f'<th onclick="sortBy(this)" title="{html.escape(t)}; click to sort">{h}</th>'
                  for h, t in zip(head_cells, titles, strict=True))
    cls = f' class="{row_class}"' if row_class else ""
    body = ["<tr" + cls + ">" + "".join(lead(row) + [_td(html.escape(_cell_text(row, k, digits)), row.get(k)) for k in keys])
            + "</tr>" for _, row in rows.iterrows()]
    return (f'<table class="rexeval-lb" id="{table_id}"><thead><tr>{ths}</tr></thead><tbody>'
            + "\n".join(body) + "</tbody></table>")


def _td(text: str, value: Any, text_key: str | None = None) -> str:
    if text_key is not None:
        v = html.escape(text_key, quote=True)
    else:
        v = "" if value is None or _isnan(value) else f"{float(value):.10g}"
    return f'<td data-v="{v}">{text}</td>'


def _label(key: str, hib: bool, style: str) -> str:
    from rexeval.base.display import display_name

    arrow = {"md": ("↑", "↓"), "html": ("&uarr;", "&darr;"), "tex": ("$\\uparrow$", "$\\downarrow$")}[style]
    human = display_name(key)
    name = _tex_escape(human) if style == "tex" else (html.escape(human) if style == "html" else _md_escape(human))
    return f"{name} {arrow[0] if hib else arrow[1]}"


def _cell_text(row: pd.Series, key: str, digits: int) -> str:
    v = row.get(key)
    if v is None or _isnan(v):
        return "—"
    lo, hi = row.get(f"{key}_lo"), row.get(f"{key}_hi")
    text = f"{v:.{digits}f}"
    if lo is not None and hi is not None and not _isnan(lo) and not _isnan(hi):
        text += f" [{lo:.{digits}f}, {hi:.{digits}f}]"
    return text


def _display_name(row: pd.Series, mark_published: bool = True) -> str:
    name = str(row["system"])
    if row.get("source", "run") != "run":
        name += " (published)" if mark_published else ""
        flag = row.get("flag")
        if isinstance(flag, str) and flag:
            name += " ⚠"
    return name


def _fmt_int(v: Any, missing: str = "") -> str:
    if v is None or v is pd.NA or _isnan(v):
        return missing
    return str(int(v))


def _isnan(v: Any) -> bool:
    if v is None or v is pd.NA:
        return True
    try:
        return math.isnan(float(v))
    except (TypeError, ValueError):
        return False


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


_TEX_SPECIAL = {"\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_",
                "{": "\\{", "}": "\\}", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}", "⚠": "$^\\dagger$",
                "≤": "$\\leq$", "≥": "$\\geq$"}  # the human names' bounds ("share of reports with ≤1 ...")


def _tex_escape(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in str(text))


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|")


def check_same_direction(runs: list[Run]) -> None:
    """Two runs that disagree on a metric's direction are from incompatible rexeval versions."""
    seen: dict[str, tuple[bool, str]] = {}
    for run in runs:
        for key, entry in run.metrics.items():
            hib = entry.higher_is_better is not False
            if key in seen and seen[key][0] != hib:
                raise InputError(f"metric {key!r} is higher-is-better in {seen[key][1]} but not in {run.name}", path=str(run.path))
            seen.setdefault(key, (hib, run.name))
