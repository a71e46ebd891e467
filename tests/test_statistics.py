"""Bootstrap CIs and paired tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rexeval.metrics.base import inverse_mean_of, mean_of
from rexeval.reports.compare import compare
from rexeval.run.scoring import score
from rexeval.stats.bootstrap import bootstrap_ci, bootstrap_distribution, resample_counts
from rexeval.stats.paired import holm, paired_test


def test_resample_counts_are_reproducible_and_sum_to_n():
    a = np.concatenate(list(resample_counts(50, 300, seed=7)))
    b = np.concatenate(list(resample_counts(50, 300, seed=7)))
    assert a.shape == (300, 50) and np.array_equal(a, b)
    assert np.all(a.sum(axis=1) == 50)
    assert not np.array_equal(a, np.concatenate(list(resample_counts(50, 300, seed=8))))


def test_ci_width_agrees_with_analytic_standard_error():
    rng = np.random.default_rng(1)
    x = rng.normal(0.5, 0.2, size=400)
    lo, hi = bootstrap_ci(mean_of("x"), {"x": x}, n_resamples=4000, seed=3)
    se = x.std(ddof=1) / np.sqrt(len(x))
    assert (hi - lo) == pytest.approx(2 * 1.959964 * se, rel=0.08)
    assert lo < x.mean() < hi


def test_inverse_mean_is_recomputed_in_each_resample():
    rng = np.random.default_rng(2)
    x = rng.uniform(0.3, 0.7, size=200)
    dist_inv = bootstrap_distribution(inverse_mean_of("x"), {"x": x}, 500, seed=4)
    dist_mean = bootstrap_distribution(mean_of("x"), {"x": x}, 500, seed=4)
    assert np.allclose(dist_inv, 1.0 / dist_mean)
    assert inverse_mean_of("x").value({"x": x}) == pytest.approx(1.0 / x.mean())


def test_nan_is_a_failure_not_a_zero():
    x = np.array([1.0, np.nan, 0.0, 1.0])
    assert mean_of("x").value({"x": x}) == pytest.approx(2 / 3)


def test_paired_identical_systems_give_p_one():
    rng = np.random.default_rng(3)
    x = rng.uniform(size=100)
    res = paired_test("x", mean_of("x"), {"x": x}, {"x": x.copy()}, n_permutations=2000)
    assert res.delta == 0 and res.p_value == 1.0
    assert res.ci95 == (0.0, 0.0)


def test_paired_clearly_better_system_gives_small_p():
    rng = np.random.default_rng(4)
    b = rng.uniform(0.2, 0.6, size=200)
    a = b + rng.normal(0.05, 0.05, size=200)
    res = paired_test("x", mean_of("x"), {"x": a}, {"x": b}, n_permutations=2000)
    assert res.p_value < 0.01 and res.p_value == pytest.approx(1 / 2001)
    assert res.ci95[0] > 0


def test_paired_test_on_no_difference_is_not_significant():
    rng = np.random.default_rng(5)
    a, b = rng.uniform(size=300), rng.uniform(size=300)
    res = paired_test("x", mean_of("x"), {"x": a}, {"x": b}, n_permutations=2000)
    assert res.p_value > 0.05


def test_sign_flip_p_value_matches_exact_enumeration():
    # With 8 studies there are 2^8 swap patterns; the randomisation p-value must approach the exact one.
    d = np.array([0.3, 0.1, -0.05, 0.2, 0.25, 0.15, -0.1, 0.05])
    a, b = 0.5 + d, np.full(8, 0.5)
    signs = np.array(np.meshgrid(*[[1, -1]] * 8)).reshape(8, -1).T
    exact = np.mean(np.abs((signs * d).mean(axis=1)) >= abs(d.mean()) - 1e-12)
    res = paired_test("x", mean_of("x"), {"x": a}, {"x": b}, n_permutations=20000, seed=11)
    assert res.p_value == pytest.approx(exact, abs=0.01)


def test_holm_matches_textbook_example():
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    out = holm([0.2, float("nan")])
    assert out[0] == 0.2 and np.isnan(out[1])


def _frame(preds, refs):
    return pd.DataFrame({"study_id": [f"s{i}" for i in range(len(preds))], "prediction": preds, "reference": refs})


def test_compare_api_identical_and_better(tmp_path):
    refs = [f"the lungs are clear and there is no effusion number {i} ." for i in range(60)]
    good = list(refs)
    bad = [f"heart size normal {i}" for i in range(60)]
    lexical = ["bleu", "bleu4", "rouge_l"]
    r_good = score(_frame(good, refs), metrics=lexical, progress=False, n_resamples=200)
    r_same = score(_frame(list(good), refs), metrics=lexical, progress=False, n_resamples=200)
    r_bad = score(_frame(bad, refs), metrics=lexical, progress=False, n_resamples=200)
    same = compare(r_good, r_same, n_permutations=999, n_resamples=200)
    assert (same["p_value"] == 1.0).all() and (same["better"] == "=").all()
    diff = compare(r_good, r_bad, n_permutations=999, n_resamples=200)
    assert (diff["p_holm"] < 0.01).all() and (diff["better"] == "A").all()
