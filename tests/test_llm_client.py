"""The LLM judge against a real local HTTP server speaking chat completions, with injected faults."""

from __future__ import annotations

import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("openai")

from rexeval.backends.llm import AnswerCache, LLMClient, LLMConfig, LLMRequest  # noqa: E402
from rexeval.base.exceptions import ConfigError  # noqa: E402
from rexeval.metrics.errors_llm.parser import parse_errors  # noqa: E402
from rexeval.run.scoring import score  # noqa: E402
from tests.helpers.llm_server import FakeChatServer, two_line  # noqa: E402
from tests.helpers.paths import ROOT  # noqa: E402

N = 12


def expected(k: int) -> tuple[list[int], list[int]]:
    """Counts the fake judge gives candidate k (test data: an arbitrary but fixed pattern)."""
    return [k % 2, 0, 0, k % 3, 0, 0], [0, k % 2, 0, 0, 0, 1 if k == 5 else 0]


def cand_index(user: str) -> int:
    return int(re.search(r"candidate report (\d+)", user).group(1))


def answer(user: str) -> str:
    return two_line(*expected(cand_index(user)))


def frame(n: int = N) -> pd.DataFrame:
    return pd.DataFrame({
        "study_id": [f"s{k}" for k in range(n)],
        "prediction": [f"candidate report {k}" for k in range(n)],
        "reference": [f"reference report {k}" for k in range(n)],
    })


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "REXEVAL_LLM_BASE_URL", "REXEVAL_LLM_MODEL",
                "AZURE_OPENAI_ENDPOINT", "REXEVAL_LLM_API_KEY", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)


FAST = dict(timeout=0.5, backoff_base=0.01, backoff_max=0.05, max_retries=3, parse_retries=1)


def run_metric(server: FakeChatServer, df: pd.DataFrame | None = None, **opts):
    options = {"base_url": server.base_url, "model": "judge-1", **FAST, **opts}
    return score(frame() if df is None else df, metrics=["errors_llm"], metric_options={"errors_llm": options},
                 n_resamples=50, progress=False)


def test_scores_every_study_and_rerun_costs_zero_requests():
    with FakeChatServer(answer) as server:
        first = run_metric(server)
        assert server.requests == N
        ps = first.per_study
        for k in range(N):
            sig, insig = expected(k)
            row = ps.iloc[k]
            assert [row[f"errors_llm_sig_{x}"] for x in "ABCDEF"] == sig
            assert [row[f"errors_llm_insig_{x}"] for x in "ABCDEF"] == insig
            assert row["errors_llm_total_sig"] == sum(sig)
            assert row["errors_llm_total"] == sum(sig) + sum(insig)
        totals_sig = [sum(expected(k)[0]) for k in range(N)]
        assert first.value("errors_llm_total_sig") == pytest.approx(np.mean(totals_sig))
        assert first.value("errors_llm_total_sig_share0") == pytest.approx(np.mean([t == 0 for t in totals_sig]))
        assert first.value("errors_llm_total_sig_share_le1") == pytest.approx(np.mean([t <= 1 for t in totals_sig]))
        assert first.value("errors_llm_n_failed") == 0
        run = first.summary["metric_runs"]["errors_llm"]
        assert run["transient_errors"] == {}
        assert run["http_requests"] == N and run["cache_hits"] == 0
        assert run["prompt_tokens"] == 100 * N and run["completion_tokens"] == 20 * N
        body = server.bodies[0]
        assert body["model"] == "judge-1" and body["temperature"] == 0
        sig = first.summary["metrics"]["errors_llm_total"]["signature"]
        assert "judge:judge-1" in sig and "prompt:rexeval-errors-v1" in sig and "prompt_sha:" in sig

        second = run_metric(server)
        assert server.requests == N  # the cache answered everything
        assert second.summary["metric_runs"]["errors_llm"]["cache_hits"] == N
        assert second.summary["metric_runs"]["errors_llm"]["prompt_tokens"] == 0
        pd.testing.assert_frame_equal(first.per_study, second.per_study)


def test_changing_the_judge_model_does_not_reuse_answers():
    with FakeChatServer(answer) as server:
        run_metric(server)
        run_metric(server, model="judge-2")
        assert server.requests == 2 * N


