"""GREEN: the parser on answers written in GREEN's format (well-formed and malformed), the score
arithmetic, the prompt, the endpoint backend against a real loopback OpenAI-compatible server, and the
local transformers backend on a tiny random Llama."""

from __future__ import annotations

import math
import re
import textwrap

import numpy as np
import pandas as pd
import pytest

from rexeval.backends.llm.client import UnparseableAnswer
from rexeval.base.exceptions import ConfigError, MetricUnavailable
from rexeval.metrics.green import (
    Green,
    chat_text,
    get_prompt,
    green_score,
    parse_green,
    truncate_words,
)

CATS = [
    "False report of a finding in the candidate",
    "Missing a finding present in the reference",
    "Misidentification of a finding's anatomic location/position",
    "Misassessment of the severity of a finding",
    "Mentioning a comparison that isn't in the reference",
    "Omitting a comparison detailing a change from a prior study",
]


def answer(sig, insig, matched, explanation="The candidate misses the effusion.", blank=True) -> str:
    """An answer in GREEN's published output format."""

    def block(counts):
        return "\n".join(
            f"({chr(97 + i)}) {CATS[i]}: {n}." + (" Finding x; finding y" if n else "") for i, n in enumerate(counts)
        )

    sep = "\n\n" if blank else "\n"
    found = f"{matched}. Cardiomegaly; No pneumothorax" if matched else "0."
    return (f"[Explanation]:\n{explanation}{sep}[Clinically Significant Errors]:\n{block(sig)}{sep}"
            f"[Clinically Insignificant Errors]:\n{block(insig)}{sep}[Matched Findings]:\n{found}")


# ------------------------------------------------------------------ arithmetic and parser


def test_green_score_arithmetic():
    assert green_score(3, [1, 0, 1, 0, 0, 0]) == 0.6
    assert green_score(4, [0] * 6) == 1.0
    assert green_score(0, [2, 0, 0, 0, 0, 0]) == 0.0  # nothing matched: 0, not NaN
    assert green_score(0, [0] * 6) == 0.0


def test_parse_well_formed_answer():
    a = parse_green(answer([1, 0, 1, 0, 0, 0], [0, 0, 0, 2, 0, 1], 3))
    assert a.significant == (1, 0, 1, 0, 0, 0)
    assert a.insignificant == (0, 0, 0, 2, 0, 1)
    assert a.matched == 3
    assert a.score == 0.6  # insignificant errors are ignored


def test_parse_variants_the_reference_accepts():
    # "No ..." sections, a category left out (counts 0), numbered (1)-(6) items, no blank lines
    text = textwrap.dedent("""\
        [Explanation]:
        Fine.
        [Clinically Significant Errors]:
        No clinically significant errors.
        [Clinically Insignificant Errors]:
        (2) Missing a finding present in the reference: 1. Mild atelectasis
        (5) Mentioning a comparison that isn't in the reference: 0.
        [Matched Findings]:
        2. Normal heart size; Clear lungs""")
    a = parse_green(text)
    assert a.significant == (0,) * 6
    assert a.insignificant == (0, 1, 0, 0, 0, 0)
    assert a.matched == 2 and a.score == 1.0
    # decoded prompt + answer, special tokens left in, count without a final period
    decoded = "<|user|>\nprompt text [Matched Findings]: 9.</s>\n<|assistant|>\n" + answer(
        [0, 2, 0, 0, 0, 0], [0] * 6, 1).replace(f"(c) {CATS[2]}: 0.", f"(c) {CATS[2]}: 0") + "</s>"
    b = parse_green(decoded)
    assert b.significant == (0, 2, 0, 0, 0, 0) and b.matched == 1
    assert b.score == pytest.approx(1 / 3)
    zero = parse_green(answer([1, 0, 0, 0, 0, 0], [0] * 6, 0))
    assert zero.matched == 0 and zero.score == 0.0


@pytest.mark.parametrize(
    "text, why",
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("The candidate is mostly correct.", "lacks"),
        (answer([0] * 6, [0] * 6, 2).split("[Matched Findings]")[0], "Matched Findings"),
        (answer([0] * 6, [0] * 6, 2).replace("[Clinically Insignificant Errors]:", "Insignificant:"), "Insignificant"),
        (answer([0] * 6, [0] * 6, 2).replace("2. Cardiomegaly", "Several. Cardiomegaly"), "count"),
        (answer([1, 0, 0, 0, 0, 0], [0] * 6, 2).replace(f"{CATS[0]}: 1.", f"{CATS[0]}: one."), "no count"),
        (answer([1, 0, 0, 0, 0, 0], [0] * 6, 2).replace("[Clinically Insignificant Errors]:",
                                                            f"(a) {CATS[0]}: 3.\n[Clinically Insignificant Errors]:"), "twice"),
        (answer([0] * 6, [0] * 6, 2).replace("[Clinically Significant Errors]:\n", "[Clinically Significant Errors]:\nSee above.\n")
         .split("(a) ")[0] + "[Clinically Insignificant Errors]:\nNone.\n[Matched Findings]:\n1.", "no (a)-(f) lines"),
    ],
)
def test_parse_malformed_answers_are_refused(text, why):
    with pytest.raises(UnparseableAnswer, match=re.escape(why) if why != "lacks" else "lacks"):
        parse_green(text)


