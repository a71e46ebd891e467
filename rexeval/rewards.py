"""rexeval metrics as GRPO reward functions (TRL's ``f(prompts, completions, **columns) -> list[float | None]``).

A :class:`RewardSuite` owns one instance of every metric the components need (built once with
:func:`rexeval.metrics.resolve_metrics`, so a model backbone shared by two components — BERTScore inside
RadCliQ and BERTScore on its own — is loaded once). Each :class:`Component` picks one per-study output
column of a metric, applies a direction-aware transform and a normalisation, and is exposed as its own
reward function (``suite.reward_functions()``), so TRL logs one curve per component
(``rewards/<name>/mean``) and applies the weights (``suite.weights()`` → ``GRPOConfig.reward_weights``).

Work is shared and cached, never recomputed:

* the metrics run once per step for all components (the last batch is memoised: TRL calls every reward
  function with the same completions);
* identical (completion, reference) pairs — common in GRPO groups — are scored once, and scored pairs are
  kept in an LRU cache across steps;
* metrics that set ``reuses_reference_state`` (their ``reference_state(text)`` and
  ``compute_with_references(batch, states)`` hooks) get their reference-side work done once per distinct
  reference and cached across steps (a GRPO step repeats each reference ``num_generations`` times and an
  epoch repeats it again);
* remote metrics (LLM judges: ``remote = True``, with their ``async acompute(batch)``) are exposed as
  async reward functions, which TRL runs concurrently.

Failures never crash a step: a metric that raises on a batch is retried sample by sample, and a sample it
still fails on (or a NaN, a recorded failure) becomes ``None`` for that component and is counted in
``suite.failures`` (and logged as ``rewards_failed/<name>`` through TRL's ``log_metric``).

Normalisation (per component, after the transform):

``none``
    the transformed value; a sample's reward depends only on its own texts (batch-invariant).
``group``
    z-score within the sample's GRPO group (same prompt and reference) among the samples this process
    sees; 0 for a group with one valid member or zero spread. Depends only on the sample's own group.
    Across processes a group may be split; use ``none`` with TRL's ``scale_rewards="group"`` for exact
    cross-process group statistics.
``running``
    (x - mean) / std with mean and std accumulated (Welford) over every valid value seen so far, this
    batch included: keeps components of different scales comparable in a weighted sum.
"""

from __future__ import annotations

import ast
import asyncio
import math
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rexeval.exceptions import ConfigError
from rexeval.metrics import Metric, register, resolve_metrics
from rexeval.metrics.base import Batch

NORMALISATIONS = ("none", "group", "running")

# --------------------------------------------------------------------------------------------- transforms

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_FUNCS: dict[str, Callable[..., Any]] = {
    "log": np.log,
    "log1p": np.log1p,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "tanh": np.tanh,
    "min": np.minimum,
    "max": np.maximum,
    "clip": np.clip,
}
_NAMED = {"identity": "x", "neg": "-x", "negate": "-x", "inverse1p": "1/(1+x)", "complement": "1-x"}


