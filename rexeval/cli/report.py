"""``rexeval report``."""

from __future__ import annotations

from pathlib import Path

import typer

from rexeval.cli._common import user_errors


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)


@user_errors
def report_command(
    runs: list[Path] = typer.Argument(..., help="Run directories (rexeval score --out)."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="The HTML file to write."),
    rank_by: str | None = typer.Option(None, "--rank-by", help="Metric that ranks systems and picks the worst studies."),
    worst: int = typer.Option(10, "--worst", help="How many worst-scoring studies to show per run."),
    title: str = typer.Option("rexeval report", "--title"),
    n_perm: int = typer.Option(2000, "--permutations", help="Permutations for the rank-group tests."),
    allow_mismatch: bool = typer.Option(False, "--allow-mismatch", help="Combine runs scored differently (references, track, options, studies); the differences are noted in the report."),
) -> None:
    """Self-contained HTML report: summary table, plots, worst studies side by side, searchable per-study table."""
    from rexeval.reports.html_report import write_report
    from rexeval.run.runs import load_runs

    path = write_report(load_runs(list(runs)), out, title=title, rank_by=rank_by, worst_k=worst, n_permutations=n_perm,
                        allow_mismatch=allow_mismatch)
    typer.echo(f"wrote {path}")
