"""meta-eval on synthetic ratings whose answer is known analytically (never from the code under test)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from rexeval.tools.metaeval import Scores, meta_evaluate, point_correlations, weighted_correlations
from rexeval.tools.ratings import Ratings, read_ratings
from tests.helpers.cli import run_cli


def _ratings(y, study_ids=None, higher=True, raters=None, extra=None) -> Ratings:
    n = len(y)
    frame = pd.DataFrame({"pair_id": [f"p{i}" for i in range(n)],
                          "study_id": study_ids if study_ids is not None else [f"s{i}" for i in range(n)],
                          "prediction": [""] * n, "reference": [""] * n, "human": y})
    for k, v in (extra or {}).items():
        frame[k] = v
    return Ratings(frame, ["human"], raters or [], {"human": higher})


def _scores(**named) -> Scores:
    s = Scores()
    for name, (values, higher) in named.items():
        s.values[name] = np.asarray(values, dtype=float)
        s.higher_is_better[name] = higher
    return s


def test_weighted_correlations_equal_scipy_on_the_expanded_sample():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, 30).astype(float)
    y = x + rng.integers(-2, 3, 30)
    w = rng.integers(0, 4, (6, 30)).astype(float)
    got = weighted_correlations(x, y, w)
    for b in range(6):
        idx = np.repeat(np.arange(30), w[b].astype(int))
        want = point_correlations(x[idx], y[idx])
        for k in want:
            assert got[k][b] == pytest.approx(want[k], abs=1e-12)


def test_metric_equal_to_human_gives_tau_one_and_sign_follows_directions():
    y = np.arange(40, dtype=float) % 7 + np.arange(40) / 100
    res = meta_evaluate(_ratings(y), _scores(same=(y, True), flipped=(-y, False)), n_resamples=200)
    for _, row in res.table.iterrows():
        assert row["kendall_tau_b"] == pytest.approx(1.0)
        assert row["spearman"] == pytest.approx(1.0)
        assert row["pearson"] == pytest.approx(1.0)
    # An error count (lower is better) against a higher-is-better metric that tracks quality: still +1.
    res = meta_evaluate(_ratings(-y, higher=False), _scores(quality=(y, True)), n_resamples=0)
    assert res.table["kendall_tau_b"].iloc[0] == pytest.approx(1.0)


def test_known_noise_gives_the_bivariate_normal_tau_within_its_ci():
    # x = y + e, y ~ N(0,1), e ~ N(0,1): rho = 1/sqrt(2); Kendall tau = (2/pi) asin(rho) = 0.5 exactly,
    # Spearman = (6/pi) asin(rho/2), Pearson = rho (Greiner's and Pearson's bivariate-normal relations).
    rho = 1 / math.sqrt(2)
    expected = {"kendall_tau_b": 2 / math.pi * math.asin(rho), "spearman": 6 / math.pi * math.asin(rho / 2),
                "pearson": rho}
    assert expected["kendall_tau_b"] == pytest.approx(0.5)
    rng = np.random.default_rng(20261201)
    covered = {k: 0 for k in expected}
    trials = 40
    for t in range(trials):
        y = rng.normal(size=150)
        x = y + rng.normal(size=150)
        res = meta_evaluate(_ratings(y), _scores(noisy=(x, True)), n_resamples=400, seed=t)
        row = res.table.iloc[0]
        for k, v in expected.items():
            covered[k] += row[f"{k}_lo"] <= v <= row[f"{k}_hi"]
    # Nominal 95% coverage; 40 trials: P(<= 33 covered | 0.95) < 0.01.
    for k in expected:
        assert covered[k] >= 34, (k, covered[k])
    # One big sample: the point estimate itself is close to 0.5.
    y = rng.normal(size=3000)
    assert point_correlations(y + rng.normal(size=3000), y)["kendall_tau_b"] == pytest.approx(0.5, abs=0.03)


def _clustered(rng, n_refs=50, per_ref=4, shared=True):
    """Candidates of one reference share a reference effect in both the metric and the human score."""
    u = np.repeat(rng.normal(size=n_refs), per_ref) if shared else rng.normal(size=n_refs * per_ref)
    y = u + 0.5 * rng.normal(size=n_refs * per_ref)
    x = u + 0.5 * rng.normal(size=n_refs * per_ref)
    ids = np.repeat([f"r{i}" for i in range(n_refs)], per_ref)
    return x, y, ids


def test_cluster_bootstrap_is_wider_than_pair_bootstrap_for_correlated_candidates():
    rng = np.random.default_rng(7)
    ratios = []
    for t in range(5):
        x, y, ids = _clustered(rng)
        width = {}
        for unit in ("reference", "pair"):
            row = meta_evaluate(_ratings(y, ids), _scores(m=(x, True)), unit=unit, n_resamples=600, seed=t).table.iloc[0]
            width[unit] = row["kendall_tau_b_hi"] - row["kendall_tau_b_lo"]
        ratios.append(width["reference"] / width["pair"])
    assert min(ratios) > 1.0 and float(np.median(ratios)) > 1.3, ratios
    # auto picks the reference unit when references repeat.
    x, y, ids = _clustered(rng)
    assert meta_evaluate(_ratings(y, ids), _scores(m=(x, True)), n_resamples=10).info["bootstrap"]["unit"] == "reference"


def test_paired_test_identical_metrics_p_one_and_a_real_difference_is_found():
    rng = np.random.default_rng(11)
    y = rng.normal(size=200)
    good = y + 0.3 * rng.normal(size=200)
    res = meta_evaluate(_ratings(y), _scores(a=(good, True), b=(good.copy(), True), noise=(rng.normal(size=200), True)),
                        n_resamples=500)
    p = res.paired.set_index(["a", "b"])
    assert p.loc[("a", "b"), "p_value"] == 1.0
    assert p.loc[("a", "b"), "delta"] == 0.0
    assert p.loc[("a", "noise"), "p_value"] < 0.01
    assert p.loc[("a", "noise"), "delta_lo"] > 0


def test_human_ceiling_matches_the_analytic_value():
    # r_i = t + e_i with var(t) = var(e) = 1 and 3 raters: corr(r_i, mean of the other 2) = 1/sqrt(2 * 1.5).
    rng = np.random.default_rng(5)
    n, k = 400, 3
    t = rng.normal(size=n)
    raters = {f"r{i}": t + rng.normal(size=n) for i in range(k)}
    ratings = _ratings(t, raters=list(raters), extra=raters)
    res = meta_evaluate(ratings, _scores(m=(t, True)), n_resamples=400)
    rho = 1 / math.sqrt(2 * 1.5)
    mean = res.ceiling.set_index("rater").loc["mean"]
    assert mean["kendall_tau_b_lo"] <= 2 / math.pi * math.asin(rho) <= mean["kendall_tau_b_hi"]
    assert mean["pearson_lo"] <= rho <= mean["pearson_hi"]
    assert len(res.ceiling) == k + 1


# ------------------------------------------------------------------------------------------ readers


def _write_rexval(tmp_path, long_pairs=False):
    """Two studies x 2 candidates in ReXVal's layout; rater 2 has no row for one pair (counts 0)."""
    d = tmp_path / "rexval"
    d.mkdir()
    if long_pairs:
        pd.DataFrame({"study_number": [0, 0, 1, 1], "candidate_type": ["bleu", "radgraph"] * 2,
                      "generated": ["a b", "a c", "d e", "d f"], "gt_report": ["a", "a", "d", "d"]}).to_csv(
            d / "50_samples_gt_and_candidates.csv", index=False)
    else:
        pd.DataFrame({"study_id": [101, 202], "gt_report": ["a", "d"], "radgraph": ["a c", "d f"],
                      "bleu": ["a b", "d e"]}).to_csv(d / "50_samples_gt_and_candidates.csv", index=False)
    rows = []
    for s in (0, 1):
        for c in ("bleu", "radgraph"):
            for r in (1, 2):
                if (s, c, r) == (1, "bleu", 2):
                    continue
                for cat in (1, 2):
                    rows.append({"study_number": s, "candidate_type": c, "rater_index": r, "error_category": cat,
                                 "clinically_significant": True, "num_errors": s + cat + r})
                    rows.append({"study_number": s, "candidate_type": c, "rater_index": r, "error_category": cat,
                                 "clinically_significant": False, "num_errors": 1})
    pd.DataFrame(rows).to_csv(d / "6_valid_raters_per_rater_error_categories.csv", index=False)
    return d


