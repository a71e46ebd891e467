"""Plots for runs (matplotlib, Agg backend; every figure is written as PNG and SVG).

One figure per question, axes under the human names of :mod:`rexeval.base.display`:

============  ==============================================================  =========================
kind          question                                                        figure
============  ==============================================================  =========================
overview      how does each run score, with what uncertainty?                 ``overview``: one panel
                                                                              per headline metric
subgroups     does the score hold in every subgroup?                          ``subgroups_<run>``: one
                                                                              panel per metric
errors        how many clinically significant errors per report?              ``errors_distribution``
conditions    which conditions does a run get right?                          ``conditions``
leaderboard   which system ranks where, and which differences are real?       ``leaderboard``
compare       is A better than B, metric by metric (paired)?                  ``comparison`` (2 runs)
============  ==============================================================  =========================

Readable defaults (11 pt text, labelled axes, values and n on the figure) and a colour-blind-safe
palette (Okabe & Ito 2008 for categories; cividis, designed for colour-vision deficiency, for ordered
values and heat maps).

Conventions that other metrics plug into:

- **Error counts.** Any per-study column of ``per_study.csv`` whose name ends in ``total_sig`` holds the
  number of clinically significant errors per report (``<prefix>total_sig``, e.g. the structured counter's
  and the LLM judge's). The distribution plot shows, per system and per such column, the share of reports
  with 0, 1, 2, 3 and >= 4 errors; NaN (a failed judgement) is left out and the n used is printed.
- **Condition F1.** ``summary["conditions"][labeler][condition] = {"precision", "recall", "f1",
  "support"}``; the heat map shows F1 per system x condition, one figure per labeler.
- **Subgroups.** ``subgroups.csv`` in the run directory (written by ``rexeval score --by``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rexeval.base.exceptions import InputError
from rexeval.run.runs import SUBGROUPS, Run

#: Okabe-Ito: distinguishable under the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
ERROR_SUFFIX = "total_sig"
ERROR_BINS = ("0", "1", "2", "3", "≥4")
KINDS = ("overview", "subgroups", "leaderboard", "errors", "conditions", "compare")
#: Panels at most in a multi-panel figure (more metrics: --metrics picks them).
MAX_PANELS = 12


def styled_pyplot():
    """matplotlib.pyplot with the house style (Agg backend, palette, fonts); every rexeval figure draws with it."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 10,
        "axes.spines.top": False, "axes.spines.right": False, "savefig.dpi": 150, "figure.dpi": 100,
        "svg.fonttype": "none", "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    })
    return plt


