"""Reward configuration: components (metric column, transform, weight, normalisation) and the suite's
options, checked in full when read — metric names, output columns, transforms over the outputs' declared
ranges — so a configuration that cannot work fails before any model is loaded or step is taken."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rexeval.base.exceptions import ConfigError, refuse_unknown
from rexeval.metrics import Metric, register, resolve_metrics
from rexeval.rewards.normalise import NORMALISATIONS
from rexeval.rewards.transforms import Transform, as_transform, check_on_range


@dataclass
class Component:
    """One reward term: a metric's per-study column, transformed, normalised and weighted.

    ``metric`` is a registry name or an output key; a leading ``-`` (``"-radcliq_v1"``) means
    ``transform="-x"``. ``output`` picks the column (default: the key ``metric`` names, else the metric's
    first per-study output). ``transform`` is an expression in ``x``, a named transform, a plain callable
    (one float in, one float out), or ``"auto"``: keep higher-is-better outputs and negate the others.
    ``name`` (default: the metric without its ``-``) names the reward function and its TRL curve.
    ``fallback`` is the metric (or output key) to use instead when ``metric`` cannot run here (its
    ``check_available`` fails: e.g. ``errors_llm`` with no endpoint configured → ``errors_struct``); which
    one ran is recorded in :attr:`RewardPlan.fallbacks`.
    """

    metric: str
    output: str | None = None
    transform: str | Callable[[float], float] = "auto"
    weight: float = 1.0
    normalize: str = "none"
    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    fallback: str | None = None

    @classmethod
    def from_any(cls, spec: Component | str | Mapping[str, Any]) -> Component:
        if isinstance(spec, Component):
            return spec
        if isinstance(spec, str):
            return cls(metric=spec)
        if not isinstance(spec, Mapping) or "metric" not in spec:
            raise ConfigError(f"a reward component needs a 'metric' (got {spec!r})")
        refuse_unknown(spec, cls.__dataclass_fields__, "reward component field(s)")
        if not isinstance(spec["metric"], str) or not spec["metric"].strip("- "):
            raise ConfigError(
                f"a reward component's 'metric' is a metric name (got {spec['metric']!r})"
            )
        return cls(**dict(spec))

    @property
    def resolved_name(self) -> str:
        return self.name or self.metric.lstrip("-")


@dataclass
class RewardConfig:
    components: list[Component]
    #: Dataset column holding the reference report (repeated per generation by TRL).
    reference_column: str = "reference"
    #: Dataset column with the study id (optional; used in Batch.study_ids).
    id_column: str = "study_id"
    #: Score identical (completion, reference) pairs once and keep scored pairs across steps.
    dedupe: bool = True
    #: Do reference-side work once per distinct reference (metrics with the protocol) and keep it.
    reference_cache: bool = True
    #: Entries kept in each cache (scored pairs; reference states per metric).
    cache_size: int = 200_000
    #: Per-metric constructor options, merged with the components' ``options``.
    metric_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Extra metrics to register first: name -> "package.module:Class" (plugins, test metrics).
    plugins: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | Sequence[Any]) -> RewardConfig:
        if isinstance(data, (list, tuple)):
            data = {"components": list(data)}
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"the reward config must be a mapping or a list of components, not {data!r}"
            )
        data = dict(data)
        comps = data.pop("components", None)
        if not comps or not isinstance(comps, (list, tuple)):
            raise ConfigError(
                "reward config needs at least one component (a list under 'components')"
            )
        refuse_unknown(data, set(cls.__dataclass_fields__) - {"components"}, "reward option(s)")
        return cls(components=[Component.from_any(c) for c in comps], **data)


@dataclass(frozen=True)
class ResolvedComponent:
    """A component as the suite runs it. The caller's :class:`Component` is never modified."""

    name: str
    spec: Component
    metric: Metric
    #: The per-study output column the reward reads.
    column: str
    transform: Transform
    weight: float
    normalize: str


@dataclass
class RewardPlan:
    """The metrics (one instance per name, shared by every component) and the resolved components."""

    config: RewardConfig
    metrics: list[Metric]
    components: list[ResolvedComponent]
    #: Components that named a ``fallback``: component name -> the metric wanted, the metric used, and
    #: why the wanted one could not run (None when it could).
    fallbacks: dict[str, dict[str, Any]] = field(default_factory=dict)


#: The largest |weight| a component may have. TRL multiplies the rewards by their weights in float32
#: (about 7 significant digits, largest value ~3.4e38): a weight of 1e308 becomes inf, and one more than
#: a million times another drowns that component entirely, so a larger weight is a typo, not a choice.
MAX_WEIGHT = 1e6


