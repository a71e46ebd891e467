"""Terminal tables and plain Markdown rendering (no extra dependency)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def fmt(x: Any, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def markdown_table(frame: pd.DataFrame, digits: int = 4) -> str:
    """A GitHub-flavoured Markdown table; floats to ``digits`` places, pipes escaped."""
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        cells = [fmt(v, digits).replace("|", "\\|") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from rexeval.align import track_label

    console = Console()
    title = f"{summary.get('run', {}).get('name', 'run')} — {summary['n_studies']} studies — {track_label(summary.get('input') or {})}"
    table = Table(title=title)
    for col, justify in (("metric", "left"), ("value", "right"), ("95% CI", "right"), ("better", "center"), ("n", "right")):
        table.add_column(col, justify=justify)
    for key, m in summary["metrics"].items():
        lo, hi = m["ci95"]
        table.add_row(
            key, fmt(m["value"]), f"[{fmt(lo)}, {fmt(hi)}]", "↑" if m["higher_is_better"] else "↓",
            str(m.get("n", summary["n_studies"])) + (f" ({m['n_failed']} failed)" if m.get("n_failed") else ""),
        )
    console.print(table)
    for key, reason in summary.get("skipped", {}).items():
        # reasons carry fix commands such as pip install 'rexeval[models]': never read them as markup
        console.print(f"[yellow]skipped[/] {escape(str(key))}: {escape(str(reason))}", soft_wrap=True)


def print_comparison(table: pd.DataFrame) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    a, b = table.attrs.get("a", "A"), table.attrs.get("b", "B")
    t = Table(title=f"A = {a} vs B = {b} — {table.attrs.get('n_studies', '?')} paired studies, "
              f"{table.attrs.get('n_permutations', '?')} permutations, Holm-corrected")
    for col in ("metric", "A", "B", "A − B", "95% CI of A − B", "p", "p (Holm)", "better"):
        t.add_column(col, justify="left" if col == "metric" else "right")
    for r in table.itertuples(index=False):
        t.add_row(
            r.metric + (" ↑" if r.higher_is_better else " ↓"), fmt(r.a), fmt(r.b), fmt(r.delta),
            f"[{fmt(r.delta_ci_lo)}, {fmt(r.delta_ci_hi)}]", fmt(r.p_value), fmt(r.p_holm), r.better,
        )
    console.print(t)
