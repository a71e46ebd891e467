"""Where an LLM judge sends its requests, and how politely.

Every value comes from an explicit argument, else an environment variable, else a default, so the same
metric runs from Python, from ``rexeval score --llm-...`` flags (passed to the metrics as options; the
process environment is never written) and from CI. Nothing here talks to the network. The API key is held
as a :class:`~rexeval.backends.llm.redact.Secret` and never recorded; URLs are recorded without user info or query.

Environment variables (first one set wins):

- base URL: ``REXEVAL_LLM_BASE_URL``, ``OPENAI_BASE_URL``
- model:    ``REXEVAL_LLM_MODEL``
- API key:  ``REXEVAL_LLM_API_KEY``, ``OPENAI_API_KEY`` (``AZURE_OPENAI_API_KEY`` for Azure)
- Azure:    ``AZURE_OPENAI_ENDPOINT`` (or ``REXEVAL_LLM_AZURE_ENDPOINT``), ``OPENAI_API_VERSION``
  (or ``REXEVAL_LLM_API_VERSION``); the model is then the deployment name
- limits:   ``REXEVAL_LLM_CONCURRENCY``, ``REXEVAL_LLM_RPM``, ``REXEVAL_LLM_TIMEOUT``,
  ``REXEVAL_LLM_MAX_RETRIES``
- prices:   ``REXEVAL_LLM_PRICE_INPUT`` / ``REXEVAL_LLM_PRICE_OUTPUT`` in currency units per 1M tokens
- ``REXEVAL_LLM_JSON=1``: ask for a JSON object (structured output) instead of the two-line answer
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlsplit

from rexeval.backends.llm.redact import Redactor, Secret, redact_url, reveal
from rexeval.base.exceptions import ConfigError

#: Names of the environment variables read for each field, in priority order.
ENV: dict[str, tuple[str, ...]] = {
    "base_url": ("REXEVAL_LLM_BASE_URL", "OPENAI_BASE_URL"),
    "model": ("REXEVAL_LLM_MODEL",),
    "api_key": ("REXEVAL_LLM_API_KEY", "OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"),
    "azure_endpoint": ("REXEVAL_LLM_AZURE_ENDPOINT", "AZURE_OPENAI_ENDPOINT"),
    "api_version": ("REXEVAL_LLM_API_VERSION", "OPENAI_API_VERSION"),
    "concurrency": ("REXEVAL_LLM_CONCURRENCY",),
    "rpm": ("REXEVAL_LLM_RPM",),
    "timeout": ("REXEVAL_LLM_TIMEOUT",),
    "max_retries": ("REXEVAL_LLM_MAX_RETRIES",),
    "price_input": ("REXEVAL_LLM_PRICE_INPUT",),
    "price_output": ("REXEVAL_LLM_PRICE_OUTPUT",),
    "json_mode": ("REXEVAL_LLM_JSON",),
}


@dataclass(frozen=True)
class LLMConfig:
    """Endpoint, sampling and politeness settings of one judge run."""

    base_url: str | None = None
    model: str | None = None
    api_key: str | Secret | None = field(default=None, repr=False)
    #: Azure OpenAI: the resource endpoint (``https://NAME.openai.azure.com``) and API version.
    azure_endpoint: str | None = None
    api_version: str | None = None
    temperature: float = 0.0
    top_p: float | None = None
    max_tokens: int | None = 256
    #: Ask for a JSON object (``response_format={"type": "json_object"}``); only if the endpoint supports it.
    json_mode: bool = False
    seed: int | None = None
    #: Requests in flight at once, and requests started per minute (0 = no limit).
    concurrency: int = 8
    rpm: float = 0.0
    #: Seconds before one HTTP request is abandoned (and retried).
    timeout: float = 60.0
    #: Retries after the first attempt for 429 / 5xx / timeouts / connection errors / malformed bodies.
    max_retries: int = 6
    #: Extra requests for an answer that arrives but cannot be parsed.
    parse_retries: int = 2
    #: Exponential backoff: base * 2**attempt seconds, capped, with full jitter; Retry-After wins.
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    #: Longest Retry-After we honour (a server asking for an hour is treated as this).
    retry_after_max: float = 120.0
    #: Prices per 1M tokens (for the cost estimate in the summary; 0 = unknown).
    price_input: float = 0.0
    price_output: float = 0.0

    @property
    def is_azure(self) -> bool:
        return bool(self.azure_endpoint)

    @property
    def configured(self) -> bool:
        return bool((self.base_url or self.azure_endpoint) and self.model)

    @classmethod
    def from_env(cls, **explicit: Any) -> LLMConfig:
        """Explicit (non-None) values, then environment variables, then defaults."""
        names = {f.name: f for f in fields(cls)}
        unknown = set(explicit) - set(names)
        if unknown:
            raise ConfigError(f"unknown LLM option(s): {', '.join(sorted(unknown))}; known: {', '.join(names)}")
        values: dict[str, Any] = {}
        for name, f in names.items():
            value = explicit.get(name)
            if value is None:
                for var in ENV.get(name, ()):
                    if os.environ.get(var):
                        value = os.environ[var]
                        break
            if value is None:
                continue
            values[name] = _coerce(name, value, f.default)
        if values.get("api_key") is not None and not isinstance(values["api_key"], Secret):
            values["api_key"] = Secret(str(values["api_key"]))
        return cls(**values)

    def require_endpoint(self, who: str = "the LLM judge") -> None:
        """Fail fast (ConfigError, exit 2) when there is nowhere to send requests."""
        if self.configured:
            return
        missing = []
        if not (self.base_url or self.azure_endpoint):
            missing.append("an endpoint (--llm-base-url or REXEVAL_LLM_BASE_URL / OPENAI_BASE_URL; "
                           "Azure: AZURE_OPENAI_ENDPOINT)")
        if not self.model:
            missing.append("a model (--llm-model or REXEVAL_LLM_MODEL; Azure: the deployment name)")
        raise ConfigError(f"{who} needs {' and '.join(missing)}; no request was sent")

    def with_(self, **changes: Any) -> LLMConfig:
        return replace(self, **changes)

    def public(self) -> dict[str, Any]:
        """Settings safe to record in a run: no key, URLs without user info or query string."""
        d = asdict(self)
        d.pop("api_key")
        d["base_url"], d["azure_endpoint"] = redact_url(self.base_url), redact_url(self.azure_endpoint)
        return d

    def endpoint(self) -> str:
        """The endpoint URL as configured (with any credentials: for the HTTP client only)."""
        return self.azure_endpoint or self.base_url or ""

    def endpoint_shown(self) -> str:
        """The endpoint for messages and records: credentials removed."""
        return redact_url(self.endpoint()) or ""

    def host(self) -> str:
        """``host[:port]`` of the endpoint (what a signature records), never user info."""
        try:
            parts = urlsplit(self.endpoint())
            host, port = parts.hostname or "", parts.port
        except ValueError:
            return ""
        return host + (f":{port}" if port else "")

    def key(self) -> str | None:
        return reveal(self.api_key)

    def redactor(self) -> Redactor:
        """Masks this configuration's key and URL credentials in free text (server error messages)."""
        return Redactor([self.api_key], [self.base_url, self.azure_endpoint])


