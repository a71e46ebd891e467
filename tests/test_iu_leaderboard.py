"""The committed IU X-ray baseline leaderboard: its numbers checked against a peer (NLTK), and, as a
regression check beside that, what the documented command produces byte for byte."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.helpers.paths import (
    ROOT,  # noqa: E402
    SHARED,
    shared_path,
)

COMMITTED = ROOT / "leaderboards" / "iu_xray"


@pytest.mark.slow
def test_iu_leaderboard_rebuilds_bit_for_bit(tmp_path):
    shared_path("rexrank", "iu_xray_test.json")
    shared_path("iu_reports", "NLMCXR_reports.tgz")
    from leaderboards.iu_xray.build import build

    md, csv = build(SHARED, tmp_path)
    hint = "the committed leaderboard is stale: rebuild it with `python -m leaderboards.iu_xray.build`"
    assert csv.read_bytes() == (COMMITTED / "leaderboard.csv").read_bytes(), hint
    assert md.read_bytes() == (COMMITTED / "leaderboard.md").read_bytes(), hint
    table = pd.read_csv(csv)
    ours = table[table["kind"] != "published"].set_index("system")
    assert (ours["n_studies"] == 590).all()
    assert len(table[table["kind"] == "published"]) == 25
    # Retrieval beats the template on BLEU-2 by far more than the CIs' width: different rank groups;
    # the oracle is listed without rank or group.
    assert ours.loc["retrieval (TF-IDF on indication)", "group"] < ours.loc["template", "group"]
    assert pd.isna(ours.loc["oracle-labels (ORACLE)", "group"]) and ours.loc["oracle-labels (ORACLE)", "kind"] == "oracle"


def test_template_row_bleu_is_nltks_bleu_of_the_template_report():
    """The numbers themselves: the committed template row's BLEU-2 equals NLTK's smoothed sentence BLEU-2
    (method1 = fast_bleu's smoothing, docs/metrics.md §2), averaged over the 590 findings references."""
    import json
    import re

    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    test_path = shared_path("rexrank", "iu_xray_test.json")
    reports = shared_path("iu_reports", "NLMCXR_reports.tgz")
    from baselines import load_iu_reports, load_table, run_baseline
    from baselines.core import prepare_train

    test = load_table(test_path, "TEST")
    run = run_baseline("template", test, prepare_train(load_iu_reports(reports), test, "findings"), track="findings")
    templates = set(run.predictions["report"])
    assert len(templates) == 1  # one report for every study
    (template,) = templates

    def tokens(text: str) -> list[str]:
        return [t for t in re.sub(r"\s+", " ", text).strip().lower().replace(".", " .").split(" ") if t]

    smooth = nltk_bleu.SmoothingFunction().method1
    refs = [v["section_findings"] for v in json.loads(test_path.read_text()).values()]
    values = [
        0.0 if not set(tokens(template)) & set(tokens(r)) else
        nltk_bleu.sentence_bleu([tokens(r)], tokens(template), weights=(0.5, 0.5), smoothing_function=smooth)
        for r in refs
    ]
    board = pd.read_csv(COMMITTED / "leaderboard.csv").set_index("system")
    assert board.loc["template", "n_studies"] == len(refs) == 590
    assert board.loc["template", "bleu"] == pytest.approx(sum(values) / len(values), abs=1e-9)
