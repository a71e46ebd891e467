"""``errors_llm``: CheXprompt-style clinical error counts from an LLM judge (docs/metrics.md §8).

Any OpenAI-compatible chat-completions endpoint (OpenAI, Azure OpenAI, vLLM, llama.cpp, ...) judges each
(reference, candidate) pair with this project's prompt (or the official ``chexprompt`` prompt when that
package is installed). Answers are cached on disk, so a rerun costs no request and a killed run resumes.
An answer that cannot be parsed after the bounded retries is a recorded failure: NaN in every count,
``errors_llm_parse_ok`` = 0, left out of the means and shares and counted in ``n_failed``. Never zero.

Not in the default set: it costs money and needs an endpoint (see :mod:`rexeval.backends.llm.config`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rexeval.metrics.base import Aggregate, Batch, Metric, Output
from rexeval.metrics.error_schema import columns_from_counts, error_outputs

PREFIX = "errors_llm_"


def _n_failed_of(column: str) -> Aggregate:
    def stats(cols: Any) -> np.ndarray:
        x = np.asarray(cols[column], dtype=float)
        return (x == 0).astype(float)[:, None]

    return Aggregate("count", stats, lambda s: s[..., 0])


class ErrorsLLM(Metric):
    name = "errors_llm"
    default = False
    description = "CheXprompt-schema clinical error counts (A-F x significant/insignificant) from an LLM judge"

    def __init__(
        self,
        prompt: str = "rexeval",
        strict: bool = False,
        cache: Any = "default",
        **llm: Any,
    ) -> None:
        from rexeval.backends.llm.config import LLMConfig

        self.prompt_name = prompt
        self.strict = strict
        self._cache = cache
        self.config = LLMConfig.from_env(**llm)
        self._prompt: Any = None
        self._run_info: dict[str, Any] = {}

    # -- protocol ---------------------------------------------------------------------------------
    def outputs(self) -> list[Output]:
        outs = error_outputs(PREFIX, "LLM judge")
        outs.append(Output(f"{PREFIX}n_failed", False, (0.0, float("inf")), _n_failed_of(f"{PREFIX}parse_ok"),
                           "LLM judge: studies recorded as failed (no parseable answer after the retries)",
                           per_study=False))
        return outs

    def check_available(self) -> None:
        from rexeval.backends.llm.client import require_openai

        self.config.require_endpoint("metric errors_llm")  # ConfigError: fail fast, exit 2
        require_openai()
        self.prompt()  # MetricUnavailable when --prompt chexprompt is not installed

    def prompt(self) -> Any:
        if self._prompt is None:
            from rexeval.metrics.errors_llm.prompt import get_prompt

            self._prompt = get_prompt(self.prompt_name, json_mode=self.config.json_mode)
        return self._prompt

    def options(self) -> dict[str, Any]:
        c = self.config
        opts: dict[str, Any] = {"judge": c.model or "unset"}
        if c.endpoint():
            opts["host"] = c.host() or c.endpoint_shown()  # never user info or a query string
        try:
            p = self.prompt()
            opts["prompt"] = p.version
            opts["prompt_sha"] = p.sha256[:12]
        except Exception:  # options() must not fail when only listing outputs
            opts["prompt"] = self.prompt_name
        opts.update({"t": c.temperature, "top_p": c.top_p if c.top_p is not None else "default",
                     "max_tokens": c.max_tokens, "json": c.json_mode, "strict": self.strict})
        return opts

    def versions(self) -> dict[str, str]:
        try:
            import openai

            return {"openai": openai.__version__}
        except ImportError:
            return {}

    def run_info(self) -> dict[str, Any]:
        """Requests, retries, failures, tokens and cost of the last ``compute``."""
        return self._run_info

    def summary_extra(self, columns: Any) -> dict[str, Any]:
        """summary.json -> ``metric_runs.errors_llm`` (through scoring's per-metric summary hook)."""
        return {"metric_runs": {self.name: self._run_info}} if self._run_info else {}

    def key_parts(self, reference: str, candidate: str) -> dict[str, Any]:
        """What an answer depends on: judge model, prompt identity, sampling, and the two texts."""
        c, p = self.config, self.prompt()
        return {
            "judge": "errors_llm", "model": c.model, "prompt": p.version, "prompt_sha": p.sha256,
            "temperature": c.temperature, "top_p": c.top_p, "max_tokens": c.max_tokens, "seed": c.seed,
            "json": c.json_mode, "reference": reference, "candidate": candidate,
        }

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        from rexeval.backends.llm.client import LLMClient, LLMRequest
        from rexeval.metrics.errors_llm.parser import parse_errors

        self.check_available()
        prompt = self.prompt()
        requests = [
            LLMRequest(self.key_parts(ref, cand), prompt.messages(ref, cand))
            for ref, cand in zip(batch.references, batch.predictions)
        ]
        client = LLMClient(self.config, cache=self._cache)
        report = client.run(requests, accept=lambda text: parse_errors(text, strict=self.strict),
                            progress=batch.progress)
        counts = np.full((len(batch), 12), np.nan)
        parse_ok = np.zeros(len(batch))
        failures: list[dict[str, Any]] = []
        n_missing = 0
        for i, res in enumerate(report.results):
            if res.ok:
                counts[i] = res.value.counts()
                parse_ok[i] = 1.0
                n_missing += bool(res.value.missing)
            else:
                failures.append({"study_id": str(batch.study_ids[i]), "reason": res.failure,
                                 "error": (res.error or "")[:200]})
        out = columns_from_counts(PREFIX, counts)
        out[f"{PREFIX}parse_ok"] = parse_ok
        cfg = self.config.public()
        self._run_info = {
            **report.stats,
            "n_studies": len(batch),
            "n_failed_studies": len(failures),
            "answers_with_missing_letters_counted_0": n_missing,
            "failed_studies": failures[:200],
            "config": {k: cfg[k] for k in ("base_url", "azure_endpoint", "model", "temperature", "top_p",
                                           "max_tokens", "json_mode", "concurrency", "rpm", "timeout",
                                           "max_retries", "parse_retries", "price_input", "price_output")},
        }
        return out
