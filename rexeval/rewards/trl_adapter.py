"""The TRL adapter: :class:`RewardSuite` exposes each component as a TRL reward function
(``f(prompts, completions, **columns) -> list[float | None]``) and gives the weights for
``GRPOConfig.reward_weights``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from rexeval.exceptions import ConfigError
from rexeval.metrics import Metric
from rexeval.rewards.config import ResolvedComponent, RewardConfig, plan
from rexeval.rewards.engine import ScoringEngine, is_async_metric
from rexeval.rewards.normalise import RunningStats, group_zscores

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
    """Metrics built once, scored with de-duplication and caches, exposed as TRL reward functions."""

    def __init__(self, config: RewardConfig | Mapping[str, Any] | Sequence[Any]):
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
        self.engine = ScoringEngine(self.config, self.metrics)
        self._running = {c.name: RunningStats() for c in self.components}
        #: Samples each component could not score (NaN or a raising metric), by component name.
        self.failures: dict[str, int] = {c.name: 0 for c in self.components}

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

    # -- one component on one TRL call --------------------------------------------------------------

    def component_values(
        self,
        name: str,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        kwargs: Mapping[str, Any],
    ) -> list[float | None]:
        comp = self._by_name[name]
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
        cols = self.engine.step_columns(texts, refs, extra, ids, comp.metric)
        raw = cols[comp.column]
        x = comp.transform(raw)
        if comp.normalize == "group":
            x = group_zscores(x, prompts, refs)
        elif comp.normalize == "running":
            x = self._running[name].zscores(x)
        failed = np.isnan(x)
        n_failed = int(failed.sum())
        with self.engine._lock:
            self.failures[name] += n_failed
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            valid = raw[~np.isnan(raw)]
            if valid.size:
                log_metric(f"rewards_raw/{name}/mean", float(valid.mean()))
            log_metric(f"rewards_failed/{name}", float(n_failed))
        return [None if f else float(v) for v, f in zip(x, failed, strict=True)]

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
        for values in zip(*per, strict=True):
            got = [
                (v, c.weight) for v, c in zip(values, self.components, strict=True) if v is not None
            ]
            out.append(sum(v * w for v, w in got) if got else None)
        return out


def reward_functions(
    config: RewardConfig | Mapping[str, Any] | Sequence[Any],
) -> tuple[list[Callable[..., Any]], list[float], RewardSuite]:
    """Convenience: ``(funcs, weights, suite)`` for ``GRPOTrainer(reward_funcs=funcs)`` and
    ``GRPOConfig(reward_weights=weights)``."""
    suite = RewardSuite(config)
    return suite.reward_functions(), suite.weights(), suite