def save(fig: Any, out_dir: str | Path, stem: str) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg`` (a deterministic SVG: no date metadata) and close the figure."""
    plt = styled_pyplot()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.png", out / f"{stem}.svg"]
    fig.savefig(paths[0], bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return paths


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(text))


# ----- subgroup forest plot -------------------------------------------------------------------------

def _forest(ax: Any, part: pd.DataFrame, labels_on: bool = True) -> None:
    """Point and 95% CI per subgroup on ``ax``, the overall value as a dashed line; small groups hollow."""
    from rexeval.base.display import display_name

    metric = str(part["metric"].iloc[0])
    bys = list(dict.fromkeys(part["by"]))
    labels, ys, rows, header_ys = [], [], [], []
    y = 0.0
    for by in bys:
        header_ys.append((y, by))
        y += 1
        for r in part[part["by"] == by].itertuples(index=False):
            rows.append((y, r))
            labels.append(f"{r.group} (n={r.n})")
            ys.append(y)
            y += 1
        y += 0.5
    overall = float(part["overall"].iloc[0])
    ax.axvline(overall, color="#555555", linestyle="--", linewidth=1, zorder=1)
    for i, by in enumerate(bys):
        color = PALETTE[i % len(PALETTE)]
        for yy, r in rows:
            if r.by != by:
                continue
            lo, hi = r.ci_lo, r.ci_hi
            if not (math.isnan(lo) or math.isnan(hi)):
                ax.plot([lo, hi], [yy, yy], color=color, linewidth=2, zorder=2)
            ax.plot(r.value, yy, "o", markersize=7, zorder=3, color=color,
                    markerfacecolor="white" if r.small else color, markeredgewidth=1.8)
    ax.set_yticks(ys, labels if labels_on else [""] * len(ys))
    if labels_on:
        for yy, by in header_ys:
            ax.text(-0.02, yy, by, transform=ax.get_yaxis_transform(), ha="right", va="center", fontweight="bold",
                    fontsize=11)
    ax.set_ylim(y - 0.5, -0.8)
    hib = bool(part["higher_is_better"].iloc[0]) if "higher_is_better" in part else True
    ax.set_title(f"{display_name(metric)} {'↑' if hib else '↓'}")
    ax.set_xlabel(f"overall {overall:.3f} (dashed)")
    ax.grid(axis="x", alpha=0.3)


def forest_plot(table: pd.DataFrame, metrics: str | Sequence[str], title: str | None = None):
    """One figure: a forest-plot panel per metric (subgroups on a shared y axis), value and 95% CI."""
    plt = styled_pyplot()
    keys = [metrics] if isinstance(metrics, str) else list(metrics)
    parts = [table[table["metric"] == k] for k in keys]
    missing = [k for k, part in zip(keys, parts, strict=True) if part.empty]
    if missing:
        raise InputError(f"no subgroup results for metric {missing[0]!r}")
    n_rows = len(parts[0]) + 1.5 * parts[0]["by"].nunique()
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys) + 2.6, 0.42 * n_rows + 1.6), squeeze=False,
                             sharey=True)
    for i, (ax, part) in enumerate(zip(axes[0], parts, strict=True)):
        _forest(ax, part, labels_on=i == 0)
    small_n = int(parts[0]["small"].sum())
    fig.suptitle(title or "by subgroup: value and 95% bootstrap CI" + ("; hollow = small group (flagged)" if small_n else ""))
    fig.tight_layout()
    return fig


def subgroup_metrics(table: pd.DataFrame, metrics: Sequence[str] | None = None) -> list[str]:
    """The metrics of a subgroup figure: those asked for, else the headline ones (at most 4)."""
    from rexeval.base.display import select

    available = list(dict.fromkeys(table["metric"]))
    if metrics:
        return [k for k in metrics if k in available]
    return (select(available) or available)[:4]


def subgroup_plots(run: Run, out_dir: str | Path, metrics: Sequence[str] | None = None) -> list[Path]:
    """One figure for the run: a forest-plot panel per metric."""
    if run.subgroup_table is None:
        raise InputError(f"no {SUBGROUPS} (score with --by to make one)", path=str(run.path))
    table = run.subgroup_table.copy()
    table["group"] = table["group"].astype(str)
    keys = subgroup_metrics(table, metrics)
    if not keys:
        raise InputError(f"none of {', '.join(metrics or [])} is in {SUBGROUPS}", path=str(run.path))
    fig = forest_plot(table, keys, title=f"{run.name}: by subgroup, value and 95% bootstrap CI (dashed: overall)")
    return save(fig, out_dir, f"subgroups_{_safe(run.name)}")


# ----- overview: every headline metric with its CI -----------------------------------------------------

def _grid(plt: Any, n: int, ncols: int = 3, panel: tuple[float, float] = (3.6, 1.0), rows_per_panel: int = 1):
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    height = panel[1] + 0.32 * rows_per_panel
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel[0] * ncols + 1.2, height * nrows + 0.9), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def overview_metrics(runs: Sequence[Run], metrics: Sequence[str] | None = None) -> list[str]:
    """The overview's metrics: those asked for, else the headline numbers the runs have (display order)."""
    from rexeval.base.display import select

    keys: list[str] = []
    for run in runs:
        keys += [k for k in run.metrics if k not in keys]
    if metrics:
        unknown = [k for k in metrics if k not in keys]
        if unknown:
            raise InputError(f"no run has {', '.join(unknown)} (they have: {', '.join(keys)})")
        return list(metrics)
    return select(keys)[:MAX_PANELS]


def overview_plot(runs: Sequence[Run], metrics: Sequence[str] | None = None, title: str | None = None):
    """One panel per metric (grouped ReXrank, clinical, other), each run's value and 95% CI."""
    from rexeval.base.display import GROUP_TITLES, display, display_name

    plt = styled_pyplot()
    keys = overview_metrics(runs, metrics)
    if not keys:
        raise InputError("these runs have no metric to plot")
    fig, axes = _grid(plt, len(keys), rows_per_panel=len(runs))
    names = [r.name for r in runs]
    for ax, key in zip(axes, keys, strict=True):
        hib = True
        for i, run in enumerate(runs):
            entry = run.metrics.get(key)
            if not entry or entry.value is None:
                continue
            hib = entry.higher_is_better is not False
            v = float(entry.value)
            lo, hi = entry.ci95 or (None, None)
            color = PALETTE[i % len(PALETTE)]
            if lo is not None and hi is not None and not (math.isnan(lo) or math.isnan(hi)):
                ax.plot([lo, hi], [i, i], color=color, linewidth=2.2)
            ax.plot(v, i, "o", color=color, markersize=7)
            ax.annotate(f"{v:.3f}", (v, i), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=8.5)
        ax.set_yticks(range(len(runs)), names if ax in axes[:: min(3, len(keys))] else [""] * len(runs))
        ax.set_ylim(len(runs) - 0.4, -0.9)
        group = GROUP_TITLES[display(key).group]
        ax.set_title(f"{display_name(key)} {'↑' if hib else '↓'}", fontsize=10.5, loc="left")
        ax.text(1.0, 1.02, group, transform=ax.transAxes, ha="right", va="bottom", fontsize=8, color="#777777")
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="x", labelsize=9)
        ax.margins(x=0.15)
    n = runs[0].summary.n_studies
    fig.suptitle(title or (f"{runs[0].name}: " if len(runs) == 1 else "") + "value and 95% bootstrap CI"
                 + (f" ({n} studies)" if len(runs) == 1 and n else ""), fontsize=12)
    fig.tight_layout()
    return fig


