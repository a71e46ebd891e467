"""Subgroup parsing (real ReXrank strings and hand-written dirty cases) and per-group scoring."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rexeval.base.exceptions import ConfigError
from rexeval.cli import app
from rexeval.metrics.base import Output, inverse_mean_of, mean_of
from rexeval.run.subgroups import (
    age_from_text,
    clean_age,
    clean_category,
    clean_sex,
    derive_groups,
    group_order,
    parse_bins,
    parse_context,
    sex_from_text,
    subgroup_scores,
)


@pytest.mark.parametrize("raw, group", [
    ("50-60", "50-60"), (" 50 - 60 ", "50-60"), ("20-Oct", "10-20"), ("Oct-20", "10-20"), ("10-Jan", "1-10"),
    ("77.0", "70-80"), (77, "70-80"), (9.99, "0-10"), (90, "90+"), ("101", "90+"), ("90+", "90+"),
    ("Unknown", "unknown"), ("unknown", "unknown"), (None, "missing"), ("", "missing"), ("nan", "missing"),
    ("None", "missing"), (float("nan"), "missing"), ("-3", "invalid"), ("150", "invalid"), ("old", "invalid"),
    ("20-Foo", "invalid"),
])
def test_clean_age(raw, group):
    assert clean_age(raw) == group


def test_custom_bins():
    bins = parse_bins("0,18,40,65")
    assert bins[-1] == math.inf
    assert [clean_age(a, bins) for a in (5, 18, 39.9, 64, 65, 99)] == ["0-18", "18-40", "18-40", "40-65", "65+", "65+"]
    with pytest.raises(ConfigError):
        derive_groups(pd.DataFrame({"age": [1]}), ["age_group"], (10, 5))


@pytest.mark.parametrize("raw, group", [
    ("M", "male"), ("Male", "male"), ("f", "female"), ("Female", "female"), ("U", "unknown"),
    ("Unknown", "unknown"), (None, "missing"), ("None", "missing"), ("X", "other"),
])
def test_clean_sex(raw, group):
    assert clean_sex(raw) == group


def test_clean_category():
    assert clean_category("  Pacific   Islander ") == "Pacific Islander"
    assert clean_category("Race and Ethnicity Unknown") == "unknown"
    assert clean_category("Patient Refused") == "declined"
    assert clean_category(None) == "missing"


def test_parse_rexrank_context_forms():
    # MIMIC-CXR (ReXrank) and CheXpert Plus (ReXrank) forms, as in their test files
    assert parse_context("Age:50-60.Gender:M.Indication: ___-year-old male with melanoma.  Evaluate.") == {
        "age": "50-60", "sex": "M", "text": "___-year-old male with melanoma.  Evaluate."}
    assert parse_context("Age:77.0.Gender:F.Indication:nanComparison: None.") == {"age": "77.0", "sex": "F", "text": None}
    assert parse_context("Age:50-60.Gender:M.Comparison: ___ radiograph.") == {"age": "50-60", "sex": "M", "text": None}
    assert parse_context("Age:20-Oct.Gender:F.Indication: cough")["age"] == "20-Oct"
    assert parse_context("Indication: XXXX-year-old female with chest pain. Comparison: None.") == {
        "age": None, "sex": None, "text": "XXXX-year-old female with chest pain."}
    assert parse_context(None) == {"age": None, "sex": None, "text": None}


@pytest.mark.parametrize("text, sex", [
    ("XXXX-year-old female with chest pain.", "female"),
    ("XXXX-year-old woman with shortness of breath", "female"),
    ("Chest pain status post MVA. Male, 53 years.", "male"),
    ("XXXX XXXX F with dyspnea and CHF exacerbation", "female"),
    ("F/U AFTER SBRT FOR HCC;", None),  # follow-up, not female
    ("Chest pain Comparison: XXXX p.m.", None),
    ("male and female twins", "ambiguous"),
    ("Chest pain", None),
])
def test_sex_from_text(text, sex):
    assert sex_from_text(text) == sex


def test_age_from_text():
    assert age_from_text("Male, 53 years.") == 53
    assert age_from_text("35-year-old woman status post MVA") == 35
    assert age_from_text("XXXX-year-old female") is None
    assert age_from_text("chronic XXXX x9 years") is None
    assert age_from_text("dyspnea for 10 years, now 65 years old") is None  # two ages: not guessed


def test_dirty_columns_nothing_dropped():
    frame = pd.DataFrame({
        "study_id": list("abcdefgh"),
        "age": ["20-Oct", "Unknown", None, "34", "50-60", "-1", "77.0", ""],
        "sex": ["Female", "M", None, "Unknown", "f", "X", None, "male"],
        "race": ["White", "Black", "Unknown", None, "Patient Refused", " Asian ", "White", "nan"],
        "context": [None, None, "Indication: XXXX-year-old woman. Comparison: None.", None, None, None,
                    "Age:77.0.Gender:M.Indication:nanComparison: None.", None],
    })
    g = derive_groups(frame, ["age_group", "sex", "race"])
    assert g.labels["age_group"].tolist() == ["10-20", "unknown", "missing", "30-40", "50-60", "invalid", "70-80", "missing"]
    # row c: sex absent in the column -> stated in the indication; row g: absent -> context Gender:
    assert g.labels["sex"].tolist() == ["female", "male", "female", "unknown", "female", "other", "male", "male"]
    assert g.labels["race"].tolist() == ["White", "Black", "unknown", "missing", "declined", "Asian", "White", "missing"]
    for col in ("age_group", "sex", "race"):
        assert sum(r["count"] for r in g.cleaning[col]) == len(frame)  # every row accounted for
        assert sum(g.sources[col].values()) == len(frame)
    assert {"raw": "20-Oct", "group": "10-20", "source": "age", "count": 1} in g.cleaning["age_group"]
    assert g.sources["sex"]["context indication text"] == 1 and g.sources["sex"]["context Gender:"] == 1


def test_no_source_is_a_clear_error():
    with pytest.raises(ConfigError, match="race"):
        derive_groups(pd.DataFrame({"study_id": ["a"], "context": ["x"]}), ["race"])


def test_group_order():
    assert group_order(["missing", "70-80", "10-20", "90+", "unknown", "0-10"]) == ["0-10", "10-20", "70-80", "90+", "unknown", "missing"]


def test_real_rexrank_iu_contexts(shared):
    for name, n_studies, female, male in (("iu_xray_test.json", 590, 104, 80), ("iu_xray_valid.json", 296, 65, 45)):
        data = json.loads(shared("rexrank", name).read_text())
        frame = pd.DataFrame([{"study_id": k, "context": v["context"]} for k, v in data.items()])
        g = derive_groups(frame, ["sex", "age_group"])
        counts = g.labels["sex"].value_counts().to_dict()
        # counts checked by reading the indications: "female"/"woman"/"XXXX F with" vs "male"
        assert counts == {"missing": n_studies - female - male, "female": female, "male": male}
        assert len(g.labels) == n_studies
        assert sum(r["count"] for r in g.cleaning["sex"]) == n_studies
    # the one IU test indication with an explicit age: "Male, 53 years."
    data = json.loads(shared("rexrank", "iu_xray_test.json").read_text())
    frame = pd.DataFrame([{"study_id": k, "context": v["context"]} for k, v in data.items()])
    ages = derive_groups(frame, ["age_group"]).labels["age_group"]
    assert ages.value_counts().to_dict() == {"missing": 589, "50-60": 1}
    assert frame.loc[ages == "50-60", "study_id"].tolist() == ["CXR3445_IM-1668"]


def test_subgroup_scores_values_and_differences():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(0.6, 0.8, 100), rng.uniform(0.1, 0.3, 100)])
    groups = pd.DataFrame({"g": ["hi"] * 100 + ["lo"] * 100})
    outputs = {"s": Output("s", True, (0, 1), mean_of("s")), "inv": Output("inv", True, (0, 10), inverse_mean_of("s"))}
    t = subgroup_scores({"s": x}, outputs, groups, n_resamples=500, seed=1, min_group_size=150)
    hi = t[(t.group == "hi") & (t.metric == "s")].iloc[0]
    assert hi.n == 100 and hi.small
    assert hi.value == pytest.approx(x[:100].mean())
    assert hi.overall == pytest.approx(x.mean())
    assert hi["diff"] == pytest.approx(x[:100].mean() - x.mean())
    assert hi.ci_lo < hi.value < hi.ci_hi and hi.diff_lo > 0  # clearly above the overall mean
    inv_lo = t[(t.group == "lo") & (t.metric == "inv")].iloc[0]
    assert inv_lo.value == pytest.approx(1 / x[100:].mean())
    assert inv_lo.diff_lo > 0  # 1/mean is larger for the low group


def test_score_cli_by(tmp_path):
    refs = pd.DataFrame({
        "study_id": [f"s{i}" for i in range(40)],
        "report": ["the heart is normal in size. no effusion."] * 40,
        "age": ["20-Oct"] * 10 + ["55"] * 20 + [None] * 10,
        "context": ["Age:50-60.Gender:M.Indication: x"] * 20 + ["Indication: XXXX-year-old woman. Comparison: None."] * 20,
    })
    preds = pd.DataFrame({"study_id": refs.study_id, "report": ["the heart is normal. small effusion."] * 20 + ["no effusion."] * 20})
    refs.to_csv(tmp_path / "refs.csv", index=False)
    preds.to_csv(tmp_path / "preds.csv", index=False)
    meta = pd.DataFrame({"study_id": [f"s{i}" for i in range(30)], "race": ["White"] * 15 + ["Black"] * 15})
    meta.to_csv(tmp_path / "meta.csv", index=False)
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["score", str(tmp_path / "preds.csv"), "-r", str(tmp_path / "refs.csv"), "-m", "bleu",
                                   "--by", "age_group,sex,race", "--meta", str(tmp_path / "meta.csv"),
                                   "--bootstrap", "200", "--no-progress", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "10 studies are not in" in res.output
    table = pd.read_csv(out / "subgroups.csv")
    sizes = table[table.metric == "bleu"].set_index(["by", "group"])["n"].to_dict()
    assert sizes == {("age_group", "10-20"): 10, ("age_group", "50-60"): 20, ("age_group", "missing"): 10,
                     ("sex", "male"): 20, ("sex", "female"): 20,
                     ("race", "Black"): 15, ("race", "White"): 15, ("race", "missing"): 10}
    assert table[(table.by == "sex") & (table.group == "male")]["small"].iloc[0]  # 20 < 30
    summary = json.loads((out / "summary.json").read_text())
    assert summary["subgroups"]["results"]["sex"]["male"]["n"] == 20
    assert summary["subgroups"]["meta"]["studies_without_meta"] == 10
    assert (out / "texts.csv").is_file()
    texts = pd.read_csv(out / "texts.csv")
    assert texts.columns.tolist() == ["study_id", "prediction", "reference"] and len(texts) == 40


def test_chexpert_plus_shaped_json_refs(tmp_path):
    """Records shaped like ReXrank's CheXpert Plus file (age as a JSON number, sex/race/ethnicity words)."""
    recs = {}
    ages = [77.0, 49.0, 19.0, None, 35.0, 52.0]
    sexes = ["Female", "Female", "Male", "Unknown", "Female", None]
    races = ["White", "Unknown", "Black", "Pacific Islander", "White", "Other"]
    eths = ["Non-Hispanic/Non-Latino", "Unknown", "Non-Hispanic/Non-Latino", "Patient Refused", None, "Hispanic/Latino"]
    for i in range(6):
        recs[f"patient{64600 + i}_study1"] = {
            "report": "Findings: None. Impression: no acute process.",
            "context": f"Age:{ages[i]}.Gender:{sexes[i][:1] if sexes[i] else 'nan'}.Indication:nanComparison: None.",
            "age": ages[i], "sex": sexes[i], "race": races[i], "ethnicity": eths[i],
        }
    (tmp_path / "refs.json").write_text(json.dumps(recs))
    pd.DataFrame({"study_id": list(recs), "report": ["no acute process."] * 6}).to_csv(tmp_path / "p.csv", index=False)
    res = CliRunner().invoke(app, ["score", str(tmp_path / "p.csv"), "-r", str(tmp_path / "refs.json"), "-m", "bleu",
                                   "--by", "age_group,sex,race,ethnicity", "--bootstrap", "50", "--no-progress",
                                   "-o", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(tmp_path / "run" / "subgroups.csv", keep_default_na=False)
    sizes = {(r.by, r.group): r.n for r in t.itertuples()}
    # row 3 has no age column value and "Age:None." in its context -> missing
    assert {g: n for (b, g), n in sizes.items() if b == "age_group"} == {"10-20": 1, "30-40": 1, "40-50": 1, "50-60": 1, "70-80": 1, "missing": 1}
    # row 3: "Unknown" -> unknown; row 5: absent in the column and "Gender:nan" in the context -> missing
    assert {g: n for (b, g), n in sizes.items() if b == "sex"} == {"female": 3, "male": 1, "unknown": 1, "missing": 1}
    assert {g: n for (b, g), n in sizes.items() if b == "ethnicity"} == {
        "Hispanic/Latino": 1, "Non-Hispanic/Non-Latino": 2, "declined": 1, "missing": 1, "unknown": 1}
    assert t[t.by == "race"]["group"].tolist() == ["Black", "Other", "Pacific Islander", "White", "unknown"]
