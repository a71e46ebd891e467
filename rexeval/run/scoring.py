"""``rexeval.score``: align, run the metrics, aggregate with bootstrap CIs, add subgroups, write the run
directory: everything ``rexeval score`` does (the CLI builds a :class:`ScoreOptions` and calls it)."""

from __future__ import annotations

import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rexeval._version import __version__
from rexeval.base.align import Pairs, load_pairs
from rexeval.base.exceptions import ConfigError, MetricUnavailable, RexevalError
from rexeval.base.fingerprint import file_sha256, study_ids_sha256
from rexeval.base.text import WS_COLLAPSE_TAG
from rexeval.engines.base import Executor, Failure, record_failures
from rexeval.engines.local import LocalExecutor
from rexeval.metrics import Metric, Output, resolve_metrics
from rexeval.metrics.base import Batch
from rexeval.run.runs import (  # noqa: F401  (PER_STUDY, SCHEMA_VERSION, SUMMARY, TEXTS: re-exported)
    PER_STUDY,
    SCHEMA_VERSION,
    SUMMARY,
    TEXTS,
    RunDirWriter,
    ScoreResult,
)
from rexeval.run.runs.summary import (
    Bootstrap,
    InputInfo,
    MetricEntry,
    RunInfo,
    ShardInfo,
    StudyList,
    Summary,
    stand_in_metrics,
)
from rexeval.stats.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, bootstrap_ci


def _float(x: float) -> float | None:
    return None if x is None or np.isnan(x) else float(x)


def _file_sha256(path: str) -> str | None:
    return file_sha256(path) if Path(path).is_file() else None


class _Progress:
    """A rich progress bar per metric (studies done, elapsed, ETA), or nothing when disabled / not a
    terminal. Model metrics advance it batch by batch, so the ETA is the running metric's own."""

    def __init__(self, enabled: bool, n_studies: int, n_metrics: int) -> None:
        self._bar = None
        self._task: Any = None
        self._n, self._k, self._i = n_studies, n_metrics, 0
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} studies"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), transient=True,
                console=Console(stderr=True),
            )
            self._bar.start()

    def start(self, metric: str) -> None:
        """A new bar for ``metric``; the previous metric's bar is complete."""
        self._i += 1
        if self._bar:
            self.finish()
            self._task = self._bar.add_task(f"[{self._i}/{self._k}] {metric}", total=self._n)

    def advance(self, k: int) -> None:
        if self._bar and self._task is not None:
            self._bar.advance(self._task, k)

    def finish(self) -> None:
        if self._bar and self._task is not None:
            self._bar.update(self._task, completed=self._n, visible=False)

    def close(self) -> None:
        if self._bar:
            self._bar.stop()


@dataclass(frozen=True)
class ScoreOptions:
    """Everything :func:`score` does besides reading the input: the one object ``rexeval score`` builds
    from its flags. ``metric_options`` (metric -> constructor options) is the only way options reach a
    metric; ``--option``, ``--prompt``, ``--device``, ``--fp16`` and the ``--llm-*`` flags fill it."""

    #: metric names (default: every metric that can run)
    metrics: tuple[str, ...] | None = None
    metric_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    track: str = "auto"
    allow_missing: bool = False
    #: a metric that cannot run is an error instead of being skipped
    strict: bool = False
    #: a run in which no metric could run is an error (the CLI's policy; the API returns the skip reasons)
    require_a_metric: bool = False
    n_resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED
    name: str | None = None
    progress: bool = True
    collapse_ws: bool = True
    #: ``i/n``: score only that contiguous shard (joined by ``rexeval merge``)
    shard: str | None = None
    #: subgroup columns (``--by``), the ``--meta`` file joined for them, the age bins and the flag size
    by: tuple[str, ...] = ()
    meta: str | Path | None = None
    age_bins: tuple[float, ...] | None = None
    min_group_size: int = 30
    #: the run directory: checked and locked before scoring, written atomically after
    out: str | Path | None = None
    overwrite: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.metrics, str):
            object.__setattr__(self, "metrics", tuple(m.strip() for m in self.metrics.split(",") if m.strip()))
        elif self.metrics is not None:
            object.__setattr__(self, "metrics", tuple(self.metrics))
        object.__setattr__(self, "by", tuple([self.by] if isinstance(self.by, str) else self.by))
        check_name(self.name)


