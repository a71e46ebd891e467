"""The offline structured error counter v1 (``counter="v1"``): conformance pairs, a hand-written table, metric
plumbing. v1 stays selectable and bit-identical; v2 has its own tests (test_errors_struct_v2.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rexeval.metrics.error_schema import COUNT_SUFFIXES
from rexeval.metrics.errors_struct.v1 import StructuredErrorCounter, split_sentences
from tests.helpers.paths import shared_path

TABLE = Path(__file__).parent / "data" / "error_count_pairs.csv"


@pytest.fixture(scope="module")
def counter():
    return StructuredErrorCounter()


def _rows():
    with TABLE.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _expected(spec: str) -> list[int]:
    counts = dict.fromkeys(COUNT_SUFFIXES, 0)
    for part in filter(None, spec.split(";")):
        key, n = part.split("=")
        counts[key] = int(n)
    return [counts[k] for k in COUNT_SUFFIXES]


def test_table_covers_every_type_both_significances_and_clean_pairs():
    rows = _rows()
    assert len(rows) >= 40
    cells = {k for r in rows for k, v in zip(COUNT_SUFFIXES, _expected(r["expected"])) if v}
    assert cells == set(COUNT_SUFFIXES)  # each of the 12 counts is exercised
    assert sum(1 for r in rows if not r["expected"]) >= 10


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["id"])
def test_hand_written_pairs(counter, row):
    got = counter.count(row["reference"], row["candidate"])
    assert got == _expected(row["expected"]), counter.errors(row["reference"], row["candidate"])


def test_chexprompt_unit_pairs(counter):
    data = json.loads(shared_path("conformance", "chexprompt_unit_pairs.json").read_text())
    for pair in data["pairs"]:
        got = counter.count(pair["reference"], pair["candidate"])
        assert got == list(pair["sig_A_to_F"]) + list(pair["insig_A_to_F"])


def test_identical_reports_have_no_errors(counter):
    data = json.loads(shared_path("rexrank", "iu_xray_test.json").read_text())
    for study in list(data.values())[:200]:
        assert counter.count(study["report"], study["report"]) == [0] * 12


def test_sentence_wise_labelling_equals_whole_report_labelling():
    """The counter labels sentences one by one (cacheable); this must equal labelling the report."""
    from rexeval.backends.labelers import get_labeler

    labeler = get_labeler("rules")
    data = json.loads(shared_path("rexrank", "iu_xray_test.json").read_text())
    for study in list(data.values())[:300]:
        text = study["report"]
        whole = [(m.condition, m.status, m.text) for m in labeler.mentions(text)]
        pieces = [(m.condition, m.status, m.text) for s in split_sentences(text) for m in labeler.mentions(s)]
        assert pieces == whole, text


def test_metric_is_in_the_default_set(monkeypatch, tmp_path):
    from rexeval.metrics import resolve_metrics
    from rexeval.run.scoring import score

    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path))
    names = [m.name for m in resolve_metrics(None)]
    assert "errors_struct" in names and "errors_llm" not in names
    rows = _rows()
    df = pd.DataFrame({"study_id": [r["id"] for r in rows], "prediction": [r["candidate"] for r in rows],
                       "reference": [r["reference"] for r in rows]})
    full = score(df, metrics=["errors_struct"], metric_options={"errors_struct": {"counter": "v1"}},
                 n_resamples=20, progress=False)
    assert "|counter:v1|" in full.summary["metrics"]["errors_struct_total_sig"]["signature"]
    ps = full.per_study
    assert list(ps["errors_struct_total"]) == [sum(_expected(r["expected"])) for r in rows]
    assert list(ps["errors_struct_total_sig"]) == [sum(_expected(r["expected"])[:6]) for r in rows]
    totals = np.array([sum(_expected(r["expected"])[:6]) for r in rows])
    assert full.value("errors_struct_total_sig") == pytest.approx(totals.mean())
    assert full.value("errors_struct_total_sig_share0") == pytest.approx((totals == 0).mean())
    assert full.value("errors_struct_total_sig_share_ge4") == pytest.approx((totals >= 4).mean())
    assert not any(k.startswith("llm_") for k in ps.columns)
