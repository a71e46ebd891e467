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

from rexeval.metrics.crimson.parse import CrimsonParseError, parse_and_score  # noqa: E402
from rexeval.run.scoring import score  # noqa: E402
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

    from rexeval.base.exceptions import MetricUnavailable
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
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))  # no local judge unless a test builds one
    monkeypatch.delenv("REXEVAL_CRIMSON_PATH", raising=False)
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


def test_cli_without_endpoint_or_local_judge_skips_at_once_with_both_fixes(tmp_path):
    path = tmp_path / "pairs.csv"
    _frame(2).to_csv(path, index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REXEVAL_LLM_", "AZURE_OPENAI"))}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_CACHE=str(tmp_path / "empty-hub"), REXEVAL_CRIMSON_PATH="",
               REXEVAL_CACHE="off")
    proc = subprocess.run([sys.executable, "-m", "rexeval", "score", str(path), "--metrics", "crimson", "--json",
                           "--bootstrap", "0", "--no-progress", "-o", str(tmp_path / "run")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in proc.stderr
    # crimson was the only metric asked for: nothing scored is a failure (exit 2, no run), with both fixes
    assert proc.returncode == 2 and not (tmp_path / "run").exists()
    line = proc.stderr.strip()
    assert "nothing was scored" in line and "crimson:" in line
    assert "needs an endpoint (--llm-base-url)" in line and "rexeval models download crimson-medgemma-4b" in line


def test_explicit_endpoint_backend_without_endpoint_exits_2_at_once_with_the_fix(tmp_path):
    path = tmp_path / "pairs.csv"
    _frame(2).to_csv(path, index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REXEVAL_LLM_", "AZURE_OPENAI"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-m", "rexeval", "score", str(path), "--metrics", "crimson",
                           "--option", "crimson.backend=endpoint"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "metric crimson needs an endpoint" in proc.stderr and "--llm-base-url" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# -- the local transformers judge (RadEval's HF path) ---------------------------------------------

def _build_tiny_judge(folder: Path) -> None:
    """A random-weight 2-layer Llama with a byte-level tokenizer (exact round trip) and a Gemma-style chat template."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    specials = ["<pad>", "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>"]
    vocab = {t: i for i, t in enumerate(specials + alphabet)}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<bos>", eos_token="<eos>",
                                  additional_special_tokens=["<start_of_turn>", "<end_of_turn>"])
    tok.chat_template = ("{{ bos_token }}{% for m in messages %}<start_of_turn>{{ m['role'] }}\n{{ m['content'] }}"
                         "<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=65536,
                      bos_token_id=1, eos_token_id=2, pad_token_id=0)
    LlamaForCausalLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)


@pytest.fixture(scope="module")
def tiny_hub(tmp_path_factory):
    """A HF cache holding the tiny judge under the registered hub id (where the real one would be)."""
    pytest.importorskip("torch")
    from rexeval.metrics.crimson import HUB_ID
    from tests.helpers.model_fixtures import FAKE_REVISION, hub_snapshot

    hub = tmp_path_factory.mktemp("crimson-hub")
    _build_tiny_judge(hub_snapshot(hub, HUB_ID))
    return hub, FAKE_REVISION


@pytest.fixture
def local_judge(tiny_hub, monkeypatch, radeval_source):
    hub, revision = tiny_hub
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    return hub, revision


def _score_local(df, **opts):
    return score(df, metrics=["crimson"], metric_options={"crimson": {"device": "cpu", **opts}}, n_resamples=20,
                 progress=False)


class _CannedGenerate:
    """Wraps the model's real ``generate`` and swaps only the tokens it returns for a canned judge answer."""

    def __init__(self, monkeypatch, answer_for):
        from transformers import AutoTokenizer, LlamaForCausalLM

        from rexeval.backends.models import resolve
        from rexeval.metrics.crimson import CRIMSON_MODEL

        self.tok = AutoTokenizer.from_pretrained(str(resolve(CRIMSON_MODEL).path), local_files_only=True)
        self.calls: list[dict] = []
        real = LlamaForCausalLM.generate
        wrapper = self

        def generate(model, *args, **kwargs):
            import torch

            produced = real(model, *args, **kwargs)  # the real decoding runs (and is recorded)
            prompt_ids = kwargs["input_ids"]
            assert torch.equal(produced[:, : prompt_ids.shape[1]], prompt_ids)
            prompt = wrapper.tok.decode(prompt_ids[0])
            wrapper.calls.append({"prompt": prompt, "kwargs": kwargs})
            canned = wrapper.tok(answer_for(prompt), add_special_tokens=False, return_tensors="pt")["input_ids"]
            eos = torch.tensor([[wrapper.tok.eos_token_id]])
            return torch.cat([prompt_ids, canned, eos], dim=1)

        monkeypatch.setattr(LlamaForCausalLM, "generate", generate)


def test_local_random_judge_answers_are_nan_counted_failures(local_judge):
    """The real transformers path on random weights: garbage answers are NaN and counted, never 0."""
    hub, revision = local_judge
    res = _score_local(_frame(3), max_new_tokens=8)
    assert np.isnan(res.per_study["crimson"].to_numpy()).all()
    assert (res.per_study["crimson_parse_ok"].to_numpy() == 0).all()
    assert res.value("crimson_n_failed") == 3 and res.summary["metrics"]["crimson"]["n_failed"] == 3
    run = res.summary["metric_runs"]["crimson"]
    assert run["backend"] == "local" and run["n_failed_studies"] == 3 and run["generated"] == 3
    assert {f["reason"] for f in run["failed_studies"]} == {"unparseable"}
    sig = res.summary["metrics"]["crimson"]["signature"]
    assert sig.startswith(f"crimson|backend:local|judge:rajpurkarlab/medgemma-4b-it-crimson@{revision[:12]}|")
    for part in ("dtype:float32", "greedy:yes", "repetition_penalty:1.1", "max_new_tokens:8",
                 "generation_config:default", "guidelines:no"):
        assert part in sig


def test_local_judge_default_generation_and_batch_invariance(local_judge):
    """No own generation_config: up to 8192 new tokens; a study's answer is the same alone and in a batch."""
    from rexeval.metrics.crimson import Crimson

    m = Crimson(device="cpu")
    found, judge = m.local_judge()
    assert judge.describe()["max_new_tokens"] == 8192 and judge.describe()["generation_config"] == "default"
    judge.max_new_tokens = 6
    prompt = m.prompt()
    convs = [prompt.messages(f"reference {k}", f"candidate {k}", None, False) for k in range(3)]
    together = judge.answer(convs)
    assert judge.answer([convs[2], convs[0]]) == [together[2], together[0]]
    assert judge.answer([convs[1]]) == [together[1]]


def test_local_canned_answers_score_as_the_peer_recorded(local_judge, monkeypatch, radeval_source):
    n = len(ANSWERS)
    canned = _CannedGenerate(monkeypatch, _answer_for)
    res = _score_local(_frame(n), max_new_tokens=3)
    assert len(canned.calls) == n
    col = res.per_study["crimson"].to_numpy()
    n_bad = 0
    for k in range(n):
        peer = RECORDED["results"][k]
        if peer["ok"]:
            assert col[k] == peer["score"], k
            assert res.per_study["crimson_false_findings"][k] == peer["error_counts"]["false_findings"]
        else:
            n_bad += 1
            assert math.isnan(col[k])
    assert res.value("crimson_n_failed") == n_bad > 0
    assert res.summary["crimson_details"]["s1"]["evaluation"]["reference_findings"][1]["finding"] == "pneumothorax"
    kwargs = canned.calls[0]["kwargs"]
    assert kwargs["do_sample"] is False and kwargs["repetition_penalty"] == 1.1 and kwargs["max_new_tokens"] == 3
    assert "generation_config" not in kwargs
    # the chat template carried the system message and the prompt; the fine-tuned judge gets no guidelines
    from rexeval.metrics.crimson import load_prompt

    p = load_prompt()
    first = canned.calls[0]["prompt"]
    assert first.startswith("<bos><start_of_turn>system\n" + p.system + "<end_of_turn>\n<start_of_turn>user\n")
    assert first.endswith("<start_of_turn>model\n") and p.parts["OBJECTIVE"] in first
    for part in ("SIGNIFICANCE_EXAMPLES", "ATTRIBUTE_SEVERITY_GUIDELINES", "CONTEXT_GUIDELINES"):
        assert all(p.parts[part] not in c["prompt"] for c in canned.calls), part
    # readable answers are cached; unreadable ones are generated again
    again = _score_local(_frame(n), max_new_tokens=3)
    assert len(canned.calls) == n + n_bad
    assert np.array_equal(again.per_study["crimson"].to_numpy(), col, equal_nan=True)
    # guidelines=True is honoured when asked for explicitly
    _score_local(_frame(1), max_new_tokens=3, guidelines=True)
    assert p.parts["SIGNIFICANCE_EXAMPLES"] in canned.calls[-1]["prompt"]


def test_local_canned_batch_invariance(local_judge, monkeypatch):
    _CannedGenerate(monkeypatch, _answer_for)
    df = _frame(6)
    together = _score_local(df, max_new_tokens=2, cache=None).per_study.set_index("study_id")["crimson"]
    shuffled = _score_local(df.sample(frac=1, random_state=1), max_new_tokens=2, cache=None)
    shuffled = shuffled.per_study.set_index("study_id")["crimson"]
    assert np.array_equal(shuffled.loc[together.index].to_numpy(), together.to_numpy(), equal_nan=True)
    for k in (0, 4):
        alone = _score_local(df.iloc[[k]], max_new_tokens=2, cache=None).per_study["crimson"].iloc[0]
        assert np.array_equal([alone], [together[f"s{k}"]], equal_nan=True)


def test_local_folder_generation_config_is_used_greedy(local_judge, monkeypatch, tmp_path):
    """A folder with its own generation_config.json: used (+ repetition penalty 1.1), sampling turned off."""
    import shutil

    from rexeval.backends.models import resolve
    from rexeval.metrics.crimson import CRIMSON_MODEL

    folder = tmp_path / "crimson-judge"
    shutil.copytree(resolve(CRIMSON_MODEL).path, folder)
    (folder / "generation_config.json").write_text(json.dumps(
        {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "do_sample": True, "top_k": 64, "top_p": 0.95,
         "max_new_tokens": 5}))
    canned = _CannedGenerate(monkeypatch, _answer_for)
    res = _score_local(_frame(1), model_path=str(folder))
    assert res.per_study["crimson"][0] == RECORDED["results"][0]["score"]
    kwargs = canned.calls[0]["kwargs"]
    assert kwargs["generation_config"].do_sample is False and kwargs["generation_config"].top_k is None
    assert kwargs["repetition_penalty"] == 1.1 and kwargs["max_new_tokens"] == 5
    sig = res.summary["metrics"]["crimson"]["signature"]
    assert "judge:local:crimson-judge" in sig and "generation_config:folder" in sig and "max_new_tokens:5" in sig


def test_missing_local_judge_is_skipped_with_the_fix(radeval_source, tmp_path):
    res = score(_frame(2), metrics=["crimson"], n_resamples=0, progress=False)
    why = res.summary["skipped"]["crimson"]
    assert "rexeval models download crimson-medgemma-4b" in why and "--llm-base-url" in why
    assert "REXEVAL_CRIMSON_PATH" in why
    from rexeval.base.exceptions import MetricUnavailable
    from rexeval.metrics.crimson import Crimson

    with pytest.raises(MetricUnavailable, match="not found locally") as err:
        Crimson(backend="local").check_available()
    assert "--llm-base-url" in err.value.fix
    empty = tmp_path / "no-weights"
    empty.mkdir()
    (empty / "config.json").write_text("{}")
    (empty / "tokenizer_config.json").write_text("{}")
    with pytest.raises(MetricUnavailable, match="has no model.safetensors"):
        Crimson(backend="local", model_path=str(empty)).check_available()


# -- issue 21 item 3: the --llm-* flags reach crimson, and its signature carries no credentials -----------

PASSWORD, QUERY = "pa55wordSECRET", "QUERYSECRET987"


def _cli(tmp_path, *args):
    from typer.testing import CliRunner

    from rexeval.cli import app

    path = tmp_path / "pairs.csv"
    _frame(3).to_csv(path, index=False)
    return CliRunner().invoke(app, ["score", str(path), "-m", "crimson", "--bootstrap", "0", "--no-progress",
                                    "--llm-max-retries", "0", *map(str, args)])


def test_llm_flags_reach_crimson(radeval_source, tmp_path):
    with FakeChatServer(_answer_for) as server:
        res = _cli(tmp_path, "--llm-base-url", server.base_url, "--llm-model", "judge-1", "-o", tmp_path / "run")
        assert res.exit_code == 0, res.output
        assert server.requests >= 3 and {b["model"] for b in server.bodies} == {"judge-1"}
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert "crimson" not in summary["skipped"]
    assert "crimson|judge:judge-1|host:127.0.0.1:" in summary["metrics"]["crimson"]["signature"]


def test_crimson_records_the_host_never_the_urls_credentials(radeval_source, tmp_path):
    from typer.testing import CliRunner

    from rexeval.cli import app

    with FakeChatServer(_answer_for) as server:
        port = server.root.rsplit(":", 1)[1]
        url = f"http://svcuser:{PASSWORD}@127.0.0.1:{port}/v1?api-key={QUERY}"
        res = _cli(tmp_path, "--llm-base-url", url, "--llm-model", "judge-1", "--json", "-o", tmp_path / "run")
        assert res.exit_code == 0, res.output
        assert server.requests >= 3
    report = CliRunner().invoke(app, ["report", str(tmp_path / "run"), "-o", str(tmp_path / "report.html")])
    assert report.exit_code == 0, report.output
    signature = json.loads((tmp_path / "run" / "summary.json").read_text())["metrics"]["crimson"]["signature"]
    assert f"|host:127.0.0.1:{port}|" in signature
    written = res.output + (tmp_path / "run" / "summary.json").read_text() + (tmp_path / "report.html").read_text()
    for secret in (PASSWORD, QUERY, "svcuser"):
        assert secret not in written, f"{secret} leaked"


def test_crimson_signature_and_run_record_no_url_credentials(radeval_source):
    with FakeChatServer(_answer_for) as server:
        port = server.root.rsplit(":", 1)[1]
        res = _run(server, _frame(2), base_url=f"http://svcuser:{PASSWORD}@127.0.0.1:{port}/v1?api-key={QUERY}")
        assert server.requests >= 2
    recorded = json.dumps(res.summary, default=str)
    assert f"|host:127.0.0.1:{port}|" in res.summary["metrics"]["crimson"]["signature"]
    for secret in (PASSWORD, QUERY, "svcuser"):
        assert secret not in recorded, f"{secret} leaked"
