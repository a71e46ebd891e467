"""Condition F1 aggregation: against scikit-learn, as additive statistics, and through ``score``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rexeval.backends.labelers import CONDITIONS, FIVE, FIVE_INDEX
from rexeval.metrics.conditions import (
    RulesF1,
    binarise,
    confusion_stats,
    exact_match,
    f1_from_sums,
    per_condition,
)

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def _random_labels(rng, n, zero_support=(), p=(0.25, 0.35, 0.1, 0.3)):
    """Random 1/0/-1/NaN labels; conditions in ``zero_support`` never positive/uncertain."""
    vals = np.array([1.0, 0.0, -1.0, np.nan])
    lab = rng.choice(vals, size=(n, 14), p=p)
    for j in zero_support:
        lab[:, j] = rng.choice([0.0, np.nan], size=n)
    return lab


def _sk(ref_bin, pred_bin, names):
    return sklearn_metrics.classification_report(
        ref_bin, pred_bin, target_names=names, output_dict=True, zero_division=0
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("policy", ["positive", "negative"])
def test_f1_equals_sklearn_classification_report(seed, policy):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 80))
    # zero-support conditions in the references (and one also never predicted)
    ref = _random_labels(rng, n, zero_support=(0, 10))
    pred = _random_labels(rng, n, zero_support=(10,))
    # binarise independently of the code under test
    def sk_bin(x):
        return ((x == 1) | ((x == -1) & (policy == "positive"))).astype(int)

    rb, pb = sk_bin(ref), sk_bin(pred)
    for subset, idx in (("14", list(range(14))), ("5", list(FIVE_INDEX))):
        names = [CONDITIONS[i] for i in idx]
        report = _sk(rb[:, idx], pb[:, idx], names)
        sums = confusion_stats(pred[:, idx], ref[:, idx], policy).sum(0)
        for avg in ("micro", "macro", "weighted"):
            assert f1_from_sums(sums, avg) == pytest.approx(report[f"{avg} avg"]["f1-score"], abs=1e-12), (subset, avg)
        pc = per_condition(pred[:, idx], ref[:, idx], policy, names=names)
        for name in names:
            for ours, theirs in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
                assert pc[name][ours] == pytest.approx(report[name][theirs], abs=1e-12)
            assert pc[name]["support"] == report[name]["support"]
    assert per_condition(pred, ref, policy)[CONDITIONS[0]]["support"] == 0  # the zero-support case is real


def test_zero_support_counts_as_zero_in_macro():
    # RE's fixture shape (docs/metrics.md §7): 5-label macro 0.2 = (0+0+1+0+0)/5
    ref = np.full((3, 5), np.nan)
    pred = np.full((3, 5), np.nan)
    ref[0, 2] = pred[0, 2] = 1.0
    pred[1, 0] = 1.0  # a false positive where support is 0
    sums = confusion_stats(pred, ref).sum(0)
    assert f1_from_sums(sums, "macro") == pytest.approx(0.2)
    assert f1_from_sums(sums, "micro") == pytest.approx(2 / 3)


def test_uncertain_policies():
    lab = np.array([[1.0, -1.0, 0.0, np.nan]])
    b, v = binarise(lab, "positive")
    assert b.tolist() == [[1, 1, 0, 0]] and v.all()
    b, v = binarise(lab, "negative")
    assert b.tolist() == [[1, 0, 0, 0]] and v.all()
    b, v = binarise(lab, "ignore")
    assert b.tolist() == [[1, 0, 0, 0]] and v.tolist() == [[True, False, True, True]]
    # ignore: a cell uncertain in either report is left out of the counts
    pred = np.array([[-1.0, 1.0]])
    ref = np.array([[1.0, 1.0]])
    s = confusion_stats(pred, ref, "ignore")
    assert s.tolist() == [[0, 1, 0, 0, 0, 0]]


def test_exact_match_accuracy_matches_sklearn():
    rng = np.random.default_rng(7)
    ref, pred = _random_labels(rng, 60), _random_labels(rng, 60)
    pred[:20] = ref[:20]
    five = list(FIVE_INDEX)
    rb = ((ref == 1) | (ref == -1)).astype(int)[:, five]
    pb = ((pred == 1) | (pred == -1)).astype(int)[:, five]
    assert exact_match(pred[:, five], ref[:, five]).mean() == pytest.approx(sklearn_metrics.accuracy_score(rb, pb))


def test_aggregate_is_sum_of_per_study_stats_so_bootstrap_works():
    from rexeval.stats.bootstrap import bootstrap_ci

    rng = np.random.default_rng(1)
    n = 50
    ref, pred = _random_labels(rng, n), _random_labels(rng, n)
    metric = RulesF1()
    cols = {}
    for j, c in enumerate(CONDITIONS):
        cols[f"rules_label_pred.{c}"] = pred[:, j]
        cols[f"rules_label_ref.{c}"] = ref[:, j]
    outs = {o.key: o for o in metric.outputs()}
    rb = ((ref == 1) | (ref == -1)).astype(int)
    pb = ((pred == 1) | (pred == -1)).astype(int)
    report = _sk(rb, pb, list(CONDITIONS))
    assert outs["rules_f1_14_micro"].aggregate.value(cols) == pytest.approx(report["micro avg"]["f1-score"])
    five = list(FIVE_INDEX)
    report5 = _sk(rb[:, five], pb[:, five], list(FIVE))
    assert outs["rules_f1_5_macro"].aggregate.value(cols) == pytest.approx(report5["macro avg"]["f1-score"])
    lo, hi = bootstrap_ci(outs["rules_f1_14_micro"].aggregate, cols, 200, 0)
    assert lo <= report["micro avg"]["f1-score"] <= hi and lo < hi


def test_keys_state_labeler_set_average_and_policy():
    keys = [o.key for o in RulesF1().outputs()]
    assert "rules_f1_14_micro" in keys and "rules_f1_5_weighted" in keys and "rules_accuracy_5" in keys
    keys = [o.key for o in RulesF1(uncertain="negative").outputs()]
    assert "rules_f1_5_micro_uneg" in keys
    assert RulesF1(uncertain="ignore").signature().startswith("rules_f1|labeler:rules|uncertain:ignore")
    from rexeval.base.exceptions import ConfigError

    with pytest.raises(ConfigError):
        RulesF1(uncertain="maybe")


def test_score_runs_rules_f1_with_condition_table(tmp_path, monkeypatch):
    from rexeval.reports.compare import compare
    from rexeval.run.scoring import score

    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    refs = pd.DataFrame({
        "study_id": ["a", "b", "c", "d"],
        "reference": ["Small left pleural effusion.", "No acute disease.", "Mild cardiomegaly. No edema.", "Right lower lobe pneumonia."],
    })
    preds = pd.DataFrame({
        "study_id": ["a", "b", "c", "d"],
        "prediction": ["Left pleural effusion.", "Normal chest.", "No cardiomegaly.", "Possible right lower lobe pneumonia."],
    })
    res = score(preds, refs, metrics=["rules_f1"], n_resamples=50, progress=False)
    s = res.summary
    assert s["metrics"]["rules_f1_5_micro"]["signature"].startswith("rules_f1|labeler:rules|uncertain:positive")
    # hand count, 5 conditions: TP = effusion(a); FN = cardiomegaly(c); FP = none -> micro F1 = 2/3
    assert s["metrics"]["rules_f1_5_micro"]["value"] == pytest.approx(2 / 3)
    table = s["conditions"]["rules"]
    assert table["Pleural Effusion"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1, "predicted": 1}
    assert table["Cardiomegaly"]["support"] == 1 and table["Cardiomegaly"]["f1"] == 0.0
    assert table["Pneumonia"]["f1"] == 1.0  # uncertain counts as positive by default
    assert res.per_study.loc[3, "rules_label_pred.Pneumonia"] == -1.0
    out = res.write(tmp_path / "run_a")
    # a second system: the per-study label columns let compare() run paired tests on corpus F1
    preds_b = preds.assign(prediction=["No effusion.", "Normal chest.", "Mild cardiomegaly.", "No pneumonia."])
    score(preds_b, refs, metrics=["rules_f1"], n_resamples=50, progress=False).write(tmp_path / "run_b")
    table = compare(out, tmp_path / "run_b", n_permutations=200)
    assert "rules_f1_14_micro" in set(table["metric"])
