"""The FastAPI application of ``rexeval serve``.

Endpoints (all JSON except ``/metrics``):

``POST /score``
    ``{"samples": [{"completion", "reference", "prompt"?, "id"?, "extra"?}, ...]}`` →
    ``{"results": [{"reward", "failed", "components": {name: {"raw", "value"}}, "failures"}]}``.
``POST /openrlhf``
    OpenRLHF's ``--remote_rm_url`` protocol: ``{"query", "prompts", "labels"}`` →
    ``{"rewards", "scores", "extra_logs"}`` (see :mod:`rexeval.serve.adapters.openrlhf`).
``GET /config``
    component names, weights, the suite's signature.
``GET /health``
    ``ready`` (200) once every model is loaded; ``loading`` / ``failed`` / ``stuck`` (503) otherwise.
    Open without the token, so a load balancer can probe it.
``GET /metrics``
    Prometheus text.

With a token configured every endpoint but ``/health`` needs ``Authorization: Bearer <token>`` (401).
Bodies over ``max_body_bytes``, more than ``max_request_samples`` samples or a text over
``max_text_chars`` characters are refused (413) naming the sample and field; malformed bodies get 422.
"""

# no `from __future__ import annotations`: FastAPI reads the endpoints' annotations (Request) at runtime


import asyncio
import hmac
import json
import threading
import time
from typing import Any

from rexeval.serve.batcher import DynamicBatcher
from rexeval.serve.config import ServeConfig
from rexeval.serve.refusals import RequestRefused
from rexeval.serve.scoring import Sample
from rexeval.serve.telemetry import Telemetry

#: A short pair scored at start-up so every model is loaded before /health says ready.
WARM_UP = Sample("No acute cardiopulmonary process.", "No acute cardiopulmonary abnormality.")


class ServiceState:
    """What the application holds: the scorer backend, the batcher, counters and readiness."""

    def __init__(self, backend: Any, config: ServeConfig, token: str | None = None):
        self.backend = backend
        self.config = config
        self.token = token
        self.names: list[str] = list(backend.names)
        self.telemetry = Telemetry(self.names)
        self.status = "loading"
        self.detail = ""
        self.batcher = DynamicBatcher(
            # a backend that enforces batch_timeout_s itself (Ray replicas) gets a grace period here
            backend.score, self.names, config.max_batch_size, config.max_wait_s,
            config.batch_timeout_s + (30.0 if getattr(backend, "enforces_timeout", False) else 0.0),
            dynamic=config.dynamic_batching, workers=getattr(backend, "workers", 1),
            on_batch=self._on_batch, on_timeout=self.telemetry.batch_timeouts.inc,
        )

    def _on_batch(self, samples: int, requests: int) -> None:
        self.telemetry.batches.observe(samples)
        self.telemetry.requests_per_batch.observe(requests)

    def warm_up(self) -> None:
        try:
            if hasattr(self.backend, "warm_up"):
                results = self.backend.warm_up(WARM_UP)
            else:
                results = self.backend.score([WARM_UP])
        except Exception as exc:  # reported on /health; requests are refused with the reason
            self.status, self.detail = "failed", f"{type(exc).__name__}: {exc}"
            return
        failures = [f for r in results for f in r["failures"]]
        if failures:  # a component that cannot score a plain pair (its model would not load) fails them all
            self.status = "failed"
            self.detail = "; ".join(f"{f['component']}: {f['reason']}" for f in failures)
            return
        self.status = "ready"

    def health(self) -> tuple[int, dict[str, Any]]:
        status, detail = self.status, self.detail
        oldest = self.batcher.oldest_running_s()
        if status == "ready" and oldest > self.config.batch_timeout_s:
            status, detail = "stuck", f"a batch has been running for {oldest:.0f} s"
        body = {"status": status, "components": self.names}
        if detail:
            body["detail"] = detail
        return (200 if status == "ready" else 503), body

    # -- requests ---------------------------------------------------------------------------------

    def check_token(self, header: str | None) -> None:
        if self.token is None:
            return
        given = (header or "").removeprefix("Bearer ").strip() if header and header.startswith("Bearer ") else ""
        if not given or not hmac.compare_digest(given.encode(), self.token.encode()):
            raise RequestRefused(401, "auth", "a valid 'Authorization: Bearer <token>' header is required")

    def check_ready(self) -> None:
        if self.status != "ready":
            raise RequestRefused(503, "not_ready", f"the reward service is {self.status}"
                                 + (f": {self.detail}" if self.detail else ""))

    def parse_json(self, body: bytes) -> Any:
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RequestRefused(422, "invalid", f"the body is not JSON ({exc})") from None

    def check_count(self, n: int) -> None:
        if n > self.config.max_request_samples:
            raise RequestRefused(413, "too_many_samples", f"{n} samples in one request; at most "
                                 f"{self.config.max_request_samples} (serve option max_request_samples)")

    def text(self, value: Any, where: str, required: bool = True) -> str:
        from rexeval.rewards import completion_text

        if value is None and not required:
            return ""
        if not isinstance(value, (str, list, dict)):
            raise RequestRefused(422, "invalid", f"{where}: expected text, got {type(value).__name__}")
        text = value if isinstance(value, str) else completion_text(value)
        if len(text) > self.config.max_text_chars:
            raise RequestRefused(413, "text_too_long", f"{where}: {len(text)} characters; at most "
                                 f"{self.config.max_text_chars} (serve option max_text_chars)")
        return text

    def samples_from_score_body(self, data: Any) -> list[Sample]:
        if not isinstance(data, dict) or not isinstance(data.get("samples"), list):
            raise RequestRefused(422, "invalid", "the body must be {\"samples\": [...]}")
        items = data["samples"]
        self.check_count(len(items))
        samples = []
        for i, item in enumerate(items):
            where = f"samples[{i}]"
            if not isinstance(item, dict):
                raise RequestRefused(422, "invalid", f"{where}: expected an object")
            for key in ("completion", "reference"):
                if key not in item:
                    raise RequestRefused(422, "invalid", f"{where}: missing {key!r}")
            extra = item.get("extra") or {}
            if not isinstance(extra, dict) or not all(
                    v is None or isinstance(v, (str, int, float, bool)) for v in extra.values()):
                raise RequestRefused(422, "invalid", f"{where}.extra: expected an object of scalars")
            for key, value in extra.items():
                if isinstance(value, str):
                    self.text(value, f"{where}.extra.{key}")
            samples.append(Sample(
                self.text(item["completion"], f"{where}.completion"),
                self.text(item["reference"], f"{where}.reference"),
                self.text(item.get("prompt"), f"{where}.prompt", required=False),
                None if item.get("id") is None else str(item["id"]),
                extra,
            ))
        return samples

    async def score(self, samples: list[Sample]) -> list[dict[str, Any]]:
        results = await self.batcher.submit(samples)
        t = self.telemetry
        t.samples.inc(len(samples))
        for result in results:
            if result["failed"]:
                t.samples_failed.inc()
            for failure in result["failures"]:
                names = self.names if failure["component"] == "*" else [failure["component"]]
                for name in names:
                    t.component_failures.labels(component=name).inc()
        return results


