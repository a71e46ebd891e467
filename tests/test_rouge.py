"""ROUGE-L F against hand-computed values and the rouge-score package."""

import numpy as np
import pytest

from rexeval.metrics.rouge import lcs_length, rouge_l, tokenize


def test_hand_computed():
    # LCS("the lungs are clear", "lungs clear") = 2 -> P = 2/4, R = 2/2, F = 2/3
    assert rouge_l("the lungs are clear", "lungs clear") == pytest.approx(2 / 3)
    assert rouge_l("", "lungs") == 0.0 and rouge_l("x", "y") == 0.0
    assert lcs_length(list("abcbdab"), list("bdcaba")) == 4
    assert tokenize("No effusion, stable.") == ["no", "effusion", "stable"]


def test_equals_rouge_score_package():
    rs = pytest.importorskip("rouge_score.rouge_scorer")
    scorer = rs.RougeScorer(["rougeL"], use_stemmer=False)
    rng = np.random.default_rng(0)
    vocab = ["Lungs", "clear.", "no", "effusion,", "heart", "normal", "size", "mild", "left", "1.5", "cm"]
    for _ in range(300):
        h = " ".join(rng.choice(vocab, rng.integers(0, 12)))
        r = " ".join(rng.choice(vocab, rng.integers(1, 12)))
        assert rouge_l(h, r) == pytest.approx(scorer.score(r, h)["rougeL"].fmeasure, abs=1e-12)