# ----- paired comparison: A − B per metric ---------------------------------------------------------------

def comparison_plot(table: pd.DataFrame, metrics: Sequence[str] | None = None):
    """One panel per metric: A − B with its paired-bootstrap 95% CI, zero dashed, Holm-adjusted p."""
    from rexeval.base.display import display_name, select

    plt = styled_pyplot()
    keys = list(metrics) if metrics else select(table["metric"].tolist())[:MAX_PANELS]
    rows = table.set_index("metric")
    keys = [k for k in keys if k in rows.index]
    if not keys:
        raise InputError("no metric to compare")
    fig, axes = _grid(plt, len(keys), panel=(3.4, 0.9))
    for ax, key in zip(axes, keys, strict=True):
        r = rows.loc[key]
        better_color = PALETTE[0] if r["better"] == "A" else PALETTE[1] if r["better"] == "B" else "#888888"
        if not (pd.isna(r["delta_ci_lo"]) or pd.isna(r["delta_ci_hi"])):
            ax.plot([r["delta_ci_lo"], r["delta_ci_hi"]], [0, 0], color=better_color, linewidth=2.5)
        ax.plot(r["delta"], 0, "o", color=better_color, markersize=8)
        ax.axvline(0, color="#555555", linestyle="--", linewidth=1)
        ax.set_yticks([])
        ax.set_ylim(-0.8, 0.8)
        ax.set_title(f"{display_name(key)} {'↑' if r['higher_is_better'] else '↓'}", fontsize=10.5, loc="left")
        ax.set_xlabel(f"A − B = {r['delta']:.3f}, p(Holm) = {r['p_holm']:.3g}", fontsize=9)
        ax.tick_params(axis="x", labelsize=9)
        ax.margins(x=0.2)
        ax.spines["left"].set_visible(False)
    fig.suptitle(f"A = {table.attrs.get('a', 'A')} vs B = {table.attrs.get('b', 'B')}: paired difference and 95% CI "
                 f"({table.attrs.get('n_studies', '?')} studies; colour = the better system)", fontsize=11.5)
    fig.tight_layout()
    return fig


# ----- leaderboard chart ----------------------------------------------------------------------------

def leaderboard_chart(board: Any, metrics: str | Sequence[str] | None = None):
    """Systems (best at the top) with value and 95% CI, a panel per metric; colour = rank group,
    hollow = a published row."""
    from rexeval.base.display import display_name

    plt = styled_pyplot()
    keys = [metrics] if isinstance(metrics, str) else list(metrics or [board.rank_by])
    t = board.table
    n = len(t)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys) + 3.0, 0.45 * n + 1.5), squeeze=False, sharey=True)
    for j, (ax, metric) in enumerate(zip(axes[0], keys, strict=True)):
        for i, row in t.iterrows():
            v = row.get(metric)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            g = row.get("group")
            color = "#999999" if g is None or g is pd.NA or pd.isna(g) else PALETTE[(int(g) - 1) % len(PALETTE)]
            lo, hi = row.get(f"{metric}_lo"), row.get(f"{metric}_hi")
            if lo is not None and hi is not None and not (pd.isna(lo) or pd.isna(hi)):
                ax.plot([lo, hi], [i, i], color=color, linewidth=2.2)
            ax.plot(v, i, "o", color=color, markersize=8,
                    markerfacecolor=color if row.get("source", "run") == "run" else "white")
            ax.annotate(f"{v:.3f}", (v, i), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=9)
        if j == 0:
            names = [("" if pd.isna(r["rank"]) else f"{int(r['rank'])}. ") + str(r["system"])
                     + ("" if pd.isna(r["group"]) else f"  [g{int(r['group'])}]") for _, r in t.iterrows()]
            ax.set_yticks(range(n), names)
        ax.set_ylim(n - 0.4, -0.8)
        hib = board.higher_is_better.get(metric, True)
        ax.set_xlabel(f"{display_name(metric)} ({'higher' if hib else 'lower'} is better)")
        ax.grid(axis="x", alpha=0.3)
        ax.margins(x=0.1)
    fig.suptitle(f"{board.title}: ranked by {display_name(board.rank_by)}; value and 95% bootstrap CI; "
                 "colour = rank group", fontsize=11.5)
    fig.tight_layout()
    return fig