def create_app(backend: Any, config: ServeConfig, token: str | None = None, warm_up: bool = True):
    """The application around a scorer backend (:class:`RewardScorer` or Ray replicas)."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response

    state = ServiceState(backend, config, token)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state.batcher.start()
        if warm_up:  # models load in the background; /health says "loading" until they have
            threading.Thread(target=state.warm_up, name="rexeval-warm-up", daemon=True).start()
        else:
            state.status = "ready"
        yield
        await state.batcher.stop()
        close = getattr(backend, "close", None)
        if close is not None:
            close()

    app = FastAPI(title="rexeval reward service", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.rexeval = state

    def refused(endpoint: str, exc: RequestRefused) -> JSONResponse:
        state.telemetry.rejected.labels(reason=exc.reason).inc()
        state.telemetry.requests.labels(endpoint=endpoint, status=str(exc.status)).inc()
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=headers)

    async def read_body(request: Request) -> bytes:
        limit = config.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise RequestRefused(413, "body_too_large", f"the body has {declared} bytes; at most {limit} "
                                 "(serve option max_body_bytes)")
        body = bytearray()
        async for chunk in request.stream():  # a chunked body is counted as it arrives
            body.extend(chunk)
            if len(body) > limit:
                raise RequestRefused(413, "body_too_large", f"the body has more than {limit} bytes "
                                     "(serve option max_body_bytes)")
        return bytes(body)

    async def guarded(endpoint: str, request: Request, handle) -> Any:
        start = time.perf_counter()
        try:
            state.check_token(request.headers.get("authorization"))
            body = await read_body(request)
            state.check_ready()
            answer = await handle(state.parse_json(body))
        except RequestRefused as exc:
            return refused(endpoint, exc)
        state.telemetry.observe_latency(endpoint, time.perf_counter() - start)
        state.telemetry.requests.labels(endpoint=endpoint, status="200").inc()
        return JSONResponse(answer)

    @app.post("/score")
    async def score(request: Request):
        async def handle(data: Any) -> dict[str, Any]:
            return {"results": await state.score(state.samples_from_score_body(data))}

        return await guarded("score", request, handle)

    @app.post("/openrlhf")
    async def openrlhf(request: Request):
        from rexeval.serve.adapters.openrlhf import parse_request, respond

        async def handle(data: Any) -> dict[str, Any]:
            samples = parse_request(data, state)
            return respond(await state.score(samples), state.names, config.failure_reward)

        return await guarded("openrlhf", request, handle)

    @app.get("/config")
    async def describe(request: Request):
        try:
            state.check_token(request.headers.get("authorization"))
        except RequestRefused as exc:
            return refused("config", exc)
        return JSONResponse(backend.describe())

    @app.get("/health")
    async def health():
        code, body = state.health()
        return JSONResponse(body, status_code=code)

    @app.get("/metrics")
    async def metrics(request: Request):
        try:
            state.check_token(request.headers.get("authorization"))
        except RequestRefused as exc:
            return refused("metrics", exc)
        payload, content_type = await asyncio.to_thread(state.telemetry.render)
        return Response(payload, media_type=content_type)

    return app