def parse_transform(spec: str) -> Callable[[np.ndarray], np.ndarray]:
    """A safe arithmetic expression in ``x`` (``"-x"``, ``"1/(1+x)"``, ``"1-x"``, ``"-log1p(x)"``) or a name
    (identity, neg, inverse1p, complement). Only numbers, x, + - * / **, and log/log1p/exp/sqrt/abs/tanh/
    min/max/clip are allowed."""
    text = _NAMED.get(spec.strip(), spec.strip())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"bad reward transform {spec!r}: {exc.msg}") from None

    def check(node: ast.AST) -> None:
        if isinstance(node, ast.Expression):
            check(node.body)
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            check(node.left)
            check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            check(node.operand)
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            pass
        elif isinstance(node, ast.Name) and node.id == "x":
            pass
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCS
        ):
            for arg in node.args:
                check(arg)
            if node.keywords:
                raise ConfigError(
                    f"bad reward transform {spec!r}: keyword arguments are not allowed"
                )
        else:
            raise ConfigError(
                f"bad reward transform {spec!r}: only x, numbers, + - * / ** and "
                f"{', '.join(_FUNCS)} are allowed"
            )

    check(tree)

    def run(node: ast.AST, x: np.ndarray) -> Any:
        if isinstance(node, ast.Expression):
            return run(node.body, x)
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](run(node.left, x), run(node.right, x))
        if isinstance(node, ast.UnaryOp):
            v = run(node.operand, x)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return x
        assert isinstance(node, ast.Call)
        return _FUNCS[node.func.id](*(run(a, x) for a in node.args))

    def transform(x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = np.asarray(run(tree, np.asarray(x, dtype=float)), dtype=float)
        out = np.broadcast_to(out, np.shape(x)).astype(float)
        out[~np.isfinite(out)] = np.nan  # 1/(1+x) at x=-1 etc.: a failure, not +inf
        return out

    return transform


# ---------------------------------------------------------------------------------------------- config


@dataclass
class Component:
    """One reward term: a metric's per-study column, transformed, normalised and weighted.

    ``metric`` is a registry name or an output key; a leading ``-`` (``"-radcliq_v1"``) means
    ``transform="-x"``. ``output`` picks the column (default: the key ``metric`` names, else the metric's
    first per-study output). ``transform="auto"`` keeps higher-is-better outputs and negates the others.
    """

    metric: str
    output: str | None = None
    transform: str = "auto"
    weight: float = 1.0
    normalize: str = "none"
    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_any(cls, spec: Component | str | Mapping[str, Any]) -> Component:
        if isinstance(spec, Component):
            return spec
        if isinstance(spec, str):
            return cls(metric=spec)
        if not isinstance(spec, Mapping) or "metric" not in spec:
            raise ConfigError(f"a reward component needs a 'metric' (got {spec!r})")
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(spec) - known
        if unknown:
            raise ConfigError(
                f"unknown reward component field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
            )
        return cls(**dict(spec))


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
    #: Entries kept in each LRU cache.
    cache_size: int = 200_000
    #: Per-metric constructor options, merged with the components' ``options``.
    metric_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Extra metrics to register first: name -> "package.module:Class" (plugins, test metrics).
    plugins: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | Sequence[Any]) -> RewardConfig:
        if isinstance(data, (list, tuple)):
            data = {"components": list(data)}
        data = dict(data)
        comps = data.pop("components", None)
        if not comps:
            raise ConfigError("reward config needs at least one component")
        known = set(cls.__dataclass_fields__) - {"components"}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(
                f"unknown reward option(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
            )
        return cls(components=[Component.from_any(c) for c in comps], **data)


# ----------------------------------------------------------------------------------------------- helpers


def completion_text(completion: Any) -> str:
    """Text of a completion: a string, or a chat-message list (the assistant turns' text joined)."""
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    parts: list[str] = []
    for message in completion:
        if not isinstance(message, Mapping):
            parts.append(str(message))
            continue
        if message.get("role", "assistant") != "assistant":
            continue
        content = message.get("content", "")
        if isinstance(content, str):
            parts.append(content)
        else:
            parts.extend(
                p.get("text", "")
                for p in content
                if isinstance(p, Mapping) and p.get("type") == "text"
            )
    return "\n".join(p for p in parts if p)


def _hashable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_or_none(self, key: Any) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


def is_async_metric(metric: Metric) -> bool:
    """LLM judges and other remote metrics: run concurrently as async reward functions."""
    return metric.remote


def has_reference_protocol(metric: Metric) -> bool:
    return metric.reuses_reference_state


@dataclass
class _Running:
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def update(self, values: np.ndarray) -> None:
        for v in values[~np.isnan(values)]:
            self.n += 1
            d = v - self.mean
            self.mean += d / self.n
            self.m2 += d * (v - self.mean)

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0


# ------------------------------------------------------------------------------------------------- suite


