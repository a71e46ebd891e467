"""Terminal tables and plain Markdown rendering (no extra dependency)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from rexeval.run.runs import Summary


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


def print_summary(summary: Summary | Mapping[str, Any], columns: str | None = "default") -> None:
    """The run's numbers as a terminal table: grouped (ReXrank, clinical, other) under human names
    (``rexeval.base.display``), with direction, 95% CI and n. ``columns``: "default" (the headline numbers),
    "all" (every key, with the key beside its name) or comma-separated keys."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from rexeval.base.display import display_name, grouped, select
    from rexeval.base.exceptions import ConfigError
    from rexeval.run.runs import as_summary

    summary = as_summary(summary)
    console = Console()
    metrics = summary.metrics
    if columns not in (None, "default", "all"):
        from rexeval.metrics.error_schema import current_key

        columns = ",".join(current_key(c.strip()) for c in str(columns).split(","))
        unknown = [c.strip() for c in str(columns).split(",") if c.strip() not in metrics]
        if unknown:
            raise ConfigError(f"--columns: {', '.join(unknown)} not in this run (it has: {', '.join(metrics)})")
    shown = select(metrics, columns)
    show_keys = columns == "all"
    title = f"{summary.run.name or 'run'} — {summary.n_studies} studies — {summary.input.track_label}"
    hidden = len(metrics) - len(shown)
    caption = f"{hidden} more numbers: --columns all" if hidden and columns in (None, "default") else None
    table = Table(title=title, caption=caption)
    header = [("metric", "left")] + ([("key", "left")] if show_keys else [])
    header += [("value", "right"), ("95% CI", "right"), ("better", "center"), ("n", "right")]
    for col, justify in header:
        # a key is never cut short ("errors_struct_…"): folded onto the next line when the terminal is narrow
        table.add_column(col, justify=justify, overflow="fold")  # type: ignore[arg-type]  # rich's Literal
    blank = [""] * (len(header) - 1)
    for group, keys in grouped(shown):
        table.add_row(f"[bold]{group}[/]", *blank)
        for key in keys:
            m = metrics[key]
            lo, hi = m.ci95 or (None, None)
            n = str(m.n if m.n is not None else summary.n_studies) + (f" ({m.n_failed} failed)" if m.n_failed else "")
            cells = ["  " + escape(display_name(key))] + ([f"[dim]{escape(key)}[/]"] if show_keys else [])
            table.add_row(*cells, fmt(m.value), f"[{fmt(lo)}, {fmt(hi)}]", "↑" if m.higher_is_better else "↓", n)
    console.print(table)
    from rexeval.run.runs import random_weights_line

    if random_line := random_weights_line(summary):
        console.print(f"[bold red]{escape(random_line)}[/]", soft_wrap=True)
    for key, reason in summary.skipped.items():
        # reasons carry fix commands such as pip install 'rexeval[models]': never read them as markup
        console.print(f"[yellow]skipped[/] {escape(str(key))}: {escape(str(reason))}", soft_wrap=True)


def print_comparison(table: pd.DataFrame, width: int | None = None) -> None:
    """The paired comparison under human names. Below 120 columns the table is compact (3 decimals, the
    difference and its CI in one cell, only the Holm-adjusted p) so that names wrap at word boundaries
    instead of being cut short."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from rexeval.base.display import display_name

    console = Console(width=width)
    narrow = console.width < 120
    a, b = table.attrs.get("a", "A"), table.attrs.get("b", "B")
    t = Table(title=f"A = {a} vs B = {b} — {table.attrs.get('n_studies', '?')} paired studies, "
              f"{table.attrs.get('n_permutations', '?')} permutations, Holm-corrected",
              box=box.SIMPLE_HEAD if narrow else box.HEAVY_HEAD)
    cols = ("metric", "A", "B", "A − B [95% CI]", "p (Holm)", "better") if narrow else (
        "metric", "A", "B", "A − B", "95% CI of A − B", "p", "p (Holm)", "better")
    for col in cols:
        t.add_column(col, justify="left" if col == "metric" else "right", overflow="fold",
                     no_wrap=col != "metric", ratio=1 if col == "metric" else None)
    digits = 3 if narrow else 4
    for r in table.itertuples(index=False):
        name = display_name(r.metric) + (" ↑" if r.higher_is_better else " ↓")
        ci = f"[{fmt(r.delta_ci_lo, digits)}, {fmt(r.delta_ci_hi, digits)}]"
        if narrow:
            t.add_row(name, fmt(r.a, digits), fmt(r.b, digits), f"{fmt(r.delta, digits)} {ci}", fmt(r.p_holm, digits),
                      r.better)
        else:
            t.add_row(name, fmt(r.a), fmt(r.b), fmt(r.delta), ci, fmt(r.p_value), fmt(r.p_holm), r.better)
    console.print(t)
