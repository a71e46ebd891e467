"""EasyR1 reward function: ``worker.reward.reward_function=<this file>:compute_score``.

EasyR1 (hiyouga/EasyR1 at b44b311, ``verl/workers/reward/function.py``, ``AutoRewardManager``) loads
the file by path, reads ``REWARD_TYPE`` (``batch`` here: ``compute_reward_batch`` passes
``[{"response", "response_length", "ground_truth"}, ...]``) and ``reward_function_kwargs`` as keyword
arguments, and reads ``score["overall"]`` of each returned dict, logging every key. ``ground_truth`` is
the reference report (EasyR1's ``data.answer_key`` column).

Keyword arguments (``worker.reward.reward_function_kwargs``): ``url`` (``rexeval serve``) or ``config``
(the reward YAML scored in EasyR1's reward worker), ``token_file``, ``timeout``, ``failure_reward``.
A sample with no reward scores ``failure_reward`` and logs ``reward_failed = 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rexeval.serve.adapters.common import backend, flat_score, names_of

REWARD_NAME = "rexeval"
REWARD_TYPE = "batch"


def compute_score(reward_inputs: Sequence[dict[str, Any]], *, url: str | None = None,
                  config: str | None = None, token_file: str | None = None, timeout: float = 300.0,
                  failure_reward: float = 0.0, **_: Any) -> list[dict[str, float]]:
    samples = [{"completion": r["response"],
                "reference": "" if r.get("ground_truth") is None else str(r["ground_truth"])}
               for r in reward_inputs]
    scorer = backend(url, config, token_file, timeout)
    results = scorer.score(samples)
    names = names_of(scorer, results)
    return [flat_score(r, names, failure_reward, "overall") for r in results]
