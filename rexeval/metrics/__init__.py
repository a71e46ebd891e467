"""Metric registry.

Metrics are registered by name with the import path of their class, so that listing them or parsing
``--metrics`` imports nothing heavy: a metric module imports torch/transformers inside its methods.
Adding a metric = one module with a :class:`~rexeval.metrics.base.Metric` subclass + one line below.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from rexeval.exceptions import ConfigError
from rexeval.metrics.base import (
    Aggregate,
    Batch,
    Metric,
    Output,
    inverse_mean_of,
    mean_of,
    share_of,
)

__all__ = [
    "Aggregate",
    "Batch",
    "Metric",
    "Output",
    "inverse_mean_of",
    "mean_of",
    "share_of",
    "REGISTRY",
    "get_metric",
    "metric_names",
    "resolve_metrics",
    "register",
]

#: name -> "module:Class". Order is the display order of the default set.
REGISTRY: dict[str, str] = {
    "bleu": "rexeval.metrics.bleu:Bleu2",
    "bleu4": "rexeval.metrics.bleu:Bleu4",
    "rouge_l": "rexeval.metrics.rouge:RougeL",
    "ratescore": "rexeval.metrics.ratescore:RaTEScore",
    "green": "rexeval.metrics.green:Green",
    "errors_struct": "rexeval.metrics.errors_struct:ErrorsStruct",
    "errors_llm": "rexeval.metrics.errors_llm:ErrorsLLM",
    "semb_score": "rexeval.metrics.sembscore:SembScore",
    "rules_f1": "rexeval.metrics.conditions:RulesF1",
    "rules_f1_study": "rexeval.metrics.conditions:RulesStudyF1",
    "chexbert_f1": "rexeval.metrics.conditions:CheXbertF1",
    "bertscore": "rexeval.metrics.bertscore:BertScore",
    "radgraph": "rexeval.metrics.radgraph:RadGraph",
    "radcliq": "rexeval.metrics.radcliq:RadCliQ",
    "radeval_bertscore": "rexeval.metrics.radeval_bertscore:RadEvalBertScore",
    "crimson": "rexeval.metrics.crimson:Crimson",
    "temporal_f1": "rexeval.metrics.temporal_f1:TemporalF1",
    "srrbert": "rexeval.metrics.srrbert:SRRBert",
}


def register(name: str, target: str) -> None:
    """Register a metric class (``"package.module:Class"``) under ``name`` (plugins, tests)."""
    REGISTRY[name] = target


def metric_names() -> list[str]:
    return list(REGISTRY)


def _load_class(name: str) -> type[Metric]:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown metric {name!r}; known metrics: {', '.join(REGISTRY)}") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def get_metric(name: str, **options: Any) -> Metric:
    """An instance of metric ``name``; ConfigError when ``options`` do not fit its constructor.

    Only a signature mismatch is "bad options": the options are bound to the signature first, so a
    TypeError raised while the constructor runs (a bug, or a library failing) propagates as it is.
    """
    cls = _load_class(name)
    try:
        inspect.signature(cls).bind(**options)
    except TypeError as exc:
        raise ConfigError(f"bad options for metric {name!r}: {exc}") from None
    return cls(**options)


def resolve_metrics(
    names: list[str] | None = None, options: dict[str, dict[str, Any]] | None = None
) -> list[Metric]:
    """Instantiate metrics by name (default set when None), adding what they require, in run order.

    A name may also be an output key of a metric (``inv_radcliq_v1`` selects ``radcliq``).
    """
    options = options or {}
    if names is None:
        wanted = [n for n in REGISTRY if getattr(_load_class(n), "default", True)]
    else:
        wanted = [_name_for(n) for n in names]
    ordered: list[str] = []

    def visit(name: str, stack: tuple[str, ...] = ()) -> None:
        if name in ordered:
            return
        if name in stack:
            raise ConfigError(f"metric dependency cycle: {' -> '.join(stack + (name,))}")
        for dep in _load_class(name).requires:
            visit(dep, stack + (name,))
        ordered.append(name)

    for name in wanted:
        visit(name)
    return [get_metric(n, **options.get(n, {})) for n in ordered]


def _name_for(key: str) -> str:
    key = key.strip()
    if key in REGISTRY:
        return key
    for name in REGISTRY:
        cls = _load_class(name)
        try:
            keys = [o.key for o in cls().outputs()]
        except Exception:  # a metric whose constructor needs options cannot be searched this way
            continue
        if key in keys:
            return name
    raise ConfigError(f"unknown metric {key!r}; known metrics: {', '.join(REGISTRY)}")
