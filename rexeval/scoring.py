"""``rexeval.score``: align, run the metrics, aggregate with bootstrap CIs, write the run directory."""

from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rexeval._version import __version__
from rexeval.align import Pairs, load_pairs
from rexeval.engines.base import Executor, Failure, record_failures
from rexeval.engines.local import LocalExecutor
from rexeval.exceptions import ConfigError, MetricUnavailable, RexevalError
from rexeval.fingerprint import file_sha256, study_ids_sha256
from rexeval.metrics import Metric, Output, resolve_metrics
from rexeval.metrics.base import Batch
from rexeval.runs import PER_STUDY, SCHEMA_VERSION, SUMMARY, TEXTS, ScoreResult  # noqa: F401  (re-exported)
from rexeval.standins import random_weight_metrics
from rexeval.stats.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, bootstrap_ci
from rexeval.text import WS_COLLAPSE_TAG


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


def score(
    preds: str | Path | pd.DataFrame | None = None,
    refs: str | Path | pd.DataFrame | None = None,
    *,
    predictions: Sequence[str] | None = None,
    references: Sequence[str] | None = None,
    study_ids: Sequence[Any] | None = None,
    metrics: list[str] | str | None = None,
    metric_options: dict[str, dict[str, Any]] | None = None,
    track: str = "auto",
    allow_missing: bool = False,
    strict: bool = False,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    name: str | None = None,
    progress: bool = True,
    collapse_ws: bool = True,
    shard: str | None = None,
    device: str | None = None,
    fp16: bool = False,
    engine: Executor | None = None,
) -> ScoreResult:
    """Score predictions against references.

    Either files or DataFrames (``preds``, ``refs``: what ``rexeval score`` reads), or two lists of texts
    as keywords, so that they cannot be swapped: ``score(predictions=[...], references=[...])``, paired by
    position, with ``study_ids`` (default "0", "1", ...) naming them.

    Returns a :class:`ScoreResult` whose ``per_study`` DataFrame has ``study_id`` plus one column per
    per-study value, and whose ``summary`` is what ``summary.json`` holds. ``engine`` computes the
    metrics elsewhere (an :class:`rexeval.engines.base.Executor`, e.g. :class:`rexeval.engines.ray.RayEngine`);
    None runs them here (:class:`rexeval.engines.local.LocalExecutor`).
    """
    preds, refs = _sources(preds, refs, predictions, references, study_ids)
    if isinstance(metrics, str):
        metrics = [m for m in metrics.split(",") if m.strip()]
    check_name(name)
    pairs = load_pairs(preds, refs, track=track, allow_missing=allow_missing, collapse_ws=collapse_ws)
    if shard:
        from rexeval.shard import apply_shard

        pairs = apply_shard(pairs, shard)
    if device or fp16:
        metric_options = _with_model_options(metrics, metric_options, device, fp16)
    chosen = resolve_metrics(metrics, metric_options)
    return score_pairs(
        pairs, chosen, strict=strict, n_resamples=n_resamples, seed=seed, name=name, progress=progress,
        metric_options=metric_options,
        engine=engine,
    )


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


def _with_model_options(metrics, metric_options, device, fp16):
    """Pass ``device`` / ``fp16`` to every metric whose constructor takes them (model metrics)."""
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
    summary_metrics: dict[str, Any] = {}
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
            entry = {
                "value": _float(value),
                "ci95": [_float(lo), _float(hi)],
                "higher_is_better": out.higher_is_better,
                "range": list(out.value_range),
                "aggregate": out.aggregate.name,
                "signature": signature,
                "metric": metric.name,
            }
            if column is not None:
                entry["n"] = int(np.sum(~np.isnan(column)))
                entry["n_failed"] = int(np.sum(np.isnan(column)))
            summary_metrics[out.key] = entry

    per_study = pd.DataFrame({"study_id": pairs.study_ids})
    for key, values in columns.items():
        per_study[key] = values

    info = pairs.info
    dropped = info.get("dropped", {})
    preds_path = str(info.get("preds", ""))
    run_name = name or pairs.meta.get("name") or ("run" if preds_path.startswith("<") else Path(preds_path).stem)
    summary = {
        "schema_version": SCHEMA_VERSION,
        "n_studies": len(pairs),
        "metrics": summary_metrics,
        "skipped": skipped,
        "dropped": {k: list(v) for k, v in dropped.items()},
        "n_dropped": sum(len(v) for v in dropped.values()),
        "empty_predictions": {"count": len(info.get("empty_predictions", [])), "study_ids": info.get("empty_predictions", [])},
        "empty_references": {"count": len(info.get("empty_references", [])), "study_ids": info.get("empty_references", [])},
        "literal_missing_predictions": {"count": len(info.get("literal_missing_predictions", [])),
                                        "study_ids": info.get("literal_missing_predictions", [])},
        "input": {
            "preds": info.get("preds"),
            "preds_sha256": _file_sha256(info.get("preds", "")),
            "refs": info.get("refs"),
            "refs_sha256": _file_sha256(info.get("refs", "")),
            "track": info.get("track"),
            "prediction_source": info.get("prediction_source"),
            "reference_source": info.get("reference_source"),
            "collapse_whitespace": info.get("collapse_whitespace", True),
            "references_sha256": info.get("references_sha256"),
            "study_ids_sha256": info.get("study_ids_sha256"),
        },
        "study_ids_sha256": study_ids_sha256(pairs.study_ids),
        "bootstrap": {"method": "percentile", "n_resamples": n_resamples, "seed": seed},
        # constructor options per metric that ran: readers (merge, compare, leaderboard) rebuild the same
        # outputs and aggregates from them (a non-default uncertain policy has other keys and statistics)
        "metric_options": {m.name: recorded_options((metric_options or {}).get(m.name, {})) for m in ran},
        "run": {"name": run_name, **{k: v for k, v in pairs.meta.items() if k != "name"}},
        "versions": versions,
        # the metrics whose weights are random stand-ins: every renderer names them (RANDOM WEIGHTS)
        "random_weights": random_weight_metrics({"metrics": summary_metrics}),
    }
    for metric in ran:  # metrics may add tables to the summary (e.g. per-condition F1)
        for section, content in metric.summary_extra(columns).items():
            summary.setdefault(section, {}).update(content)
    record_failures(summary, failures, executor.name)
    if "shard" in info:
        summary["shard"] = info["shard"]
    for key in ("none_sections", "missing_findings"):
        if key in info:
            summary["input"][key] = info[key]
    return ScoreResult(per_study, summary, outputs, pairs)


def recorded_options(options: dict[str, Any]) -> dict[str, Any]:
    """Constructor options as a run directory records them: API keys left out and endpoint URLs without
    user info or query string (a reader rebuilds the metric's outputs from them and never calls the endpoint)."""
    from rexeval.llm.redact import Secret, redact_url

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
