"""A client for ``rexeval serve``: retries with exponential back-off, and a deadline after which the
samples of a call get no reward (``failed``, with the reason) and are counted in ``missing`` — a trainer
step never hangs on the service and never receives an invented number.

Retried: connection errors, time-outs, 429 and 5xx (a service still loading answers 503). Not retried:
401 (bad token), 413 (too large), 422 (malformed) — configuration mistakes, raised as
:class:`ServiceError` so they surface at the first step.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rexeval.base.exceptions import ConfigError
from rexeval.serve.scoring import failed_result

#: Environment variables the adapters read when no argument is given.
URL_ENV, TOKEN_FILE_ENV, CONFIG_ENV = "REXEVAL_REWARD_URL", "REXEVAL_REWARD_TOKEN_FILE", "REXEVAL_REWARD_CONFIG"


class ServiceError(ConfigError):
    """The service refused the request for a reason retrying cannot fix."""


def read_token(token_file: str | Path | None) -> str | None:
    if token_file is None:
        return None
    path = Path(token_file)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the token file ({exc.strerror or exc})") from None
    if not token:
        raise ConfigError(f"{path}: the token file is empty")
    return token


class RewardClient:
    """``score(samples)`` against ``POST {url}/score``; one result per sample, always.

    ``timeout`` bounds one HTTP attempt; ``deadline`` bounds the whole call, retries included.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        token_file: str | Path | None = None,
        timeout: float = 300.0,
        deadline: float | None = None,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ):
        url = url or os.environ.get(URL_ENV)
        if not url:
            raise ConfigError(f"no reward service URL: pass url= or set {URL_ENV}")
        self.url = url.rstrip("/")
        self.token = token or read_token(token_file or os.environ.get(TOKEN_FILE_ENV))
        self.timeout = float(timeout)
        self.deadline = float(deadline) if deadline is not None else self.timeout * (retries + 1)
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        #: Samples returned without a reward because the service did not answer in time.
        self.missing = 0
        #: HTTP attempts retried.
        self.retried = 0
        self._lock = threading.Lock()
        self._http = None
        self._names: list[str] | None = None
        self._weights: list[float] | None = None

    # -- plumbing ---------------------------------------------------------------------------------

    def _client(self):
        import httpx

        if self._http is None:
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            self._http = httpx.Client(headers=headers)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> RewardClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _request(self, method: str, path: str, payload: Any = None) -> Any:
        """The JSON answer, or None when the deadline passed; ServiceError on a refusal."""
        import httpx

        start = time.monotonic()
        last = "no attempt made"
        for attempt in range(self.retries + 1):
            left = self.deadline - (time.monotonic() - start)
            if left <= 0:
                break
            try:
                response = self._client().request(
                    method, self.url + path, json=payload, timeout=min(self.timeout, left))
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return response.json()
                detail = _error_text(response)
                if response.status_code in (401, 403, 404, 413, 422):
                    raise ServiceError(f"reward service {self.url}{path} refused the request "
                                       f"({response.status_code}): {detail}")
                last = f"HTTP {response.status_code}: {detail}"
            if attempt == self.retries:
                break
            with self._lock:
                self.retried += 1
            pause = min(self.max_backoff, self.backoff * 2 ** attempt) * (0.5 + random.random() / 2)
            time.sleep(max(0.0, min(pause, self.deadline - (time.monotonic() - start))))
        self.last_error = last
        return None

    # -- API --------------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        got = self._request("GET", "/config")
        if got is None:
            raise ServiceError(f"reward service {self.url} did not answer /config: {self.last_error}")
        self._names, self._weights = list(got["components"]), [float(w) for w in got["weights"]]
        return got

    @property
    def names(self) -> list[str]:
        if self._names is None:
            self.describe()
        return list(self._names or [])

    @property
    def weights(self) -> list[float]:
        if self._weights is None:
            self.describe()
        return list(self._weights or [])

    def health(self) -> dict[str, Any]:
        import httpx

        try:
            return self._client().get(self.url + "/health", timeout=self.timeout).json()
        except (httpx.HTTPError, ValueError) as exc:
            return {"status": "unreachable", "detail": str(exc)}

    def wait_ready(self, timeout: float = 600.0, poll: float = 0.5) -> None:
        """Block until /health says ready (models loaded), or raise ServiceError after ``timeout``."""
        end = time.monotonic() + timeout
        while True:
            got = self.health()
            if got.get("status") == "ready":
                return
            if got.get("status") == "failed" or time.monotonic() > end:
                raise ServiceError(f"reward service {self.url} is not ready: {got}")
            time.sleep(poll)

    def score(self, samples: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Results for ``samples`` (dicts with ``completion``, ``reference`` and optionally ``prompt``,
        ``id``, ``extra``); when the service does not answer by the deadline each sample's reward is
        None with the reason, and ``missing`` counts it."""
        samples = list(samples)
        if not samples:
            return []
        got = self._request("POST", "/score", {"samples": samples})
        if got is None:
            with self._lock:
                self.missing += len(samples)
            names = self._names or []
            reason = f"no answer from the reward service within {self.deadline:g} s ({self.last_error})"
            return [failed_result(names, reason) for _ in samples]
        return got["results"]


def _error_text(response: Any) -> str:
    try:
        return str(response.json().get("error", response.text))[:300]
    except ValueError:
        return response.text[:300]
