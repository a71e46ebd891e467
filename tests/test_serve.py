"""``rexeval serve`` end to end (issue 23's acceptance): a server started as a user would start it, with
BLEU, ROUGE-L, errors_struct, a random-weight BERTScore stand-in and a metric that raises or hangs on
demand (tests/helpers/serve_faults.py), answers a verl batch, an OpenRLHF request, EasyR1 and TRL calls
with exactly the rewards the same config gives in this process; a killed client, oversize requests, a
bad token, a raising metric and a stuck batch behave as docs/serve.md says.

The trainers' calling code: TRL 1.16.0 is installed and called for real (``GRPOTrainer._calculate_rewards``
on a stand-in trainer object holding only the attributes that method reads). verl, OpenRLHF and EasyR1
do not install beside rexeval's stack (openrlhf 0.11.2 pins flash-attn 2.8.3, deepspeed, ray 2.55 and
transformers 5.15; verl 0.9.1 needs transformers < 5.11 and tensordict; EasyR1 is installed from its git
checkout): their calls are reproduced from their sources, cited where each call is made.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from tests.helpers.cli import ROOT, run_cli
from tests.helpers.paths import SHARED

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
import httpx  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHARED / "data" / "tokenizers" / "roberta-base").is_dir(),
                       reason="the BERTScore stand-in needs the shared roberta-base tokenizer files"),
]

REWARD = {
    "components": [
        "bleu",
        "rouge_l",
        {"metric": "errors_struct", "weight": 0.5},
        {"metric": "bertscore", "weight": 1.0},
        {"metric": "test_faulty", "weight": 0.25},
    ],
    "plugins": {"test_faulty": "tests.helpers.serve_faults:Faulty"},
}
SERVE = {"max_wait_s": 0.02, "max_request_samples": 64, "max_text_chars": 4000,
         "max_body_bytes": 300_000, "batch_timeout_s": 30}
TOKEN = "s3cret-token-for-tests"


def _pairs() -> tuple[list[str], list[str]]:
    """8 references x 8 different completions: 64 distinct pairs, a GRPO batch of 8 groups of 8."""
    df = pd.read_csv(ROOT / "examples" / "example_preds.csv", keep_default_na=False)  # an empty report stays ""
    preds, refs = list(df["prediction"]), list(df["reference"])
    completions, references = [], []
    for j in range(8):
        for k in range(8):
            completions.append(preds[(j + 3 * k) % len(preds)])
            references.append(refs[j])
    return completions, references


COMPLETIONS, REFERENCES = _pairs()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _models_env(tmp: Path, hub: Path, cache: str) -> dict[str, str]:
    return {"HF_HUB_CACHE": str(hub), "HF_HUB_OFFLINE": "1", "REXEVAL_CACHE": str(tmp / cache),
            "REXEVAL_DISTILROBERTA_DIR": ""}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    hub = tmp / "hub"
    made = run_cli("models", "random", "distilroberta-base", "--size", "small", "-o", hub)
    assert made.returncode == 0, made.stderr
    import yaml

    config = tmp / "reward.yaml"
    config.write_text(yaml.safe_dump({"reward": REWARD, "serve": SERVE}))
    token_file = tmp / "token"
    token_file.write_text(TOKEN + "\n")
    port = _free_port()
    # the server and this process keep separate disk caches: equal rewards are computed twice, not read back
    env = {**os.environ, **_models_env(tmp, hub, "server-cache"),
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "rexeval", "serve", "-c", str(config), "--port", str(port),
                             "--token-file", str(token_file)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (tmp / "server.log").read_text()
            try:
                if httpx.get(url + "/health", timeout=2).json().get("status") == "ready":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp / "server.log").read_text()
            time.sleep(0.3)
        with pytest.MonkeyPatch.context() as mp:
            for key, value in _models_env(tmp, hub, "local-cache").items():
                mp.setenv(key, value)
            from rexeval.rewards import RewardSuite

            suite = RewardSuite(REWARD)
            yield SimpleNamespace(url=url, token_file=str(token_file), suite=suite, proc=proc, tmp=tmp,
                                  headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _in_process(service, completions, references) -> list[float | None]:
    return service.suite.score(completions, references).rewards


# -- the trainers' calls ---------------------------------------------------------------------------


def test_verl_batch_and_per_sample_calls_get_the_in_process_rewards(service):
    from rexeval.serve.adapters import verl

    # verl 0.9.1 verl/workers/reward_manager/batch.py, BatchRewardManager.verify: keyword call with the
    # data sources, decoded responses, reward_model.ground_truth and extra_info dicts; reward_kwargs from
    # reward.custom_reward_function.reward_kwargs (verl/trainer/ppo/reward.py, get_custom_reward_fn)
    infos = [{"index": i, "rollout_reward_scores": {}} for i in range(len(COMPLETIONS))]
    scores = verl.compute_score_batch(data_sources=["mimic_cxr"] * len(COMPLETIONS), solution_strs=COMPLETIONS,
                                      ground_truths=REFERENCES, extra_infos=infos,
                                      url=service.url, token_file=service.token_file)
    expected = _in_process(service, COMPLETIONS, REFERENCES)
    assert all(s["reward_failed"] == 0.0 for s in scores), (service.tmp / "server.log").read_text()
    assert [s["score"] for s in scores] == expected
    # every sample carries the same keys (verl appends each key's value per sample)
    assert {tuple(sorted(s)) for s in scores} == {tuple(sorted(["score", "reward_failed", *service.suite.names]))}

    # verl/workers/reward_manager/naive.py, NaiveRewardManager.__call__: one keyword call per sample
    one = verl.compute_score(data_source="mimic_cxr", solution_str=COMPLETIONS[5], ground_truth=REFERENCES[5],
                             extra_info={"index": 5}, url=service.url, token_file=service.token_file)
    assert one["score"] == expected[5]


def test_openrlhf_remote_rm_request_gets_the_in_process_rewards(service):
    # OpenRLHF 0.11.2 openrlhf/utils/agent.py, SingleTurnAgentExecutor._fetch_rewards_via_http: POST
    # {"query", "prompts", "labels"}; the query is prompt + response decoded with the special tokens
    prompts = [f"<|im_start|>user\nReport on study {i}.<|im_end|>\n<|im_start|>assistant\n" for i in range(8)]
    responses, labels = COMPLETIONS[:8], REFERENCES[:8]
    payload = {"query": [p + r + "<|im_end|>" for p, r in zip(prompts, responses, strict=True)],
               "prompts": prompts, "labels": labels}
    got = httpx.post(service.url + "/openrlhf", json=payload, headers=service.headers, timeout=60)
    assert got.status_code == 200, got.text
    body = got.json()
    expected = _in_process(service, responses, labels)
    assert body["rewards"] == expected and body["scores"] == expected
    # ppo_utils/samples_generator.py, _process_response_into_experience: torch.tensor([value]) per key
    assert set(body["extra_logs"]) == {*service.suite.names, "reward_failed", "components_failed"}
    assert all(len(v) == 8 and all(isinstance(x, float) for x in v) for v in body["extra_logs"].values())


def test_easyr1_batch_reward_function_gets_the_in_process_rewards(service):
    from rexeval.serve.adapters import easyr1

    # hiyouga/EasyR1 b44b311 verl/workers/reward/function.py, BatchFunctionRewardManagerMixin
    # .compute_reward_batch: a list of {"response", "response_length", "ground_truth"}; kwargs from
    # worker.reward.reward_function_kwargs; REWARD_TYPE read from the module
    assert easyr1.REWARD_TYPE == "batch"
    inputs = [{"response": c, "response_length": len(c.split()), "ground_truth": r}
              for c, r in zip(COMPLETIONS[8:24], REFERENCES[8:24], strict=True)]
    scores = easyr1.compute_score(inputs, url=service.url, token_file=service.token_file)
    assert [s["overall"] for s in scores] == _in_process(service, COMPLETIONS[8:24], REFERENCES[8:24])


def _trl_rewards(funcs, completions, references):
    """TRL 1.16.0's own GRPOTrainer._calculate_rewards on an object with the attributes it reads."""
    torch = pytest.importorskip("torch")
    trl = pytest.importorskip("trl")
    from accelerate import PartialState

    PartialState()  # accelerate's gather needs its state; one CPU process here
    trainer = SimpleNamespace(
        accelerator=SimpleNamespace(device=torch.device("cpu"), is_main_process=True),
        reward_funcs=funcs, reward_processing_classes=[None] * len(funcs),
        reward_func_names=[f.__name__ for f in funcs], state=SimpleNamespace(global_step=0),
        args=SimpleNamespace(report_to=[]), environments=None, async_loop=None,
        _log_completion_extra=lambda *a, **k: None, _log_metric=lambda *a, **k: None,
    )
    prompts = [[{"role": "user", "content": "Write the findings."}] for _ in completions]
    chats = [[{"role": "assistant", "content": c}] for c in completions]
    inputs = [{"prompt": p, "reference": r, "study_id": f"s{i}"}
              for i, (p, r) in enumerate(zip(prompts, references, strict=True))]
    ids = [[1, 2, 3] for _ in completions]
    return trl.GRPOTrainer._calculate_rewards(trainer, inputs, prompts, chats, ids)


