"""The reward service's parts without models: the dynamic batcher, the serve config, the OpenRLHF query
split, the adapters' result shapes and ``rexeval serve``'s refusals (exit 2, one line)."""

from __future__ import annotations

import asyncio
import math
import threading

import pytest

from rexeval.base.exceptions import ConfigError
from rexeval.serve.batcher import DynamicBatcher
from rexeval.serve.config import ServeConfig, check_servable, split_config
from rexeval.serve.scoring import Sample
from tests.helpers.cli import run_cli


class Recorder:
    """A score function that records the batches it was given and answers each sample on its own."""

    def __init__(self, delay: float = 0.0):
        self.calls: list[list[str]] = []
        self.delay = delay
        self.release = threading.Event()

    def __call__(self, samples):
        self.calls.append([s.completion for s in samples])
        if self.delay:
            self.release.wait(self.delay)
        return [{"reward": float(len(s.completion)), "failed": False, "components": {}, "failures": []}
                for s in samples]


def _run(batcher: DynamicBatcher, requests: list[list[str]]):
    async def go():
        batcher.start()
        try:
            return await asyncio.gather(*(batcher.submit([Sample(t, "r") for t in req]) for req in requests))
        finally:
            await batcher.stop()

    return asyncio.run(go())


REQUESTS = [["a"], ["bb", "ccc"], ["dddd"], ["eeeee", "ffffff"]]


def test_concurrent_requests_are_merged_and_each_gets_its_own_results():
    score = Recorder()
    batcher = DynamicBatcher(score, ["x"], max_batch_size=256, max_wait_s=0.5, timeout_s=30)
    got = _run(batcher, REQUESTS)
    assert score.calls == [["a", "bb", "ccc", "dddd", "eeeee", "ffffff"]]
    assert [[r["reward"] for r in part] for part in got] == [[1.0], [2.0, 3.0], [4.0], [5.0, 6.0]]


def test_requests_arriving_while_a_batch_runs_join_the_next_one_without_waiting():
    gate = threading.Event()
    calls: list[list[str]] = []

    def score(samples):
        calls.append([s.completion for s in samples])
        if len(calls) == 1:
            gate.wait(10)  # the first batch runs until the others have arrived
        return [{"reward": 1.0, "failed": False, "components": {}, "failures": []} for _ in samples]

    batcher = DynamicBatcher(score, ["x"], max_batch_size=256, max_wait_s=0, timeout_s=30)

    async def go():
        batcher.start()
        first = asyncio.create_task(batcher.submit([Sample("a", "r")]))
        while not calls:
            await asyncio.sleep(0.01)
        later = [asyncio.create_task(batcher.submit([Sample(t, "r")])) for t in ("b", "c", "d")]
        await asyncio.sleep(0.1)
        gate.set()
        await asyncio.gather(first, *later)
        await batcher.stop()

    asyncio.run(go())
    assert calls == [["a"], ["b", "c", "d"]]


def test_without_dynamic_batching_each_request_is_scored_alone():
    score = Recorder()
    batcher = DynamicBatcher(score, ["x"], max_batch_size=256, max_wait_s=0.5, timeout_s=30, dynamic=False)
    _run(batcher, REQUESTS)
    assert sorted(score.calls) == sorted([["a"], ["bb", "ccc"], ["dddd"], ["eeeee", "ffffff"]])


def test_a_batch_never_exceeds_max_batch_size_and_never_splits_a_request():
    score = Recorder()
    batcher = DynamicBatcher(score, ["x"], max_batch_size=3, max_wait_s=0.5, timeout_s=30)
    got = _run(batcher, [["a"], ["bb", "ccc"], ["dddd"], ["e", "f", "g", "h"], ["i"]])
    # a request larger than the limit is a batch of its own, never cut
    assert score.calls == [["a", "bb", "ccc"], ["dddd"], ["e", "f", "g", "h"], ["i"]]
    assert [len(part) for part in got] == [1, 2, 1, 4, 1]


def test_a_batch_past_its_timeout_fails_with_the_reason_instead_of_hanging():
    score = Recorder(delay=10)
    batcher = DynamicBatcher(score, ["bleu", "rouge_l"], max_batch_size=8, max_wait_s=0, timeout_s=0.2)
    try:
        (got,) = _run(batcher, [["a", "b"]])
    finally:
        score.release.set()
    assert [r["reward"] for r in got] == [None, None] and all(r["failed"] for r in got)
    assert got[0]["failures"] == [{"component": "*", "reason": "batch timed out after 0.2 s"}]
    assert got[0]["components"] == {"bleu": {"raw": None, "value": None}, "rouge_l": {"raw": None, "value": None}}


def test_an_engine_crash_fails_the_batch_with_the_reason():
    def broken(samples):
        raise MemoryError("out of memory")

    batcher = DynamicBatcher(broken, ["bleu"], max_batch_size=8, max_wait_s=0, timeout_s=5)
    (got,) = _run(batcher, [["a"]])
    assert got[0]["failed"] and "MemoryError: out of memory" in got[0]["failures"][0]["reason"]


def test_serve_config_reads_a_run_config_or_a_bare_reward_config():
    reward, options = split_config({"reward": {"components": ["bleu"]}, "serve": {"max_batch_size": 32},
                                    "model": {"name_or_path": "x"}})
    assert reward == {"components": ["bleu"]} and options.max_batch_size == 32
    reward, options = split_config({"components": ["bleu"], "serve": {"port": 9000}})
    assert reward == {"components": ["bleu"]} and options.port == 9000 and options.host == "127.0.0.1"
    with pytest.raises(ConfigError, match="unknown serve option"):
        ServeConfig.from_dict({"max_batch": 3})
    with pytest.raises(ConfigError, match="max_wait_s"):
        ServeConfig.from_dict({"max_wait_s": -1})