def test_faults_are_retried_boundedly_and_nothing_is_lost():
    # per candidate: a fault script; attempts beyond it are answered normally
    scripts = {
        0: [("429", 0.3)],                       # rate limited once, Retry-After 0.3 s
        1: [("500",), ("500",)],                 # two server errors
        2: [("timeout", 1.5)],                   # stalls past the client timeout once
        3: [("malformed",)],                     # HTTP 200 with a body that is not JSON
        4: [("text", "Number of clinically significant errors by type: [(A, 1), (B, 0), (C")],  # truncated
        5: [("text", "I think the candidate is mostly fine.")],  # prose without counts
        6: [("500",)] * 10,                      # never recovers -> failed after max_retries
        7: [("text", "no idea")] * 10,           # never parseable -> failed after parse_retries
        8: [("status", 400)],                    # bad request: not retried, failed
    }

    def plan(user, attempt):
        script = scripts.get(cand_index(user), [])
        return script[attempt - 1] if attempt <= len(script) else None

    with FakeChatServer(answer, plan) as server:
        result = run_metric(server)
        ps = result.per_study.set_index("study_id")
        failed = {f"s{k}" for k in (6, 7, 8)}
        for k in range(N):
            sid = f"s{k}"
            if sid in failed:
                assert math.isnan(ps.loc[sid, "errors_llm_total"]) and ps.loc[sid, "errors_llm_parse_ok"] == 0
            else:
                sig, insig = expected(k)
                assert ps.loc[sid, "errors_llm_total"] == sum(sig) + sum(insig)
                assert ps.loc[sid, "errors_llm_parse_ok"] == 1
        attempts = {cand_index(u): a for u, a in server.attempts.items()}
        assert attempts[0] == 2 and attempts[1] == 3 and attempts[2] == 2 and attempts[3] == 2
        assert attempts[4] == 2 and attempts[5] == 2
        assert attempts[6] == FAST["max_retries"] + 1  # bounded transport retries
        assert attempts[7] == FAST["parse_retries"] + 1  # bounded re-asks for unparseable answers
        assert attempts[8] == 1
        # Retry-After was honoured: the retry came at least 0.3 s after the 429
        t = [ts for u, ts in server.times.items() if cand_index(u) == 0][0]
        assert t[1] - t[0] >= 0.3
        summary = result.summary
        assert summary["metrics"]["errors_llm_total"]["n_failed"] == 3
        assert summary["metrics"]["errors_llm_total"]["n"] == N - 3
        assert summary["metrics"]["errors_llm_n_failed"]["value"] == 3
        run = summary["metric_runs"]["errors_llm"]
        assert run["failures"] == {"server_error": 1, "unparseable": 1, "bad_request": 1}
        assert {f["study_id"] for f in run["failed_studies"]} == failed
        assert run["transient_errors"]["rate_limit"] == 1 and run["transient_errors"]["timeout"] == 1
        assert run["transient_errors"]["malformed_response"] == 1
        # the mean leaves failures out instead of counting them as zero errors
        ok = [k for k in range(N) if f"s{k}" not in failed]
        assert result.value("errors_llm_total") == pytest.approx(np.mean([sum(map(sum, expected(k))) for k in ok]))

        # rerun: only the failed studies are asked again
        before = server.requests
        run_metric(server)
        asked_again = {cand_index(b["messages"][-1]["content"]) for b in server.bodies[before:]}
        assert asked_again == {6, 7, 8}


def test_missing_categories_lenient_and_strict():
    partial = ("Number of clinically significant errors by type: [(A, 1), (B, 0)]\n"
               "Number of clinically insignificant errors by type: [(A, 0), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0)]")
    with FakeChatServer(lambda user: partial) as server:
        lenient = run_metric(server, df=frame(2))
        assert list(lenient.per_study["errors_llm_total_sig"]) == [1, 1]
        assert lenient.summary["metric_runs"]["errors_llm"]["answers_with_missing_letters_counted_0"] == 2
        n = server.requests
        strict = run_metric(server, df=frame(2), strict=True)
        assert strict.per_study["errors_llm_total_sig"].isna().all()
        assert strict.summary["metrics"]["errors_llm_total_sig"]["n_failed"] == 2
        # the cached lenient answers fail the strict parser, so they are asked again, boundedly
        assert server.requests - n == 2 * (FAST["parse_retries"] + 1)


def test_concurrency_limit_holds():
    with FakeChatServer(answer, delay=0.05) as server:
        result = run_metric(server, df=frame(24), concurrency=3)
        assert server.max_in_flight == 3  # used, and never exceeded
        assert result.summary["metric_runs"]["errors_llm"]["max_in_flight"] == 3


def test_requests_per_minute_limit_spaces_requests():
    with FakeChatServer(answer) as server:
        run_metric(server, df=frame(5), rpm=300, concurrency=5)  # one start every 0.2 s
        starts = sorted(t for ts in server.times.values() for t in ts)
        # Unlimited, the 5 requests arrive within a few ms; spaced, they span 0.8 s. Arrival times
        # jitter (the first request also opens the connection), so the bound leaves 0.2 s of slack.
        assert starts[-1] - starts[0] >= 0.6


def test_duplicate_pairs_are_asked_once():
    df = frame(4)
    df["prediction"] = "candidate report 1"
    df["reference"] = "same reference"
    with FakeChatServer(answer) as server:
        result = run_metric(server, df=df)
        assert server.requests == 1
        assert (result.per_study["errors_llm_total_sig"] == sum(expected(1)[0])).all()


def test_authentication_error_aborts_with_config_error():
    with FakeChatServer(answer, lambda u, a: ("status", 401)) as server:
        with pytest.raises(ConfigError, match="HTTP 401"):
            run_metric(server, df=frame(40))
        assert server.requests <= 16  # the run stopped instead of trying all 40 studies