def test_trl_reward_functions_through_the_service_equal_reward_suite(service):
    torch = pytest.importorskip("torch")
    from rexeval.serve.adapters.trl import service_reward_functions

    funcs, weights, remote = service_reward_functions(service.url, token_file=service.token_file)
    assert [f.__name__ for f in funcs] == service.suite.names and weights == service.suite.weights()
    comps, refs = COMPLETIONS[16:40], REFERENCES[16:40]
    got = _trl_rewards(funcs, comps, refs)
    expected = _trl_rewards(service.suite.reward_functions(), comps, refs)
    torch.testing.assert_close(got, expected, rtol=0, atol=0, equal_nan=True)
    # the composite (one reward function) equals the engine's weighted reward
    composite = remote.composite(None, comps, reference=refs)
    assert composite == _in_process(service, comps, refs)


# -- faults ----------------------------------------------------------------------------------------


def _score(service, samples, headers=None, timeout=60):
    return httpx.post(service.url + "/score", json={"samples": samples},
                      headers=service.headers if headers is None else headers, timeout=timeout)


def test_a_bad_or_missing_token_is_refused_and_health_stays_open(service):
    from rexeval.serve.client import RewardClient, ServiceError

    sample = [{"completion": COMPLETIONS[0], "reference": REFERENCES[0]}]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        got = _score(service, sample, headers=headers)
        assert got.status_code == 401 and "Bearer" in got.json()["error"], got.text
    assert httpx.get(service.url + "/metrics", timeout=10).status_code == 401
    assert httpx.get(service.url + "/health", timeout=10).json()["status"] == "ready"
    with pytest.raises(ServiceError, match="401"):  # not retried: a wrong token never becomes right
        RewardClient(service.url, token="wrong", retries=5, backoff=10).score(sample)


