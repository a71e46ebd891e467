"""LLM judges over any OpenAI-compatible endpoint: configuration and a cached, fault-tolerant client (the error prompt and its parser live with the error metrics, rexeval/metrics/errors_llm/prompt.py and parser.py).

Reusable by any LLM-judged metric: build :class:`LLMRequest` objects (cache key parts + messages), give
:meth:`LLMClient.run` an ``accept`` parser, read per-request status/value and the run's accounting.
Importing this package imports no HTTP library; ``openai`` is imported when requests are sent.
"""

from rexeval.backends.llm.cache import AnswerCache, request_key
from rexeval.backends.llm.client import (
    LLMClient,
    LLMRequest,
    LLMResult,
    RunReport,
    UnparseableAnswer,
)
from rexeval.backends.llm.config import LLMConfig

__all__ = [
    "AnswerCache",
    "LLMClient",
    "LLMConfig",
    "LLMRequest",
    "LLMResult",
    "RunReport",
    "UnparseableAnswer",
    "request_key",
]
