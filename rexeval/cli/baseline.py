"""``rexeval baseline``: write a baseline's predictions (+ run metadata) for ``rexeval score``.

The baselines live in the application package ``baselines/``; it is imported inside the command body
(rexeval itself never imports it), so ``rexeval --help`` stays instant.
"""

from __future__ import annotations

from pathlib import Path

import typer

from rexeval.cli._common import user_errors


def register(app: typer.Typer) -> None:
    app.command("baseline")(baseline_command)


@user_errors
def baseline_command(
    name: str = typer.Argument(..., help="copy-prior, template, random, retrieval or oracle-labels."),
    test: Path = typer.Option(..., "--test", help="TEST studies (ReXrank JSON, CSV, JSONL, Parquet): ids, context, priors."),
    out: Path = typer.Option(..., "--out", "-o", help="Predictions file to write (study_id, report); metadata goes to OUT.meta.json."),
    train: Path | None = typer.Option(None, "--train", help="TRAIN corpus to copy from: a table, a ReXrank JSON, or the IU NLMCXR_reports.tgz / its XML folder."),
    track: str = typer.Option("findings", "--track", help="Text copied from TRAIN: findings, findings-impression, or report."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random baseline and of random fallbacks (recorded)."),
    exclude: list[Path] | None = typer.Option(None, "--exclude", help="More studies to keep out of TRAIN (a file of study ids; repeatable)."),
    no_auto_exclude: bool = typer.Option(False, "--no-auto-exclude", help="Do not also exclude TEST's sibling ReXrank split (e.g. *_valid.json beside *_test.json)."),
    method: str = typer.Option("tfidf", "--method", help="retrieval: tfidf or bm25 over the context/indication."),
    train_embeddings: Path | None = typer.Option(None, "--train-embeddings", help="retrieval on image embeddings: TRAIN vectors (.npz ids+embeddings, or a table)."),
    test_embeddings: Path | None = typer.Option(None, "--test-embeddings", help="retrieval on image embeddings: TEST vectors."),
    no_context: str = typer.Option("template", "--no-context", help="retrieval, study without usable context: template, random or error."),
    no_prior: str = typer.Option("template", "--no-prior", help="copy-prior, study without prior: template, drop (left out) or error."),
    normal_by: str = typer.Option("auto", "--normal-by", help="template: auto, column ('No Finding' in TRAIN), labeler, or frequency."),
    labeler: str = typer.Option("rules", "--labeler", help="Condition labeler for template and oracle-labels."),
) -> None:
    """Write a baseline's predicted reports for TEST (copying from TRAIN) with its run metadata."""
    from baselines import run_baseline

    run = run_baseline(
        name, test, train, track=track, seed=seed, exclude=exclude or [],
        auto_exclude_splits=not no_auto_exclude, normal_by=normal_by, labeler=labeler, method=method,
        no_context=no_context, no_prior=no_prior, train_embeddings=train_embeddings, test_embeddings=test_embeddings,
    )
    run.write(out)
    meta = run.meta
    line = f"wrote {out} ({meta['n_predictions']} studies) and {out}.meta.json"
    if meta.get("oracle"):
        line += " — ORACLE: built from the references' own labels"
    typer.echo(line)
    for key in ("no_prior", "no_context"):
        if meta.get(key, {}).get("count"):
            typer.echo(f"note: {meta[key]['count']} studies had {key.replace('no_', 'no ')}: policy {meta[key]['policy']!r}", err=True)
