"""meta-eval refuses ratings it cannot use honestly (one line naming the file, row and column), stays
exact on huge values, and prints no CIs when there are no resamples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rexeval.base.exceptions import InputError
from rexeval.tools.metaeval import Scores, meta_evaluate
from rexeval.tools.ratings import Ratings, read_ratings
from tests.helpers.cli import run_cli
from tests.test_metaeval import _write_rexval


def _wide(tmp_path, column: str, values: list[str], extra_rows: list[str] | None = None):
    p = tmp_path / "ratings.csv"
    rows = [f"s{i},pred {i},ref {i},{v}" for i, v in enumerate(values)] + (extra_rows or [])
    p.write_text(f"study_id,prediction,reference,{column}\n" + "\n".join(rows) + "\n")
    return p


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "1e400"])
def test_an_infinite_rating_is_an_error_naming_row_and_column(tmp_path, value):
    p = _wide(tmp_path, "score", ["1", "2", value, "4"])
    with pytest.raises(InputError, match=r"ratings\.csv, row 4, column 'score': not a finite number"):
        read_ratings(p, human=["score"])


def test_a_negative_error_count_is_an_error(tmp_path):
    p = _wide(tmp_path, "errors", ["1", "0", "-2"])
    with pytest.raises(InputError, match=r"row 4, column 'errors': an error count cannot be negative: '-2'"):
        read_ratings(p, human=["errors"])
    long = tmp_path / "long.csv"
    long.write_text("study_id,prediction,reference,rater,num_errors\ns1,a,b,A,1\ns1,a,b,B,-1\n")
    with pytest.raises(InputError, match=r"long\.csv, row 3, column 'num_errors': an error count cannot be negative"):
        read_ratings(long)
    # a score (not an error count) may be negative
    ok = _wide(tmp_path, "score", ["1", "0", "-2"])
    assert read_ratings(ok, human=["score"]).frame["score"].tolist() == [1.0, 0.0, -2.0]


def test_an_exact_duplicate_row_is_an_error_naming_both_rows(tmp_path):
    p = _wide(tmp_path, "score", ["1", "2", "3"], extra_rows=["s1,pred 1,ref 1,2"])
    with pytest.raises(InputError, match=r"row 5: repeats row 3 exactly"):
        read_ratings(p, human=["score"])


def _rexval_errors(d):
    return d / "6_valid_raters_per_rater_error_categories.csv"


def test_rexval_empty_count_maybe_flag_negative_and_duplicate_rows_are_errors(tmp_path):
    d = _write_rexval(tmp_path)
    errors = _rexval_errors(d)
    good = pd.read_csv(errors, dtype=str, keep_default_na=False)
    cases = {
        "empty count": (lambda f: f.assign(num_errors=f["num_errors"].where(f.index != 3, "")),
                        r"row 5, column 'num_errors': no value"),
        "maybe": (lambda f: f.assign(clinically_significant=f["clinically_significant"].where(f.index != 6, "maybe")),
                  r"row 8, column 'clinically_significant': expected true or false .* got 'maybe'"),
        "negative": (lambda f: f.assign(num_errors=f["num_errors"].where(f.index != 0, "-1")),
                     r"row 2, column 'num_errors': an error count cannot be negative"),
        "duplicate": (lambda f: pd.concat([f, f.iloc[[4]]], ignore_index=True),
                      rf"row {len(good) + 2}: repeats row 6 exactly"),
    }
    for name, (edit, message) in cases.items():
        edit(good).to_csv(errors, index=False)
        with pytest.raises(InputError, match=message):
            read_ratings(d)
        res = run_cli("meta-eval", d, "--metrics", "bleu", "--bootstrap", "0")
        assert res.returncode == 2 and "Traceback" not in res.stderr, (name, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 1 and errors.name in res.stderr, (name, res.stderr)
    good.to_csv(errors, index=False)
    assert read_ratings(d).n_pairs == 4


def test_huge_scores_give_a_pearson_ci_that_holds_its_estimate():
    rng = np.random.default_rng(7)
    n = 60
    x = rng.normal(size=n)
    y = x + rng.normal(size=n)
    frame = pd.DataFrame({"pair_id": [f"p{i}" for i in range(n)], "study_id": [f"s{i}" for i in range(n)],
                          "prediction": [""] * n, "reference": [""] * n, "human": y})
    scores = Scores()
    scores.values["huge"], scores.higher_is_better["huge"] = x * 1e300, True
    scores.values["plain"], scores.higher_is_better["plain"] = x, True
    res = meta_evaluate(Ratings(frame, ["human"], [], {"human": True}), scores, n_resamples=300)
    rows = res.table.set_index("score")
    want = stats.pearsonr(x, y).statistic  # scipy on the unscaled values
    for name in ("huge", "plain"):
        r = rows.loc[name]
        assert r["pearson"] == pytest.approx(want, abs=1e-12)
        assert r["pearson_lo"] <= r["pearson"] <= r["pearson_hi"]
    for col in ("pearson_lo", "pearson_hi", "kendall_tau_b_lo", "spearman_hi"):
        assert rows.loc["huge", col] == pytest.approx(rows.loc["plain", col], abs=1e-12)


def test_bootstrap_zero_prints_no_ci_columns(tmp_path):
    rng = np.random.default_rng(1)
    n = 20
    refs = [f"the heart is normal and lung {i} is clear" for i in range(n)]
    preds = [" ".join(r.split()[: int(rng.integers(2, 8))]) for r in refs]
    p = tmp_path / "ratings.csv"
    pd.DataFrame({"study_id": [f"s{i}" for i in range(n)], "prediction": preds, "reference": refs,
                  "words": [len(t.split()) for t in preds]}).to_csv(p, index=False)
    res = run_cli("meta-eval", p, "--metrics", "bleu,rouge_l", "--human", "words:higher", "--bootstrap", "0")
    assert res.returncode == 0, res.stderr
    assert "nan" not in res.stdout.lower() and "[" not in res.stdout.replace("[CI", "")
    assert "no bootstrap" in res.stdout and "need bootstrap resamples" in res.stdout
