"""TRL reward functions that call ``rexeval serve`` (in process, use :class:`rexeval.rewards.RewardSuite`).

``ServiceRewardSuite(url).reward_functions()`` gives one TRL reward function per component (TRL logs
``rewards/<name>/mean``) with ``weights()`` for ``GRPOConfig.reward_weights``, exactly as
``RewardSuite`` does; TRL calls every function with the same batch, and the first call's answer is kept
for the others, so a step costs one request. Values the service could not give are None (TRL's NaN,
left out of the weighted sum); ``client.missing`` counts the samples the service did not answer in time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rexeval.base.exceptions import ConfigError
from rexeval.rewards import completion_text
from rexeval.serve.client import RewardClient

#: Keyword arguments TRL passes to reward functions that are not dataset columns.
_TRL_KWARGS = {"trainer_state", "log_extra", "log_metric", "completion_ids", "environments"}


class ServiceRewardSuite:
    def __init__(self, url: str | None = None, client: RewardClient | None = None,
                 reference_column: str = "reference", id_column: str = "study_id",
                 extra_columns: Sequence[str] = (), **client_options: Any):
        self.client = client or RewardClient(url, **client_options)
        self.reference_column = reference_column
        self.id_column = id_column
        self.extra_columns = list(extra_columns)
        self._memo: tuple[Any, list[dict[str, Any]]] | None = None
        self._lock = threading.Lock()
        #: Samples each component could not score, by component name (as RewardSuite.failures).
        self.failures: dict[str, int] = {n: 0 for n in self.names}

    @property
    def names(self) -> list[str]:
        return self.client.names

    def weights(self) -> list[float]:
        return self.client.weights

    def results(self, prompts: Sequence[Any], completions: Sequence[Any], kwargs: Mapping[str, Any]):
        if self.reference_column not in kwargs:
            raise ConfigError(f"reward functions need the reference in dataset column {self.reference_column!r}; "
                              f"got columns: {', '.join(sorted(k for k in kwargs if k not in _TRL_KWARGS))}")
        refs = ["" if r is None else str(r) for r in kwargs[self.reference_column]]
        ids = kwargs.get(self.id_column)
        samples = []
        for i, completion in enumerate(completions):
            sample: dict[str, Any] = {"completion": completion_text(completion), "reference": refs[i]}
            if prompts and isinstance(prompts[i], str):
                sample["prompt"] = prompts[i]
            if ids is not None:
                sample["id"] = str(ids[i])
            if self.extra_columns:
                sample["extra"] = {k: kwargs[k][i] for k in self.extra_columns if k in kwargs}
            samples.append(sample)
        key = repr(samples)
        with self._lock:
            if self._memo is not None and self._memo[0] == key:
                return self._memo[1], False
            got = self.client.score(samples)
            self._memo = (key, got)
            return got, True

    def component_values(self, name: str, prompts: Sequence[Any], completions: Sequence[Any],
                         kwargs: Mapping[str, Any]) -> list[float | None]:
        results, _ = self.results(prompts, completions, kwargs)
        values = [r["components"].get(name, {}).get("value") for r in results]
        failed = sum(v is None for v in values)
        with self._lock:
            self.failures[name] = self.failures.get(name, 0) + failed
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            log_metric(f"rewards_failed/{name}", float(failed))
            log_metric("rewards_missing", float(self.client.missing))
        return values

    def reward_functions(self) -> list[Callable[..., list[float | None]]]:
        return [self._function(name) for name in self.names]

    def _function(self, name: str) -> Callable[..., list[float | None]]:
        def reward(prompts=None, completions=None, **kwargs):
            return self.component_values(name, prompts or [], completions or [], kwargs)

        reward.__name__ = reward.__qualname__ = name
        return reward

    def composite(self, prompts: Sequence[Any] | None, completions: Sequence[Any],
                  **kwargs: Any) -> list[float | None]:
        """The weighted reward per sample (one reward function instead of one per component)."""
        results, _ = self.results(prompts or [], completions, kwargs)
        return [r["reward"] for r in results]


def service_reward_functions(url: str | None = None, **options: Any):
    """``(funcs, weights, suite)`` for ``GRPOTrainer(reward_funcs=funcs)`` and
    ``GRPOConfig(reward_weights=weights)``, scoring through the service."""
    suite = ServiceRewardSuite(url, **options)
    return suite.reward_functions(), suite.weights(), suite
