"""verl custom reward functions: point ``custom_reward_function.path`` at this file.

verl 0.9.1 loads ``reward.custom_reward_function.path`` / ``.name`` (``verl/trainer/ppo/reward.py``,
``get_custom_reward_fn``; older releases read the top-level ``custom_reward_function``) and passes
``reward_kwargs`` as keyword arguments. Its reward managers call

* per sample (``naive``; ``verl/workers/reward_manager/naive.py`` and the reward loop's
  ``verl/experimental/reward_loop/reward_manager/naive.py``):
  ``compute_score(data_source=, solution_str=, ground_truth=, extra_info=)``;
* per batch (``reward_manager.name=batch``; ``verl/workers/reward_manager/batch.py``,
  ``BatchRewardManager.verify``):
  ``compute_score(data_sources=, solution_strs=, ground_truths=, extra_infos=)``,

and read ``score["score"]`` of a returned dict, logging every other key (one value per sample, so every
sample carries the same keys). ``ground_truth`` is the reference report (``reward_model.ground_truth``
in verl's parquet).

Where rewards come from: ``url`` (``rexeval serve``; or ``$REXEVAL_REWARD_URL``) or ``config`` (a reward
YAML scored in the reward worker's own process; or ``$REXEVAL_REWARD_CONFIG``). ``extra_keys`` names
``extra_info`` fields handed to the metrics as columns (e.g. a prior report). A sample with no reward
scores ``failure_reward`` and logs ``reward_failed = 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rexeval.serve.adapters.common import backend, flat_score, names_of


def _sample(solution: str, truth: Any, extra_info: Any, extra_keys: Sequence[str]) -> dict[str, Any]:
    info = extra_info if isinstance(extra_info, dict) else {}
    extra = {k: info.get(k) for k in extra_keys}
    return {"completion": solution, "reference": "" if truth is None else str(truth), "extra": extra}


def compute_score_batch(data_sources: Sequence[Any], solution_strs: Sequence[str],
                        ground_truths: Sequence[Any], extra_infos: Sequence[Any] | None = None, *,
                        url: str | None = None, config: str | None = None, token_file: str | None = None,
                        timeout: float = 300.0, failure_reward: float = 0.0,
                        extra_keys: Sequence[str] = (), **_: Any) -> list[dict[str, float]]:
    """verl's batch signature (``reward_manager.name=batch``): one dict per sample."""
    infos = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    samples = [_sample(s, t, e, extra_keys) for s, t, e in zip(solution_strs, ground_truths, infos, strict=True)]
    scorer = backend(url, config, token_file, timeout)
    results = scorer.score(samples)
    names = names_of(scorer, results)
    return [flat_score(r, names, failure_reward, "score") for r in results]


def compute_score(data_source: Any = None, solution_str: str = "", ground_truth: Any = None,
                  extra_info: Any = None, **kwargs: Any) -> dict[str, float]:
    """verl's per-sample signature (the ``naive`` manager and the reward loop). Through the service,
    concurrent calls from the reward loop's workers are batched by the server."""
    if "solution_strs" in kwargs:  # the batch manager pointed at the default name
        return compute_score_batch(**kwargs)  # type: ignore[return-value]
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info], **kwargs)[0]
