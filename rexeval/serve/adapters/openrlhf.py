"""OpenRLHF's ``--remote_rm_url`` protocol, served at ``POST /openrlhf``.

OpenRLHF 0.11.2 (``openrlhf/utils/agent.py``, ``SingleTurnAgentExecutor._fetch_rewards_via_http``)
posts ``{"query": [...], "prompts": [...], "labels": [...]}`` — ``query`` is prompt and response decoded
together *with* special tokens, ``labels`` the dataset's ``--label_key`` column (here: the reference
report) — and reads ``rewards``, ``scores`` (falling back to ``rewards``) and ``extra_logs`` from the
JSON answer, one number per query (its own ``openrlhf/cli/serve_rm.py`` answers lists). Each value
becomes ``torch.tensor([value])`` (``openrlhf/trainer/ppo_utils/samples_generator.py``,
``_process_response_into_experience``), so every value must be a number: a sample with no reward gets
the serve option ``failure_reward`` and ``extra_logs["reward_failed"] = 1`` (also counted on
``/metrics``), a component that failed gets ``failure_reward`` in its log and is counted the same way.

Run OpenRLHF with ``--remote_rm_url http://HOST:PORT/openrlhf --label_key reference``. OpenRLHF sends no
Authorization header, so keep a service it calls without ``--token-file`` on a private network.
"""

from __future__ import annotations

from typing import Any

from rexeval.serve.refusals import RequestRefused
from rexeval.serve.scoring import Sample


def response_text(query: str, prompt: str, strip: list[str]) -> str:
    """The response inside an OpenRLHF query: the query minus its prompt, minus trailing special tokens."""
    text = query[len(prompt):] if prompt and query.startswith(prompt) else query
    text = text.rstrip()
    stripped = True
    while stripped:
        stripped = False
        for suffix in strip:
            if suffix and text.endswith(suffix):
                text, stripped = text[: -len(suffix)].rstrip(), True
    return text.strip()


def parse_request(data: Any, state: Any) -> list[Sample]:
    if not isinstance(data, dict) or not isinstance(data.get("query"), list):
        raise RequestRefused(422, "invalid", 'the body must be {"query": [...], "prompts": [...], "labels": [...]}')
    queries = data["query"]
    n = len(queries)
    state.check_count(n)
    prompts = data.get("prompts") or [""] * n
    labels = data.get("labels")
    if not isinstance(labels, list) or len(labels) != n or not isinstance(prompts, list) or len(prompts) != n:
        raise RequestRefused(422, "invalid", f"{n} queries need {n} prompts and {n} labels (the reference "
                             "reports: run OpenRLHF with --label_key <reference column>)")
    samples = []
    for i in range(n):
        query = state.text(queries[i], f"query[{i}]")
        prompt = state.text(prompts[i], f"prompts[{i}]", required=False)
        reference = state.text(labels[i], f"labels[{i}]")
        samples.append(Sample(response_text(query, prompt, state.config.strip_suffixes), reference, prompt))
    return samples


def respond(results: list[dict[str, Any]], names: list[str], failure_reward: float) -> dict[str, Any]:
    def number(value: float | None) -> float:
        return float(failure_reward) if value is None else value

    rewards = [number(r["reward"]) for r in results]
    logs: dict[str, list[float]] = {
        name: [number(r["components"][name]["value"]) for r in results] for name in names
    }
    logs["reward_failed"] = [1.0 if r["failed"] else 0.0 for r in results]
    logs["components_failed"] = [float(len(r["failures"])) for r in results]
    return {"rewards": rewards, "scores": rewards, "extra_logs": logs}
