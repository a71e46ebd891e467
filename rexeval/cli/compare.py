"""``rexeval compare``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rexeval.cli._common import split_list, user_errors
from rexeval.stats import DEFAULT_PERMUTATIONS


def register(app: typer.Typer) -> None:
    app.command("compare")(compare_command)


@user_errors
def compare_command(
    a: Path = typer.Argument(..., help="System A: a run directory (rexeval score --out) or a predictions file."),
    b: Path = typer.Argument(..., help="System B: a run directory or a predictions file."),
    refs: Optional[Path] = typer.Option(None, "--refs", "-r", help="References, when A/B are predictions files."),
    metrics: Optional[str] = typer.Option(None, "--metrics", "-m", help="Comma-separated metric names or keys."),
    track: str = typer.Option("auto", "--track", help="Reference text: findings (ReXrank's findings track), findings-impression (its findings + impression track), report (the reference column as written); auto takes the only one REFS allow."),
    n_perm: int = typer.Option(DEFAULT_PERMUTATIONS, "--permutations", help="Randomisation-test permutations."),
    n_boot: int = typer.Option(1000, "--bootstrap", help="Paired-bootstrap resamples for the CI of the difference."),
    seed: int = typer.Option(12345, "--seed"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the table as CSV (or .md for Markdown)."),
    allow_mismatch: bool = typer.Option(False, "--allow-mismatch", help="Compare runs scored differently (references, track, options, rexeval version); the differences are recorded in the output."),
) -> None:
    """Paired significance test of A vs B per metric (randomisation test, Holm-corrected)."""
    from rexeval.base.exceptions import ConfigError
    from rexeval.reports.compare import compare
    from rexeval.reports.table import print_comparison

    if n_perm < 1:
        raise ConfigError("--permutations must be >= 1")
    table = compare(a, b, refs, metrics=split_list(metrics), n_permutations=n_perm, n_resamples=n_boot, seed=seed, track=track,
                    allow_mismatch=allow_mismatch)
    mismatch = table.attrs.get("mismatch_allowed") or []
    if mismatch:
        from rexeval.cli._common import warn

        warn("compared although scored differently (--allow-mismatch): " + "; ".join(mismatch))
        table["mismatch_allowed"] = "; ".join(mismatch)  # recorded in the written table
    print_comparison(table)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".md":
            from rexeval.reports.table import markdown_table

            out.write_text(markdown_table(table), encoding="utf-8")
        else:
            table.to_csv(out, index=False)
        typer.echo(f"wrote {out}")

