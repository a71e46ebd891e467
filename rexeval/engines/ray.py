"""``rexeval score --engine ray``: the metrics of a run computed on a Ray cluster (or a local Ray).

The driver keeps everything that makes a run a run — alignment, the order of metrics (so RadCliQ runs
after its parts), aggregation, bootstrap CIs, subgroups, the run directory — and hands this module one
metric at a time: :class:`RayEngine` is an :class:`~rexeval.engines.base.Executor`
(``score_pairs(..., engine=...)``). Here the studies are cut into batches and scored remotely:

* metrics with models (an encoder, a parser, a local judge) by **actors**: each actor unpickles the
  metric once, loads its models on the first batch and keeps them for every later batch; with
  ``gpus_per_worker`` each actor holds that share of a GPU (Ray sets ``CUDA_VISIBLE_DEVICES``);
* lexical and rule metrics by plain **tasks**;
* LLM judges that call an endpoint stay on the driver: their client already runs requests
  concurrently under the configured limits, and N workers would multiply those limits.

Because a study's value never depends on its batch (the metric contract), the columns put together
from the batches equal what the local loop computes.

Faults follow the executor policy of :mod:`rexeval.engines.base`, as the local executor does. A worker
that dies is restarted and its batch retried by Ray itself (``max_retries`` maps to ``max_restarts`` /
``max_task_retries`` / ``max_retries``). A batch that still fails — an exception in the metric, a worker
that keeps dying — is split into single studies; a study that fails on its own is NaN in that metric's
columns (so ``n_failed`` counts it) and a :class:`~rexeval.engines.base.Failure` that scoring lists under
``summary["metric_runs"][metric]["engine"]["failed_studies"]``. When no batch finishes for ``timeout``
seconds the workers in flight are killed and their batches handled the same way, so a run never hangs.
Ctrl-C (or any error) cancels the batches in flight and kills the actors this run created; a local Ray
started here is shut down.

Ray is imported only inside functions: ``rexeval --help`` and local runs never load it.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rexeval.base.exceptions import ConfigError, RexevalError, install_hint
from rexeval.engines.base import Failure, MetricRun, assemble, checked_columns, one_line, sub_batch
from rexeval.engines.local import LocalExecutor
from rexeval.metrics.base import Batch, Metric

RAY_FIX = install_hint("ray")
#: Environment variables forwarded to workers: where models, caches and endpoints are.
FORWARD_PREFIXES = ("REXEVAL_", "HF_", "HUGGINGFACE_", "TRANSFORMERS_", "TORCH_HOME", "OPENAI_", "AZURE_OPENAI_")
#: Batches in flight per actor: the next one is queued while one runs, so the actor never waits on the driver.
_DEPTH = 2


def import_ray():
    """Ray, or a one-line error with the fix (exit 2 on the CLI)."""
    try:
        import ray
    except ImportError:
        raise ConfigError(f"--engine ray needs Ray, which is not installed. Fix: {RAY_FIX}") from None
    return ray


@dataclass
class RayOptions:
    """How a run uses Ray (the ``--ray-*`` / ``--workers`` / ``--gpus-per-worker`` flags)."""

    #: Cluster to join (``ray://host:10001``, ``host:6379`` or ``auto``); None: ``$RAY_ADDRESS``, else a local Ray.
    address: str | None = None
    #: Workers (actors or tasks in flight) per metric; None: as many as the cluster's CPUs (GPUs) allow.
    workers: int | None = None
    gpus_per_worker: float = 0.0
    cpus_per_worker: float = 1.0
    #: Studies per batch sent to a worker.
    batch_size: int = 64
    #: Restarts of a dead worker and retries of its batch, by Ray.
    max_retries: int = 3
    #: Seconds without any finished batch after which the batches in flight are given up on.
    timeout: float = 3600.0
    #: CPUs of a local Ray started here (None: all of this machine's).
    num_cpus: int | None = None
    #: Put the driver's sys.path on the workers' PYTHONPATH (None: only for a local Ray started here,
    #: whose workers share this machine's files; on a cluster rexeval is installed on every node).
    ship_sys_path: bool | None = None

    def validate(self) -> RayOptions:
        if self.workers is not None and self.workers < 1:
            raise ConfigError("--workers must be >= 1")
        if self.gpus_per_worker < 0 or self.cpus_per_worker <= 0:
            raise ConfigError("--gpus-per-worker must be >= 0 and CPUs per worker > 0")
        if self.batch_size < 1:
            raise ConfigError("--ray-batch-size must be >= 1")
        if self.max_retries < 0:
            raise ConfigError("--ray-retries must be >= 0")
        if not self.timeout > 0:
            raise ConfigError("--ray-timeout must be > 0 seconds")
        return self


def loads_models(metric: Metric) -> bool:
    """Whether a metric is scored by actors that keep its models (else by plain tasks).

    A metric may say so with a ``loads_models`` attribute; otherwise a ``device`` option (BERTScore,
    RadGraph, RaTEScore, GREEN) or CheXbert options (semb_score, chexbert_f1) mark one.
    """
    flag = getattr(metric, "loads_models", None)
    if flag is not None:
        return bool(flag)
    try:
        params = set(inspect.signature(type(metric).__init__).parameters)
    except (TypeError, ValueError):
        params = set()
    return "device" in params or hasattr(metric, "chex")


def runs_on_driver(metric: Metric) -> bool:
    """LLM judges on an endpoint (they report request accounting through ``run_info``)."""
    # an endpoint judge reports its request accounting: it overrides the base class's empty run_info
    if not (metric.remote or type(metric).run_info is not Metric.run_info):
        return False
    which = getattr(metric, "_which", None)
    try:  # GREEN with a local model is a model metric like the others
        return not (callable(which) and which() == "local")
    except Exception:
        return True


def _worker_env(ship_sys_path: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(FORWARD_PREFIXES)}
    if ship_sys_path:  # same machine: workers import exactly the driver's rexeval (and test helpers)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def _check_version(driver_version: str) -> None:
    from rexeval._version import __version__

    if __version__ != driver_version:
        raise RuntimeError(f"this worker has rexeval {__version__}, the driver {driver_version}: install the same version on every node")


class _Scorer:
    """Actor body: one metric, its models loaded on the first batch and kept."""

    def __init__(self, metric: Metric, driver_version: str) -> None:
        _check_version(driver_version)
        self.metric = metric
        metric.check_available()

    def score(self, batch: Batch) -> tuple[dict[str, np.ndarray], dict[str, Any] | None]:
        return _compute(self.metric, batch)

    def pid(self) -> int:
        return os.getpid()


def _score_task(metric: Metric, batch: Batch, driver_version: str) -> tuple[dict[str, np.ndarray], dict[str, Any] | None]:
    _check_version(driver_version)
    return _compute(metric, batch)


def _compute(metric: Metric, batch: Batch) -> tuple[dict[str, np.ndarray], dict[str, Any] | None]:
    """Columns of one batch, plus the metric's run accounting (a local GREEN's) when it keeps one."""
    columns = metric.compute(batch)
    return columns, metric.run_info() or None


def merge_run_info(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One run's accounting from its batches': counts add up, lists join (first 200), the rest is the first's."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key not in merged:
                merged[key] = list(value) if isinstance(value, list) else value
            elif isinstance(value, bool) or not isinstance(value, (int, float, list)):
                continue
            elif isinstance(value, list):
                merged[key] = (merged[key] + value)[:200]
            else:
                merged[key] = merged[key] + value
    return merged


class RayEngine:
    """Scores metrics on Ray. Use as a context manager around :func:`rexeval.run.scoring.score`::

        with RayEngine(RayOptions(workers=4, gpus_per_worker=1)) as engine:
            result = score(preds, refs, engine=engine)
    """

    name = "ray"

    def __init__(self, options: RayOptions | None = None) -> None:
        self.options = (options or RayOptions()).validate()
        #: Every study that failed in this engine's runs, by metric (also in each run's summary.json).
        self.failures: dict[str, list[Failure]] = {}
        self._ray: Any = None
        self._started_here = False
        self._actors: list[Any] = []  # every actor this run created (killed on exit)
        self._in_flight: dict[Any, Any] = {}

    # -- connection --------------------------------------------------------------------------
    def __enter__(self) -> RayEngine:
        ray = import_ray()
        self._ray = ray
        if not ray.is_initialized():
            import logging

            address = self.options.address or os.environ.get("RAY_ADDRESS")
            if address:
                try:
                    ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
                except (ConnectionError, RuntimeError, ValueError) as exc:
                    raise ConfigError(f"cannot join the Ray cluster at {address!r}: {one_line(exc)}") from None
            else:
                ray.init(num_cpus=self.options.num_cpus, include_dashboard=False,
                         logging_level=logging.WARNING, log_to_driver=False)
                self._started_here = True
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stop_all()
        if self._started_here:
            self._ray.shutdown()

    def _stop_all(self) -> None:
        ray = self._ray
        for ref in list(self._in_flight):
            try:
                ray.cancel(ref, force=True)
            except Exception:  # an actor task cannot be force-cancelled: killing its actor stops it
                pass
        self._in_flight.clear()
        for actor in self._actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:
                pass
        self._actors.clear()

    def _workers(self) -> int:
        if self.options.workers:
            return self.options.workers
        res = self._ray.cluster_resources()
        if self.options.gpus_per_worker:
            return max(1, int(res.get("GPU", 0) / self.options.gpus_per_worker))
        return max(1, int(res.get("CPU", 1) / self.options.cpus_per_worker))

    # -- the executor protocol (rexeval.engines.base) -----------------------------------------
    def run(self, metric: Metric, batch: Batch) -> MetricRun:
        """Per-study columns of ``metric`` over ``batch`` computed on Ray, and the studies that failed."""
        if self._ray is None:
            raise RuntimeError("use RayEngine as a context manager (with RayEngine(...) as engine: ...)")
        if runs_on_driver(metric):
            result = LocalExecutor().run(metric, batch)
        else:
            try:
                result = _MetricRun(self, metric, batch).run()
            except BaseException:  # Ctrl-C or a driver error: nothing of this run keeps running
                self._stop_all()
                raise
        if result.failures:
            self.failures.setdefault(metric.name, []).extend(result.failures)
        return result


@dataclass
class _Job:
    rows: list[int]
    actor: Any = None


@dataclass
class _MetricRun:
    """The batches of one metric: dispatch, collect, retry by splitting, fail studies, time out."""

    engine: RayEngine
    metric: Metric
    batch: Batch
    parts: list[tuple[list[int], dict[str, np.ndarray]]] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    run_infos: list[dict[str, Any]] = field(default_factory=list)

    def run(self) -> MetricRun:
        from rexeval._version import __version__

        eng, opts, ray = self.engine, self.engine.options, self.engine._ray
        n = len(self.batch)
        queue: deque[list[int]] = deque(
            list(range(s, min(s + opts.batch_size, n))) for s in range(0, n, opts.batch_size)
        )
        workers = min(eng._workers(), len(queue)) or 1
        ship = eng._started_here if opts.ship_sys_path is None else opts.ship_sys_path
        env = {"env_vars": _worker_env(ship)}
        metric_ref = ray.put(self.metric)
        with_actors = loads_models(self.metric)
        actors: list[Any] = []
        if with_actors:
            actor_cls = ray.remote(_Scorer).options(
                num_cpus=opts.cpus_per_worker, num_gpus=opts.gpus_per_worker or None,
                max_restarts=opts.max_retries, max_task_retries=opts.max_retries, runtime_env=env,
            )
        else:
            task = ray.remote(_score_task).options(
                num_cpus=opts.cpus_per_worker, num_gpus=opts.gpus_per_worker or None,
                max_retries=opts.max_retries, retry_exceptions=False, runtime_env=env,
            )

        def new_actor() -> Any:
            actor = actor_cls.remote(metric_ref, __version__)
            actors.append(actor)
            eng._actors.append(actor)
            return actor

        def load(actor: Any) -> int:
            return sum(1 for j in eng._in_flight.values() if j.actor is actor)

        def give_up(rows: list[int], reason: str) -> None:
            if len(rows) > 1:  # split: one bad study must not take the others with it
                queue.extendleft([r] for r in reversed(rows))
            else:
                self.failed.append(Failure(self.metric.name, rows[0], str(self.batch.study_ids[rows[0]]), reason))
                self._advance(1)

        def drop_actor(actor: Any) -> None:
            if actor in actors:
                actors.remove(actor)
                try:
                    ray.kill(actor, no_restart=True)
                except Exception:
                    pass

        for _ in range(workers if with_actors else 0):
            new_actor()
        try:
            while queue or eng._in_flight:
                if with_actors:
                    while len(actors) < min(workers, len(queue) + len(eng._in_flight)):
                        new_actor()
                    for actor in list(actors):
                        while queue and load(actor) < _DEPTH:
                            rows = queue.popleft()
                            eng._in_flight[actor.score.remote(sub_batch(self.batch, rows))] = _Job(rows, actor)
                else:
                    while queue and len(eng._in_flight) < workers:
                        rows = queue.popleft()
                        eng._in_flight[task.remote(metric_ref, sub_batch(self.batch, rows), __version__)] = _Job(rows)
                done, _ = ray.wait(list(eng._in_flight), num_returns=1, timeout=opts.timeout)
                if not done:  # stalled: give up on what is in flight, with fresh workers for the rest
                    stalled = list(eng._in_flight.items())
                    eng._in_flight.clear()
                    for ref, job in stalled:
                        if job.actor is not None:
                            drop_actor(job.actor)
                        else:
                            ray.cancel(ref, force=True)
                        give_up(job.rows, f"timeout: no batch finished within {opts.timeout:g} s")
                    continue
                for ref in done:
                    job = eng._in_flight.pop(ref)
                    try:
                        out, run_info = ray.get(ref)
                        self._accept(job.rows, out)
                        if run_info:
                            self.run_infos.append(run_info)
                    except ray.exceptions.RayActorError as exc:  # restarts used up
                        if getattr(exc, "actor_init_failed", False):  # the metric cannot load: no study can run
                            raise RexevalError(f"metric {self.metric.name!r} could not start on a Ray worker: {one_line(exc)}") from None
                        drop_actor(job.actor)
                        give_up(job.rows, one_line(exc))
                    except (ray.exceptions.RayError, ValueError) as exc:
                        cause = getattr(exc, "cause", None)
                        if isinstance(cause, RexevalError):  # about the run, not a study: stop it
                            raise cause from None
                        give_up(job.rows, one_line(exc))
        finally:
            for actor in list(actors):  # free their CPUs/GPUs for the next metric
                drop_actor(actor)
        return self._result()

    def _advance(self, k: int) -> None:
        if self.batch.progress:
            self.batch.progress(k)

    def _accept(self, rows: list[int], out: dict[str, Any]) -> None:
        self.parts.append((rows, checked_columns(self.metric, out, len(rows))))
        self._advance(len(rows))

    def _result(self) -> MetricRun:
        if self.run_infos and hasattr(self.metric, "_run_info"):
            # the driver's instance reports the run (summary_extra reads it), as after a local compute
            self.metric._run_info = merge_run_info(self.run_infos)
        return assemble(self.metric, len(self.batch), self.parts, self.failed)
