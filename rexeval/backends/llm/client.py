"""Fault-tolerant, cached, rate-limited chat-completions calls for LLM judges.

One call does the whole job for a list of requests::

    client = LLMClient(LLMConfig.from_env(model="gpt-4o"))
    report = client.run([LLMRequest(key_parts, messages), ...], accept=parse_fn)
    report.results[i].value / .status / .failure ;  report.stats (tokens, cost, retries, failures)

- ``key_parts`` (any JSON value) identify an answer in the :class:`~rexeval.backends.llm.cache.AnswerCache`;
  include everything the answer depends on (model, prompt version/hash, inputs, sampling).
- ``accept(text)`` turns an answer into a value or raises :class:`UnparseableAnswer`; such an answer is
  re-requested at most ``parse_retries`` times and then recorded as a failure (never a default value).
- Transport faults (429, 5xx, timeouts, connection errors, malformed bodies) are retried at most
  ``max_retries`` times with exponential backoff and full jitter; a Retry-After header wins and pauses
  every worker, not just the one that got the 429.
- At most ``concurrency`` requests are in flight and at most ``rpm`` start per minute.
- 401/403/404 abort the run with a ConfigError (the key, deployment or model is wrong for every request),
  and so do the first 5 answers being rejections (HTTP 400/422) with no success (a refused parameter).

Every request ends as ``ok`` (answered now), ``cached`` or ``failed`` (with the reason): nothing is lost.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rexeval.backends.llm.cache import AnswerCache, CachedAnswer, request_key
from rexeval.backends.llm.config import LLMConfig
from rexeval.base.exceptions import ConfigError, MetricUnavailable, install_hint

#: Abort when this many requests were rejected (HTTP 4xx) before any succeeded.
REJECTED_ABORT = 5


class UnparseableAnswer(ValueError):
    """Raised by an ``accept`` function: the answer arrived but does not say what we asked."""


@dataclass(frozen=True)
class LLMRequest:
    key_parts: Any
    messages: list[dict[str, str]]


@dataclass
class LLMResult:
    status: str  # "ok" | "cached" | "failed"
    value: Any = None
    text: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: HTTP requests sent for this result in this run (0 when cached).
    requests: int = 0
    #: Why it failed: rate_limit, server_error, timeout, connection, malformed_response, bad_request,
    #: unparseable, empty_answer.
    failure: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass
class RunReport:
    results: list[LLMResult]
    stats: dict[str, Any] = field(default_factory=dict)


def require_openai() -> Any:
    try:
        import openai
    except ImportError:
        raise MetricUnavailable(
            "the LLM judge needs the 'openai' package", install_hint("llm")
        ) from None
    return openai


class _Fatal(Exception):
    pass


class _Transient(Exception):
    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind, self.retry_after = kind, retry_after


class _Limiter:
    """Concurrency slots + evenly spaced request starts (rpm) + a shared pause after a Retry-After."""

    def __init__(self, concurrency: int, rpm: float) -> None:
        self.slots = asyncio.Semaphore(max(1, concurrency))
        self.interval = 60.0 / rpm if rpm and rpm > 0 else 0.0
        self._next = 0.0
        self._pause_until = 0.0
        self._lock = asyncio.Lock()
        self.in_flight = 0
        self.max_in_flight = 0

    def pause(self, seconds: float) -> None:
        self._pause_until = max(self._pause_until, time.monotonic() + seconds)

    async def start(self) -> None:
        async with self._lock:
            now = time.monotonic()
            at = max(now, self._next, self._pause_until)
            self._next = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)


def _retry_after(headers: Any) -> float | None:
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
        value = headers.get("retry-after")
    except Exception:
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class LLMClient:
    """Send chat-completion requests with caching, limits, retries and accounting (see module doc)."""

    def __init__(self, config: LLMConfig, cache: AnswerCache | None | str = "default") -> None:
        self.config = config
        self.cache: AnswerCache | None = AnswerCache() if cache == "default" else cache  # type: ignore[assignment]
        #: every error text kept or raised goes through this: servers echo keys and URLs
        self._redact = config.redactor()

    # -- public API -------------------------------------------------------------------------------
    def run(
        self,
        requests: Sequence[LLMRequest],
        accept: Callable[[str], Any] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> RunReport:
        """Blocking wrapper around :meth:`arun` (works inside a running event loop too)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.arun(requests, accept, progress))
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self.arun(requests, accept, progress)).result()

    async def arun(
        self,
        requests: Sequence[LLMRequest],
        accept: Callable[[str], Any] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> RunReport:
        accept = accept or (lambda text: text)
        t0 = time.monotonic()
        keys = [request_key(r.key_parts) for r in requests]
        unique: dict[str, LLMRequest] = {}
        for k, r in zip(keys, requests):
            unique.setdefault(k, r)
        done: dict[str, LLMResult] = {}
        cached = self.cache.get_many(list(unique)) if self.cache is not None else {}
        for k, ans in cached.items():
            try:
                value = accept(ans.text)
            except UnparseableAnswer:
                continue  # e.g. a stricter parser now: ask again
            done[k] = LLMResult("cached", value, ans.text, ans.prompt_tokens, ans.completion_tokens)
        if progress and done:
            progress(sum(1 for k in keys if k in done))
        todo = [k for k in unique if k not in done]
        stats: Counter = Counter()
        limiter = _Limiter(self.config.concurrency, self.config.rpm)
        if todo:
            client = self._make_client()
            counts = Counter(keys)
            try:
                tasks = [
                    asyncio.create_task(self._one(client, limiter, k, unique[k], accept, stats)) for k in todo
                ]
                n_ok = n_rejected = 0
                try:
                    for fut in asyncio.as_completed(tasks):
                        key, result = await fut
                        done[key] = result
                        n_ok += result.ok
                        n_rejected += result.failure == "bad_request"
                        if n_rejected >= REJECTED_ABORT and not n_ok:
                            # e.g. a parameter this model refuses: every request would fail the same way
                            raise _Fatal(f"the LLM endpoint {self.config.endpoint_shown()} rejected the first "
                                         f"{n_rejected} requests and accepted none: {result.error}")
                        if progress:
                            progress(counts[key])
                except _Fatal as exc:
                    for t in tasks:
                        t.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                    raise ConfigError(str(exc)) from None
            finally:
                await client.close()
        results = [done[k] for k in keys]
        fresh = [done[k] for k in todo]
        prompt_tokens = sum(r.prompt_tokens for r in fresh)
        completion_tokens = sum(r.completion_tokens for r in fresh)
        report_stats = {
            "requests": len(requests),
            "unique_requests": len(unique),
            "cache_hits": len(unique) - len(todo),
            "http_requests": int(stats["http_requests"]),
            "retries": int(stats["retries"]),
            "parse_retries": int(stats["parse_retries"]),
            "transient_errors": {k[6:]: int(v) for k, v in sorted(stats.items()) if k.startswith("error:")},
            "failed": sum(1 for k in unique if done[k].status == "failed"),
            "failures": dict(Counter(done[k].failure for k in unique if done[k].status == "failed")),
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "cached_prompt_tokens": sum(done[k].prompt_tokens for k in unique if done[k].status == "cached"),
            "cached_completion_tokens": sum(
                done[k].completion_tokens for k in unique if done[k].status == "cached"
            ),
            "cost": (prompt_tokens * self.config.price_input + completion_tokens * self.config.price_output) / 1e6,
            "max_in_flight": limiter.max_in_flight,
            "seconds": round(time.monotonic() - t0, 3),
        }
        return RunReport(results, report_stats)

    # -- internals --------------------------------------------------------------------------------
    def _make_client(self) -> Any:
        openai = require_openai()
        c = self.config
        key = c.key() or "not-needed"  # local servers (llama.cpp, vLLM) accept any key
        if c.is_azure:
            return openai.AsyncAzureOpenAI(
                azure_endpoint=c.azure_endpoint, api_version=c.api_version or "2024-06-01", api_key=key,
                timeout=c.timeout, max_retries=0,
            )
        return openai.AsyncOpenAI(base_url=c.base_url, api_key=key, timeout=c.timeout, max_retries=0)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        c = self.config
        if retry_after is not None:
            return min(retry_after, c.retry_after_max) + random.uniform(0, 0.1 * c.backoff_base)
        cap = min(c.backoff_max, c.backoff_base * (2**attempt))
        return random.uniform(0.5 * cap, cap)  # jitter spreads the retries of concurrent workers

    async def _one(
        self, client: Any, limiter: _Limiter, key: str, req: LLMRequest, accept: Callable[[str], Any],
        stats: Counter,
    ) -> tuple[str, LLMResult]:
        c = self.config
        result = LLMResult("failed")
        for parse_attempt in range(c.parse_retries + 1):
            if parse_attempt:
                stats["parse_retries"] += 1
            got = await self._call(client, limiter, req, stats, result)
            if got is None:
                return key, result  # transport failure after bounded retries (result says why)
            text, pt, ct, model = got
            result.text = text
            if not text.strip():
                result.failure, result.error = "empty_answer", "the endpoint returned no text"
                continue
            try:
                value = accept(text)
            except UnparseableAnswer as exc:
                result.failure, result.error = "unparseable", self._redact(str(exc))
                continue
            result.status, result.value, result.failure, result.error = "ok", value, None, None
            if self.cache is not None:
                self.cache.put(key, CachedAnswer(text, pt, ct, model), req.key_parts)
            return key, result
        return key, result

    async def _call(
        self, client: Any, limiter: _Limiter, req: LLMRequest, stats: Counter, result: LLMResult
    ) -> tuple[str, int, int, str | None] | None:
        openai = require_openai()
        c = self.config
        kwargs: dict[str, Any] = {"model": c.model, "messages": req.messages, "temperature": c.temperature}
        if c.top_p is not None:
            kwargs["top_p"] = c.top_p
        if c.max_tokens is not None:
            kwargs["max_tokens"] = c.max_tokens
        if c.seed is not None:
            kwargs["seed"] = c.seed
        if c.json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        for attempt in range(c.max_retries + 1):
            if attempt:
                stats["retries"] += 1
            async with limiter.slots:
                await limiter.start()
                limiter.in_flight += 1
                limiter.max_in_flight = max(limiter.max_in_flight, limiter.in_flight)
                stats["http_requests"] += 1
                result.requests += 1
                try:
                    resp = await client.chat.completions.create(**kwargs)
                    text, pt, ct, model = _unpack(resp)
                    result.prompt_tokens += pt
                    result.completion_tokens += ct
                    return text, pt, ct, model
                except _Transient as exc:
                    err = exc
                except openai.RateLimitError as exc:
                    err = _Transient("rate_limit", str(exc), _retry_after(exc.response.headers))
                except openai.APITimeoutError as exc:
                    err = _Transient("timeout", str(exc))
                except openai.APIConnectionError as exc:
                    err = _Transient("connection", str(exc))
                except openai.APIStatusError as exc:
                    code = exc.status_code
                    if code in (401, 403, 404):
                        raise _Fatal(
                            f"the LLM endpoint {c.endpoint_shown()} answered HTTP {code} for model {c.model!r}: "
                            f"{self._redact(_short(exc))} (check the API key, model/deployment name and base URL)"
                        ) from None
                    if code >= 500 or code in (408, 409):
                        err = _Transient("server_error", f"HTTP {code}: {_short(exc)}",
                                         _retry_after(exc.response.headers))
                    else:  # 400/413/422: this request will never succeed as sent
                        result.failure, result.error = "bad_request", f"HTTP {code}: {self._redact(_short(exc))}"
                        return None
                except (openai.APIResponseValidationError, ValueError, KeyError, TypeError, AttributeError) as exc:
                    err = _Transient("malformed_response", f"{type(exc).__name__}: {exc}")
                finally:
                    limiter.in_flight -= 1
            stats[f"error:{err.kind}"] += 1
            result.failure, result.error = err.kind, (self._redact(str(err)) or "")[:500]
            if attempt < c.max_retries:
                delay = self._backoff(attempt, err.retry_after)
                if err.retry_after is not None:
                    limiter.pause(delay)
                await asyncio.sleep(delay)
        return None


def _unpack(resp: Any) -> tuple[str, int, int, str | None]:
    """(text, prompt tokens, completion tokens, model) of a chat completion; ValueError if malformed."""
    choices = getattr(resp, "choices", None)
    if not choices:
        raise _Transient("malformed_response", "the response has no choices")
    message = choices[0].message
    text = message.content if message is not None else None
    usage = getattr(resp, "usage", None)
    pt = int(getattr(usage, "prompt_tokens", 0) or 0) if usage is not None else 0
    ct = int(getattr(usage, "completion_tokens", 0) or 0) if usage is not None else 0
    return text or "", pt, ct, getattr(resp, "model", None)


def _short(exc: Exception) -> str:
    return str(exc).replace("\n", " ")[:300]