def test_client_api_directly_for_other_judges(tmp_path):
    """The reusable API: requests with key parts, an accept function, per-request status."""
    with FakeChatServer(answer) as server:
        cfg = LLMConfig(base_url=server.base_url, model="m", **FAST)
        reqs = [LLMRequest({"k": k}, [{"role": "user", "content": f"candidate report {k}"}]) for k in range(3)]
        client = LLMClient(cfg, cache=AnswerCache(tmp_path / "c.sqlite"))
        rep = client.run(reqs, accept=lambda t: parse_errors(t).counts())
        assert [r.status for r in rep.results] == ["ok"] * 3
        assert rep.results[1].value == expected(1)[0] + expected(1)[1]
        rep2 = LLMClient(cfg, cache=AnswerCache(tmp_path / "c.sqlite")).run(reqs, accept=lambda t: parse_errors(t).counts())
        assert [r.status for r in rep2.results] == ["cached"] * 3 and server.requests == 3


def test_cli_without_endpoint_fails_fast(tmp_path):
    df = frame(2)
    path = tmp_path / "pairs.csv"
    df.to_csv(path, index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REXEVAL_LLM_", "AZURE_OPENAI"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-m", "rexeval", "score", str(path), "--metrics", "errors_llm"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "errors_llm needs an endpoint" in proc.stderr and "Traceback" not in proc.stderr


def test_killed_run_resumes_with_only_the_missing_requests(tmp_path):
    n, kill_after = 10, 4
    df = frame(n)
    path = tmp_path / "pairs.csv"
    df.to_csv(path, index=False)
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REXEVAL_LLM_", "AZURE_OPENAI"))}
    env.update(PYTHONPATH=str(ROOT), REXEVAL_CACHE=str(cache))
    with FakeChatServer(answer, hold_after=kill_after) as server:
        cmd = [sys.executable, "-m", "rexeval", "score", str(path), "--metrics", "errors_llm", "--no-progress",
               "--llm-base-url", server.base_url, "--llm-model", "judge-1", "--llm-concurrency", "1",
               "--bootstrap", "0", "--out", str(tmp_path / "run")]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        db = cache / "llm.sqlite"
        deadline = time.monotonic() + 60
        rows = 0
        while time.monotonic() < deadline:  # wait until the first 4 answers are on disk, the 5th is held
            if db.exists() and server.requests > kill_after:
                with sqlite3.connect(db) as con:
                    rows = con.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
                if rows == kill_after:
                    break
            time.sleep(0.05)
        assert rows == kill_after
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert not (tmp_path / "run" / "summary.json").exists()
        before = server.requests
        server.hold_after = None
        server.release.set()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        asked = [cand_index(b["messages"][-1]["content"]) for b in server.bodies[before:]]
        assert len(asked) == n - kill_after  # only the missing ones
        assert sorted(asked) == sorted(set(range(n)) - set(range(kill_after)))
        ps = pd.read_csv(tmp_path / "run" / "per_study.csv")
        assert ps["errors_llm_parse_ok"].sum() == n
        assert list(ps["errors_llm_total"]) == [sum(map(sum, expected(k))) for k in range(n)]


def test_azure_openai_endpoint(monkeypatch):
    """Azure: deployment in the URL path, api-version query, api-key header - from the environment."""
    with FakeChatServer(answer) as server:
        monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.root)
        monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-secret")
        monkeypatch.setenv("OPENAI_API_VERSION", "2024-06-01")
        result = score(frame(2), metrics=["errors_llm"], progress=False, n_resamples=0,
                       metric_options={"errors_llm": {"model": "my-deployment", **FAST}})
        assert result.summary["metrics"]["errors_llm_total"]["n"] == 2
        assert server.paths[0].startswith("/openai/deployments/my-deployment/chat/completions")
        assert "api-version=2024-06-01" in server.paths[0]
        assert server.headers[0]["api-key"] == "azure-secret"
        assert "azure-secret" not in str(result.summary)  # the key is never recorded


def test_json_mode_sends_response_format_and_parses_json():
    import json as _json

    def json_answer(user):
        sig, insig = expected(cand_index(user))
        return _json.dumps({"clinically_significant": dict(zip("ABCDEF", sig)),
                            "clinically_insignificant": dict(zip("ABCDEF", insig))})

    with FakeChatServer(json_answer) as server:
        result = run_metric(server, df=frame(3), json_mode=True)
        assert server.bodies[0]["response_format"] == {"type": "json_object"}
        assert list(result.per_study["errors_llm_total"]) == [sum(map(sum, expected(k))) for k in range(3)]
        assert "json:yes" in result.summary["metrics"]["errors_llm_total"]["signature"]


def test_every_request_rejected_aborts_instead_of_failing_each_study():
    with FakeChatServer(answer, lambda u, a: ("status", 400)) as server:
        with pytest.raises(ConfigError, match="rejected the first 5 requests"):
            run_metric(server, df=frame(40), concurrency=2)
        assert server.requests < 40
