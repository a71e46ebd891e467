"""``rexeval reward-check``: score seeded reward hacks beside a control with a reward config."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rexeval.cli._common import split_list, user_errors


def register(app: typer.Typer) -> None:
    app.command("reward-check")(reward_check_command)


@user_errors
def reward_check_command(
    refs: Path = typer.Argument(..., help="Reference reports (any file `rexeval score --refs` reads; ReXrank JSON with --track)."),
    reward: Optional[Path] = typer.Option(None, "--reward", "-r", help="Reward config: a train-rl run config (its reward: section) or a YAML holding only that section."),
    metrics: Optional[str] = typer.Option(None, "--metrics", "-m", help="Instead of --reward: comma-separated metrics, one component each (weight 1, direction-aware)."),
    track: str = typer.Option("auto", "--track", help="Reference text: auto (a reference column), findings, findings-impression."),
    hacks: Optional[str] = typer.Option(None, "--hacks", help="Comma-separated hacks (default: all)."),
    sample: Optional[int] = typer.Option(None, "--sample", help="Probe a seeded sample of N references."),
    seed: int = typer.Option(0, "--seed", help="Seed of the hacks, the control, the sample and the bootstrap."),
    prior_column: Optional[str] = typer.Option(None, "--prior-column", help="Column with the prior report (default: prior_report, prior, previous_report if present)."),
    indication_column: Optional[str] = typer.Option(None, "--indication-column", help="Column with the indication (default: context, indication if present)."),
    max_win_share: float = typer.Option(0.05, "--max-win-share", help="A hack is paid for when the total lets it win on more than this share of applicable references."),
    resamples: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples for the margin CIs (0: none)."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when the reward pays for any hack."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Directory for reward_check_texts.csv, reward_check_table.csv, reward_check.json and the heat map."),
) -> None:
    """Score the known reward hacks (hedging, dropped sides/severities/devices, all stable, shotgun, normal
    template, first sentence, padding, negation soup, empty, copied prior/indication) beside a control,
    with the reward train-rl would use; say which hacks the reward pays for."""
    from rexeval.base.exceptions import ConfigError
    from rexeval.tools.hacks import HACKS
    from rexeval.tools.reward_check import (
        heatmap,
        metrics_reward,
        print_table,
        read_reward_config,
        read_studies,
        run_reward_check,
        sample_studies,
    )

    if (reward is None) == (metrics is None):
        raise ConfigError("give either --reward CONFIG or --metrics NAMES")
    config = read_reward_config(reward) if reward is not None else metrics_reward(split_list(metrics) or [])
    studies = sample_studies(read_studies(refs, track, prior_column, indication_column), sample, seed)
    result = run_reward_check(config, studies, hacks=tuple(split_list(hacks) or HACKS), seed=seed,
                              n_resamples=resamples, max_win_share=max_win_share)
    print_table(result, echo=typer.echo)
    if out is not None:
        paths = result.write(out) + heatmap(result, out)
        typer.echo("wrote " + ", ".join(str(p) for p in paths))
    if strict and result.paid():
        raise typer.Exit(1)