# ----- error-count distribution ---------------------------------------------------------------------

def error_columns(columns: Sequence[str]) -> list[str]:
    """Per-study significant-error count columns: names ending in ``total_sig``."""
    return [c for c in columns if str(c).endswith(ERROR_SUFFIX)]


def error_distribution(runs: Sequence[Run]) -> pd.DataFrame:
    """Share of reports with 0, 1, 2, 3, >=4 significant errors, per system and count column."""
    rows = []
    for run in runs:
        if run.per_study is None:
            continue
        for col in error_columns(run.per_study.columns):
            x = pd.to_numeric(run.per_study[col], errors="coerce").to_numpy(dtype=float)
            ok = x[~np.isnan(x)]
            n = len(ok)
            counts = [np.sum(ok == 0), np.sum(ok == 1), np.sum(ok == 2), np.sum(ok == 3), np.sum(ok >= 4)]
            source = col[: -len(ERROR_SUFFIX)].rstrip("_") or "errors"
            row = {"system": run.name, "source": source, "column": col, "n": n, "n_failed": int(np.isnan(x).sum())}
            row.update({b: (c / n if n else float("nan")) for b, c in zip(ERROR_BINS, counts, strict=True)})
            rows.append(row)
    return pd.DataFrame(rows)


def _error_source(column: str, prefix: str) -> str:
    from rexeval.base.display import display_name

    name = display_name(column)
    if name == column:
        return prefix
    qualifier = name.rpartition("(")[2].rstrip(")") if name.endswith(")") else ""
    return qualifier or "structured counter"


def error_plot(dist: pd.DataFrame):
    """Stacked horizontal bars: one bar per system x error source, segments = 0/1/2/3/>=4 errors."""
    plt = styled_pyplot()
    import matplotlib

    if dist.empty:
        raise InputError(f"no per-study error-count column (a name ending in {ERROR_SUFFIX!r}) in these runs")
    colors = matplotlib.colormaps["cividis"](np.linspace(0.95, 0.1, len(ERROR_BINS)))
    multi = dist["source"].nunique() > 1
    # the counter's human name ("significant errors per report (LLM judge)"), else the column's prefix
    labels = [f"{r.system}" + (f" · {_error_source(r.column, r.source)}" if multi else "") + f"  (n={r.n})"
              for r in dist.itertuples()]

    fig, ax = plt.subplots(figsize=(8.5, 0.5 * len(dist) + 1.8))
    left = np.zeros(len(dist))
    for b, color in zip(ERROR_BINS, colors, strict=True):
        vals = dist[b].to_numpy(dtype=float)
        ax.barh(range(len(dist)), vals, left=left, color=color, edgecolor="white", label=f"{b} error{'s' if b != '1' else ''}")
        for i, (v, lft) in enumerate(zip(vals, left, strict=True)):
            if v >= 0.06:
                lum = np.dot(color[:3], [0.299, 0.587, 0.114])
                ax.text(lft + v / 2, i, f"{v:.0%}", ha="center", va="center", fontsize=9,
                        color="black" if lum > 0.5 else "white")
        left += vals
    ax.set_yticks(range(len(dist)), labels)
    ax.set_ylim(len(dist) - 0.5, -0.5)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("share of reports")
    ax.set_title("Clinically significant errors per report")
    ax.legend(ncol=len(ERROR_BINS), loc="upper center", bbox_to_anchor=(0.5, -0.15 - 0.4 / max(len(dist), 1)), frameon=False)
    fig.tight_layout()
    return fig


# ----- per-condition F1 heat map --------------------------------------------------------------------

