"""Metric registry.

Metrics are registered by name with the import path of their class, so that listing them or parsing
``--metrics`` imports nothing heavy: a metric module imports torch/transformers inside its methods.
Adding a metric = one module with a :class:`~rexeval.metrics.base.Metric` subclass + one line below.

Third-party metrics join through the entry-point group ``rexeval.metrics`` (name = metric name, value =
``"module:Class"``). The group is read on first registry use and a plugin's module is imported only when
the metric is looked up, so ``import rexeval`` and ``rexeval --help`` never import a plugin. A plugin that
clashes with a registered name is refused and a plugin that fails to import is reported by
``rexeval metrics``; neither stops the other metrics. Public API: :func:`lookup`, :func:`available`,
:func:`register`, :func:`plugin_errors`.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from rexeval.base.exceptions import ConfigError
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
    "ENTRY_POINT_GROUP",
    "available",
    "get_metric",
    "lookup",
    "plugin_errors",
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


#: The built-in names; the default set (``--metrics`` not given) is drawn from these only, so installing a
#: plugin never changes what a plain ``rexeval score`` computes.
_BUILTIN: dict[str, str] = dict(REGISTRY)

#: The entry-point group third-party metric packages declare.
ENTRY_POINT_GROUP = "rexeval.metrics"

_plugins_read = False
#: plugin metric name -> why it was refused or cannot be loaded (reported by ``rexeval metrics``).
_PLUGIN_ERRORS: dict[str, str] = {}
#: plugin metric name -> the distribution that declared it (for error messages).
_PLUGIN_SOURCE: dict[str, str] = {}


def _read_plugins() -> None:
    """Register the entry points of group ``rexeval.metrics`` once; reads metadata, imports nothing."""
    global _plugins_read
    if _plugins_read:
        return
    _plugins_read = True
    from importlib.metadata import entry_points

    try:
        found = list(entry_points(group=ENTRY_POINT_GROUP))
    except Exception as exc:  # noqa: BLE001 - unreadable metadata must not break the built-in metrics
        _PLUGIN_ERRORS["<entry points>"] = f"cannot read group {ENTRY_POINT_GROUP!r}: {type(exc).__name__}: {exc}"
        return
    for ep in found:
        dist = getattr(getattr(ep, "dist", None), "name", None) or "an unknown distribution"
        where = f"plugin {ep.value!r} from {dist}"
        if ep.name in _BUILTIN:
            _PLUGIN_ERRORS[ep.name] = (f"refused: {where} uses the name of the built-in metric {ep.name!r} "
                                       f"({_BUILTIN[ep.name]}); rename the entry point")
            continue
        known = REGISTRY.get(ep.name)
        if known is not None and known != ep.value:
            _PLUGIN_ERRORS[ep.name] = (f"refused: {where} uses the name {ep.name!r}, already registered to "
                                       f"{known!r}; rename one entry point")
            continue
        REGISTRY[ep.name] = ep.value
        _PLUGIN_SOURCE[ep.name] = dist


def register(name: str, target: str) -> None:
    """Register a metric class (``"package.module:Class"``) under ``name`` (reward-config plugins, tests).

    Registering the same target again is a no-op; a different target under a registered name is a
    ConfigError naming both (a metric is never silently replaced).
    """
    _read_plugins()
    known = REGISTRY.get(name)
    if known is not None and known != target:
        raise ConfigError(f"metric {name!r} is already registered to {known!r}; cannot register {target!r} "
                          "under the same name (choose another name)")
    REGISTRY[name] = target


def available() -> list[str]:
    """Every registered metric name: the built-ins in display order, then plugins and registered metrics."""
    _read_plugins()
    return list(REGISTRY)


def metric_names() -> list[str]:
    return available()


def plugin_errors() -> dict[str, str]:
    """Entry-point metrics that were refused (name clash) or whose group could not be read: name -> why."""
    _read_plugins()
    return dict(_PLUGIN_ERRORS)


def lookup(name: str) -> type[Metric]:
    """The class of metric ``name`` (imports its module). ConfigError for an unknown name, or for a
    plugin that cannot be imported or is not a :class:`Metric` subclass."""
    _read_plugins()
    try:
        target = REGISTRY[name]
    except KeyError:
        refused = f" ({_PLUGIN_ERRORS[name]})" if name in _PLUGIN_ERRORS else ""
        raise ConfigError(f"unknown metric {name!r}{refused}; known metrics: {', '.join(REGISTRY)}") from None
    module, _, attr = target.partition(":")
    if target == _BUILTIN.get(name):  # built-ins import nothing heavy; a failure here is a bug, shown as is
        return getattr(importlib.import_module(module), attr)
    try:
        cls = getattr(importlib.import_module(module), attr)
    except Exception as exc:  # noqa: BLE001 - a broken plugin gets one clear line, never a traceback
        source = _PLUGIN_SOURCE.get(name)
        origin = f" (entry point of {source})" if source else ""
        raise ConfigError(f"metric {name!r}: cannot load {target!r}{origin}: {type(exc).__name__}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Metric)):
        raise ConfigError(f"metric {name!r}: {target!r} is not a rexeval.metrics.Metric subclass")
    return cls


def get_metric(name: str, **options: Any) -> Metric:
    """An instance of metric ``name``; ConfigError when ``options`` do not fit its constructor.

    Only a signature mismatch is "bad options": the options are bound to the signature first, so a
    TypeError raised while the constructor runs (a bug, or a library failing) propagates as it is.
    """
    cls = lookup(name)
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
        wanted = [n for n in _BUILTIN if n in REGISTRY and getattr(lookup(n), "default", True)]
    else:
        wanted = [name for n in names for name in metrics_for(n)]
    ordered: list[str] = []

    def visit(name: str, stack: tuple[str, ...] = ()) -> None:
        if name in ordered:
            return
        if name in stack:
            raise ConfigError(f"metric dependency cycle: {' -> '.join(stack + (name,))}")
        for dep in lookup(name).requires:
            visit(dep, stack + (name,))
        ordered.append(name)

    for name in wanted:
        visit(name)
    return [get_metric(n, **options.get(n, {})) for n in ordered]


def output_keys() -> dict[str, str]:
    """Every output key of the registered metrics (default options) -> its metric's name."""
    keys: dict[str, str] = {}
    for name in available():
        try:
            outputs = lookup(name)().outputs()
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
    if selector in available():
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
    close = difflib.get_close_matches(selector.rstrip("*_"), list(dict.fromkeys([*available(), *keys])), n=4, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise ConfigError(f"unknown metric {selector!r}; {hint}`rexeval metrics` lists every metric and its outputs "
                      f"(metrics: {', '.join(available())})")
