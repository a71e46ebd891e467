"""A self-contained HTML report for one or more runs (``rexeval report``).

One file, no network: inline CSS and JavaScript, plots embedded as base64 PNG. Sections: the summary
table (the leaderboard, sortable), the plots that the runs support (leaderboard chart, subgroup forest
plots, error-count distribution, per-condition F1), the worst-scoring studies of each run with the
prediction and the reference side by side (from ``texts.csv``), and each run's per-study table with a
search box.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rexeval._version import __version__
from rexeval.reports.leaderboard import TABLE_CSS, build_leaderboard
from rexeval.run.runs import Run, random_weights_line
from rexeval.stats import DEFAULT_PERMUTATIONS

REPORT_CSS = TABLE_CSS + """
h2{margin-top:32px;border-bottom:2px solid #0072B2;padding-bottom:4px}
h3{margin-top:20px}
img.plot{max-width:100%;border:1px solid #eee;margin:6px 0}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin:10px 0 18px 0}
.pair div{background:#f7f7f7;border-left:4px solid #0072B2;padding:8px 10px;white-space:pre-wrap;font-size:13px}
.pair div.ref{border-left-color:#009E73}
.meta{font-size:12px;color:#666}
input.search{font-size:14px;padding:4px 8px;width:320px;margin:6px 0}
details{margin:8px 0}
.scroll{max-height:480px;overflow:auto;border:1px solid #eee}
p.warn{color:#b00020;font-size:16px}
"""

_SEARCH_JS = """<script>
function filterRows(input, id){var q=input.value.toLowerCase();var rows=document.getElementById(id).tBodies[0].rows;
for(var i=0;i<rows.length;i++){rows[i].style.display=rows[i].textContent.toLowerCase().indexOf(q)>=0?'':'none';}}
</script>"""


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=110)
    plt.close(fig)
    return '<img class="plot" alt="plot" src="data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode("ascii") + '">'


def per_study_key(run: Run, key: str, higher_is_better: bool) -> tuple[str, bool] | None:
    """The per-study column behind summary metric ``key`` and its direction (1/mean -> the mean's column,
    reversed), or None when there is no such column."""
    if run.per_study is None:
        return None
    cols = set(run.per_study.columns)
    if key in cols:
        return key, higher_is_better
    if key.startswith("inv_") and key[4:] in cols:
        return key[4:], not higher_is_better
    return None


def worst_studies(run: Run, key: str, higher_is_better: bool, k: int = 10) -> pd.DataFrame:
    """The ``k`` studies with the worst per-study value of ``key`` (NaN = failure, listed first)."""
    found = per_study_key(run, key, higher_is_better)
    if found is None:
        return pd.DataFrame()
    col, hib = found
    assert run.per_study is not None  # per_study_key() finds no column without it
    frame = run.per_study[["study_id", col]].copy()
    values = pd.to_numeric(frame[col], errors="coerce")
    frame["_k"] = values.fillna(-np.inf if hib else np.inf)
    frame = frame.sort_values("_k", ascending=hib, kind="stable").head(k).drop(columns="_k")
    if run.texts is not None:
        frame = frame.merge(run.texts, on="study_id", how="left")
    frame.attrs["column"], frame.attrs["higher_is_better"] = col, hib  # after the merge, which drops attrs
    return frame


def build_report(runs: list[Run], *, title: str = "rexeval report", rank_by: str | None = None,
                 worst_k: int = 10, n_permutations: int = DEFAULT_PERMUTATIONS, max_rows: int = 5000,
                 allow_mismatch: bool = False) -> str:
    from rexeval.base.display import display_name
    from rexeval.reports import plots

    board = build_leaderboard(runs, rank_by=rank_by, n_permutations=n_permutations, title=title,
                              allow_mismatch=allow_mismatch)
    parts = [
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>", html.escape(title), "</title><style>",
        REPORT_CSS, "</style></head><body>", f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">rexeval {html.escape(__version__)} · generated '
        f'{datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")} · {len(runs)} run(s) · '
        f'{html.escape(runs[0].summary.input.track_label)}</p>',
        "<h2>Summary</h2>", board.to_html(standalone=False),
    ]
    if random_line := random_weights_line([r.summary for r in runs]):
        parts.insert(parts.index("<h2>Summary</h2>"), f'<p class="warn"><b>{html.escape(random_line)}</b></p>')
    # Plots
    figs: list[str] = []
    figs.append("<h3>Leaderboard</h3>" + _png(plots.leaderboard_chart(board)))
    for run in runs:
        if run.subgroup_table is not None:
            table = run.subgroup_table.copy()
            table["group"] = table["group"].astype(str)
            keys = plots.subgroup_metrics(table)
            if board.rank_by in set(table["metric"]) and board.rank_by not in keys:
                keys = [board.rank_by] + keys[:3]
            figs.append(f"<h3>Subgroups — {html.escape(run.name)}</h3>"
                        + _png(plots.forest_plot(table, keys, title=f"{run.name}: by subgroup")))
    dist = plots.error_distribution(runs)
    if not dist.empty:
        figs.append("<h3>Clinically significant errors per report</h3>" + _png(plots.error_plot(dist)))
    mats = plots.condition_matrix(runs)
    if mats:
        figs.append("<h3>Per-condition F1</h3>" + _png(plots.condition_heatmap(mats)))
    parts += ["<h2>Plots</h2>"] + figs
    # Worst studies
    parts.append(f"<h2>Worst-scoring studies (by {html.escape(display_name(board.rank_by))})</h2>")
    hib = board.higher_is_better.get(board.rank_by, True)
    for run in runs:
        worst = worst_studies(run, board.rank_by, hib, worst_k)
        parts.append(f"<h3>{html.escape(run.name)}</h3>")
        if worst.empty:
            parts.append("<p>no per-study values for this metric.</p>")
            continue
        col = worst.attrs["column"]
        if "prediction" not in worst:
            parts.append('<p class="meta">texts.csv is not in this run directory (scored with an older rexeval), '
                         "so only the values are listed.</p>")
        for r in worst.to_dict(orient="records"):
            v = r[col]
            parts.append(f"<p><b>{html.escape(str(r['study_id']))}</b> — {html.escape(display_name(col))} = "
                         f"{'failed (NaN)' if pd.isna(v) else f'{v:.4f}'}</p>")
            if "prediction" in r:
                parts.append('<div class="pair"><div><b>prediction</b>\n' + html.escape(_text(r.get("prediction")))
                             + '</div><div class="ref"><b>reference</b>\n' + html.escape(_text(r.get("reference"))) + "</div></div>")
    # Per-study tables
    parts.append("<h2>Per-study values</h2>")
    for i, run in enumerate(runs):
        if run.per_study is None:
            parts.append(f"<h3>{html.escape(run.name)}</h3><p>no per_study.csv</p>")
            continue
        frame = run.per_study
        if run.texts is not None:
            frame = frame.merge(run.texts, on="study_id", how="left")
        shown = frame.head(max_rows)
        tid = f"ps{i}"
        # human names; the column key (as in per_study.csv) is the tooltip
        head = "".join(f'<th title="{html.escape(str(c))}">{html.escape(display_name(str(c)))}</th>' for c in shown.columns)
        body = []
        for row in shown.itertuples(index=False):
            cells = []
            for v in row:
                if isinstance(v, float):
                    cells.append(f"<td>{'' if np.isnan(v) else f'{v:.4f}'}</td>")
                else:
                    cells.append(f'<td style="text-align:left;white-space:normal;min-width:240px">{html.escape(_text(v))}</td>'
                                 if isinstance(v, str) and len(v) > 40 else f"<td>{html.escape(_text(v))}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        more = f" (first {max_rows} of {len(frame)})" if len(frame) > max_rows else ""
        parts.append(
            f"<details{' open' if i == 0 else ''}><summary><b>{html.escape(run.name)}</b> — {len(frame)} studies{more}</summary>"
            f'<input class="search" placeholder="search study id or text…" oninput="filterRows(this, \'{tid}\')">'
            f'<div class="scroll"><table id="{tid}"><thead><tr>{head}</tr></thead><tbody>' + "\n".join(body)
            + "</tbody></table></div></details>"
        )
    # Provenance
    parts.append("<h2>Signatures</h2>")
    for run in runs:
        items = "".join(f"<li><code>{html.escape(k)}</code>: <code>{html.escape(str(m.signature or ''))}</code></li>"
                        for k, m in run.metrics.items())
        parts.append(f"<h3>{html.escape(run.name)}</h3><ul class=\"meta\">{items}</ul>")
    parts.append(_SEARCH_JS + "</body></html>\n")
    return "".join(parts)


def _text(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return str(v)


def write_report(runs: list[Run], out: str | Path, **kw: Any) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(build_report(runs, **kw), encoding="utf-8")
    return out
