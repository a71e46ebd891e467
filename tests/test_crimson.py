"""CRIMSON: parser and score equal RadEval's on canned judge answers; the metric on a loopback server.

``tests/data/crimson_peer_recorded.json`` holds what RadEval 2.2.1's own ``CRIMSONScore._parse_response``
returned for each canned answer in tests/helpers/crimson_canned.py (recorded with that script). With
REXEVAL_RADEVAL_PATH pointing at an install of the RadEval package, the prompt is RadEval's own and is
compared with the peer's, and the peer is re-run live; without it a stand-in ``radeval`` package with
placeholder prompt text (same layout) lets the client path run.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("openai")

from rexeval.metrics.crimson_parse import CrimsonParseError, parse_and_score  # noqa: E402
from rexeval.scoring import score  # noqa: E402
from tests.helpers.crimson_canned import ANSWERS, PAIRS  # noqa: E402
from tests.helpers.llm_server import FakeChatServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECORDED = json.loads((ROOT / "tests" / "data" / "crimson_peer_recorded.json").read_text(encoding="utf-8"))
RADEVAL = os.environ.get("REXEVAL_RADEVAL_PATH")
FAST = dict(timeout=2.0, backoff_base=0.01, backoff_max=0.05, max_retries=2, parse_retries=2)


def _ours(answer: str) -> dict:
    try:
        r = parse_and_score(answer)
    except CrimsonParseError:
        return {"ok": False}
    return {"ok": True, "score": r["crimson_score"], "error_counts": r["error_counts"],
            "weighted": r["weighted_error_counts"], "metrics": r["metrics"], "evaluation": r["evaluation"]}


def test_recorded_answers_are_the_canned_ones():
    assert RECORDED["answers"] == ANSWERS


@pytest.mark.parametrize("k", range(len(ANSWERS)))
def test_parsed_findings_and_score_equal_the_peers(k):
    peer, ours = RECORDED["results"][k], _ours(ANSWERS[k])
    assert ours["ok"] == peer["ok"]
    if peer["ok"]:
        for key in ("score", "error_counts", "weighted", "metrics", "evaluation"):
            assert ours[key] == peer[key], key


def test_score_by_hand_on_the_mixed_answer():
    """MIXED (crimson_canned): R1 0.5 matched with attribute errors 0.5 + 0 -> credit 0.5*0.5/1.0 = 0.25;
    R3 benign 0; R4 unknown label 0.25 with one odd-severity error 0.25 -> 0.25*0.25/0.5 = 0.125;
    false P2 0.5; N_G = 0.5+1+0+0.25 = 1.75; S = (0.375-0.5)/1.75 < 0 -> x = 0.125, -x/(1+x) = -0.1111."""
    r = parse_and_score(ANSWERS[1])
    assert r["metrics"]["correct"] == pytest.approx(0.375)
    assert r["metrics"]["N_G"] == pytest.approx(1.75)
    assert r["crimson_score"] == round(-0.125 / 1.125, 4)
    assert r["error_counts"]["location_errors"] == 1 and r["error_counts"]["temporal_errors"] == 1


# -- prompt ---------------------------------------------------------------------------------------

STAND_IN_PARTS = ("OBJECTIVE", "TASK_STEPS", "CLINICAL_SIGNIFICANCE_LEVELS", "SIGNIFICANCE_APPLICATION",
                  "ATTRIBUTE_SEVERITY_LEVELS", "ATTRIBUTE_ERROR_INSTRUCTIONS", "ERROR_CATEGORIES",
                  "MATCHING_CRITERIA", "OUTPUT_FORMAT", "CONTEXT_GUIDELINES", "IMPORTANT_NOTES",
                  "SIGNIFICANCE_EXAMPLES", "ATTRIBUTE_SEVERITY_GUIDELINES")


@pytest.fixture
def radeval_source(tmp_path, monkeypatch):
    """The RadEval package on sys.path: the real one (REXEVAL_RADEVAL_PATH) or a placeholder stand-in."""
    if RADEVAL:
        monkeypatch.syspath_prepend(RADEVAL)
        return "real"
    pkg = tmp_path / "standin" / "radeval" / "metrics" / "crimson"
    pkg.mkdir(parents=True)
    for d in (pkg.parents[1], pkg.parent, pkg):
        (d / "__init__.py").write_text("")
    (pkg / "prompt_parts.py").write_text("".join(f"{k} = {('placeholder ' + k)!r}\n" for k in STAND_IN_PARTS))
    (pkg / "crimson.py").write_text("_SYSTEM_MSG = ('placeholder ' 'system')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "standin"))
    return "stand-in"


def test_prompt_equals_the_peers(radeval_source):
    if radeval_source != "real":
        pytest.skip("set REXEVAL_RADEVAL_PATH to an install of the RadEval package (pip install --no-deps radeval)")
    from rexeval.metrics.crimson import load_prompt

    prompt = load_prompt()
    assert prompt.system == RECORDED["system"]
    for (ref, cand, ctx), sha in zip(PAIRS, RECORDED["prompt_sha256"]):
        ref = " ".join(ref) if isinstance(ref, list) else ref
        text = prompt.render(ref, cand, ctx, guidelines=True)
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == sha


def test_live_peer_agrees_on_canned_answers(tmp_path):
    if not RADEVAL:
        pytest.skip("set REXEVAL_RADEVAL_PATH to an install of the RadEval package")
    data = tmp_path / "in.json"
    data.write_text(json.dumps({"answers": ANSWERS, "pairs": []}))
    res = subprocess.run([sys.executable, str(ROOT / "tests" / "helpers" / "peer_radeval.py"), "crimson", str(data)],
                         capture_output=True, text=True, env=os.environ, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout.strip().splitlines()[-1])["results"] == RECORDED["results"]


def test_missing_package_is_skipped_with_the_fix(monkeypatch):
    import importlib.util

    from rexeval.exceptions import MetricUnavailable
    from rexeval.metrics.crimson import load_prompt

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "radeval" else real(name, *a))
    with pytest.raises(MetricUnavailable) as err:
        load_prompt()
    assert "pip install --no-deps 'radeval" in err.value.fix


# -- the metric on a loopback server -------------------------------------------------------------

@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "REXEVAL_LLM_BASE_URL", "REXEVAL_LLM_MODEL",
                "AZURE_OPENAI_ENDPOINT", "REXEVAL_LLM_API_KEY", "AZURE_OPENAI_API_KEY", "REXEVAL_LLM_JSON"):
        monkeypatch.delenv(var, raising=False)


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"study_id": [f"s{k}" for k in range(n)], "prediction": [f"candidate {k}" for k in range(n)],
                         "reference": [f"reference {k}" for k in range(n)],
                         "age": [str(60 + k) if k % 2 else "" for k in range(n)]})


def _answer_for(user: str) -> str:
    k = int(user.split("Predicted Findings (Candidate):\n")[1].split()[1]) if "Predicted Findings" in user else None
    if k is None:  # the stand-in prompt has no headers of RadEval's; the candidate follows its label anyway
        k = int(user.split("candidate ")[1].split()[0])
    return ANSWERS[k % len(ANSWERS)]


def _run(server, df, **opts):
    options = {"base_url": server.base_url, "model": "judge-1", **FAST, **opts}
    return score(df, metrics=["crimson"], metric_options={"crimson": options}, n_resamples=20, progress=False)


def test_loopback_scores_equal_the_peers_and_failures_are_nan(radeval_source):
    n = len(ANSWERS)
    with FakeChatServer(_answer_for) as server:
        res = _run(server, _frame(n))
        first_requests = server.requests
        again = _run(server, _frame(n))
    n_bad = sum(not r["ok"] for r in RECORDED["results"])
    # readable answers came from the cache; unreadable ones are not cached and were asked again
    assert server.requests - first_requests == 3 * n_bad
    col = res.per_study["crimson"].to_numpy()
    for k in range(n):
        peer = RECORDED["results"][k]
        if peer["ok"]:
            assert col[k] == peer["score"]
            assert res.per_study["crimson_attribute_errors"][k] == peer["error_counts"]["attribute_errors"]
        else:
            assert math.isnan(col[k])
    assert res.summary["metrics"]["crimson"]["n_failed"] == n_bad
    assert res.value("crimson_n_failed") == n_bad
    assert res.value("crimson") == pytest.approx(np.nanmean(col))
    # unreadable answers were asked 1 + parse_retries times, readable ones once
    assert first_requests == (n - n_bad) + 3 * n_bad
    body = server.bodies[0]
    assert body["temperature"] == 0 and body["seed"] == 42 and body["response_format"] == {"type": "json_object"}
    assert "max_tokens" not in body and body["messages"][0]["role"] == "system"
    details = res.summary["crimson_details"]
    assert details["s1"]["evaluation"]["reference_findings"][1]["finding"] == "pneumothorax"
    assert set(details) == {f"s{k}" for k in range(n) if RECORDED["results"][k]["ok"]}
    assert np.array_equal(again.per_study["crimson"].to_numpy(), col, equal_nan=True)
    assert "crimson|judge:judge-1" in res.summary["metrics"]["crimson"]["signature"]


def test_patient_context_reaches_the_prompt(radeval_source):
    with FakeChatServer(_answer_for) as server:
        _run(server, _frame(2))
    users = {b["messages"][1]["content"] for b in server.bodies}
    with_age = [u for u in users if "candidate 1" in u][0]
    without = [u for u in users if "candidate 0" in u][0]
    if radeval_source == "real":
        assert "Patient Context:\n    age: 61\n" in with_age and "Patient Context" not in without
        assert "Context guidelines" in with_age and "Context guidelines" not in without
    else:
        assert "age: 61" in with_age and "age:" not in without


def test_batch_invariance_alone_shuffled_and_one_reference_repeated(radeval_source):
    n = 8
    df = _frame(n)
    with FakeChatServer(_answer_for) as server:
        together = _run(server, df).per_study.set_index("study_id")["crimson"]
        shuffled = _run(server, df.sample(frac=1, random_state=3)).per_study.set_index("study_id")["crimson"]
        for k in range(n):
            alone = _run(server, df.iloc[[k]]).per_study["crimson"].iloc[0]
            assert np.array_equal([alone], [together[f"s{k}"]], equal_nan=True)
        assert np.array_equal(shuffled.loc[together.index].to_numpy(), together.to_numpy(), equal_nan=True)
        rep = df.assign(reference="reference 0")
        group = _run(server, rep).per_study["crimson"].to_numpy()
        for k in range(n):
            alone = _run(server, rep.iloc[[k]]).per_study["crimson"].iloc[0]
            assert np.array_equal([alone], [group[k]], equal_nan=True)


def test_cli_without_endpoint_exits_2_at_once_with_the_fix(tmp_path):
    path = tmp_path / "pairs.csv"
    _frame(2).to_csv(path, index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REXEVAL_LLM_", "AZURE_OPENAI"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-m", "rexeval", "score", str(path), "--metrics", "crimson"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "metric crimson needs an endpoint" in proc.stderr and "--llm-base-url" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
