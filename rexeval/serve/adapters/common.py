"""What every adapter scores with: the service (``url``) or the reward engine in this process
(``config``: a reward YAML), built once per process and reused by every later call."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rexeval.base.exceptions import ConfigError
from rexeval.serve.client import CONFIG_ENV, URL_ENV, RewardClient
from rexeval.serve.scoring import RewardScorer, Sample

_BACKENDS: dict[tuple, Any] = {}
_LOCK = threading.Lock()


class LocalBackend:
    """The reward engine in this process, with the service's result shape."""

    def __init__(self, config: str | Path):
        from rexeval.serve.config import check_servable, load_serve_config

        reward, _ = load_serve_config(config)
        check_servable(reward)
        self.scorer = RewardScorer(reward)
        self.names = self.scorer.names
        self.weights = self.scorer.suite.weights()
        self._lock = threading.Lock()  # the models are not shared between threads

    def score(self, samples: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        batch = [Sample(s["completion"], s["reference"], s.get("prompt") or "", s.get("id"),
                        s.get("extra") or {}) for s in samples]
        with self._lock:
            return self.scorer.score(batch)


def backend(url: str | None = None, config: str | Path | None = None, token_file: str | None = None,
            timeout: float = 300.0, retries: int = 4) -> Any:
    """The service client for ``url`` (or ``$REXEVAL_REWARD_URL``), else the local engine for ``config``
    (or ``$REXEVAL_REWARD_CONFIG``); one per process and arguments."""
    url = url or os.environ.get(URL_ENV)
    config = config or os.environ.get(CONFIG_ENV)
    if not url and not config:
        raise ConfigError(f"say where rewards come from: url= (or ${URL_ENV}) for `rexeval serve`, or "
                          f"config= (or ${CONFIG_ENV}) for the reward engine in this process")
    key = ("url", url, token_file, timeout, retries) if url else ("config", str(Path(str(config)).resolve()))
    with _LOCK:
        if key not in _BACKENDS:
            _BACKENDS[key] = (RewardClient(url, token_file=token_file, timeout=timeout, retries=retries)
                              if url else LocalBackend(str(config)))
        return _BACKENDS[key]


def names_of(scorer: Any, results: list[dict[str, Any]]) -> list[str]:
    names = list(getattr(scorer, "names", []) or [])
    return names or (list(results[0]["components"]) if results else [])


def flat_score(result: dict[str, Any], names: list[str], failure_reward: float, key: str) -> dict[str, float]:
    """A result as the flat dict of numbers verl and EasyR1 log: ``key`` holds the reward
    (``failure_reward`` when there is none, flagged by ``reward_failed``), each component its transformed
    value (NaN when it failed, so the logged mean shows the failure instead of hiding it)."""
    out = {key: float(failure_reward) if result["reward"] is None else float(result["reward"]),
           "reward_failed": 1.0 if result["failed"] else 0.0}
    for name in names:
        value = result["components"].get(name, {}).get("value")
        out[name] = math.nan if value is None else float(value)
    return out
