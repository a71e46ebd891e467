"""``rexeval serve --engine ray``: scorer replicas on Ray actors behind the same FastAPI application.

Each replica is an actor holding a whole :class:`RewardScorer` (every model loaded once, on its GPU share
when ``gpus_per_replica`` is set; Ray places replicas across the cluster's machines). The batcher keeps
one batch in flight per replica, and a batch goes to whichever replica is free. A sample's result does
not depend on its batch or on which replica scored it (the metric contract), so replicas agree with the
local engine. A replica whose batch runs past ``batch_timeout_s`` is killed and replaced: a stuck model
cannot hold the service. Ray Serve is not used: the batching, limits, auth and counters stay in the one
application and only the scoring moves.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
from typing import Any

from rexeval.base.exceptions import ConfigError
from rexeval.serve.config import ServeConfig
from rexeval.serve.scoring import RewardScorer, Sample, failed_result


class _Replica:
    def __init__(self, reward_config: Any, version: str) -> None:
        from rexeval._version import __version__

        if __version__ != version:
            raise RuntimeError(f"this replica has rexeval {__version__}, the server {version}")
        self.scorer = RewardScorer(reward_config)

    def score(self, samples: list[Sample]) -> list[dict[str, Any]]:
        return self.scorer.score(samples)


class RayReplicas:
    """The scorer backend of the service, on ``config.replicas`` Ray actors."""

    #: batches past batch_timeout_s are ended here (the actor killed), before the batcher's own limit
    enforces_timeout = True

    def __init__(self, reward_config: Any, config: ServeConfig):
        from rexeval._version import __version__
        from rexeval.engines.ray import FORWARD_PREFIXES, import_ray

        self.local = RewardScorer(reward_config)  # names and signature; never scores
        self.names = self.local.names
        self.workers = config.replicas
        self.timeout = config.batch_timeout_s
        ray = self._ray = import_ray()
        self._started_here = False
        if not ray.is_initialized():
            env = {k: v for k, v in os.environ.items() if k.startswith(FORWARD_PREFIXES)}
            address = config.ray_address or os.environ.get("RAY_ADDRESS")
            if address:
                try:
                    ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False,
                             runtime_env={"env_vars": env})
                except (ConnectionError, RuntimeError, ValueError) as exc:
                    raise ConfigError(f"cannot join the Ray cluster at {address!r}: {exc}") from None
            else:  # a local Ray: the workers import exactly this process's rexeval
                env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
                ray.init(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False,
                         runtime_env={"env_vars": env})
                self._started_here = True
        self._actor_cls = ray.remote(num_gpus=config.gpus_per_replica, max_restarts=3,
                                     max_task_retries=0)(_Replica)
        self._args = (reward_config, __version__)
        self._idle: queue.Queue = queue.Queue()
        for _ in range(self.workers):
            self._idle.put(self._actor_cls.remote(*self._args))

    def describe(self) -> dict[str, Any]:
        out = self.local.describe()
        out["engine"] = {"name": "ray", "replicas": self.workers}
        return out

    def warm_up(self, sample: Sample) -> list[dict[str, Any]]:
        """Every replica loads its models now; the results of all of them (a failure is reported on
        /health)."""
        actors = [self._idle.get() for _ in range(self.workers)]
        try:
            return [r for got in self._ray.get([a.score.remote([sample]) for a in actors]) for r in got]
        finally:
            for actor in actors:
                self._idle.put(actor)

    def score(self, samples: list[Sample]) -> list[dict[str, Any]]:
        ray = self._ray
        actor = self._idle.get()
        try:
            return ray.get(actor.score.remote(samples), timeout=self.timeout)
        except ray.exceptions.GetTimeoutError:
            ray.kill(actor, no_restart=True)
            actor = self._actor_cls.remote(*self._args)
            return [failed_result(self.names, f"batch timed out after {self.timeout:g} s (replica replaced)")
                    for _ in samples]
        finally:
            self._idle.put(actor)

    def close(self) -> None:
        while not self._idle.empty():
            try:
                self._ray.kill(self._idle.get_nowait(), no_restart=True)
            except Exception:
                pass
        if self._started_here:
            self._ray.shutdown()