def test_truncate_to_300_words_and_prompt():
    long = " ".join(f"w{i}" for i in range(350))
    assert truncate_words(long).split() == [f"w{i}" for i in range(300)]
    assert truncate_words("a  b\n c") == "a b c"
    p = get_prompt()
    text = p.render("REFERENCE X", "CANDIDATE Y")
    assert text.index("REFERENCE X") < text.index("CANDIDATE Y")
    for header in ("[Explanation]:", "[Clinically Significant Errors]:", "[Clinically Insignificant Errors]:",
                   "[Matched Findings]:"):
        assert header in text
    for letter, cat in zip("abcdef", CATS, strict=True):
        assert f"{letter}) {cat}." in text
    assert chat_text("P") == "<|user|>\nP</s>\n<|assistant|>\n"
    with pytest.raises(ConfigError):
        get_prompt("nope")


def test_green_package_prompt_is_read_not_imported(tmp_path, monkeypatch):
    # a stand-in package with the same shape as green_score/utils.py (text written for this test)
    pkg = tmp_path / "green_score"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise ImportError('must not be imported')\n")
    (pkg / "utils.py").write_text(
        "import torch\n\ndef make_prompt(text1, text2):\n"
        "    prompt = f\"Judge {{braces}}.\\nRef: {text1}\\nCand: {text2}\\n[Matched Findings]:\"\n"
        "    return prompt\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    p = get_prompt("green")
    assert p.render("R", "C") == "Judge {braces}.\nRef: R\nCand: C\n[Matched Findings]:"
    assert p.version.startswith("green-")


def test_green_package_prompt_missing_is_unavailable(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "green_score" else real(name, *a))
    with pytest.raises(MetricUnavailable, match="green_score"):
        get_prompt("green")


# ------------------------------------------------------------------ endpoint backend (loopback server)

N = 8


def expected(k: int):
    """What the fake judge says about candidate k: (sig, insig, matched)."""
    return [k % 2, 0, k % 3 == 0, 0, 0, 0], [0, k % 2, 0, 0, 1, 0], k % 4


def fake_answer(user: str) -> str:
    k = int(re.search(r"candidate report (\d+)", user).group(1))
    if k == 6:
        return "I cannot assess these reports."  # never parseable -> a recorded failure
    sig, insig, matched = expected(k)
    return answer([int(x) for x in sig], insig, matched)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    for var in ("REXEVAL_GREEN_BASE_URL", "REXEVAL_GREEN_MODEL", "REXEVAL_GREEN_PATH", "REXEVAL_LLM_BASE_URL",
                "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("REXEVAL_LLM_MAX_RETRIES", "1")
    return tmp_path


def _frame(n=N, long_candidate=False):
    preds = [f"candidate report {k}" for k in range(n)]
    if long_candidate:
        preds[1] = preds[1] + " " + " ".join(f"extra{i}" for i in range(400))
    return (pd.DataFrame({"study_id": [f"s{k}" for k in range(n)], "report": preds}),
            pd.DataFrame({"study_id": [f"s{k}" for k in range(n)], "report": [f"reference report {k}" for k in range(n)]}))


def test_endpoint_scores_counts_failures_and_cache(isolated, monkeypatch):
    pytest.importorskip("openai")
    from rexeval.run.scoring import score
    from tests.helpers.llm_server import FakeChatServer

    # candidate 3: a prose answer first, then a good one (re-requested within the parse retries)
    def plan(user, attempt):
        if "candidate report 3" in user and attempt == 1:
            return ("text", "Sure! Here is my assessment.")
        return None

    preds, refs = _frame(long_candidate=True)
    with FakeChatServer(fake_answer, plan=plan) as server:
        monkeypatch.setenv("REXEVAL_GREEN_BASE_URL", server.base_url)
        res = score(preds, refs, metrics=["green"], n_resamples=100, progress=False)
        first_requests = server.requests
        body = server.bodies[0]
        again = score(preds, refs, metrics=["green"], n_resamples=100, progress=False)
        # 6 answered at once, study 3 on its 2nd request, study 6 refused 1 + 2 parse retries = 11
        assert first_requests == 11
        assert server.requests - first_requests == 3  # cached answers are reused; only study 6 asks again
    assert body["model"] == "StanfordAIMI/GREEN-RadLlama2-7b" and body["temperature"] == 0.0
    ps = res.per_study.set_index("study_id")
    for k in range(N):
        row = ps.loc[f"s{k}"]
        if k == 6:
            assert math.isnan(row["green"]) and math.isnan(row["green_sig_A"]) and math.isnan(row["green_matched"])
            continue
        sig, insig, matched = expected(k)
        sig = [int(x) for x in sig]
        want = 0.0 if matched == 0 else matched / (matched + sum(sig))
        assert row["green"] == pytest.approx(want)
        assert [row[f"green_sig_{x}"] for x in "ABCDEF"] == sig
        assert [row[f"green_insig_{x}"] for x in "ABCDEF"] == insig
        assert row["green_matched"] == matched and row["green_total_sig"] == sum(sig)
    # by hand from expected(): studies 0..7 without 6 -> 0 (matched 0), 1/(1+1), 2/2, 3/(3+2), 0, 1/2, -, 3/(3+1)
    vals = [0, 1 / 2, 1.0, 3 / 5, 0, 1 / 2, 3 / 4]
    m = res.summary["metrics"]["green"]
    assert m["value"] == pytest.approx(sum(vals) / 7)
    assert m["n"] == 7 and m["n_failed"] == 1 and m["higher_is_better"] is True
    run = res.summary["metric_runs"]["green"]
    assert run["n_failed_studies"] == 1 and run["failed_studies"][0]["study_id"] == "s6"
    assert run["failed_studies"][0]["reason"] == "unparseable"
    np.testing.assert_array_equal(again.per_study["green"].to_numpy(), res.per_study["green"].to_numpy())
    # the 300-word cut reached the judge
    prompts = [b["messages"][-1]["content"] for b in server.bodies]
    long_prompt = next(p for p in prompts if "candidate report 1 " in p)
    assert "extra296\n" in long_prompt and "extra297" not in long_prompt  # 3 words + extra0..extra296 = 300


def test_local_backend_on_tiny_random_llama_records_failures(isolated):
    """The transformers path end to end: a random model cannot answer in GREEN's format -> NaN, counted."""
    torch = pytest.importorskip("torch")
    from transformers import LlamaConfig, LlamaForCausalLM, LlamaTokenizer

    folder = isolated / "green-tiny"
    chars = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;()[]<>|/-_'\"\n ")
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "▁": 3}
    for c in chars:
        vocab.setdefault(c, len(vocab))
    tok = LlamaTokenizer(vocab=vocab, merges=[])
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=4096,
                      bos_token_id=1, eos_token_id=2)
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(folder, max_shard_size="20KB")  # sharded, with an index, like the hub
    tok.save_pretrained(folder)
    if not torch.cuda.is_available():  # weights present but no GPU: not run by default
        with pytest.raises(MetricUnavailable, match="only on a GPU"):
            Green(backend="local", model_path=str(folder)).check_available()
    m = Green(backend="local", model_path=str(folder), max_new_tokens=6, device="cpu")
    m.check_available()
    assert m.signature().startswith("green|judge:local:green-tiny")
    from rexeval.metrics.base import Batch

    out = m.compute(Batch(["a", "b"], ["Mild cardiomegaly.", "No effusion."], ["Cardiomegaly.", "Clear lungs."]))
    assert np.isnan(out["green"]).all() and np.isnan(out["green_sig_A"]).all()
    info = m.run_info()
    assert info["n_failed_studies"] == 2 and {f["reason"] for f in info["failed_studies"]} == {"unparseable"}


