"""``rexeval merge``: join the run directories of ``rexeval score --shard i/n`` into one run."""

from __future__ import annotations

from pathlib import Path

import typer

from rexeval.cli._common import user_errors


def register(app: typer.Typer) -> None:
    app.command("merge")(merge_command)


@user_errors
def merge_command(
    runs: list[Path] = typer.Argument(..., help="Run directories written by `rexeval score --shard i/n --out DIR`."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory for the merged per_study.csv and summary.json."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not print the summary table."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing run directory at --out."),
    allow_mismatch: bool = typer.Option(False, "--allow-mismatch", help="Merge shards scored differently (input, references, track, options); the differences are recorded in summary.json (mismatch_allowed)."),
) -> None:
    """Merge sharded runs: concatenate per-study values and recompute every aggregate and CI."""
    from rexeval.run.runs import RunDirWriter
    from rexeval.run.shard import merge_runs

    with RunDirWriter(out, overwrite=overwrite) as writer:
        result = merge_runs(list(runs), allow_mismatch=allow_mismatch)
        writer.write(result)
    if not quiet:
        from rexeval.reports.table import print_summary

        print_summary(result.summary)
    typer.echo(f"merged {len(runs)} runs ({result.summary.n_studies} studies) into {out}")
