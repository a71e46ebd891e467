"""``rexeval stress``: a deterministic sensitivity/invariance suite of rule-based report perturbations."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rexeval.cli._common import split_list, user_errors


def register(app: typer.Typer) -> None:
    app.command("stress")(stress_command)


@user_errors
def stress_command(
    refs: Path = typer.Argument(..., help="Reference reports (any file `rexeval score --refs` reads; ReXrank JSON with --track)."),
    metrics: Optional[str] = typer.Option(None, "--metrics", "-m", help="Comma-separated metric names (default: bleu,rouge_l,errors_struct,rules_f1)."),
    keys: Optional[str] = typer.Option(None, "--keys", help="Output keys to report (default: each metric's headline per-study output)."),
    track: str = typer.Option("auto", "--track", help="Reference text: findings (ReXrank's findings track), findings-impression (its findings + impression track), report (the reference column as written); auto takes the only one REFS allow."),
    categories: Optional[str] = typer.Option(None, "--categories", help="Comma-separated perturbation categories (default: all)."),
    seed: int = typer.Option(0, "--seed", help="Seed of every perturbation (each row's own seed is in perturbations.csv)."),
    tolerance: float = typer.Option(0.05, "--tolerance", help="Invariance tolerance: fraction of the output's range (absolute for unbounded outputs)."),
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples (over references) for the CIs of discrimination and tau (0: none)."),
    derived: bool = typer.Option(True, "--derived/--no-derived", help="Also edit a derived abnormal version of each reference (1-3 generated findings/devices added)."),
    multi: bool = typer.Option(True, "--multi/--no-multi", help="Score multi-edit reports (0-4 injected errors) for Kendall tau."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Use only the first N references."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Directory for perturbations.csv, stress_table.csv, stress.json and the heat map."),
    no_progress: bool = typer.Option(False, "--no-progress", help="Hide the progress bar."),
) -> None:
    """Perturb references and derived abnormal versions of them (negation, laterality, omission, false finding,
    severity, size, temporal, device inserted/removed/malpositioned; and meaning-preserving edits) and report
    per metric sensitivity, invariance, discrimination (same-report AUC) and Kendall tau on multi-edit reports."""
    from rexeval.base.exceptions import ConfigError
    from rexeval.tools.stress import (
        CATEGORIES,
        check_tolerance,
        heatmap,
        print_table,
        read_references,
        run_stress,
    )

    check_tolerance(tolerance)
    if bootstrap < 0:
        raise ConfigError("--bootstrap must be >= 0")

    cats = tuple(split_list(categories) or CATEGORIES)
    unknown = [c for c in cats if c not in CATEGORIES]
    if unknown:
        raise ConfigError(f"unknown --categories {', '.join(unknown)}; known: {', '.join(CATEGORIES)}")
    ids, texts = read_references(refs, track)
    if limit is not None:
        if limit < 1:
            raise ConfigError("--limit must be >= 1")
        ids, texts = ids[:limit], texts[:limit]
    result = run_stress(ids, texts, split_list(metrics), keys=split_list(keys), categories=cats, seed=seed,
                        tolerance=tolerance, derived=derived, multi=multi, n_resamples=bootstrap,
                        progress=not no_progress)
    print_table(result)
    if out is not None:
        paths = result.write(out) + heatmap(result, out)
        typer.echo("wrote " + ", ".join(str(p) for p in paths))