def test_oversize_requests_are_refused_naming_the_limit(service):
    too_many = [{"completion": "a", "reference": "b"}] * 65
    got = _score(service, too_many)
    assert got.status_code == 413 and "max_request_samples" in got.json()["error"]
    long = [{"completion": "a", "reference": "b"}, {"completion": "word " * 1000, "reference": "b"}]
    got = _score(service, long)
    assert got.status_code == 413 and "samples[1].completion" in got.json()["error"]
    assert "max_text_chars" in got.json()["error"]
    huge = {"samples": [{"completion": "a", "reference": "b", "extra": {"pad": "x" * 400_000}}]}
    got = httpx.post(service.url + "/score", content=json.dumps(huge), headers=service.headers, timeout=60)
    assert got.status_code == 413 and "max_body_bytes" in got.json()["error"]
    got = httpx.post(service.url + "/score", content=b"{not json", headers=service.headers, timeout=60)
    assert got.status_code == 422
    assert _score(service, [{"completion": "a"}]).status_code == 422
    metrics = httpx.get(service.url + "/metrics", headers=service.headers, timeout=10).text
    assert 'rexeval_serve_rejected_total{reason="text_too_long"}' in metrics


def test_a_metric_that_raises_fails_its_component_with_the_reason(service):
    samples = [{"completion": "FAIL " + COMPLETIONS[1], "reference": REFERENCES[1]},
               {"completion": COMPLETIONS[2], "reference": REFERENCES[2]}]
    got = _score(service, samples)
    assert got.status_code == 200, got.text
    first, second = got.json()["results"]
    assert [f["component"] for f in first["failures"]] == ["test_faulty"]
    assert "asked to fail" in first["failures"][0]["reason"]
    assert first["components"]["test_faulty"] == {"raw": None, "value": None}
    assert not first["failed"] and second["failures"] == []
    # the other components still count, as in process (TRL's nansum), and the sample beside it is untouched
    expected = _in_process(service, [s["completion"] for s in samples], [s["reference"] for s in samples])
    assert [first["reward"], second["reward"]] == expected
    metrics = httpx.get(service.url + "/metrics", headers=service.headers, timeout=10).text
    line = next(ln for ln in metrics.splitlines()
                if ln.startswith('rexeval_serve_component_failures_total{component="test_faulty"}'))
    assert float(line.split()[-1]) >= 1


