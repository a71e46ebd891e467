"""The ReXrank column mapping: same columns, order and direction as the live site's tables."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from rexeval.base.exceptions import ConfigError
from rexeval.reports.rexrank_columns import ALL_COLUMNS, REXRANK_COLUMNS, rexrank_row, rexrank_table

GH_PAGES = [
    "gh-pages__findings_result_iu_xray.csv",
    "gh-pages__findings_result_mimiccxr.csv",
    "gh-pages__findings_result_chexpertplus.csv",
    "gh-pages__findings_result_gradienthealth.csv",
    "gh-pages__result_iu_xray.csv",
    "gh-pages__result_mimiccxr.csv",
    "gh-pages__result_chexpertplus.csv",
    "gh-pages__result_gradienthealth.csv",
]


def _summary(values: dict, higher=True) -> dict:
    """A summary.json-shaped dict (only the fields a row reads)."""
    return {
        "run": {"name": "sys"},
        "metrics": {k: {"value": v, "higher_is_better": higher} for k, v in values.items()},
        "skipped": {},
    }


@pytest.mark.parametrize("name", GH_PAGES)
def test_columns_are_rexranks_own_header(shared, name):
    """The columns we write are exactly the header of ReXrank's published CSVs, in its order."""
    with open(shared("rexrank", "leaderboard", name), encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert ALL_COLUMNS == header
    assert all(col in header for _key, col in REXRANK_COLUMNS)


@pytest.mark.parametrize("name", GH_PAGES)
def test_published_rows_round_trip(shared, name):
    """Each published row, fed in as rexeval sub-metric values, renders back to itself."""
    path = shared("rexrank", "leaderboard", name)
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames
        rows = list(reader)
    assert header == ALL_COLUMNS
    for pub in rows:
        values = {key: float(pub[col]) for key, col in REXRANK_COLUMNS if pub.get(col)}
        row = rexrank_row(
            _summary(values), model_name=pub["Model Name"], date=pub["Date"], institution=pub["Institution"],
            url=pub["Model URL"], rank=int(pub["Rank"]),
        )
        assert list(row) == header
        for _key, col in REXRANK_COLUMNS:
            if pub.get(col):
                assert row[col] == pytest.approx(float(pub[col]), abs=5e-4)
        assert row["1/FineRadScore"] is None


def test_rounding_missing_and_direction():
    row = rexrank_row(_summary({"bleu": 0.27044, "ratescore": 0.68449, "green": float("nan")}), model_name="m")
    assert row["BLEU"] == 0.27 and row["RaTEScore"] == 0.684
    assert row["GREEN"] is None and row["BertScore"] is None
    with pytest.raises(ConfigError, match="lacks ReXrank columns"):
        rexrank_row(_summary({"bleu": 0.2}), require_all=True)
    with pytest.raises(ConfigError, match="lower-is-better"):
        rexrank_row(_summary({"inv_radcliq_v1": 1.2}, higher=False))


def test_declared_directions_of_registered_metrics_are_higher_is_better():
    from rexeval.metrics import REGISTRY, lookup

    declared = {}
    for name in REGISTRY:
        try:
            outputs = lookup(name)().outputs()
        except Exception:  # noqa: BLE001 - metrics needing options are not part of this check
            continue
        declared.update({o.key: o.higher_is_better for o in outputs})
    present = [k for k, _ in REXRANK_COLUMNS if k in declared]
    assert {"bleu", "ratescore", "green"} <= set(present)
    assert all(declared[k] for k in present)


def test_row_from_a_real_run_and_table():
    from rexeval.run.scoring import score

    preds = pd.DataFrame({"study_id": ["a", "b"], "report": ["Lungs clear. No effusion.", "Mild cardiomegaly."]})
    refs = pd.DataFrame({"study_id": ["a", "b"], "report": ["Lungs are clear.", "Mild cardiomegaly. No effusion."]})
    res = score(preds, refs, metrics=["bleu"], n_resamples=0, progress=False, name="demo")
    row = rexrank_row(res.summary)
    assert list(row) == ALL_COLUMNS
    assert row["Model Name"] == "demo"
    assert row["BLEU"] == round(res.value("bleu"), 3)
    table = rexrank_table([row, {**row, "Model Name": "other", "BLEU": 0.9}], rank_by="BLEU")
    assert list(table.columns) == ALL_COLUMNS
    assert table["Rank"].tolist() == [2, 1]