def score(
    preds: str | Path | pd.DataFrame | None = None,
    refs: str | Path | pd.DataFrame | None = None,
    *,
    predictions: Sequence[str] | None = None,
    references: Sequence[str] | None = None,
    study_ids: Sequence[Any] | None = None,
    options: ScoreOptions | None = None,
    engine: Executor | None = None,
    **settings: Any,
) -> ScoreResult:
    """Score predictions against references: what ``rexeval score`` does, step for step.

    Either files or DataFrames (``preds``, ``refs``: what ``rexeval score`` reads), or two lists of texts
    as keywords, so that they cannot be swapped: ``score(predictions=[...], references=[...])``, paired by
    position, with ``study_ids`` (default "0", "1", ...) naming them.

    The settings are a :class:`ScoreOptions` (``options=``) or its fields as keywords
    (``metrics=["bleu"], n_resamples=0, by=["sex"], out="runs/a"``; keywords override ``options``).
    Metric options reach metrics only through ``metric_options``; :func:`with_model_options` adds a
    device or fp16 to every model metric, as ``--device`` / ``--fp16`` do. ``engine`` computes the metrics elsewhere (an
    :class:`rexeval.engines.base.Executor`, e.g. :class:`rexeval.engines.ray.RayEngine`); None runs them here
    (:class:`rexeval.engines.local.LocalExecutor`).

    Returns a :class:`ScoreResult` (:class:`rexeval.run.runs.Run`): ``per_study`` has ``study_id`` plus one
    column per per-study value, ``summary`` is the typed summary.json; with ``by`` the subgroup table, and
    with ``out`` the run directory is written.
    """
    known = {f.name for f in fields(ScoreOptions)}
    unknown = sorted(set(settings) - known)
    if unknown:
        hint = ("; a device or fp16 is a metric option: metric_options=with_model_options(..., device=...)"
                if {"device", "fp16"} & set(unknown) else "")
        raise ConfigError(f"score() got unknown settings {', '.join(unknown)}; known: {', '.join(sorted(known))}{hint}")
    opts = replace(options or ScoreOptions(), **settings)
    preds, refs = _sources(preds, refs, predictions, references, study_ids)
    # --out is checked and locked before scoring: a file or a non-empty directory fails now, not after an
    # hour; the lock is released once the run is written (or, on an error, when the writer is collected)
    writer = RunDirWriter(opts.out, overwrite=opts.overwrite).lock() if opts.out is not None else None
    try:
        pairs = load_pairs(preds, refs, track=opts.track, allow_missing=opts.allow_missing,
                           collapse_ws=opts.collapse_ws)
        if opts.shard:
            from rexeval.run.shard import apply_shard

            pairs = apply_shard(pairs, opts.shard)
        metric_options = {k: dict(v) for k, v in opts.metric_options.items()}
        chosen = resolve_metrics(list(opts.metrics) if opts.metrics is not None else None, metric_options)
        result = score_pairs(pairs, chosen, strict=opts.strict, n_resamples=opts.n_resamples, seed=opts.seed,
                             name=opts.name, progress=opts.progress, metric_options=metric_options, engine=engine)
        summary = result.summary
        if opts.require_a_metric and not summary.metrics and summary.skipped:
            # nothing scored is a failure: no empty table or run
            raise RexevalError("no metric could run, nothing was scored: "
                               + "; ".join(f"{key}: {reason}" for key, reason in summary.skipped.items()))
        if opts.by:
            from rexeval.run.subgroups import DEFAULT_AGE_BINS, with_subgroups

            result = with_subgroups(result, list(opts.by), meta=str(opts.meta) if opts.meta else None,
                                    age_bins=opts.age_bins or DEFAULT_AGE_BINS, min_group_size=opts.min_group_size)
        if writer is not None:
            writer.write(result)
    finally:
        if writer is not None:
            writer.release()
    return result