def condition_matrix(runs: Sequence[Run], labeler: str | None = None) -> dict[str, pd.DataFrame]:
    """labeler -> DataFrame (systems x conditions) of F1 from the runs' ``conditions`` sections."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for run in runs:
        conds = run.summary.conditions
        if not isinstance(conds, dict):
            raise InputError("summary 'conditions' must be an object {labeler: {condition: {...}}}", path=str(run.path))
        for lab, per in conds.items():
            if labeler and lab != labeler:
                continue
            for cond, stats in (per or {}).items():
                f1 = stats.get("f1") if isinstance(stats, dict) else None
                out.setdefault(lab, {}).setdefault(run.name, {})[cond] = np.nan if f1 is None else float(f1)
    frames = {}
    for lab, systems in out.items():
        cond_order: list[str] = []
        for per in systems.values():
            cond_order += [c for c in per if c not in cond_order]
        frames[lab] = pd.DataFrame.from_dict(systems, orient="index").reindex(columns=cond_order)
    return frames


def condition_heatmap(matrices: dict[str, pd.DataFrame] | pd.DataFrame, labeler: str | None = None):
    """F1 per system x condition; one panel per labeler, stacked, in one figure."""
    plt = styled_pyplot()
    import matplotlib

    if isinstance(matrices, pd.DataFrame):
        matrices = {labeler or "labels": matrices}
    n_cond = max(m.shape[1] for m in matrices.values())
    heights = [m.shape[0] * 0.5 + 1.9 for m in matrices.values()]
    fig, axes = plt.subplots(len(matrices), 1, figsize=(max(6.0, 0.62 * n_cond + 2.8), sum(heights) + 0.4),
                             squeeze=False, gridspec_kw={"height_ratios": heights})
    # no value (no support / not computed): light grey with a dash
    cmap = matplotlib.colormaps["cividis"].with_extremes(bad="#e6e6e6")
    for ax, (lab, matrix) in zip(axes[:, 0], matrices.items(), strict=True):
        n_sys, n_c = matrix.shape
        data = matrix.to_numpy(dtype=float)
        im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=0, vmax=1, aspect="auto")
        for i in range(n_sys):
            for j in range(n_c):
                v = data[i, j]
                text = "—" if np.isnan(v) else f"{v:.2f}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8.5,
                        color="black" if (not np.isnan(v) and v > 0.6) else "white" if not np.isnan(v) else "#555555")
        ax.set_xticks(range(n_c), matrix.columns, rotation=45, ha="right")
        ax.set_yticks(range(n_sys), matrix.index)
        ax.spines[:].set_visible(False)
        ax.tick_params(length=0)
        fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label="F1")
        ax.set_title(f"Per-condition F1 ({lab} labels)")
    fig.tight_layout()
    return fig


# ----- entry point ----------------------------------------------------------------------------------

def plot_runs(runs: Sequence[Run], kind: str, out_dir: str | Path, *, metrics: Sequence[str] | None = None,
              rank_by: str | None = None, board: Any = None, **board_kw: Any) -> list[Path]:
    """Make the figure(s) of ``kind`` for ``runs`` in ``out_dir`` (the module doc's table); returns the
    files written."""
    if kind not in KINDS:
        raise InputError(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    out: list[Path] = []
    if kind == "overview":
        out += save(overview_plot(runs, metrics), out_dir, "overview")
    elif kind == "subgroups":
        done = 0
        for run in runs:
            if run.subgroup_table is not None:
                out += subgroup_plots(run, out_dir, metrics)
                done += 1
        if not done:
            raise InputError(f"none of the runs has {SUBGROUPS}; score with --by age_group,sex,... first")
    elif kind == "leaderboard":
        if len(runs) < 2:
            raise InputError("a leaderboard needs two runs or more")
        if board is None:
            from rexeval.reports.leaderboard import build_leaderboard

            board = build_leaderboard(list(runs), rank_by=rank_by, **board_kw)
        out += save(leaderboard_chart(board, metrics or [board.rank_by]), out_dir, "leaderboard")
    elif kind == "compare":
        if len(runs) != 2:
            raise InputError(f"a paired comparison needs exactly two runs (A and B), not {len(runs)}")
        from rexeval.reports.compare import compare

        options = {k: v for k, v in board_kw.items() if k in ("n_permutations", "allow_mismatch", "seed")}
        table = compare(runs[0], runs[1], **options)
        out += save(comparison_plot(table, metrics), out_dir, "comparison")
    elif kind == "errors":
        dist = error_distribution(runs)
        fig = error_plot(dist)
        out += save(fig, out_dir, "errors_distribution")
        dist.to_csv(Path(out_dir) / "errors_distribution.csv", index=False)
        out.append(Path(out_dir) / "errors_distribution.csv")
    elif kind == "conditions":
        mats = condition_matrix(runs)
        if not mats:
            raise InputError("no per-condition results (no 'conditions' in summary.json) in these runs")
        out += save(condition_heatmap(mats), out_dir, "conditions")
    return out
