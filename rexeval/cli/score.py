"""``rexeval score``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from rexeval.cli._common import split_list, user_errors, warn


def register(app: typer.Typer) -> None:
    app.command("score")(score_command)


@user_errors
def score_command(
    preds: Path = typer.Argument(..., help="Predictions: CSV, JSONL, JSON or Parquet with study_id and report."),
    refs: Optional[Path] = typer.Option(None, "--refs", "-r", help="References (same formats). Not needed if PREDS holds both."),
    metrics: Optional[str] = typer.Option(None, "--metrics", "-m", help="Comma-separated metric names (default: every metric that can run)."),
    track: str = typer.Option("auto", "--track", help="Reference text: findings (ReXrank's findings track), findings-impression (its findings + impression track), report (the reference column as written); auto takes the only one REFS allow."),
    allow_missing: bool = typer.Option(False, "--allow-missing", help="Score the intersection of ids instead of failing; dropped ids go into the summary."),
    strict: bool = typer.Option(False, "--strict", help="Fail (exit 2) when a metric cannot run instead of skipping it."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run directory for per_study.csv and summary.json."),
    as_json: bool = typer.Option(False, "--json", help="Print summary.json to stdout instead of the table."),
    columns: str = typer.Option("default", "--columns", help="Table rows: default (the ReXrank, clinical and headline numbers), all (every key), or comma-separated keys."),
    name: Optional[str] = typer.Option(None, "--name", help="System name recorded in the run (default: from metadata or file name)."),
    n_boot: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples for the 95% CIs (0 disables)."),
    seed: int = typer.Option(12345, "--seed", help="Bootstrap seed (recorded)."),
    no_progress: bool = typer.Option(False, "--no-progress", help="Hide the progress bar."),
    llm_base_url: Optional[str] = typer.Option(None, "--llm-base-url", help="Every LLM judge (errors_llm, crimson, green): OpenAI-compatible base URL (or REXEVAL_LLM_BASE_URL / OPENAI_BASE_URL; Azure: AZURE_OPENAI_ENDPOINT).", rich_help_panel="LLM judge"),
    llm_model: Optional[str] = typer.Option(None, "--llm-model", help="LLM judge: model (Azure: deployment) name (or REXEVAL_LLM_MODEL).", rich_help_panel="LLM judge"),
    llm_api_key: Optional[str] = typer.Option(None, "--llm-api-key", help="LLM judge: API key (prefer OPENAI_API_KEY / AZURE_OPENAI_API_KEY).", rich_help_panel="LLM judge"),
    llm_concurrency: Optional[int] = typer.Option(None, "--llm-concurrency", help="LLM judge: requests in flight (default 8).", rich_help_panel="LLM judge"),
    llm_rpm: Optional[float] = typer.Option(None, "--llm-rpm", help="LLM judge: requests per minute (default: no limit).", rich_help_panel="LLM judge"),
    llm_timeout: Optional[float] = typer.Option(None, "--llm-timeout", help="LLM judge: seconds per request (default 60).", rich_help_panel="LLM judge"),
    llm_max_retries: Optional[int] = typer.Option(None, "--llm-max-retries", help="LLM judge: retries on 429/5xx/timeouts (default 6).", rich_help_panel="LLM judge"),
    llm_json: bool = typer.Option(False, "--llm-json", help="LLM judge: ask for JSON (structured output).", rich_help_panel="LLM judge"),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="errors_llm prompt: rexeval (default) or chexprompt (needs the official package).", rich_help_panel="LLM judge"),
    judge_strict: bool = typer.Option(False, "--judge-strict", help="errors_llm: an answer missing a letter is a failure.", rich_help_panel="LLM judge"),
    by: Optional[str] = typer.Option(None, "--by", help="Subgroup columns, e.g. age_group,sex,race (from REFS, --meta or ReXrank context)."),
    meta: Optional[Path] = typer.Option(None, "--meta", help="Per-study attributes (study_id + columns) joined for --by."),
    min_group_size: int = typer.Option(30, "--min-group-size", help="Subgroups smaller than this are flagged."),
    age_bins: Optional[str] = typer.Option(None, "--age-bins", help="Age bin edges for --by age_group, e.g. 0,18,40,65 (default decades)."),
    device: Optional[str] = typer.Option(None, "--device", help="Device for model metrics: cpu, cuda, cuda:N (default: cuda when available)."),
    fp16: bool = typer.Option(False, "--fp16", help="Half-precision encoders on CUDA (BERTScore; tolerance in docs/models.md)."),
    shard: Optional[str] = typer.Option(None, "--shard", help="Score only shard i of n (i/n, 1-based contiguous blocks); join with `rexeval merge`."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing run directory at --out (its files are removed)."),
    option: Optional[list[str]] = typer.Option(None, "--option", "-O", metavar="METRIC.NAME=VALUE", help="A metric option METRIC.NAME=VALUE (repeatable; VALUE as JSON, else text), e.g. rules_f1.uncertain=negative. Recorded in the run."),
    engine: str = typer.Option("local", "--engine", help="Where metrics run: local (this process) or ray (Ray workers; needs pip install 'rexeval\\[ray]').", rich_help_panel="Engine"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster to join (default: $RAY_ADDRESS, else a local Ray).", rich_help_panel="Engine"),
    workers: Optional[int] = typer.Option(None, "--workers", help="Ray workers per metric (default: the cluster's CPUs, or GPUs / --gpus-per-worker).", rich_help_panel="Engine"),
    gpus_per_worker: float = typer.Option(0.0, "--gpus-per-worker", help="GPUs per Ray worker for model metrics (fractions share a GPU).", rich_help_panel="Engine"),
    ray_batch_size: int = typer.Option(64, "--ray-batch-size", help="Studies per batch sent to a Ray worker.", rich_help_panel="Engine"),
    ray_retries: int = typer.Option(3, "--ray-retries", help="Restarts of a dead Ray worker and retries of its batch.", rich_help_panel="Engine"),
    ray_timeout: float = typer.Option(3600.0, "--ray-timeout", help="Seconds without a finished batch before the batches in flight fail (their studies NaN).", rich_help_panel="Engine"),
) -> None:
    """Score predicted reports against references with the ReXrank metrics."""
    from rexeval.base.align import TRACKS
    from rexeval.base.exceptions import ConfigError
    from rexeval.run.scoring import ScoreOptions, check_name, score
    from rexeval.run.subgroups import parse_bins

    check_name(name)
    if track not in TRACKS:
        raise ConfigError(f"--track must be one of {', '.join(TRACKS)}, not {track!r}")
    if n_boot < 0:
        raise ConfigError("--bootstrap must be >= 0")
    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine must be local or ray, not {engine!r}")
    if engine == "local" and (ray_address is not None or workers is not None or gpus_per_worker):
        raise ConfigError("--ray-address, --workers and --gpus-per-worker need --engine ray")
    metric_options = cli_metric_options(
        option or [], prompt=prompt, judge_strict=judge_strict, device=device, fp16=fp16,
        llm_base_url=llm_base_url, llm_model=llm_model, llm_api_key=llm_api_key, llm_concurrency=llm_concurrency,
        llm_rpm=llm_rpm, llm_timeout=llm_timeout, llm_max_retries=llm_max_retries, llm_json=llm_json)
    options = ScoreOptions(
        metrics=tuple(split_list(metrics) or ()) if metrics else None, metric_options=metric_options, track=track,
        allow_missing=allow_missing, strict=strict, require_a_metric=True, n_resamples=n_boot, seed=seed,
        name=name, progress=not no_progress, shard=shard, by=tuple(split_list(by) or []) if by else (),
        meta=str(meta) if meta else None, age_bins=parse_bins(age_bins), min_group_size=min_group_size,
        out=out, overwrite=overwrite)
    if engine == "ray":
        from rexeval.engines.ray import RayEngine, RayOptions, import_ray

        import_ray()  # exit 2 with the fix before any work when Ray is missing
        ray_options = RayOptions(address=ray_address, workers=workers, gpus_per_worker=gpus_per_worker,
                                 batch_size=ray_batch_size, max_retries=ray_retries, timeout=ray_timeout).validate()
        with RayEngine(ray_options) as ray_engine:
            result = score(preds, refs, options=options, engine=ray_engine)
    else:
        result = score(preds, refs, options=options)
    summary = result.summary
    for note in summary.input_notes(meta):
        warn(note)
    if as_json:  # the table lists skipped metrics itself; with --json stdout is JSON, so say it on stderr
        for key, reason in summary.skipped.items():
            warn(f"skipped {key}: {reason}")
    for note in summary.failure_notes():  # the executor's failures (rexeval.engines.base)
        warn(note)
    for line in summary.judge_accounts():  # an LLM judge: what the run cost and what failed
        typer.echo(line, err=True)
    if as_json:
        typer.echo(json.dumps(summary.to_json(), indent=2, default=str))
    else:
        from rexeval.reports.table import print_summary

        print_summary(summary, columns)
        if result.subgroup_table is not None:
            from rexeval.run.subgroups import print_subgroups

            print_subgroups(result.subgroup_table)
        if out is not None:
            typer.echo(f"wrote {out / 'per_study.csv'} and {out / 'summary.json'}")


def cli_metric_options(items: list[str], *, prompt: str | None = None, judge_strict: bool = False,
                       device: str | None = None, fp16: bool = False, **llm_flags) -> dict[str, dict]:
    """The one metric-options mapping the flags fill: the ``--llm-*`` endpoint for every LLM metric, then
    ``-O METRIC.NAME=VALUE`` (wins over them), ``--prompt`` / ``--judge-strict`` (errors_llm), and
    ``--device`` / ``--fp16`` for every model metric that takes them (an ``-O`` setting wins)."""
    from rexeval.backends.llm.config import llm_metric_options
    from rexeval.run.scoring import with_model_options

    # the --llm-* flags go to the LLM metrics as options, never into os.environ (children would inherit the key)
    options: dict[str, dict] = llm_metric_options(**llm_flags)
    for metric_name, opts in parse_metric_options(items).items():
        options.setdefault(metric_name, {}).update(opts)
    if prompt is not None or judge_strict:
        options.setdefault("errors_llm", {}).update({"strict": judge_strict, **({"prompt": prompt} if prompt else {})})
    if device or fp16:
        options = with_model_options(options, device=device, fp16=fp16)
    return options


def parse_metric_options(items: list[str]) -> dict[str, dict]:
    """``["rules_f1.uncertain=negative", "errors_struct.per_type=true"]`` -> {metric: {name: value}}."""
    from rexeval.base.exceptions import ConfigError
    from rexeval.metrics import available

    known = available()
    options: dict[str, dict] = {}
    for item in items:
        target, sep, text = item.partition("=")
        metric, dot, name = target.strip().partition(".")
        if not sep or not dot or not metric or not name:
            raise ConfigError(f"--option must look like METRIC.NAME=VALUE (e.g. rules_f1.uncertain=negative), not {item!r}")
        if metric not in known:
            raise ConfigError(f"--option {item!r}: unknown metric {metric!r}; known metrics: {', '.join(known)}")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        options.setdefault(metric, {})[name.strip()] = value
    return options
