"""BLEU-2 exactly as ReXrank (CXR-Report-Metric's fast_bleu) computes it."""

import math

import numpy as np
import pandas as pd
import pytest

from rexeval.metrics.bleu import sentence_bleu, tokenize
from tests.helpers.paths import shared_path


def test_tokenization_matches_spec_examples():
    assert tokenize("Lungs clear.\nNo effusion, stable.") == ["lungs", "clear", ".\nno", "effusion,", "stable", "."]
    assert tokenize("1.2") == ["1", ".2"]
    assert tokenize("vein.2.") == ["vein", ".2", "."]
    assert tokenize("  a  b ") == ["a", "b"]


def test_spec_check_values():
    # docs/metrics.md §2: h = r = "a" -> sqrt(0.1); "a x" vs "a b c d" -> e^-1 * sqrt(0.05)
    assert sentence_bleu("a", "a") == pytest.approx(math.sqrt(0.1), abs=1e-12)
    assert sentence_bleu("a x", "a b c d") == pytest.approx(math.exp(-1) * math.sqrt(0.05), abs=1e-12)


def test_zero_unigram_match_and_empty_hypothesis_score_zero():
    assert sentence_bleu("x y z", "a b c") == 0.0
    assert sentence_bleu("", "a b c") == 0.0


def test_identical_long_text_scores_one():
    text = "the heart is normal in size . the lungs are clear"
    assert sentence_bleu(text, text) == pytest.approx(1.0)


def test_agrees_with_nltk_method1():
    nltk = pytest.importorskip("nltk.translate.bleu_score")
    rng = np.random.default_rng(0)
    vocab = ["lungs", "clear", "no", "effusion", "heart", "normal", "size", ".", "mild", "left"]
    smooth = nltk.SmoothingFunction().method1
    for _ in range(300):
        h = " ".join(rng.choice(vocab, rng.integers(1, 12)))
        r = " ".join(rng.choice(vocab, rng.integers(1, 12)))
        expected = nltk.sentence_bleu([tokenize(r)], tokenize(h), weights=(0.5, 0.5), smoothing_function=smooth)
        if not set(tokenize(h)) & set(tokenize(r)):
            expected = 0.0  # fast_bleu returns 0 with no unigram match (docs/metrics.md §2); NLTK does too for this case
        assert sentence_bleu(h, r) == pytest.approx(expected, abs=1e-12)



@pytest.mark.shared
def test_moerad_per_study_bleu_matches_cxr_report_metric():
    base = shared_path("conformance", "moerad_iu_test")
    preds = pd.read_csv(base / "preds.csv", dtype=str)
    gts = pd.read_csv(base / "gts.csv", dtype=str)
    expected = pd.read_csv(base / "report_scores.csv")["bleu_score"].to_numpy()
    ours = np.array([sentence_bleu(p, g) for p, g in zip(preds.report, gts.report)])
    assert len(ours) == 590
    assert np.max(np.abs(ours - expected)) <= 1e-9
    assert ours.mean() == pytest.approx(0.2704, abs=5e-5)
