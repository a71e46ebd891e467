"""Opt-in: the LLM judge against a real local model server (llama.cpp / vLLM), outside CI.

Set REXEVAL_LOCAL_JUDGE_URL (e.g. http://127.0.0.1:8080/v1) and optionally REXEVAL_LOCAL_JUDGE_MODEL;
docs/errors.md "A local judge with llama.cpp" says how to serve Gemma-3-270M. A tiny base model answers badly:
the test checks the plumbing (every study scored or recorded failed, failures never zeros, the rerun
served from the cache), not the counts.
"""

from __future__ import annotations

import math
import os

import pandas as pd
import pytest

URL = os.environ.get("REXEVAL_LOCAL_JUDGE_URL")
pytestmark = pytest.mark.skipif(not URL, reason="set REXEVAL_LOCAL_JUDGE_URL to a local chat-completions server")

PAIRS = [
    ("The lungs are clear. No pleural effusion.", "Small left pleural effusion."),
    ("Moderate cardiomegaly.", "The heart size is normal."),
    ("Right upper lobe pneumonia.", "Right upper lobe pneumonia."),
    ("Large right pneumothorax, increased since the prior study.", "Small right pneumothorax."),
]


def test_local_judge_end_to_end(monkeypatch, tmp_path):
    pytest.importorskip("openai")
    from rexeval.run.scoring import score

    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path))
    df = pd.DataFrame({"study_id": [f"p{i}" for i in range(len(PAIRS))],
                       "reference": [r for r, _ in PAIRS], "prediction": [c for _, c in PAIRS]})
    opts = {"base_url": URL, "model": os.environ.get("REXEVAL_LOCAL_JUDGE_MODEL", "local"), "concurrency": 1,
            "timeout": 300, "max_retries": 1, "parse_retries": 1, "max_tokens": 128}
    first = score(df, metrics=["errors_llm"], metric_options={"errors_llm": opts}, n_resamples=0, progress=False)
    run = first.summary["metric_runs"]["errors_llm"]
    ps = first.per_study
    for _, row in ps.iterrows():
        assert row["errors_llm_parse_ok"] in (0.0, 1.0)
        assert math.isnan(row["errors_llm_total"]) == (row["errors_llm_parse_ok"] == 0.0)
    assert run["n_failed_studies"] == int((ps["errors_llm_parse_ok"] == 0).sum())
    print("local judge:", {k: run[k] for k in ("http_requests", "failed", "failures", "prompt_tokens",
                                                "completion_tokens")})
    second = score(df, metrics=["errors_llm"], metric_options={"errors_llm": opts}, n_resamples=0, progress=False)
    again = second.summary["metric_runs"]["errors_llm"]
    assert again["cache_hits"] == int(ps["errors_llm_parse_ok"].sum())
