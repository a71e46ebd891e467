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
    "metrics_for",
    "output_keys",
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
        wanted = [name for n in names for name in metrics_for(n)]
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


def output_keys() -> dict[str, str]:
    """Every output key of the registered metrics (default options) -> its metric's name."""
    keys: dict[str, str] = {}
    for name in REGISTRY:
        try:
            outputs = _load_class(name)().outputs()
        except Exception:  # a metric whose constructor needs options cannot be searched this way
            continue
        for out in outputs:
            keys.setdefault(out.key, name)
    return keys


def metrics_for(selector: str) -> list[str]:
    """The metrics a ``--metrics`` item names: a metric (``errors_struct``), one of its output keys
    (``inv_radcliq_v1``), a key prefix (``errors_struct_``) or a pattern over keys
    (``errors_struct_*``, ``srrbert_*_f1``); the names before the key rename (``struct_err_*``) still work. ConfigError, with the closest names, when nothing matches."""
    import difflib
    import fnmatch

    from rexeval.metrics.error_schema import current_key

    selector = current_key(selector.strip())
    if selector in REGISTRY:
        return [selector]
    keys = output_keys()
    if selector in keys:
        return [keys[selector]]
    if any(c in selector for c in "*?["):
        found = [keys[k] for k in keys if fnmatch.fnmatchcase(k, selector)]
    else:
        found = [keys[k] for k in keys if selector and k.startswith(selector)]
    found = list(dict.fromkeys(found))
    if len(found) > 1 and not any(c in selector for c in "*?["):
        raise ConfigError(f"metric prefix {selector!r} is ambiguous: it starts outputs of {', '.join(found)}; "
                          "name the metric")
    if found:
        return found
    close = difflib.get_close_matches(selector.rstrip("*_"), list(dict.fromkeys([*REGISTRY, *keys])), n=4, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise ConfigError(f"unknown metric {selector!r}; {hint}`rexeval metrics` lists every metric and its outputs "
                      f"(metrics: {', '.join(REGISTRY)})")