@pytest.mark.parametrize("long_pairs", [False, True])
def test_rexval_reader_sums_categories_per_rater(tmp_path, long_pairs):
    r = read_ratings(_write_rexval(tmp_path, long_pairs))
    f = r.frame.set_index("pair_id")
    assert r.raters == ["errors_rater1", "errors_rater2"] and r.human == ["errors_mean"]
    assert r.higher_is_better["errors_mean"] is False
    assert sorted(f.index) == ["0#bleu", "0#radgraph", "1#bleu", "1#radgraph"]
    # significant errors of rater r on study s: (s+1+r) + (s+2+r) = 2s + 2r + 3
    assert f.loc["1#radgraph", "errors_rater2"] == 2 * 1 + 2 * 2 + 3
    assert f.loc["1#bleu", "errors_rater2"] == 0  # no row for that pair: 0 errors
    assert f.loc["0#bleu", "errors_mean"] == ((0 + 2 + 3) + (0 + 4 + 3)) / 2
    assert f.loc["0#bleu", "prediction"] == "a b" and f.loc["0#bleu", "reference"] == "a"
    assert r.n_studies == 2
    everything = read_ratings(tmp_path / "rexval", rexval_errors="all").frame.set_index("pair_id")
    assert everything.loc["0#bleu", "errors_rater1"] == (0 + 2 + 3) + 2


