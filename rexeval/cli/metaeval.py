"""``rexeval meta-eval``: agreement of metrics (and reward compositions) with human ratings."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rexeval.cli._common import split_list, user_errors, warn


def register(app: typer.Typer) -> None:
    app.command("meta-eval")(meta_eval_command)


def _human_specs(values: list[str] | None) -> tuple[list[str] | None, dict[str, bool]]:
    """``COL`` or ``COL:higher`` / ``COL:lower`` -> names and explicit directions."""
    from rexeval.base.exceptions import ConfigError

    names, directions = [], {}
    for value in values or []:
        for item in split_list(value) or []:
            name, _, direction = item.partition(":")
            if direction:
                if direction not in ("higher", "lower"):
                    raise ConfigError(f"--human {item!r}: the direction after ':' must be 'higher' or 'lower'")
                directions[name] = direction == "higher"
            names.append(name)
    return names or None, directions


@user_errors
def meta_eval_command(
    ratings: Path = typer.Argument(..., help="Rating set: a table (wide or long layout) or a directory with ReXVal's CSVs."),
    metrics: Optional[str] = typer.Option(None, "--metrics", "-m", help="Comma-separated metric names (default: every metric that can run)."),
    human: Optional[list[str]] = typer.Option(None, "--human", help="Human column(s) to compare with, COL or COL:higher / COL:lower (default: the reader's; an error-count name is lower-is-better)."),
    raters: Optional[str] = typer.Option(None, "--raters", help="Comma-separated per-rater columns (wide layout): adds human_mean and the human ceiling."),
    layout: str = typer.Option("auto", "--layout", help="auto, wide, long or rexval (see docs/metaeval.md)."),
    rexval_errors: str = typer.Option("significant", "--rexval-errors", help="ReXVal: which errors to count (significant, insignificant, all)."),
    run: Optional[Path] = typer.Option(None, "--run", help="Read the scores from a run directory (scored with study_id = pair_id) instead of scoring."),
    keys: Optional[str] = typer.Option(None, "--keys", help="Output keys to correlate (default: per-study outputs; a metric's headline output when it has none)."),
    reward: Optional[list[str]] = typer.Option(None, "--reward", help="Reward config (YAML/JSON, as for train-rl): its weighted composite is one more score. Repeatable."),
    compare: Optional[str] = typer.Option(None, "--compare", help="Pairs to test, A:B,C:D (default: every pair of scores)."),
    unit: str = typer.Option("auto", "--unit", help="Bootstrap unit: auto (reference when a reference has several candidates), reference or pair."),
    n_boot: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples (0: no CIs or tests)."),
    seed: int = typer.Option(12345, "--seed"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Directory for correlations.csv, paired_tests.csv, meta_eval.json and the plot."),
    no_progress: bool = typer.Option(False, "--no-progress", help="Hide the progress bar."),
) -> None:
    """Kendall tau-b, Spearman and Pearson of each metric against human ratings, with bootstrap CIs,
    paired tests between metrics and the human ceiling."""
    from rexeval.base.exceptions import ConfigError
    from rexeval.tools.metaeval import (
        add_reward,
        meta_evaluate,
        plot_result,
        print_result,
        score_ratings,
    )
    from rexeval.tools.ratings import read_ratings

    if n_boot < 0:
        raise ConfigError("--bootstrap must be >= 0")
    names, directions = _human_specs(human)
    rated = read_ratings(ratings, layout=layout, human=names, raters=split_list(raters), rexval_errors=rexval_errors)
    rated.higher_is_better.update(directions)
    scores = score_ratings(rated, split_list(metrics), keys=split_list(keys), run_dir=run, progress=not no_progress)
    for name, reason in scores.skipped.items():
        warn(f"skipped {name}: {reason}")
    for config in reward or []:
        add_reward(scores, rated, config)
    pairs = None
    if compare:
        pairs = []
        for item in split_list(compare) or []:
            a, sep, b = item.partition(":")
            if not sep:
                raise ConfigError(f"--compare {item!r}: write pairs as A:B")
            pairs.append((a, b))
    result = meta_evaluate(rated, scores, unit=unit, n_resamples=n_boot, seed=seed, compare=pairs)
    for h in rated.human:
        typer.echo(f"{h}: {'higher' if rated.higher_is_better.get(h, True) else 'lower'} is better "
                   "(set with --human COL:higher or COL:lower)", err=True)
    print_result(result)
    if out is not None:
        paths = result.write(out)
        if len(result.table):
            paths += plot_result(result, out)
        typer.echo("wrote " + ", ".join(str(p) for p in paths))