class RewardSuite:
    """Metrics built once, scored with de-duplication and caches, exposed as TRL reward functions."""

    def __init__(self, config: RewardConfig | Mapping[str, Any] | Sequence[Any]):
        if not isinstance(config, RewardConfig):
            config = RewardConfig.from_dict(config)
        self.config = config
        for plugin_name, target in config.plugins.items():
            register(plugin_name, target)
        self.components = list(config.components)
        names = [c.name or c.metric.lstrip("-") for c in self.components]
        if len(set(names)) != len(names):
            raise ConfigError(f"reward component names must be unique (got {names}); set 'name'")
        for comp, name in zip(self.components, names, strict=False):
            comp.name = name
            if comp.normalize not in NORMALISATIONS:
                raise ConfigError(
                    f"reward component {name!r}: normalize must be one of {', '.join(NORMALISATIONS)}, not {comp.normalize!r}"
                )
        options: dict[str, dict[str, Any]] = {k: dict(v) for k, v in config.metric_options.items()}
        wanted: list[str] = []
        for comp in self.components:
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
        #: One instance per metric name, shared by every component (and by metrics that require it).
        self.metrics: list[Metric] = resolve_metrics(list(dict.fromkeys(wanted)), options)
        for metric in self.metrics:
            metric.check_available()
        self._by_column: dict[str, Metric] = {}
        for metric in self.metrics:
            for out in metric.outputs():
                self._by_column.setdefault(out.key, metric)
        self._column: dict[str, str] = {}
        self._transform: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
        self._metric_of: dict[str, Metric] = {}
        for comp in self.components:
            key = comp.metric.lstrip("-")
            column, metric, higher = self._find_column(comp, key)
            spec = comp.transform
            if comp.metric.startswith("-"):
                if spec not in ("auto", "-x", "neg"):
                    raise ConfigError(
                        f"reward component {comp.name!r}: a leading '-' and transform={spec!r} conflict"
                    )
                spec = "-x"
            elif spec == "auto":
                spec = "x" if higher else "-x"
            self._column[comp.name] = column
            self._transform[comp.name] = parse_transform(spec)
            self._metric_of[comp.name] = metric
        self._pairs = _LRU(
            config.cache_size
        )  # (metric name, completion, reference, extra) -> columns
        self._ref_states: dict[str, _LRU] = {m.name: _LRU(config.cache_size) for m in self.metrics}
        self._memo: tuple[Any, dict[str, np.ndarray]] | None = None
        self._lock = threading.Lock()  # async components score from worker threads
        self._sync_lock = threading.Lock()
        self._running = {c.name: _Running() for c in self.components}
        #: Counters: reference states computed per metric, pairs scored per metric, failures per component.
        self.reference_states_computed: dict[str, int] = {m.name: 0 for m in self.metrics}
        self.pairs_scored: dict[str, int] = {m.name: 0 for m in self.metrics}
        self.failures: dict[str, int] = {c.name: 0 for c in self.components}
        self.samples_seen = 0

    # -- setup ------------------------------------------------------------------------------------

    def _find_column(self, comp: Component, key: str) -> tuple[str, Metric, bool]:
        if comp.output is not None:
            key = comp.output
        for metric in self.metrics:
            outs = metric.outputs()
            for out in outs:
                if out.key == key and out.per_study:
                    return out.key, metric, out.higher_is_better
            if metric.name == key:
                per_study = [o for o in outs if o.per_study]
                if not per_study:
                    raise ConfigError(f"metric {key!r} has no per-study output to use as a reward")
                return per_study[0].key, metric, per_study[0].higher_is_better
        raise ConfigError(
            f"reward component {comp.name!r}: no per-study output {key!r} among the metrics' outputs"
        )

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.components]

    def weights(self) -> list[float]:
        return [float(c.weight) for c in self.components]

    def signature(self) -> dict[str, Any]:
        return {
            "components": [
                {
                    "name": c.name,
                    "column": self._column[c.name],
                    "metric": self._metric_of[c.name].signature(),
                    "transform": c.transform if not c.metric.startswith("-") else "-x",
                    "weight": c.weight,
                    "normalize": c.normalize,
                }
                for c in self.components
            ]
        }

    # -- scoring ----------------------------------------------------------------------------------

    def _run_metric(self, metric: Metric, batch: Batch) -> dict[str, np.ndarray]:
        if has_reference_protocol(metric) and self.config.reference_cache:
            cache = self._ref_states[metric.name]
            states = []
            for ref in batch.references:
                state = cache.get_or_none(ref)
                if state is None:
                    state = metric.reference_state(ref)
                    self.reference_states_computed[metric.name] += 1
                    cache.put(ref, state)
                states.append(state)
            return metric.compute_with_references(batch, states)
        if has_reference_protocol(metric):  # protocol present but cache off: one state per sample
            self.reference_states_computed[metric.name] += len(batch)
        if metric.remote:
            return asyncio.run(metric.acompute(batch))
        return metric.compute(batch)

    def _safe_metric(self, metric: Metric, batch: Batch) -> dict[str, np.ndarray]:
        """Columns for the batch; a raising metric is retried per sample, failing samples get NaN."""
        keys = [o.key for o in metric.outputs()]
        try:
            out = self._run_metric(metric, batch)
            return {k: np.asarray(out[k], dtype=float) for k in keys if k in out}
        except Exception:
            if len(batch) == 1:
                return {k: np.full(1, np.nan) for k in keys}
        cols = {k: np.full(len(batch), np.nan) for k in keys}
        for i in range(len(batch)):
            one = Batch(
                [batch.study_ids[i]],
                [batch.predictions[i]],
                [batch.references[i]],
                {k: v[i : i + 1] for k, v in batch.columns.items()},
                {k: [v[i]] for k, v in batch.extra.items()},
            )
            try:
                got = self._run_metric(metric, one)
            except Exception:
                continue
            for k in keys:
                if k in got:
                    cols[k][i] = float(np.asarray(got[k], dtype=float)[0])
        return cols

    def score_texts(
        self,
        completions: Sequence[str],
        references: Sequence[str],
        extra: Mapping[str, Sequence[Any]] | None = None,
        study_ids: Sequence[str] | None = None,
        metrics: Sequence[Metric] | None = None,
        columns: Mapping[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Raw metric columns (before transforms) for aligned texts; NaN marks a failure.

        ``columns`` are already computed columns (of metrics run earlier) that ``metrics`` may read.
        """
        n = len(completions)
        if len(references) != n:
            raise ValueError(f"{n} completions but {len(references)} references")
        extra = {k: list(v) for k, v in (extra or {}).items() if len(v) == n}
        study_ids = list(study_ids) if study_ids is not None else [str(i) for i in range(n)]
        metrics = list(metrics) if metrics is not None else self.metrics
        ekeys = sorted(extra)
        keys = [
            (completions[i], references[i], tuple(_hashable(extra[k][i]) for k in ekeys))
            for i in range(n)
        ]
        columns = dict(columns or {})
        for metric in metrics:
            outs = [o.key for o in metric.outputs()]
            if not self.config.dedupe:
                idx = list(range(n))
            else:
                with self._lock:
                    todo: dict[Any, int] = {}
                    for i, key in enumerate(keys):
                        if (metric.name, key) not in self._pairs and key not in todo:
                            todo[key] = i
                idx = list(todo.values())
            got: dict[str, np.ndarray] = {}
            if idx:
                batch = Batch(
                    [study_ids[i] for i in idx],
                    [completions[i] for i in idx],
                    [references[i] for i in idx],
                    {k: np.asarray(v)[idx] for k, v in columns.items()},
                    {k: [v[i] for i in idx] for k, v in extra.items()},
                )
                got = self._safe_metric(metric, batch)
                with self._lock:
                    self.pairs_scored[metric.name] += len(idx)
            if not self.config.dedupe:
                for k in outs:
                    columns[k] = got.get(k, np.full(n, np.nan))
                continue
            fresh: dict[Any, dict[str, float]] = {}
            for j, i in enumerate(idx):
                fresh[keys[i]] = {k: float(got[k][j]) if k in got else math.nan for k in outs}
            with self._lock:
                for key, row in fresh.items():
                    if not any(
                        math.isnan(v) for v in row.values()
                    ):  # failures are retried next time
                        self._pairs.put((metric.name, key), row)
                rows = [
                    fresh.get(key) or self._pairs.get_or_none((metric.name, key)) or {}
                    for key in keys
                ]
            for k in outs:
                columns[k] = np.array([row.get(k, math.nan) for row in rows], dtype=float)
        return columns

    def _columns_for(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        kwargs: Mapping[str, Any],
        name: str,
    ):
        ref_col = self.config.reference_column
        if ref_col not in kwargs:
            raise ConfigError(
                f"reward functions need the reference in dataset column {ref_col!r}; got columns: {', '.join(sorted(kwargs))}"
            )
        texts = [completion_text(c) for c in completions]
        refs = ["" if r is None else str(r) for r in kwargs[ref_col]]
        ids = kwargs.get(self.config.id_column)
        ids = [str(i) for i in ids] if ids is not None else None
        skip = {
            ref_col,
            self.config.id_column,
            "trainer_state",
            "log_extra",
            "log_metric",
            "completion_ids",
            "environments",
        }
        extra = {
            k: v
            for k, v in kwargs.items()
            if k not in skip
            and isinstance(v, (list, tuple))
            and len(v) == len(texts)
            and all(x is None or isinstance(x, (str, int, float, bool)) for x in v)
        }
        key = (tuple(texts), tuple(refs), tuple((k, tuple(v)) for k, v in sorted(extra.items())))
        # The synchronous metrics run once per step for every component (TRL passes the same batch to
        # each reward function); an async (LLM-judge) component adds only its own metric on top.
        with self._lock:
            memo = self._memo if self._memo is not None and self._memo[0] == key else None
        if memo is None:
            with self._sync_lock:
                with self._lock:
                    memo = self._memo if self._memo is not None and self._memo[0] == key else None
                if memo is None:
                    sync = [m for m in self.metrics if not is_async_metric(m)]
                    cols = self.score_texts(texts, refs, extra, ids, sync)
                    memo = (key, cols)
                    with self._lock:
                        self._memo = memo
                        self.samples_seen += len(texts)
        cols = memo[1]
        metric = self._metric_of[name]
        if is_async_metric(metric):
            cols = self.score_texts(texts, refs, extra, ids, [metric], columns=cols)
        return cols, refs

    def component_values(
        self,
        name: str,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        kwargs: Mapping[str, Any],
    ) -> list[float | None]:
        comp = next(c for c in self.components if c.name == name)
        cols, refs = self._columns_for(prompts, completions, kwargs, name)
        raw = cols[self._column[name]]
        x = self._transform[name](raw)
        x = self._normalise(comp, x, prompts, refs)
        failed = np.isnan(x)
        n_failed = int(failed.sum())
        with self._lock:
            self.failures[name] += n_failed
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            valid = raw[~np.isnan(raw)]
            if valid.size:
                log_metric(f"rewards_raw/{name}/mean", float(valid.mean()))
            log_metric(f"rewards_failed/{name}", float(n_failed))
        return [None if f else float(v) for v, f in zip(x, failed, strict=False)]

    def _normalise(
        self, comp: Component, x: np.ndarray, prompts: Sequence[Any], refs: Sequence[str]
    ) -> np.ndarray:
        if comp.normalize == "none":
            return x
        if comp.normalize == "running":
            stats = self._running[comp.name]
            stats.update(x)
            std = stats.std
            return (x - stats.mean) / std if std > 0 else x - stats.mean
        groups: dict[Any, list[int]] = {}
        for i, (p, r) in enumerate(zip(prompts, refs, strict=False)):
            groups.setdefault((repr(p), r), []).append(i)
        out = np.full_like(x, np.nan)
        for idx in groups.values():
            v = x[idx]
            ok = ~np.isnan(v)
            if ok.sum() < 2:
                out[idx] = np.where(ok, 0.0, np.nan)
                continue
            mean, std = v[ok].mean(), v[ok].std()
            out[idx] = (v - mean) / std if std > 0 else np.where(ok, 0.0, np.nan)
        return out

    # -- TRL interface ----------------------------------------------------------------------------

    def reward_functions(self) -> list[Callable[..., Any]]:
        """One TRL reward function per component, named after it (TRL logs ``rewards/<name>/mean``)."""
        funcs = []
        for comp in self.components:
            funcs.append(
                self._make_function(comp.name, is_async_metric(self._metric_of[comp.name]))
            )
        return funcs

    def _make_function(self, name: str, is_async: bool) -> Callable[..., Any]:
        suite = self
        if is_async:

            async def reward(prompts=None, completions=None, **kwargs):
                return await asyncio.to_thread(
                    suite.component_values, name, prompts or [], completions, kwargs
                )

        else:

            def reward(prompts=None, completions=None, **kwargs):
                return suite.component_values(name, prompts or [], completions, kwargs)

        reward.__name__ = reward.__qualname__ = name
        return reward

    def composite(
        self, prompts: Sequence[Any] | None, completions: Sequence[Any], **kwargs: Any
    ) -> list[float | None]:
        """The weighted sum TRL forms: NaN components are skipped (nansum); None only if all failed."""
        prompts = list(prompts) if prompts is not None else [""] * len(completions)
        per = [self.component_values(c.name, prompts, completions, kwargs) for c in self.components]
        out: list[float | None] = []
        for values in zip(*per, strict=False):
            got = [
                (v, c.weight)
                for v, c in zip(values, self.components, strict=False)
                if v is not None
            ]
            out.append(sum(v * w for v, w in got) if got else None)
        return out


def _metric_name_for(key: str) -> str:
    from rexeval.metrics import _name_for

    return _name_for(key)


def reward_functions(
    config: RewardConfig | Mapping[str, Any] | Sequence[Any],
) -> tuple[list[Callable[..., Any]], list[float], RewardSuite]:
    """Convenience: ``(funcs, weights, suite)`` for ``GRPOTrainer(reward_funcs=funcs)`` and
    ``GRPOConfig(reward_weights=weights)``."""
    suite = RewardSuite(config)
    return suite.reward_functions(), suite.weights(), suite
