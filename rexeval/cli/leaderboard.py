"""``rexeval leaderboard``."""

from __future__ import annotations

from pathlib import Path

import typer

from rexeval.cli._common import split_list, user_errors
from rexeval.stats import DEFAULT_PERMUTATIONS


def register(app: typer.Typer) -> None:
    app.command("leaderboard")(leaderboard_command)


@user_errors
def leaderboard_command(
    runs: list[Path] | None = typer.Argument(None, help="Run directories (rexeval score --out)."),
    rank_by: str | None = typer.Option(None, "--rank-by", help="Metric key to rank by (default: ReXrank's inv_radcliq_v1 when every run has it, else radcliq_v1, else bleu; the table's caption says which)."),
    metrics: str | None = typer.Option(None, "--metrics", "-m", help="Comma-separated metric keys to show (default: see --columns)."),
    columns: str = typer.Option("default", "--columns", help="default (the rank key and headline numbers, at most 8 metric columns per block) or all (every metric; the CSV always has all)."),
    published: str | None = typer.Option(None, "--published", help="A published table, e.g. rexrank:iu_xray:findings ('list' lists them)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="A .md/.tex/.html/.csv file, or a directory for all four."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level of the rank-group tests."),
    adjust: str = typer.Option("holm", "--adjust", help="Multiplicity correction over all pairs: holm or none."),
    n_perm: int = typer.Option(DEFAULT_PERMUTATIONS, "--permutations", help="Randomisation-test permutations per pair."),
    seed: int = typer.Option(12345, "--seed"),
    title: str = typer.Option("Leaderboard", "--title"),
    allow_mismatch: bool = typer.Option(False, "--allow-mismatch", help="Rank runs scored differently (references, track, study set, options, rexeval version); the differences go into the table's notes."),
) -> None:
    """Table of several systems: metrics with CIs, rank and rank groups (paired tests); Markdown/LaTeX/HTML/CSV."""
    from rexeval.base.exceptions import ConfigError
    from rexeval.reports.leaderboard import build_leaderboard
    from rexeval.run.runs import load_runs

    pub = None
    if published is not None:
        from leaderboards import published as pubmod

        if published == "list":
            for tid in pubmod.table_ids():
                typer.echo(tid)
            return
        pub = pubmod.load_table(published)
    if not runs and pub is None:
        raise ConfigError("give run directories and/or --published TABLE")
    if n_perm < 1:
        raise ConfigError("--permutations must be >= 1")
    loaded = load_runs(list(runs or []))
    if pub is not None and not loaded:
        _print_published(pub)
        if out is not None:
            _write_published(pub, out)
        return
    board = build_leaderboard(loaded, rank_by=rank_by, metrics=split_list(metrics), published=pub, alpha=alpha,
                              adjust=adjust, n_permutations=n_perm, seed=seed, title=title,
                              allow_mismatch=allow_mismatch, columns=columns)
    typer.echo(board.to_markdown())
    if out is not None:
        for p in board.write(out):
            typer.echo(f"wrote {p}")


def _print_published(pub) -> None:
    import sys

    from rich.console import Console
    from rich.table import Table

    from leaderboards.published import source_line
    from rexeval.base.display import display_name

    console = Console(width=None if sys.stdout.isatty() else 200)
    has_ours = "inv_radcliq_v1_ours" in pub
    order = pub.sort_values("inv_radcliq_v1_ours" if has_ours else pub.attrs["metric_columns"][0], ascending=False, kind="stable")
    t = Table(title=f"published {pub.attrs['table_id']}", caption=source_line(pub))
    cols = [c for c in pub.attrs["metric_columns"]]
    t.add_column("#", justify="right")
    t.add_column("system")
    for c in cols:
        t.add_column(display_name(c), justify="right")
    if has_ours:
        t.add_column("1/RadCliQ-v1 ours", justify="right")
        t.add_column("reproduces", justify="center")
    for i, row in enumerate(order.itertuples(index=False), 1):
        cells = [str(i), row.system] + [_f(getattr(row, c), 3) for c in cols]
        if has_ours:
            cells += [_f(row.inv_radcliq_v1_ours, 4), "yes" if row.reproduces else "[red]NO[/]"]
        t.add_row(*cells)
    console.print(t)
    for row in order.itertuples(index=False):
        if row.flag:
            console.print(f"[yellow]not reproducible[/] {row.system}: {row.flag}")


def _write_published(pub, out: Path) -> None:
    out = Path(out)
    if out.suffix.lower() == ".csv":
        out.parent.mkdir(parents=True, exist_ok=True)
        pub.to_csv(out, index=False)
    else:
        out.mkdir(parents=True, exist_ok=True)
        pub.to_csv(out / "published.csv", index=False)
        out = out / "published.csv"
    typer.echo(f"wrote {out}")


def _f(v, digits: int) -> str:
    import math

    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"