def test_normalisations_that_depend_on_other_requests_are_refused():
    check_servable({"components": ["bleu", {"metric": "rouge_l", "normalize": "none"}]})
    for how in ("group", "running"):
        with pytest.raises(ConfigError, match="normalize: none"):
            check_servable({"components": [{"metric": "bleu", "normalize": how}]})


def test_rexeval_serve_refuses_a_bad_config_in_one_line(tmp_path):
    config = tmp_path / "reward.yaml"
    config.write_text("reward:\n  components:\n    - {metric: bleu, normalize: running}\n")
    res = run_cli("serve", "-c", config, "--port", "0")
    assert res.returncode == 2 and "normalize: none" in res.stderr and "Traceback" not in res.stderr
    config.write_text("reward:\n  components: [no_such_metric]\n")
    res = run_cli("serve", "-c", config)
    assert res.returncode == 2 and "no_such_metric" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("serve", "-c", tmp_path / "missing.yaml")
    assert res.returncode == 2 and "missing.yaml" in res.stderr


def test_openrlhf_queries_are_split_into_the_response():
    from rexeval.serve.adapters.openrlhf import response_text
    from rexeval.serve.config import DEFAULT_STRIP_SUFFIXES

    strip = list(DEFAULT_STRIP_SUFFIXES)
    prompt = "<|im_start|>user\nFindings?<|im_end|>\n<|im_start|>assistant\n"
    assert response_text(prompt + "No effusion.<|im_end|>", prompt, strip) == "No effusion."
    assert response_text(prompt + "No effusion.<|im_end|><|endoftext|>", prompt, strip) == "No effusion."
    # a query that does not start with its prompt (a truncated prompt) is scored whole
    assert response_text("No effusion.</s>", "something else", strip) == "No effusion."


def test_numeric_protocols_flag_failures_instead_of_hiding_them():
    from rexeval.serve.adapters.common import flat_score
    from rexeval.serve.adapters.openrlhf import respond

    ok = {"reward": 0.5, "failed": False, "components": {"bleu": {"raw": 0.5, "value": 0.5},
                                                         "judge": {"raw": None, "value": None}},
          "failures": [{"component": "judge", "reason": "timeout"}]}
    bad = {"reward": None, "failed": True, "components": {"bleu": {"raw": None, "value": None},
                                                          "judge": {"raw": None, "value": None}},
           "failures": [{"component": "*", "reason": "batch timed out after 1 s"}]}
    body = respond([ok, bad], ["bleu", "judge"], failure_reward=-1.0)
    assert body["rewards"] == [0.5, -1.0] and body["extra_logs"]["reward_failed"] == [0.0, 1.0]
    assert body["extra_logs"]["judge"] == [-1.0, -1.0]
    flat = flat_score(ok, ["bleu", "judge"], 0.0, "score")
    assert flat["score"] == 0.5 and flat["reward_failed"] == 0.0 and math.isnan(flat["judge"])
    assert flat_score(bad, ["bleu", "judge"], 0.0, "overall")["reward_failed"] == 1.0


def test_the_adapters_need_a_url_or_a_config(monkeypatch):
    from rexeval.serve.adapters import verl

    monkeypatch.delenv("REXEVAL_REWARD_URL", raising=False)
    monkeypatch.delenv("REXEVAL_REWARD_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="REXEVAL_REWARD_URL"):
        verl.compute_score("src", "text", "reference")


def test_the_in_process_backend_scores_like_reward_suite(tmp_path, monkeypatch):
    """verl / EasyR1 with config= (no service): the engine in the reward worker's process."""
    from rexeval.rewards import RewardSuite
    from rexeval.serve.adapters import easyr1, verl

    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    config = tmp_path / "reward.yaml"
    config.write_text("reward:\n  components: [bleu, {metric: rouge_l, weight: 0.5}]\n")
    preds = ["The heart is normal.", "Small left effusion.", ""]
    refs = ["The heart is normal in size.", "Small left pleural effusion.", "No acute process."]
    expected = RewardSuite({"components": ["bleu", {"metric": "rouge_l", "weight": 0.5}]}).score(preds, refs).rewards
    got = verl.compute_score_batch(["d"] * 3, preds, refs, None, config=str(config))
    assert [g["score"] for g in got] == expected
    got = easyr1.compute_score([{"response": p, "ground_truth": r, "response_length": 1}
                                for p, r in zip(preds, refs, strict=True)], config=str(config))
    assert [g["overall"] for g in got] == expected


def test_import_rexeval_and_the_cli_load_no_server_stack():
    import subprocess
    import sys

    code = ("import sys, rexeval.cli, rexeval.serve.client, rexeval.serve.adapters.verl; "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'httpx', 'prometheus_client', 'ray') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_health_says_failed_when_a_component_cannot_score_the_warm_up_pair():
    from rexeval.serve.app import ServiceState

    class Broken:
        names = ["bleu", "judge"]

        def score(self, samples):
            return [{"reward": 0.5, "failed": False, "components": {},
                     "failures": [{"component": "judge", "reason": "model not found"}]} for _ in samples]

    state = ServiceState(Broken(), ServeConfig())
    state.warm_up()
    code, body = state.health()
    assert code == 503 and body["status"] == "failed" and "judge: model not found" in body["detail"]
