"""Plots for runs (matplotlib, Agg backend; every figure is written as PNG and SVG).

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

from rexeval.exceptions import InputError
from rexeval.runs import SUBGROUPS, Run

#: Okabe-Ito: distinguishable under the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
ERROR_SUFFIX = "total_sig"
ERROR_BINS = ("0", "1", "2", "3", "≥4")
KINDS = ("subgroups", "leaderboard", "errors", "conditions")


def _plt():
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
    plt = _plt()
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

def forest_plot(table: pd.DataFrame, metric: str, title: str | None = None):
    """Point and 95% CI per subgroup, the overall value as a dashed line; small groups hollow."""
    plt = _plt()
    part = table[table["metric"] == metric]
    if part.empty:
        raise InputError(f"no subgroup results for metric {metric!r}")
    bys = list(dict.fromkeys(part["by"]))
    labels, ys, rows = [], [], []
    y = 0
    header_ys = []
    for by in bys:
        header_ys.append((y, by))
        y += 1
        for r in part[part["by"] == by].itertuples(index=False):
            rows.append((y, r))
            labels.append(f"{r.group} (n={r.n})")
            ys.append(y)
            y += 1
        y += 0.5
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * y + 1.4))
    overall = float(part["overall"].iloc[0])
    ax.axvline(overall, color="#555555", linestyle="--", linewidth=1, label=f"overall {overall:.3f}", zorder=1)
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
    ax.set_yticks(ys, labels)
    for yy, by in header_ys:
        ax.text(-0.02, yy, by, transform=ax.get_yaxis_transform(), ha="right", va="center", fontweight="bold",
                fontsize=11)
    ax.set_ylim(y - 0.5, -0.8)
    hib = bool(part["higher_is_better"].iloc[0]) if "higher_is_better" in part else True
    ax.set_xlabel(f"{metric} ({'higher' if hib else 'lower'} is better), 95% bootstrap CI")
    small_n = int(part["small"].sum())
    ax.set_title(title or f"{metric} by subgroup")
    handles, _ = ax.get_legend_handles_labels()
    if small_n:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], marker="o", color="#333333", markerfacecolor="white", linestyle="",
                              label="small group (flagged)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def subgroup_plots(run: Run, out_dir: str | Path, metrics: Sequence[str] | None = None) -> list[Path]:
    if run.subgroup_table is None:
        raise InputError(f"no {SUBGROUPS} (score with --by to make one)", path=str(run.path))
    table = run.subgroup_table.copy()
    table["group"] = table["group"].astype(str)
    keys = list(metrics) if metrics else list(dict.fromkeys(table["metric"]))
    out = []
    for key in keys:
        fig = forest_plot(table, key, title=f"{run.name}: {key} by subgroup")
        out += save(fig, out_dir, f"subgroups_{_safe(run.name)}_{_safe(key)}")
    return out


# ----- leaderboard chart ----------------------------------------------------------------------------

def leaderboard_chart(board: Any, metric: str | None = None):
    """Systems (best at the top) with value and 95% CI; colour = rank group."""
    plt = _plt()
    metric = metric or board.rank_by
    t = board.table
    n = len(t)
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * n + 1.5))
    for i, row in t.iterrows():
        v = row.get(metric)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        g = row.get("group")
        color = "#999999" if g is None or g is pd.NA or pd.isna(g) else PALETTE[(int(g) - 1) % len(PALETTE)]
        lo, hi = row.get(f"{metric}_lo"), row.get(f"{metric}_hi")
        if lo is not None and hi is not None and not (pd.isna(lo) or pd.isna(hi)):
            ax.plot([lo, hi], [i, i], color=color, linewidth=2.2)
        ax.plot(v, i, "o", color=color, markersize=8, markerfacecolor=color if row.get("source", "run") == "run" else "white")
        ax.annotate(f"{v:.3f}", (v, i), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=9)
    names = [f"{'' if pd.isna(r['rank']) else int(r['rank'])}. {r['system']}" + ("" if pd.isna(r["group"]) else f"  [g{int(r['group'])}]")
             for _, r in t.iterrows()]
    ax.set_yticks(range(n), names)
    ax.set_ylim(n - 0.4, -0.8)
    hib = board.higher_is_better.get(metric, True)
    ax.set_xlabel(f"{metric} ({'higher' if hib else 'lower'} is better), 95% bootstrap CI")
    ax.set_title(f"{board.title}: ranked by {board.rank_by}; colour = rank group")
    ax.grid(axis="x", alpha=0.3)
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


def error_plot(dist: pd.DataFrame):
    """Stacked horizontal bars: one bar per system x error source, segments = 0/1/2/3/>=4 errors."""
    plt = _plt()
    import matplotlib

    if dist.empty:
        raise InputError(f"no per-study error-count column (a name ending in {ERROR_SUFFIX!r}) in these runs")
    colors = matplotlib.colormaps["cividis"](np.linspace(0.95, 0.1, len(ERROR_BINS)))
    multi = dist["source"].nunique() > 1
    labels = [f"{r.system}" + (f" · {r.source}" if multi else "") + f"  (n={r.n})" for r in dist.itertuples()]
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
    """labeler -> DataFrame (systems x conditions) of F1 from summary["conditions"]."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for run in runs:
        conds = run.summary.get("conditions") or {}
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


