"""The TRL adapter: :class:`RewardSuite` exposes each component as a TRL reward function
(``f(prompts, completions, **columns) -> list[float | None]``) and gives the weights for
``GRPOConfig.reward_weights``."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from rexeval.base.exceptions import ConfigError
from rexeval.engines.base import Executor
from rexeval.metrics import Metric
from rexeval.rewards.config import ResolvedComponent, RewardConfig, plan
from rexeval.rewards.engine import EngineResult, ScoringEngine, is_async_metric
from rexeval.rewards.normalise import RunningStats, group_zscores
from rexeval.rewards.result import ComponentScores, RewardFailure, RewardResult

log = logging.getLogger(__name__)
#: Recent failures a suite keeps (``suite.recent_failures``) for whoever watches a run.
RECENT_FAILURES = 1000

#: Keyword arguments TRL passes to reward functions that are not dataset columns.
_TRL_KWARGS = {"trainer_state", "log_extra", "log_metric", "completion_ids", "environments"}


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


class RewardSuite:
    """Metrics built once, scored with de-duplication and caches, exposed as TRL reward functions
    (:meth:`reward_functions`) or scored directly (:meth:`score`). ``executor`` computes the metrics
    (default: this process, :class:`~rexeval.engines.local.LocalExecutor`). Thread-safe: calls may
    come from several threads (TRL runs async components in worker threads)."""

    def __init__(self, config: RewardConfig | Mapping[str, Any] | Sequence[Any],
                 executor: Executor | None = None):
        checked = plan(config)
        self.config = checked.config
        #: One instance per metric name, shared by every component (and by metrics that require it).
        self.metrics: list[Metric] = checked.metrics
        for metric in self.metrics:
            metric.check_available()
        #: The components as run (names, applied transforms); the caller's config is left as given.
        self.components: list[ResolvedComponent] = checked.components
        #: Components with a fallback: which metric ran, and why the wanted one did not.
        self.fallbacks: dict[str, dict[str, Any]] = checked.fallbacks
        self._by_name = {c.name: c for c in self.components}
        self.engine = ScoringEngine(self.config, self.metrics, executor)
        self._running = {c.name: RunningStats() for c in self.components}
        #: Samples each component could not score (NaN or a raising metric), by component name.
        self.failures: dict[str, int] = {c.name: 0 for c in self.components}
        #: The latest failures with their reasons (bounded), oldest first.
        self.recent_failures: deque[RewardFailure] = deque(maxlen=RECENT_FAILURES)
        # the suite's own state (running statistics, failure counts): calls may come from several threads
        self._state_lock = threading.Lock()

    # -- description ------------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.components]

    def weights(self) -> list[float]:
        return [c.weight for c in self.components]

    def signature(self) -> dict[str, Any]:
        return {
            "components": [
                {
                    "name": c.name,
                    "column": c.column,
                    "metric": c.metric.signature(),
                    "transform": c.transform.label,
                    "weight": c.weight,
                    "normalize": c.normalize,
                }
                for c in self.components
            ],
            **({"fallbacks": self.fallbacks} if self.fallbacks else {}),
        }

    # counters kept by the engine, read here as before
    @property
    def reference_states_computed(self) -> dict[str, int]:
        return self.engine.reference_states_computed

    @property
    def pairs_scored(self) -> dict[str, int]:
        return self.engine.pairs_scored

    @property
    def samples_seen(self) -> int:
        return self.engine.samples_seen

    def score_texts(self, *args: Any, **kwargs: Any) -> dict[str, np.ndarray]:
        """Raw metric columns for aligned texts (see :meth:`ScoringEngine.score_texts`)."""
        return self.engine.score_texts(*args, **kwargs)

    # -- one component on one call -----------------------------------------------------------------

    def _inputs(self, completions: Sequence[Any], kwargs: Mapping[str, Any]):
        ref_col = self.config.reference_column
        if ref_col not in kwargs:
            raise ConfigError(
                f"reward functions need the reference in dataset column {ref_col!r}; got columns: {', '.join(sorted(kwargs))}"
            )
        texts = [completion_text(c) for c in completions]
        refs = ["" if r is None else str(r) for r in kwargs[ref_col]]
        ids = kwargs.get(self.config.id_column)
        ids = [str(i) for i in ids] if ids is not None else None
        skip = {ref_col, self.config.id_column} | _TRL_KWARGS
        extra = {
            k: list(v)
            for k, v in kwargs.items()
            if k not in skip
            and isinstance(v, (list, tuple))
            and len(v) == len(texts)
            and all(x is None or isinstance(x, (str, int, float, bool)) for x in v)
        }
        return texts, refs, extra, ids

    def component_scores(
        self,
        name: str,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        kwargs: Mapping[str, Any],
    ) -> tuple[ComponentScores, list[RewardFailure]]:
        """One component on one call: its raw and transformed values and the samples it failed on, with
        why. Counts the failures (``failures``, ``recent_failures``) and logs them through TRL's
        ``log_metric`` (``rewards_failed/<name>``) and ``log_extra`` (a ``failed/<name>`` column with each
        sample's reason, empty when it scored) when the caller passes them."""
        comp = self._by_name[name]
        texts, refs, extra, ids = self._inputs(completions, kwargs)
        scored: EngineResult = self.engine.step(texts, refs, extra, ids, comp.metric)
        raw = scored.columns[comp.column]
        x = comp.transform(raw)
        if comp.normalize == "group":
            x = group_zscores(x, prompts, refs)
        elif comp.normalize == "running":
            with self._state_lock:
                x = self._running[name].zscores(x)
        why = scored.reasons(comp.metric.name)
        fails = [
            RewardFailure(name, i, why.get(i) or _why_nan(raw[i]))
            for i in np.flatnonzero(np.isnan(x)).tolist()
        ]
        with self._state_lock:
            self.failures[name] += len(fails)
            self.recent_failures.extend(fails)
        if fails:
            log.warning("reward component %s: %d of %d samples failed (first: sample %d: %s)",
                        name, len(fails), len(x), fails[0].sample, fails[0].reason)
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            valid = raw[~np.isnan(raw)]
            if valid.size:
                log_metric(f"rewards_raw/{name}/mean", float(valid.mean()))
            log_metric(f"rewards_failed/{name}", float(len(fails)))
        log_extra = kwargs.get("log_extra")
        if callable(log_extra):
            reasons = {f.sample: f.reason for f in fails}
            log_extra(f"failed/{name}", [reasons.get(i, "") for i in range(len(x))])
        scores = ComponentScores(name, comp.metric.name, comp.column, comp.weight, raw, x)
        return scores, fails

    def component_values(
        self,
        name: str,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        kwargs: Mapping[str, Any],
    ) -> list[float | None]:
        """One component as TRL reads it: a float per sample, None where it failed."""
        scores, _ = self.component_scores(name, prompts, completions, kwargs)
        return [None if np.isnan(v) else float(v) for v in scores.value]

    def score(
        self,
        predictions: Sequence[Any],
        references: Sequence[str],
        prompts: Sequence[Any] | None = None,
        **columns: Any,
    ) -> RewardResult:
        """Rewards for a batch of (prediction, reference) pairs, outside TRL.

        ``predictions`` are texts (or chat-message lists), ``references`` the texts they are scored
        against, ``prompts`` (default: one per reference) group samples for ``normalize: group``;
        ``columns`` are further per-sample dataset columns (an id column, context) as TRL would pass them.
        Returns every component raw and transformed, the weighted reward per sample (None when every
        component failed on it) and each failure with its component, sample and reason. Components with
        ``normalize: running`` update their running statistics, as a training step does.
        """
        if len(predictions) != len(references):
            raise ConfigError(f"{len(predictions)} predictions but {len(references)} references")
        prompts = list(prompts) if prompts is not None else [str(r) for r in references]
        kwargs = {**columns, self.config.reference_column: list(references)}
        components: dict[str, ComponentScores] = {}
        failures: list[RewardFailure] = []
        for comp in self.components:
            components[comp.name], fails = self.component_scores(comp.name, prompts, predictions, kwargs)
            failures += fails
        return RewardResult(_weighted(list(components.values()), len(predictions)), components, failures)

    # -- TRL interface ----------------------------------------------------------------------------

    def reward_functions(self) -> list[Callable[..., Any]]:
        """One TRL reward function per component, named after it (TRL logs ``rewards/<name>/mean``)."""
        return [self._make_function(c.name, is_async_metric(c.metric)) for c in self.components]

    def _make_function(self, name: str, is_async: bool) -> Callable[..., Any]:
        suite = self
        if is_async:

            async def reward(prompts=None, completions=None, **kwargs):
                return await asyncio.to_thread(
                    suite.component_values, name, prompts or [], completions, kwargs
                )

        else:

            def reward(prompts=None, completions=None, **kwargs):  # type: ignore[misc]  # sync twin
                return suite.component_values(name, prompts or [], completions, kwargs)

        reward.__name__ = reward.__qualname__ = name
        return reward

    def composite(
        self, prompts: Sequence[Any] | None, completions: Sequence[Any], **kwargs: Any
    ) -> list[float | None]:
        """The weighted sum TRL forms: NaN components are skipped (nansum); None only if all failed."""
        prompts = list(prompts) if prompts is not None else [""] * len(completions)
        scores = [self.component_scores(c.name, prompts, completions, kwargs)[0] for c in self.components]
        return _weighted(scores, len(completions))


def _weighted(scores: Sequence[ComponentScores], n: int) -> list[float | None]:
    """Per sample, the weighted sum of the components that scored it; None when none did."""
    out: list[float | None] = []
    for i in range(n):
        got = [(float(s.value[i]), s.weight) for s in scores if not np.isnan(s.value[i])]
        out.append(sum(v * w for v, w in got) if got else None)
    return out


def _why_nan(raw: float) -> str:
    """The reason of a failure the executor did not record."""
    if np.isnan(raw):
        return "the metric returned NaN for this sample (its own recorded failure)"
    return f"the transform or normalisation gave NaN for the raw value {raw!r}"


def reward_functions(
    config: RewardConfig | Mapping[str, Any] | Sequence[Any],
) -> tuple[list[Callable[..., Any]], list[float], RewardSuite]:
    """Convenience: ``(funcs, weights, suite)`` for ``GRPOTrainer(reward_funcs=funcs)`` and
    ``GRPOConfig(reward_weights=weights)``."""
    suite = RewardSuite(config)
    return suite.reward_functions(), suite.weights(), suite