def test_a_killed_client_does_not_disturb_the_service(service):
    # a client killed while sending its body ...
    host, port = service.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(f"POST /score HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                    "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"samples\": [".encode())
    # ... and one killed while its request is being scored
    code = ("import httpx, sys; httpx.post(sys.argv[1] + '/score', headers={'Authorization': 'Bearer ' + sys.argv[2]},"
            " json={'samples': [{'completion': 'SLEEP 3', 'reference': 'x'}]}, timeout=60)")
    client = subprocess.Popen([sys.executable, "-c", code, service.url, TOKEN])
    time.sleep(1.0)  # sent, and its batch is napping
    client.kill()
    client.wait(timeout=10)
    # the next request is answered correctly (it waits for that batch, which runs to its end)
    pick = slice(40, 48)
    got = _score(service, [{"completion": c, "reference": r}
                           for c, r in zip(COMPLETIONS[pick], REFERENCES[pick], strict=True)])
    assert got.status_code == 200, got.text
    assert [r["reward"] for r in got.json()["results"]] == _in_process(service, COMPLETIONS[pick],
                                                                       REFERENCES[pick])
    assert httpx.get(service.url + "/health", timeout=10).json()["status"] == "ready"


def test_a_stuck_batch_times_out_with_the_reason_and_the_service_recovers(service):
    got = _score(service, [{"completion": "SLEEP 40", "reference": "x"}], timeout=60)
    assert got.status_code == 200
    (result,) = got.json()["results"]
    assert result["reward"] is None and result["failed"]
    assert "timed out after 30 s" in result["failures"][0]["reason"]
    health = httpx.get(service.url + "/health", timeout=10)
    assert health.status_code in (200, 503)  # 503 "stuck" while the sleeping batch still holds the worker
    deadline = time.monotonic() + 120
    while httpx.get(service.url + "/health", timeout=10).json()["status"] != "ready":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    pick = slice(48, 56)
    got = _score(service, [{"completion": c, "reference": r}
                           for c, r in zip(COMPLETIONS[pick], REFERENCES[pick], strict=True)])
    assert [r["reward"] for r in got.json()["results"]] == _in_process(service, COMPLETIONS[pick],
                                                                       REFERENCES[pick])
    metrics = httpx.get(service.url + "/metrics", headers=service.headers, timeout=10).text
    line = next(ln for ln in metrics.splitlines() if ln.startswith("rexeval_serve_batch_timeouts_total"))
    assert float(line.split()[-1]) >= 1


def test_the_client_gives_up_at_its_deadline_and_counts_the_missing(service):
    from rexeval.serve.client import RewardClient

    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        client = RewardClient(url, timeout=0.5, deadline=2.0, retries=3, backoff=0.1)
        results = client.score([{"completion": "a", "reference": "b"}, {"completion": "c", "reference": "d"}])
    assert client.missing == 2 and client.retried >= 1
    assert all(r["reward"] is None and r["failed"] for r in results)
    assert "no answer from the reward service within 2 s" in results[0]["failures"][0]["reason"]


def test_metrics_report_requests_batches_latency_and_failures(service):
    metrics = httpx.get(service.url + "/metrics", headers=service.headers, timeout=10).text
    for name in ("rexeval_serve_requests_total{endpoint=\"score\",status=\"200\"}",
                 "rexeval_serve_samples_total", "rexeval_serve_batch_size_bucket",
                 "rexeval_serve_request_latency_seconds_bucket",
                 "rexeval_serve_latency_quantile_seconds{quantile=\"0.99\"}",
                 "rexeval_serve_component_failures_total{component=\"bleu\"}"):
        assert name in metrics, name