def test_unavailable_without_endpoint_or_weights(isolated):
    with pytest.raises(MetricUnavailable) as exc:
        Green().check_available()
    assert "rexeval models download green-radllama2-7b" in exc.value.fix
    assert "REXEVAL_GREEN_BASE_URL" in exc.value.fix
    with pytest.raises(MetricUnavailable, match="needs a server URL"):
        Green(backend="endpoint").check_available()
    with pytest.raises(ConfigError):
        Green(backend="cloud")


def test_score_cli_lists_ratescore_and_green_as_skipped_with_fix(tmp_path):
    """All models missing, no endpoint: both are listed as skipped, with the fix, and nothing waits on a network."""
    from tests.helpers.cli import ROOT, run_cli

    env = {"HF_HUB_CACHE": str(tmp_path / "empty-hub"), "REXEVAL_CACHE": "off", "REXEVAL_GREEN_BASE_URL": "",
           "REXEVAL_RATE_NER": "", "REXEVAL_BIOLORD": "", "REXEVAL_GREEN_PATH": ""}
    proc = run_cli("score", ROOT / "examples" / "example_preds.csv", "--no-progress", "--bootstrap", "0",
                   "--json", env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    import json

    skipped = json.loads(proc.stdout)["skipped"]
    assert "rexeval models download rate-ner-deberta" in skipped["ratescore"]
    assert "rexeval models download green-radllama2-7b" in skipped["green"]
    assert "REXEVAL_GREEN_BASE_URL" in skipped["green"]
    assert "skipped ratescore" in proc.stderr and "skipped green" in proc.stderr


def test_chat_template_for_servers_renders_greens_chat_format():
    jinja2 = pytest.importorskip("jinja2")
    from rexeval.metrics.green import CHAT_TEMPLATE

    out = jinja2.Environment().from_string(CHAT_TEMPLATE).render(
        messages=[{"role": "user", "content": "PROMPT"}], eos_token="</s>", add_generation_prompt=True)
    assert out == "<|user|>\nPROMPT</s>\n<|assistant|>\n" == chat_text("PROMPT")
