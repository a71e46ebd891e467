"""``rexeval labels``: the 14-condition label matrix of a file of reports."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rexeval.cli._common import user_errors, warn

#: Text columns tried in order when --column is not given.
TEXT_COLUMNS = ("report", "text", "prediction", "reference", "generated_report", "model_prediction", "section_findings")


def register(app: typer.Typer) -> None:
    app.command("labels")(labels_command)


@user_errors
def labels_command(
    reports: Path = typer.Argument(..., help="Reports: CSV, TSV, JSONL, JSON or Parquet with study_id and a text column."),
    labeler: str = typer.Option("rules", "--labeler", "-l", help="rules (offline, default) or chexbert (needs chexbert.pth)."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the labels (.csv, .tsv, .jsonl, .json, .parquet)."),
    column: Optional[str] = typer.Option(None, "--column", "-c", help=f"Text column (default: the first of {', '.join(TEXT_COLUMNS)})."),
    model: Optional[Path] = typer.Option(None, "--model", help="chexbert.pth or its folder (default: $REXEVAL_CHEXBERT, then the HF cache)."),
    device: Optional[str] = typer.Option(None, "--device", help="chexbert: cpu, cuda, cuda:1 (default: cuda if available)."),
    batch_size: int = typer.Option(32, "--batch-size", help="chexbert: texts per forward pass."),
    hedges: str = typer.Option("chexpert", "--hedges", help="rules: chexpert (a hedged finding is -1) or graded (a probable hedge is 1, a merely possible one 0)."),
) -> None:
    """Label reports with the 14 CheXpert conditions: 1 positive, 0 negative, -1 uncertain, empty = not mentioned."""
    import pandas as pd

    from rexeval.backends.labelers import CONDITIONS, LABELERS, get_labeler
    from rexeval.base.align import column_texts, find_column, study_ids
    from rexeval.base.exceptions import ConfigError, InputError
    from rexeval.base.io import read_table, write_table

    if labeler not in LABELERS:
        raise ConfigError(f"--labeler must be one of {', '.join(LABELERS)}, not {labeler!r}")
    frame = read_table(reports)
    ids = study_ids(frame, str(reports))
    if column is not None:
        col = find_column(frame, (column.lower(),))
        if col is None:
            raise InputError(f"no column {column!r} (found {', '.join(map(repr, [c for c in frame.columns if c != '_row']))})", path=str(reports))
    else:
        col = find_column(frame, TEXT_COLUMNS)
        if col is None:
            raise InputError(f"no report text column (expected one of {', '.join(TEXT_COLUMNS)}, or pass --column)", path=str(reports))
    cells = column_texts(frame, col, str(reports), ids)
    missing = sum(t is None or not str(t).strip() for t in cells)
    texts = ["" if t is None else str(t) for t in cells]
    if hedges != "chexpert" and labeler != "rules":
        raise ConfigError("--hedges applies to the rules labeler only")
    opts = {"hedges": hedges} if labeler == "rules" else {"path": model, "device": device, "batch_size": batch_size}
    lab = get_labeler(labeler, **opts)
    labels = lab.label(texts)
    out = pd.DataFrame({"study_id": ids})
    for j, cond in enumerate(CONDITIONS):
        out[cond] = pd.array([None if v != v else int(v) for v in labels[:, j]], dtype="Int64")
    if missing:
        warn(f"{missing} empty reports" + (" got no labels (all blank)" if labeler == "rules" else " were labelled as CheXbert labels [CLS][SEP]"))
    write_table(out, output)
    counts = ", ".join(f"{c}: {int((labels[:, j] == 1).sum())}" for j, c in enumerate(CONDITIONS) if (labels[:, j] == 1).any())
    typer.echo(f"wrote {output}: {len(ids)} reports labelled by {lab.signature()}")
    typer.echo(f"positive: {counts or 'none'}")