def _coerce(name: str, value: Any, default: Any) -> Any:
    if isinstance(value, str) and not isinstance(default, str) and default is not None:
        try:
            if isinstance(default, bool):
                return value.strip().lower() in {"1", "true", "yes", "on"}
            if isinstance(default, int):
                return int(value)
            if isinstance(default, float):
                return float(value)
        except ValueError:
            raise ConfigError(f"LLM option {name} must be a number, not {value!r}") from None
    if name in {"concurrency"} and int(value) < 1:
        raise ConfigError("LLM concurrency must be >= 1")
    return value


#: ``rexeval score`` flag -> the LLMConfig field it sets for every LLM-judged metric in the run.
CLI_FIELDS = {
    "llm_base_url": "base_url",
    "llm_model": "model",
    "llm_api_key": "api_key",
    "llm_concurrency": "concurrency",
    "llm_rpm": "rpm",
    "llm_timeout": "timeout",
    "llm_max_retries": "max_retries",
    "llm_json": "json_mode",
}
#: The fields that are request politeness, not the judge's identity (GREEN takes only these).
LIMIT_FIELDS = ("concurrency", "rpm", "timeout", "max_retries")


def cli_options(**flags: Any) -> dict[str, Any]:
    """The ``--llm-*`` flags that were given, as LLMConfig fields (the key wrapped as a Secret).

    They are passed to the metrics explicitly; nothing is written to ``os.environ``, so the key is not
    inherited by child processes.
    """
    out: dict[str, Any] = {}
    for name, value in flags.items():
        if value is None or value is False:
            continue
        out[CLI_FIELDS[name]] = Secret(str(value)) if name == "llm_api_key" else value
    return out


#: The LLM-judged metrics that take the whole judge configuration from the ``--llm-*`` flags.
JUDGE_METRICS = ("errors_llm", "crimson")
#: GREEN's own endpoint variable: when set, GREEN keeps its endpoint (a server of the GREEN model).
GREEN_BASE_URL_ENV = "REXEVAL_GREEN_BASE_URL"


def llm_metric_options(**flags: Any) -> dict[str, dict[str, Any]]:
    """``metric_options`` for ``score()`` from the ``--llm-*`` flags: one set of endpoint flags for every
    LLM metric. errors_llm and crimson take the whole judge configuration; GREEN takes the request limits
    and, unless it has an endpoint of its own (``REXEVAL_GREEN_BASE_URL``), the endpoint, model and key.
    A metric's own ``--option`` (merged after these) still wins."""
    opts = cli_options(**flags)
    out: dict[str, dict[str, Any]] = {}
    if opts:
        for name in JUDGE_METRICS:
            out[name] = dict(opts)
    green: dict[str, Any] = {}
    limits = {k: v for k, v in opts.items() if k in LIMIT_FIELDS}
    if limits:
        green["llm_limits"] = limits
    if "base_url" in opts and not os.environ.get(GREEN_BASE_URL_ENV):
        green.update({k: opts[k] for k in ("base_url", "model", "api_key") if k in opts})
    if green:
        out["green"] = green
    return out
