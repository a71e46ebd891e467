"""ROUGE-L F against hand-computed values and the rouge-score package (exact equality), and its cap on
tokens per report."""

import json

import numpy as np
import pytest

from rexeval.metrics.base import Batch
from rexeval.metrics.rouge import MAX_TOKENS, RougeL, lcs_length, rouge_l, tokenize
from tests.helpers.paths import shared_path


def test_hand_computed():
    # LCS("the lungs are clear", "lungs clear") = 2 -> P = 2/4, R = 2/2, F = 2/3
    assert rouge_l("the lungs are clear", "lungs clear") == pytest.approx(2 / 3)
    assert rouge_l("", "lungs") == 0.0 and rouge_l("x", "y") == 0.0
    assert lcs_length(list("abcbdab"), list("bdcaba")) == 4
    assert lcs_length([], ["a"]) == 0 and lcs_length(["a"] * 70, ["a"] * 130) == 70  # past one 64-bit word
    assert tokenize("No effusion, stable.") == ["no", "effusion", "stable"]


@pytest.fixture(scope="module")
def scorer():
    rs = pytest.importorskip("rouge_score.rouge_scorer")
    return rs.RougeScorer(["rougeL"], use_stemmer=False)


def test_equals_rouge_score_package_on_random_texts(scorer):
    rng = np.random.default_rng(0)
    vocab = ["Lungs", "clear.", "no", "effusion,", "heart", "normal", "size", "mild", "left", "1.5", "cm",
             "é", "x-ray", "(stable)", "\n", "LEFT"]
    for _ in range(600):
        n_h, n_r = rng.integers(0, 12), rng.integers(1, 12)
        if rng.random() < 0.2:  # some long ones: several 64-bit words in the bit-parallel LCS
            n_h, n_r = rng.integers(60, 400), rng.integers(60, 400)
        h = " ".join(rng.choice(vocab, n_h))
        r = " ".join(rng.choice(vocab, n_r))
        assert rouge_l(h, r) == scorer.score(r, h)["rougeL"].fmeasure, (h, r)


def test_equals_rouge_score_package_on_real_reports(scorer):
    # ReXrank IU X-ray validation reports (not the test split), each against others and against itself cut
    reports = [s["report"] for s in json.loads(shared_path("rexrank", "iu_xray_valid.json").read_text()).values()]
    assert len(reports) > 200
    pairs = [(a, b) for a, b in zip(reports, reports[1:] + reports[:1])]
    pairs += [(a, a[: len(a) // 2]) for a in reports] + [(a, a) for a in reports[:20]]
    pairs.append((" ".join(reports[:15]), " ".join(reports[5:25])))  # ~1,000-token texts
    for h, r in pairs:
        assert rouge_l(h, r) == scorer.score(r, h)["rougeL"].fmeasure, (h[:80], r[:80])


def _batch(preds, refs):
    return Batch([f"s{i}" for i in range(len(preds))], preds, refs)


def test_a_report_over_the_token_cap_is_nan_named_and_recorded(capsys):
    long = " ".join(["effusion"] * 60 + ["heart"] * 40)  # 100 tokens
    metric = RougeL(max_tokens=50)
    cols = metric.compute(_batch(["no effusion", long, "heart normal"], ["no effusion", "effusion", long]))
    values = cols["rouge_l"]
    assert values[0] == 1.0
    assert np.isnan(values[1]) and np.isnan(values[2])  # over the cap on either side: not scored
    err = capsys.readouterr().err
    assert "2 report(s) longer than max_tokens=50" in err and "'s1': 100 tokens" in err
    assert metric.summary_extra(cols)["limits"]["rouge_l"] == {
        "max_tokens": 50, "over_limit": 2, "policy": "reports over max_tokens are NaN (not scored)"}
    assert metric.options()["max_tokens"] == 50  # a non-default cap is part of the signature
    uncapped = RougeL(max_tokens=0).compute(_batch([long], ["effusion"]))["rouge_l"]
    assert uncapped[0] == rouge_l(long, "effusion") and not np.isnan(uncapped[0])
    assert RougeL().max_tokens == MAX_TOKENS and RougeL().summary_extra({"rouge_l": values[:1]}) == {}


@pytest.mark.parametrize("bad", [-1, 1.5, "many", True])
def test_a_bad_token_cap_is_a_config_error(bad):
    from rexeval.base.exceptions import ConfigError

    with pytest.raises(ConfigError, match="max_tokens"):
        RougeL(max_tokens=bad)


def test_token_cap_from_the_cli(tmp_path):
    import pandas as pd

    from tests.helpers.cli import run_cli

    pairs = tmp_path / "pairs.csv"
    pd.DataFrame({"study_id": ["a", "b"], "prediction": ["no effusion", "word " * 30],
                  "reference": ["no effusion", "word"]}).to_csv(pairs, index=False)
    proc = run_cli("score", pairs, "-m", "rouge_l", "--bootstrap", "0", "--no-progress", "--json",
                   "-O", "rouge_l.max_tokens=10")
    assert proc.returncode == 0, proc.stderr
    assert "longer than max_tokens=10" in proc.stderr and "'b': 30 tokens" in proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["limits"]["rouge_l"]["over_limit"] == 1
    assert summary["metrics"]["rouge_l"]["n_failed"] == 1 and summary["metrics"]["rouge_l"]["value"] == 1.0