def _sources(preds: Any, refs: Any, predictions: Sequence[str] | None, references: Sequence[str] | None,
             study_ids: Sequence[Any] | None) -> tuple[Any, Any]:
    """``preds``/``refs`` as load_pairs takes them; lists of texts become one DataFrame."""
    texts_given = predictions is not None or references is not None
    if not texts_given:
        for role, source in (("preds", preds), ("refs", refs)):
            if source is not None and not isinstance(source, (str, Path, pd.DataFrame)):
                raise ConfigError(f"{role} must be a file path or a DataFrame, not {type(source).__name__}; pass "
                                  "lists of texts as score(predictions=[...], references=[...])")
        if preds is None:
            raise ConfigError("score() needs preds (a file or DataFrame) or predictions=[...] and references=[...]")
        if study_ids is not None:
            raise ConfigError("study_ids= goes with predictions= and references= (files and DataFrames carry their own)")
        return preds, refs
    if preds is not None or refs is not None:
        raise ConfigError("pass either preds/refs (files, DataFrames) or predictions=/references= (texts), not both")
    if predictions is None or references is None:
        raise ConfigError(f"{'references' if predictions is not None else 'predictions'}= is missing: "
                          "score(predictions=[...], references=[...]) takes both")
    for role, texts in (("predictions", predictions), ("references", references), ("study_ids", study_ids)):
        if isinstance(texts, (str, bytes)):
            raise ConfigError(f"{role}= must be a list, not one {type(texts).__name__} (wrap it: [text])")
    predictions, references = list(predictions), list(references)
    ids = [str(i) for i in range(len(predictions))] if study_ids is None else list(study_ids)
    if not len(predictions) == len(references) == len(ids):
        raise ConfigError(f"predictions ({len(predictions)}), references ({len(references)})"
                          + ("" if study_ids is None else f" and study_ids ({len(ids)})") + " differ in length")
    if not predictions:
        raise ConfigError("predictions= and references= are empty: nothing to score")
    # a DataFrame with score's column names: load_pairs checks the texts and ids as it checks a file
    return pd.DataFrame({"study_id": ids, "prediction": predictions, "reference": references}), None


