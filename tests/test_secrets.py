"""Credentials in the endpoint URL, the API key and keys echoed by a server never reach an output,
and the key is never put into the process environment (a child process would inherit it)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("openai")

from rexeval.cli import app  # noqa: E402
from tests.helpers.llm_server import FakeChatServer, two_line  # noqa: E402

KEY = "sk-KEYSECRET0123"
PASSWORD = "pa55wordSECRET"
QUERY = "QUERYSECRET987"
SECRETS = (KEY, PASSWORD, QUERY)


def _answer(user: str) -> str:
    return two_line([0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0])


def _plan(user: str, attempt: int):
    k = int(re.search(r"candidate report (\d+)", user).group(1))
    if k == 1:  # a server that echoes the credentials in its error message
        return ("error", 400, f"invalid api key {KEY} for http://judge:{PASSWORD}@example.org/v1?api-key={QUERY}")
    if k == 2:
        return ("error", 500, f"upstream refused key {KEY}")
    return None


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "REXEVAL_LLM_BASE_URL", "REXEVAL_LLM_MODEL",
                "AZURE_OPENAI_ENDPOINT", "REXEVAL_LLM_API_KEY", "AZURE_OPENAI_API_KEY", "REXEVAL_LLM_MAX_RETRIES",
                "REXEVAL_LLM_TIMEOUT", "REXEVAL_LLM_CONCURRENCY", "REXEVAL_LLM_RPM", "REXEVAL_LLM_JSON"):
        monkeypatch.delenv(var, raising=False)


def _pairs(tmp_path: Path, n: int = 4) -> Path:
    path = tmp_path / "pairs.csv"
    pd.DataFrame({"study_id": [f"s{k}" for k in range(n)], "prediction": [f"candidate report {k}" for k in range(n)],
                  "reference": [f"reference report {k}" for k in range(n)]}).to_csv(path, index=False)
    return path


def _url(server: FakeChatServer) -> str:
    port = server.root.rsplit(":", 1)[1]
    return f"http://svcuser:{PASSWORD}@127.0.0.1:{port}/v1?api-key={QUERY}"


def _all_text(*paths: Path) -> str:
    out = []
    for p in paths:
        files = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file())
        out += [f.read_text(errors="replace") for f in files]
    return "\n".join(out)


def test_credentials_never_reach_the_run_the_report_or_the_terminal(tmp_path):
    runner = CliRunner()
    with FakeChatServer(_answer, _plan) as server:
        result = runner.invoke(app, ["score", str(_pairs(tmp_path)), "-m", "errors_llm", "--bootstrap", "0",
                                     "--no-progress", "-o", str(tmp_path / "run"), "--llm-base-url", _url(server),
                                     "--llm-model", "judge-1", "--llm-api-key", KEY, "--llm-max-retries", "0"])
        assert result.exit_code == 0, result.output
        assert server.requests == 4  # the judge was reached (user info becomes HTTP basic auth)
    summary = (tmp_path / "run" / "summary.json").read_text()
    run = json.loads(summary)["metric_runs"]["errors_llm"]
    assert run["n_failed_studies"] == 2 and [f["study_id"] for f in run["failed_studies"]] == ["s1", "s2"]
    assert all(f["error"] for f in run["failed_studies"])  # the reason is kept, redacted
    report = runner.invoke(app, ["report", str(tmp_path / "run"), "-o", str(tmp_path / "report.html")])
    assert report.exit_code == 0, report.output
    written = _all_text(tmp_path / "run", tmp_path / "report.html") + result.output + report.output
    assert "127.0.0.1" in written  # the host is still recorded
    for secret in SECRETS:
        assert secret not in written, f"{secret} leaked"
    assert "svcuser" not in written  # no user info either


def test_a_fatal_endpoint_error_is_reported_without_credentials(tmp_path):
    plan = lambda user, attempt: ("error", 401, f"bad key {KEY}")  # noqa: E731
    with FakeChatServer(_answer, plan) as server:
        result = CliRunner().invoke(app, ["score", str(_pairs(tmp_path, 2)), "-m", "errors_llm", "--bootstrap", "0",
                                          "--no-progress", "--llm-base-url", _url(server), "--llm-model", "judge-1",
                                          "--llm-api-key", KEY])
    assert result.exit_code == 2, result.output
    assert "HTTP 401" in result.output
    for secret in SECRETS:
        assert secret not in result.output


def test_the_api_key_flag_is_not_written_into_the_environment(tmp_path):
    with FakeChatServer(_answer) as server:
        result = CliRunner().invoke(app, ["score", str(_pairs(tmp_path, 2)), "-m", "errors_llm", "--bootstrap", "0",
                                          "--no-progress", "--llm-base-url", server.base_url, "--llm-model", "judge-1",
                                          "--llm-api-key", KEY, "--llm-concurrency", "1"])
        assert result.exit_code == 0, result.output
        assert server.headers[0].get("authorization") == f"Bearer {KEY}"  # the flag reached the request
        assert server.max_in_flight == 1
    leaked = {k for k, v in os.environ.items() if KEY in v or k.startswith("REXEVAL_LLM_")}
    assert not leaked, f"the CLI wrote {sorted(leaked)} into os.environ (inherited by every child process)"


@pytest.mark.parametrize("url,shown", [
    ("http://svcuser:pw@127.0.0.1:8000/v1?api-key=abc", "http://***@127.0.0.1:8000/v1?***"),
    ("https://api.example.org/v1", "https://api.example.org/v1"),
    ("https://TOKEN@[::1]:9/v1#frag", "https://***@[::1]:9/v1"),
    ("https://res.openai.azure.com/?api-version=2024-06-01", "https://res.openai.azure.com/?***"),
])
def test_urls_are_shown_without_credentials(url, shown):
    from rexeval.backends.llm.redact import redact_url

    assert redact_url(url) == shown


def test_free_text_is_redacted_and_the_key_never_prints():
    from rexeval.backends.llm.config import LLMConfig

    cfg = LLMConfig.from_env(base_url=f"http://svcuser:{PASSWORD}@h:1/v1?api-key={QUERY}", api_key=KEY)
    text = cfg.redactor()(f"HTTP 400: key {KEY} rejected at http://x:{PASSWORD}@h:1/v1?api-key={QUERY}; {QUERY}")
    assert text == "HTTP 400: key *** rejected at http://***@h:1/v1?***; ***"
    assert KEY not in repr(cfg) and KEY not in str(cfg.public()) and cfg.key() == KEY
    assert cfg.public()["base_url"] == "http://***@h:1/v1?***" and cfg.host() == "h:1"


# -- issue 21 item 3: a server that echoes the Authorization header -------------------------------------

def _echo_auth(holder: dict):
    """A plan answering HTTP 401 with the Authorization header the request carried."""
    def plan(user, attempt):
        return ("error", 401, f"not allowed: you sent Authorization: {holder['server'].headers[-1].get('authorization')}")
    return plan


@pytest.mark.parametrize("with_user_info", [True, False])
def test_an_echoed_authorization_header_never_reaches_the_terminal(tmp_path, with_user_info):
    holder: dict = {}
    with FakeChatServer(_answer, _echo_auth(holder)) as server:
        holder["server"] = server
        url = _url(server) if with_user_info else server.base_url
        result = CliRunner().invoke(app, ["score", str(_pairs(tmp_path, 2)), "-m", "errors_llm", "--bootstrap", "0",
                                          "--no-progress", "--llm-base-url", url, "--llm-model", "judge-1",
                                          "--llm-api-key", KEY, "--llm-max-retries", "0"])
        sent = server.headers[0]["authorization"]
    assert result.exit_code == 2, result.output
    assert "HTTP 401" in result.output and "Authorization: ***" in result.output, result.output
    token = sent.split()[-1]  # the key (Bearer) or base64 of user:password (Basic, from the URL's user info)
    assert token not in result.output
    for secret in SECRETS:
        assert secret not in result.output


def test_error_lines_mask_credentials_without_configuration():
    from rexeval.backends.llm.redact import scrub

    assert scrub('{"Authorization": "Basic dXNlcjpwYXNz"} from http://u:p@h/v1') == '{"Authorization": "***"} from http://***@h/v1'
    assert scrub("Bearer sk-abc123XYZ and x-api-key=abcdef12345") == "Bearer *** and x-api-key=***"
    assert scrub("Basic information is a bearer of news") == "Basic information is a bearer of news"


def test_llm_flags_configure_every_llm_metric(monkeypatch):
    from rexeval.backends.llm.config import llm_metric_options
    from rexeval.backends.llm.redact import Secret

    monkeypatch.delenv("REXEVAL_GREEN_BASE_URL", raising=False)
    opts = llm_metric_options(llm_base_url="http://h:1/v1", llm_model="m", llm_api_key=KEY, llm_rpm=5.0)
    assert opts["errors_llm"]["base_url"] == opts["crimson"]["base_url"] == opts["green"]["base_url"] == "http://h:1/v1"
    assert opts["crimson"]["model"] == "m" and isinstance(opts["green"]["api_key"], Secret)
    assert opts["green"]["llm_limits"] == {"rpm": 5.0}
    monkeypatch.setenv("REXEVAL_GREEN_BASE_URL", "http://green:8000/v1")  # GREEN's own server wins
    assert set(llm_metric_options(llm_base_url="http://h:1/v1", llm_rpm=5.0)["green"]) == {"llm_limits"}


def test_green_sends_to_the_llm_flags_endpoint_with_the_key(tmp_path, monkeypatch):
    monkeypatch.delenv("REXEVAL_GREEN_BASE_URL", raising=False)
    with FakeChatServer(_answer) as server:
        result = CliRunner().invoke(app, ["score", str(_pairs(tmp_path, 2)), "-m", "green", "--bootstrap", "0",
                                          "--no-progress", "--llm-base-url", server.base_url, "--llm-model", "green-1",
                                          "--llm-api-key", KEY, "--llm-max-retries", "0", "--json"])
        assert result.exit_code == 0, result.output
        assert server.requests >= 2 and {b["model"] for b in server.bodies} == {"green-1"}
        assert server.headers[0].get("authorization") == f"Bearer {KEY}"
    assert KEY not in result.output