def condition_heatmap(matrix: pd.DataFrame, labeler: str):
    plt = _plt()
    n_sys, n_cond = matrix.shape
    fig, ax = plt.subplots(figsize=(max(6.0, 0.62 * n_cond + 2.8), 0.5 * n_sys + 2.6))
    data = matrix.to_numpy(dtype=float)
    import matplotlib

    # no value (no support / not computed): light grey with a dash
    cmap = matplotlib.colormaps["cividis"].with_extremes(bad="#e6e6e6")
    im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    for i in range(n_sys):
        for j in range(n_cond):
            v = data[i, j]
            text = "—" if np.isnan(v) else f"{v:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8.5,
                    color="black" if (not np.isnan(v) and v > 0.6) else "white" if not np.isnan(v) else "#555555")
    ax.set_xticks(range(n_cond), matrix.columns, rotation=45, ha="right")
    ax.set_yticks(range(n_sys), matrix.index)
    ax.spines[:].set_visible(False)
    ax.tick_params(length=0)
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label="F1")
    ax.set_title(f"Per-condition F1 ({labeler})")
    fig.tight_layout()
    return fig


# ----- entry point ----------------------------------------------------------------------------------

def plot_runs(runs: Sequence[Run], kind: str, out_dir: str | Path, *, metrics: Sequence[str] | None = None,
              rank_by: str | None = None, board: Any = None, **board_kw: Any) -> list[Path]:
    """Make the plots of ``kind`` for ``runs`` in ``out_dir``; returns the files written."""
    if kind not in KINDS:
        raise InputError(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    out: list[Path] = []
    if kind == "subgroups":
        done = 0
        for run in runs:
            if run.subgroup_table is not None:
                out += subgroup_plots(run, out_dir, metrics)
                done += 1
        if not done:
            raise InputError(f"none of the runs has {SUBGROUPS}; score with --by age_group,sex,... first")
    elif kind == "leaderboard":
        if board is None:
            from rexeval.leaderboard import build_leaderboard

            board = build_leaderboard(list(runs), rank_by=rank_by, **board_kw)
        for key in (metrics or [board.rank_by]):
            out += save(leaderboard_chart(board, key), out_dir, f"leaderboard_{_safe(key)}")
    elif kind == "errors":
        dist = error_distribution(runs)
        fig = error_plot(dist)
        out += save(fig, out_dir, "errors_distribution")
        dist.to_csv(Path(out_dir) / "errors_distribution.csv", index=False)
        out.append(Path(out_dir) / "errors_distribution.csv")
    elif kind == "conditions":
        mats = condition_matrix(runs)
        if not mats:
            raise InputError("no per-condition results (summary['conditions']) in these runs")
        for lab, mat in mats.items():
            out += save(condition_heatmap(mat, lab), out_dir, f"conditions_{_safe(lab)}")
    return out