def check_name(name: str | None) -> None:
    """A system name is one line: it heads tables, CSV cells and LaTeX rows."""
    if name is not None and any(c in name for c in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
        raise ConfigError(f"--name must be one line, not {name!r}")


def with_model_options(metric_options: Mapping[str, Mapping[str, Any]] | None, *, device: str | None = None,
                       fp16: bool = False) -> dict[str, dict[str, Any]]:
    """``metric_options`` with ``device`` / ``fp16`` set for every metric whose constructor takes them
    (model metrics); an option already set for a metric wins."""
    import inspect

    from rexeval.metrics import available, lookup

    options = {k: dict(v) for k, v in (metric_options or {}).items()}
    for name in available():
        try:
            params = inspect.signature(lookup(name).__init__).parameters
        except Exception:
            continue
        if device and "device" in params:
            options.setdefault(name, {}).setdefault("device", device)
        if fp16 and "fp16" in params:
            options.setdefault(name, {}).setdefault("fp16", True)
    return options


def score_pairs(
    pairs: Pairs,
    metrics: list[Metric],
    *,
    strict: bool = False,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    name: str | None = None,
    progress: bool = True,
    metric_options: dict[str, dict[str, Any]] | None = None,
    engine: Executor | None = None,
) -> ScoreResult:
    """Score aligned pairs with metric instances. ``metric_options`` (name -> constructor options) is
    what the instances were built with; it is recorded so that readers of the run rebuild them alike.
    ``engine`` is the :class:`~rexeval.engines.base.Executor` that computes the metrics (None: this
    process); a study a metric fails on is NaN and listed under ``metric_runs.<metric>.engine``."""
    check_name(name)
    run_tags = {WS_COLLAPSE_TAG.split(":")[0]: "collapse" if pairs.info.get("collapse_whitespace", True) else "raw"}
    columns: dict[str, np.ndarray] = {}
    skipped: dict[str, str] = {}
    ran: list[Metric] = []
    executor: Executor = engine if engine is not None else LocalExecutor()
    failures: dict[str, list[Failure]] = {}
    bar = _Progress(progress, len(pairs), len(metrics))
    extra = {c: pairs.ref_columns[c].tolist() for c in pairs.ref_columns.columns}
    try:
        for metric in metrics:
            missing_dep = [d for d in metric.requires if d in skipped]
            if missing_dep:
                skipped[metric.name] = f"needs {', '.join(missing_dep)}, which was skipped"
                continue
            try:
                metric.check_available()
            except MetricUnavailable as exc:
                if strict:
                    raise RexevalError(f"metric {metric.name!r} cannot run: {exc} (--strict)") from None
                skipped[metric.name] = str(exc)
                continue
            bar.start(metric.name)
            batch = Batch(pairs.study_ids, pairs.predictions, pairs.references, columns, extra, bar.advance)
            # the executor: where a metric's per-study values are computed, and its failure policy
            produced = executor.run(metric, batch)
            if produced.failures and len(produced.failures) == len(pairs):
                raise RexevalError(f"metric {metric.name!r} failed on every study ({executor.name} executor; "
                                   f"first: {produced.failures[0].reason})")
            failures[metric.name] = produced.failures
            columns.update(produced.columns)
            ran.append(metric)
            bar.finish()
    finally:
        bar.close()

    outputs: dict[str, Output] = {}
    summary_metrics: dict[str, MetricEntry] = {}
    versions = {
        "rexeval": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
    for metric in ran:
        signature = metric.signature(**run_tags)
        versions.update(metric.versions())
        for out in metric.outputs():
            outputs[out.key] = out
            value = out.aggregate.value(columns)
            lo, hi = bootstrap_ci(out.aggregate, columns, n_resamples, seed)
            column = columns.get(out.key)
            summary_metrics[out.key] = MetricEntry(
                value=_float(value), ci95=(_float(lo), _float(hi)), higher_is_better=out.higher_is_better,
                range=tuple(out.value_range), aggregate=out.aggregate.name, signature=signature, metric=metric.name,
                # n and n_failed exactly for the outputs whose key is a per-study column
                n=None if column is None else int(np.sum(~np.isnan(column))),
                n_failed=None if column is None else int(np.sum(np.isnan(column))),
            )

    per_study = pd.DataFrame({"study_id": pairs.study_ids})
    for key, values in columns.items():
        per_study[key] = values

    info = pairs.info
    dropped = info.get("dropped", {})
    preds_path = str(info.get("preds", ""))
    run_name = name or pairs.meta.get("name") or ("run" if preds_path.startswith("<") else Path(preds_path).stem)
    sections: dict[str, Any] = {}
    for metric in ran:  # metrics may add tables to the summary (e.g. per-condition F1)
        for section, content in metric.summary_extra(columns).items():
            sections.setdefault(section, {}).update(content)
    record_failures(sections, failures, executor.name)  # every study an executor could not score, with why
    summary = Summary(
        n_studies=len(pairs),
        metrics=summary_metrics,
        skipped=skipped,
        dropped={k: list(v) for k, v in dropped.items()},
        empty_predictions=StudyList(tuple(info.get("empty_predictions", []))),
        empty_references=StudyList(tuple(info.get("empty_references", []))),
        literal_missing_predictions=StudyList(tuple(info.get("literal_missing_predictions", []))),
        input=InputInfo(
            preds=info.get("preds"),
            preds_sha256=_file_sha256(info.get("preds", "")),
            refs=info.get("refs"),
            refs_sha256=_file_sha256(info.get("refs", "")),
            track=info.get("track"),
            prediction_source=info.get("prediction_source"),
            reference_source=info.get("reference_source"),
            collapse_whitespace=info.get("collapse_whitespace", True),
            references_sha256=info.get("references_sha256"),
            study_ids_sha256=info.get("study_ids_sha256"),
            none_sections=info.get("none_sections"),
            missing_findings=info.get("missing_findings"),
        ),
        study_ids_sha256=study_ids_sha256(pairs.study_ids),
        bootstrap=Bootstrap("percentile", n_resamples, seed),
        # constructor options per metric that ran: readers (merge, compare, leaderboard) rebuild the same
        # outputs and aggregates from them (a non-default uncertain policy has other keys and statistics)
        metric_options={m.name: recorded_options((metric_options or {}).get(m.name, {})) for m in ran},
        run=RunInfo(run_name, {k: v for k, v in pairs.meta.items() if k != "name"}),
        versions=versions,
        # the metrics whose weights are random stand-ins: every renderer names them (RANDOM WEIGHTS)
        random_weights=tuple(stand_in_metrics(summary_metrics)),
        sections=sections,
        shard=ShardInfo(**info["shard"]) if "shard" in info else None,
    )
    return ScoreResult(summary, per_study, pairs=pairs, known_outputs=outputs)


def recorded_options(options: dict[str, Any]) -> dict[str, Any]:
    """Constructor options as a run directory records them: API keys left out and endpoint URLs without
    user info or query string (a reader rebuilds the metric's outputs from them and never calls the endpoint)."""
    from rexeval.backends.llm.redact import Secret, redact_url

    out: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, Secret):
            continue
        if isinstance(value, dict):
            value = recorded_options(value)
        elif isinstance(value, str) and "://" in value:
            value = redact_url(value)
        out[key] = value
    return out
