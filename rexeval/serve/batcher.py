"""Dynamic batching: concurrent requests are merged into one engine call.

A batch is collected when a worker is free: every request waiting by then joins it (requests that
arrived while the previous batch ran), then those arriving within ``max_wait_s`` more, until it holds
``max_batch_size`` samples (a request is never split: one larger than that is a batch of its own). The
batch goes to ``score`` (a blocking function, run on one of ``workers`` threads: one for the local
engine, whose models are not shared between threads; one per replica with Ray) and each request gets
its own slice back. A batch that runs past ``timeout_s`` is given up on: its samples fail with that
reason and their requests are answered at once. The work itself cannot be interrupted in a thread; it
keeps the worker, so later batches queue behind it and time out the same way, and ``/health`` says
``stuck`` until it returns. With Ray the stuck replica is killed and replaced instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from rexeval.serve.scoring import Sample, failed_result


@dataclass
class _Pending:
    samples: Sequence[Sample]
    future: asyncio.Future


class DynamicBatcher:
    def __init__(
        self,
        score: Callable[[list[Sample]], list[dict[str, Any]]],
        names: list[str],
        max_batch_size: int,
        max_wait_s: float,
        timeout_s: float,
        dynamic: bool = True,
        workers: int = 1,
        on_batch: Callable[[int, int], None] | None = None,
        on_timeout: Callable[[], None] | None = None,
    ):
        self.score = score
        self.names = names
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.timeout_s = timeout_s
        self.dynamic = dynamic
        self.on_batch = on_batch
        self.on_timeout = on_timeout
        self._workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rexeval-score")
        self._queue: asyncio.Queue[_Pending] | None = None
        self._slots: asyncio.Semaphore | None = None
        self._task: asyncio.Task | None = None
        #: Start times of the batches running now (for /health's "stuck").
        self.running: dict[int, float] = {}

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._slots = asyncio.Semaphore(self._workers)
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def oldest_running_s(self) -> float:
        now = time.monotonic()
        return max((now - t for t in list(self.running.values())), default=0.0)

    async def submit(self, samples: Sequence[Sample]) -> list[dict[str, Any]]:
        assert self._queue is not None, "the batcher is not started"
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(samples, future))
        return await future

    async def _collect(self) -> list[_Pending]:
        assert self._queue is not None
        first = await self._queue.get()
        batch, size = [first], len(first.samples)
        if not self.dynamic:
            return batch
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_s
        while size < self.max_batch_size:
            try:
                nxt = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    nxt = await asyncio.wait_for(self._queue.get(), left)
                except asyncio.TimeoutError:
                    break
            if size + len(nxt.samples) > self.max_batch_size:
                # never split a request: it opens the next batch (put back at the front)
                self._queue._queue.appendleft(nxt)  # type: ignore[attr-defined]
                break
            batch.append(nxt)
            size += len(nxt.samples)
        return batch

    async def _loop(self) -> None:
        assert self._slots is not None
        while True:
            await self._slots.acquire()
            try:
                batch = await self._collect()
            except BaseException:
                self._slots.release()
                raise
            asyncio.get_running_loop().create_task(self._run(batch))

    def _finished(self, token: int, work: asyncio.Future) -> None:
        self.running.pop(token, None)
        if not work.cancelled():
            work.exception()  # retrieved: a batch that failed after its time-out is not logged as lost

    async def _run(self, batch: list[_Pending]) -> None:
        assert self._slots is not None
        loop = asyncio.get_running_loop()
        try:
            batch = [p for p in batch if not p.future.done()]  # a cancelled request is not scored
            flat = [s for p in batch for s in p.samples]
            if not flat:
                for p in batch:
                    if not p.future.done():
                        p.future.set_result([])
                return
            if self.on_batch is not None:
                self.on_batch(len(flat), len(batch))
            token = id(batch)
            self.running[token] = time.monotonic()
            work = loop.run_in_executor(self._executor, self.score, flat)
            # "running" until the thread returns, even after its requests were answered by the time-out
            work.add_done_callback(lambda f: self._finished(token, f))
            try:
                results = await asyncio.wait_for(asyncio.shield(work), self.timeout_s)
            except asyncio.TimeoutError:
                if self.on_timeout is not None:
                    self.on_timeout()
                results = [failed_result(self.names, f"batch timed out after {self.timeout_s:g} s")
                           for _ in flat]
            except Exception as exc:  # the engine itself broke (a metric's failures are per sample)
                results = [failed_result(self.names, f"scoring failed: {type(exc).__name__}: {exc}")
                           for _ in flat]
            start = 0
            for p in batch:
                part = results[start:start + len(p.samples)]
                start += len(p.samples)
                if not p.future.done():
                    p.future.set_result(part)
        finally:
            self._slots.release()