def test_long_layout_pivots_raters(tmp_path):
    p = tmp_path / "long.csv"
    pd.DataFrame({"study_id": ["s1", "s1", "s2", "s2"], "prediction": ["x", "x", "y", "y"],
                  "reference": ["r1", "r1", "r2", "r2"], "rater": ["A", "B", "A", "B"],
                  "score": [1, 3, 2, 4]}).to_csv(p, index=False)
    r = read_ratings(p)
    assert r.raters == ["rater_A", "rater_B"]
    assert r.frame.set_index("pair_id").loc["s2", "human_mean"] == 3.0


# ---------------------------------------------------------------------------------------------- CLI


def _wide_csv(tmp_path, n=24):
    rng = np.random.default_rng(0)
    refs = [f"the heart is normal and lung {i} is clear" for i in range(n // 2)]
    rows = []
    for i in range(n):
        ref = refs[i // 2]
        words = ref.split()
        k = int(rng.integers(1, len(words)))
        pred = " ".join(words[:k] + ["extra"] * (i % 3))
        rows.append({"study_id": f"s{i // 2}", "candidate": f"c{i % 2}", "prediction": pred, "reference": ref,
                     "words": len(pred.split()), "errors_r1": len(words) - k, "errors_r2": len(words) - k + i % 2})
    p = tmp_path / "ratings.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def test_cli_reward_plugin_equal_to_human_gives_tau_one(tmp_path):
    ratings = _wide_csv(tmp_path)
    cfg = tmp_path / "words.json"
    cfg.write_text(json.dumps({"components": [{"metric": "word_count_test"}],
                               "plugins": {"word_count_test": "tests.helpers.metaeval_plugin:WordCount"}}))
    out = tmp_path / "out"
    res = run_cli("meta-eval", ratings, "--metrics", "bleu", "--human", "words:higher", "--reward", cfg,
                  "--bootstrap", "100", "-o", out)
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out / "correlations.csv").set_index("score")
    assert table.loc["reward:words", "kendall_tau_b"] == pytest.approx(1.0)
    assert (out / "meta_eval_tau.png").is_file() and (out / "paired_tests.csv").is_file()
    assert json.loads((out / "meta_eval.json").read_text())["bootstrap"]["unit"] == "reference"


def test_cli_run_dir_gives_the_same_numbers_as_scoring(tmp_path):
    ratings = _wide_csv(tmp_path)
    frame = read_ratings(ratings, human=["errors_r1"]).frame
    preds = tmp_path / "pairs.csv"
    frame[["pair_id", "prediction", "reference"]].rename(columns={"pair_id": "study_id"}).to_csv(preds, index=False)
    assert run_cli("score", preds, "--metrics", "bleu,rouge_l", "--bootstrap", "0", "-o", tmp_path / "run").returncode == 0
    common = ["--raters", "errors_r1,errors_r2", "--bootstrap", "50"]
    a = run_cli("meta-eval", ratings, "--metrics", "bleu,rouge_l", *common, "-o", tmp_path / "a")
    b = run_cli("meta-eval", ratings, "--run", tmp_path / "run", *common, "-o", tmp_path / "b")
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    ta, tb = pd.read_csv(tmp_path / "a" / "correlations.csv"), pd.read_csv(tmp_path / "b" / "correlations.csv")
    pd.testing.assert_frame_equal(ta.drop(columns="source"), tb.drop(columns="source"))
    assert set(ta["human"]) == {"human_mean"}
    assert (tmp_path / "a" / "human_ceiling.csv").is_file()


def test_cli_rexval_layout_and_bad_input(tmp_path):
    d = _write_rexval(tmp_path)
    res = run_cli("meta-eval", d, "--metrics", "bleu", "--bootstrap", "20", "-o", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    assert "human ceiling" in res.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("study_id,prediction,reference,score\ns1,a,b,high\n")
    res = run_cli("meta-eval", bad, "--metrics", "bleu", "--human", "score")
    assert res.returncode == 2
    assert "row 2" in res.stderr and "'score'" in res.stderr and "Traceback" not in res.stderr


def test_reader_errors_name_the_file_and_column(tmp_path):
    from rexeval.base.exceptions import ConfigError, InputError

    p = _wide_csv(tmp_path)
    with pytest.raises(InputError, match="no human column 'nope'"):
        read_ratings(p, human=["nope"])
    with pytest.raises(ConfigError, match="--layout"):
        read_ratings(p, layout="grid")
    d = tmp_path / "half"
    d.mkdir()
    (d / "50_samples_gt_and_candidates.csv").write_text("study_id,gt_report,bleu\n1,a,b\n")
    with pytest.raises(InputError, match="6_valid_raters_per_rater_error_categories.csv.*physionet"):
        read_ratings(d)
    dup = tmp_path / "dup.csv"
    dup.write_text("pair_id,study_id,prediction,reference,score\np1,s1,a,b,1\np1,s1,c,b,2\n")
    with pytest.raises(InputError, match="row 3: pair .p1. appears twice"):
        read_ratings(dup, human=["score"])


def test_looped_bootstrap_for_large_sets_matches_the_matrix_path(monkeypatch):
    import rexeval.tools.metaeval as me

    rng = np.random.default_rng(2)
    x = rng.integers(0, 5, 25).astype(float)
    y = x + rng.normal(size=25)
    w = rng.integers(0, 3, (4, 25)).astype(float)
    matrix = me.weighted_correlations(x, y, w)
    monkeypatch.setattr(me, "_MATRIX_MAX", 5)
    looped = me.weighted_correlations(x, y, w)
    for k in matrix:
        np.testing.assert_allclose(looped[k], matrix[k], atol=1e-12)


def test_rexval_study_number_as_one_based_row_position(tmp_path):
    d = _write_rexval(tmp_path)
    pairs = pd.read_csv(d / "50_samples_gt_and_candidates.csv")
    pairs.drop(columns="study_id").to_csv(d / "50_samples_gt_and_candidates.csv", index=False)
    errors = pd.read_csv(d / "6_valid_raters_per_rater_error_categories.csv")
    errors["study_number"] += 1  # 1, 2: the first and second rows of the pairs file
    errors.to_csv(d / "6_valid_raters_per_rater_error_categories.csv", index=False)
    f = read_ratings(d).frame.set_index("pair_id")
    assert f.loc["2#radgraph", "prediction"] == "d f"
    assert f.loc["1#bleu", "errors_rater1"] == (0 + 1 + 1) + (0 + 2 + 1)  # written for s = 0, renumbered to 1
