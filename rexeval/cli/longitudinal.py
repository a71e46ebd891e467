"""``rexeval longitudinal``: every metric per temporal-change category, copy-prior alongside."""

from __future__ import annotations

from pathlib import Path

import typer

from rexeval.cli._common import split_list, user_errors


def register(app: typer.Typer) -> None:
    app.command("longitudinal")(longitudinal_command)


@user_errors
def longitudinal_command(
    preds: list[Path] = typer.Argument(..., help="Prediction files (study_id, report) of the systems to break down."),
    refs: Path = typer.Option(..., "--refs", "-r", help="References with prior information (prior_report, prior_study_id, or subject_id + study_date/order)."),
    train: Path | None = typer.Option(None, "--train", help="Earlier studies not in REFS (priors are looked up in REFS and TRAIN)."),
    track: str = typer.Option("auto", "--track", help="Reference text: findings, findings-impression, report (the reference column); auto takes the only one REFS allow."),
    metrics: str | None = typer.Option(None, "--metrics", "-m", help="Comma-separated metrics (default: every metric that can run)."),
    no_copy_prior: bool = typer.Option(False, "--no-copy-prior", help="Do not add the copy-prior baseline."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Directory for longitudinal.csv (long) and longitudinal.md (wide)."),
    n_boot: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples for the CIs (0 disables)."),
    seed: int = typer.Option(12345, "--seed", help="Bootstrap seed."),
) -> None:
    """Score systems per change category stated in the reference (new, progression, regression, no change)."""
    from baselines.longitudinal import longitudinal, wide
    from rexeval.reports.table import markdown_table

    names: dict[str, Path] = {}
    for p in preds:
        key = p.stem if p.stem not in names else str(p)
        names[key] = p
    table = longitudinal(
        names, refs, train=train, track=track, metrics=split_list(metrics), copy_prior=not no_copy_prior,
        n_resamples=n_boot, seed=seed,
    )
    md = markdown_table(wide(table))
    header = (f"{table.attrs['n_with_prior']} studies with a prior "
              f"({table.attrs['n_without_prior']} without one are left out)\n\n")
    typer.echo(header + md)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        table.to_csv(out / "longitudinal.csv", index=False)
        (out / "longitudinal.md").write_text(header + md, encoding="utf-8")
        typer.echo(f"wrote {out / 'longitudinal.csv'} and {out / 'longitudinal.md'}")
