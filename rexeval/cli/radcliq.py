"""``rexeval radcliq FILE``: RadCliQ-v0/v1 from sub-metric columns a user already has."""

from __future__ import annotations

from pathlib import Path

import typer

from rexeval.cli._common import user_errors


def register(app: typer.Typer) -> None:
    app.command("radcliq")(radcliq_command)


@user_errors
def radcliq_command(
    table: Path = typer.Argument(..., help="CSV/TSV/JSONL/Parquet with radgraph (or radgraph_combined), bertscore, semb_score, bleu (or bleu_score)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Where to write the table with radcliq_v0/radcliq_v1 added (default: FILE stem + .radcliq.csv)."),
) -> None:
    """Compute RadCliQ-v0/v1 per row and print 1/RadCliQ-v1 (ReXrank's rank key)."""
    from rexeval.base.io import read_table, write_table
    from rexeval.metrics.radcliq import inv_radcliq_v1, radcliq_table

    frame = read_table(table)
    result = radcliq_table(frame, str(table))
    out = out or table.with_name(table.stem + ".radcliq.csv")
    write_table(result, out)
    v0 = float(result["radcliq_v0"].mean())
    v1 = float(result["radcliq_v1"].mean())
    typer.echo(f"rows: {len(result)}  mean radcliq_v0: {v0:.6f}  mean radcliq_v1: {v1:.6f}")
    typer.echo(f"inv_radcliq_v1: {inv_radcliq_v1(result['radcliq_v1']):.6f}")
    typer.echo(f"wrote {out}")
