"""``rexeval plot``."""

from __future__ import annotations

from pathlib import Path

import typer

from rexeval.cli._common import split_list, user_errors
from rexeval.stats import DEFAULT_PERMUTATIONS


def register(app: typer.Typer) -> None:
    app.command("plot")(plot_command)


@user_errors
def plot_command(
    runs: list[Path] = typer.Argument(..., help="Run directories (rexeval score --out)."),
    kind: str = typer.Option("all", "--kind", "-k", help="One figure per question: overview (metrics with CIs), subgroups, errors, conditions, leaderboard (2+ runs), compare (2 runs: A − B), or all (those the runs support)."),
    out: Path = typer.Option(Path("plots"), "--out", "-o", help="Output directory (PNG + SVG per figure)."),
    metrics: str | None = typer.Option(None, "--metrics", "-m", help="Metric keys, one panel each (default: the headline numbers; leaderboard: the rank key)."),
    rank_by: str | None = typer.Option(None, "--rank-by", help="Leaderboard rank key."),
    n_perm: int = typer.Option(DEFAULT_PERMUTATIONS, "--permutations", help="Permutations for the leaderboard's rank groups."),
    allow_mismatch: bool = typer.Option(False, "--allow-mismatch", help="Rank runs scored differently (references, track, options, studies) anyway."),
) -> None:
    """Plots, one figure per question: overview, subgroups, errors, conditions, leaderboard, compare (docs/scoring.md)."""
    from rexeval.base.exceptions import ConfigError
    from rexeval.reports.plots import KINDS, plot_runs
    from rexeval.run.runs import load_runs

    kinds = KINDS if kind == "all" else (kind,)
    if any(k not in KINDS for k in kinds):
        raise ConfigError(f"--kind must be one of {', '.join(KINDS)} or all, not {kind!r}")
    loaded = load_runs(list(runs))
    for k in kinds:
        try:
            written = plot_runs(loaded, k, out, metrics=split_list(metrics), rank_by=rank_by, n_permutations=n_perm,
                                 **({"allow_mismatch": True} if allow_mismatch else {}))
        except Exception as exc:
            if kind == "all" and exc.__class__.__name__ == "InputError":
                typer.echo(f"skipped {k}: {exc}", err=True)
                continue
            raise
        for p in written:
            typer.echo(f"wrote {p}")
