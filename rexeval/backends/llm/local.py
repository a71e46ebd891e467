"""A judge run on this machine (GREEN's or CRIMSON's local model), through rexeval's answer cache.

Endpoint judges go through :class:`rexeval.backends.llm.client.LLMClient`; a local judge has no HTTP to retry, so
what is left is the cache: each distinct request is generated once, readable answers are stored (an
unreadable one is generated again on the next run) and unreadable ones become failures, never zeros.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rexeval.backends.llm.cache import CachedAnswer
from rexeval.backends.llm.client import LLMResult, UnparseableAnswer


def answer_locally(
    keys: Sequence[str],
    key_parts: Sequence[dict[str, Any]],
    prompts: Sequence[Any],
    generate: Callable[[list[Any]], list[str]],
    parse: Callable[[str], Any],
    cache: Any,
    tag: str,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[LLMResult], dict[str, int]]:
    """One result per request. ``keys[i]`` is the cache key of request i (built from ``key_parts[i]``);
    ``generate`` answers a list of ``prompts``; ``parse`` raises :class:`UnparseableAnswer` on an answer it
    cannot read; ``tag`` (the model's revision) is stored with each answer."""
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        first.setdefault(key, i)
    answers: dict[str, tuple[str, str]] = {}
    if cache is not None:
        for key, ans in cache.get_many(list(first)).items():
            answers[key] = ("cached", ans.text)
    todo = [key for key in first if key not in answers]
    if progress:  # repeats and cached answers now; the rest as they are generated
        progress(len(keys) - len(todo))
    if todo:
        texts = generate([prompts[first[key]] for key in todo])
        answers.update((key, ("ok", text)) for key, text in zip(todo, texts, strict=True))
    results = []
    for key in keys:
        status, text = answers[key]
        try:
            value = parse(text)
        except UnparseableAnswer as exc:
            results.append(LLMResult("failed", None, text, failure="unparseable", error=str(exc)))
            continue
        if status == "ok" and cache is not None:
            cache.put(key, CachedAnswer(text, 0, 0, tag), key_parts[first[key]])
            answers[key] = ("cached", text)  # stored once; a repeat in this batch reads it
        results.append(LLMResult(status, value, text))
    return results, {"requests": len(keys), "generated": len(todo), "cached": len(first) - len(todo)}