def check_weight(weight: Any, name: str) -> float:
    """A component's weight as a float: a finite number with ``|weight| <= MAX_WEIGHT``, else ConfigError."""
    where = f"reward component {name!r}: weight"
    if isinstance(weight, bool):
        raise ConfigError(f"{where} must be a number, not {weight!r}")
    try:
        value = float(weight)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be a number, not {weight!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{where} must be finite, not {weight!r} (a NaN or infinite weight makes every reward NaN or inf)")
    if abs(value) > MAX_WEIGHT:
        raise ConfigError(f"{where} {weight!r} is out of range: |weight| must be at most {MAX_WEIGHT:g} (TRL weighs "
                          "rewards in float32, ~7 significant digits: a larger weight overflows or drowns the other "
                          "components; weights are relative, so scale them all down)")
    return value


def plan(config: RewardConfig | Mapping[str, Any] | Sequence[Any]) -> RewardPlan:
    """Check a reward configuration and build its metrics (constructed, not yet checked for models)."""
    if not isinstance(config, RewardConfig):
        config = RewardConfig.from_dict(config)
    for plugin_name, target in config.plugins.items():
        register(plugin_name, target)
    comps = list(config.components)
    names = [c.resolved_name for c in comps]
    if len(set(names)) != len(names):
        raise ConfigError(f"reward component names must be unique (got {names}); set 'name'")
    for comp, name in zip(comps, names, strict=True):
        if comp.normalize not in NORMALISATIONS:
            raise ConfigError(
                f"reward component {name!r}: normalize must be one of {', '.join(NORMALISATIONS)}, not {comp.normalize!r}"
            )
        check_weight(comp.weight, name)
    options: dict[str, dict[str, Any]] = {k: dict(v) for k, v in config.metric_options.items()}
    comps, fallbacks = _apply_fallbacks(comps, names, options)
    names = [c.resolved_name for c in comps]  # a fallback without a set name is named after itself
    if len(set(names)) != len(names):
        raise ConfigError(f"reward component names must be unique after fallbacks (got {names}); set 'name'")
    wanted: list[str] = []
    for comp in comps:
        key = comp.metric.lstrip("-")
        wanted.append(key)
        if comp.options:
            metric_name = _metric_name_for(key)
            merged = options.setdefault(metric_name, {})
            for k, v in comp.options.items():
                if k in merged and merged[k] != v:
                    raise ConfigError(
                        f"conflicting options for metric {metric_name!r}: {k}={merged[k]!r} vs {v!r}"
                    )
                merged[k] = v
    metrics = resolve_metrics(list(dict.fromkeys(wanted)), options)
    resolved = [_resolve(comp, name, metrics) for comp, name in zip(comps, names, strict=True)]
    return RewardPlan(config, metrics, resolved, fallbacks)


def _apply_fallbacks(
    comps: list[Component], names: list[str], options: dict[str, dict[str, Any]]
) -> tuple[list[Component], dict[str, dict[str, Any]]]:
    """Components with a ``fallback`` whose metric cannot run here (``check_available`` fails) are
    swapped for their fallback (a set ``name`` is kept); the choice and its reason, per component name."""
    from rexeval.base.exceptions import MetricUnavailable

    out: list[Component] = []
    record: dict[str, dict[str, Any]] = {}
    for comp, name in zip(comps, names, strict=True):
        if not comp.fallback:
            out.append(comp)
            continue
        key = comp.metric.lstrip("-")
        metric_name = _metric_name_for(key)
        merged = {**options.get(metric_name, {}), **comp.options}
        try:
            resolve_metrics([metric_name], {metric_name: merged})[-1].check_available()
        except (ConfigError, MetricUnavailable) as exc:
            sign = "-" if comp.metric.startswith("-") else ""
            used = replace(comp, metric=sign + comp.fallback, options={}, fallback=None)
            out.append(used)
            record[used.resolved_name] = {"wanted": key, "used": comp.fallback, "reason": str(exc)}
            continue
        out.append(comp)
        record[name] = {"wanted": key, "used": key, "reason": None}
    return out, record


def _resolve(comp: Component, name: str, metrics: list[Metric]) -> ResolvedComponent:
    where = f"reward component {name!r}"
    column, metric, output = _find_column(comp, name, metrics)
    spec = comp.transform
    if comp.metric.startswith("-"):
        if spec not in ("auto", "-x", "neg"):
            raise ConfigError(f"{where}: a leading '-' and transform={spec!r} conflict")
        spec = "-x"
    elif spec == "auto":
        spec = "x" if output.higher_is_better else "-x"
    transform = as_transform(spec)
    check_on_range(transform, output.value_range, where)
    return ResolvedComponent(
        name, comp, metric, column, transform, float(comp.weight), comp.normalize
    )


def _find_column(comp: Component, name: str, metrics: list[Metric]):
    from rexeval.metrics.error_schema import current_key

    key = current_key(comp.output if comp.output is not None else comp.metric.lstrip("-"))
    for metric in metrics:
        outs = metric.outputs()
        for out in outs:
            if out.key == key and out.per_study:
                return out.key, metric, out
        if metric.name == key:
            per_study = [o for o in outs if o.per_study]
            if not per_study:
                raise ConfigError(f"metric {key!r} has no per-study output to use as a reward")
            return per_study[0].key, metric, per_study[0]
    raise ConfigError(
        f"reward component {name!r}: no per-study output {key!r} among the metrics' outputs"
    )


def _metric_name_for(key: str) -> str:
    from rexeval.metrics import metrics_for

    names = metrics_for(key)
    if len(names) != 1:
        raise ConfigError(f"reward component metric {key!r} names {len(names)} metrics ({', '.join(names)}); name one")
    return names[0]
