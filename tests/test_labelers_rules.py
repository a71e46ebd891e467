"""The offline rule-based CheXpert labeler: reference labels, behaviour table, mentions API, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rexeval.backends.labelers import CONDITIONS, FIVE, FIVE_INDEX, get_labeler
from rexeval.backends.labelers.rules import Mention, RuleLabeler, normalise
from tests.helpers.behaviour_table import HELD_OUT, KNOWN_WRONG, TABLE
from tests.helpers.paths import shared_path


@pytest.fixture(scope="module")
def rules():
    return get_labeler("rules")


def test_condition_order_is_chexberts_head_order_and_five_are_named():
    """CONDITIONS follows CheXbert's heads, as CheXbert's own labelled file orders its columns."""
    heads = pd.read_csv(shared_path("labels", "chexbert_labeled_reports.csv"), encoding="utf-8-sig", nrows=0)
    assert list(CONDITIONS) == list(heads.columns[1:])
    assert [CONDITIONS[i] for i in FIVE_INDEX] == list(FIVE)
    assert set(FIVE) == {"Cardiomegaly", "Edema", "Consolidation", "Atelectasis", "Pleural Effusion"}


def test_equals_chexpert_labeler_on_its_reports(rules):
    path = shared_path("labels", "chexpert_labeler_labeled_reports.csv")
    ref = pd.read_csv(path, encoding="utf-8-sig")
    text_col = "Reports"
    got = rules.label(ref[text_col].tolist())
    want = ref[list(CONDITIONS)].to_numpy(dtype=float)  # columns mapped by name, not position
    assert got.shape == want.shape == (4, 14)
    np.testing.assert_array_equal(got, want)  # NaN == NaN for assert_array_equal


@pytest.mark.parametrize("text,want", TABLE, ids=[t[:60] for t, _ in TABLE])
def test_behaviour_table(rules, text, want):
    row = rules.label([text])[0]
    got = {c: (None if np.isnan(row[CONDITIONS.index(c)]) else float(row[CONDITIONS.index(c)])) for c in want}
    assert got == want


def _held_out_cases():
    for text, want in HELD_OUT:
        for cond, expected in want.items():
            marks = [pytest.mark.xfail(strict=True, reason="known miss")] if (text, cond) in KNOWN_WRONG else []
            yield pytest.param(text, cond, expected, marks=marks, id=f"{cond}:{text[:50]}")


@pytest.mark.parametrize("text,cond,expected", list(_held_out_cases()))
def test_held_out_sentences(rules, text, cond, expected):
    got = rules.label([text])[0, CONDITIONS.index(cond)]
    assert (None if np.isnan(got) else float(got)) == expected


def test_mentions_api(rules):
    text = "  Left pleural effusion.\n\nNo pneumothorax;  possible right basilar atelectasis.  "
    norm = normalise(text)
    ms = rules.mentions(text)
    assert all(isinstance(m, Mention) for m in ms)
    by = {m.condition: m for m in ms}
    assert by["Pleural Effusion"].status == "positive"
    assert by["Pneumothorax"].status == "negative" and by["Pneumothorax"].cue == "no"
    assert by["Atelectasis"].status == "uncertain" and by["Atelectasis"].cue == "possible"
    for m in ms:
        assert norm[m.start : m.end] == m.text
        assert norm[m.sentence_start : m.sentence_end] == m.sentence
        assert m.sentence_start <= m.start < m.end <= m.sentence_end
    assert by["Pleural Effusion"].sentence == "Left pleural effusion."
    assert by["Pneumothorax"].sentence_index == by["Atelectasis"].sentence_index == 1


def test_mentions_other_findings_decide_no_finding(rules):
    assert [m.condition for m in rules.mentions("Calcified granuloma.")] == []
    other = rules.mentions("Calcified granuloma.", include_other=True)
    assert {m.condition for m in other} == {"Other"}
    assert np.isnan(rules.label(["Calcified granuloma."])[0, -1])
    assert rules.label(["No calcified granuloma."])[0, -1] == 1.0


def test_support_devices_alone_is_still_no_finding(rules):
    row = rules.label(["Endotracheal tube in good position."])[0]
    assert row[CONDITIONS.index("Support Devices")] == 1.0 and row[-1] == 1.0


def test_conflicts_follow_chexpert(rules):
    # positive beats negative, positive beats uncertain, uncertain beats negative
    row = rules.label(["No left effusion. Small right effusion."])[0]
    assert row[CONDITIONS.index("Pleural Effusion")] == 1.0
    row = rules.label(["Possible effusion. Effusion on the right."])[0]
    assert row[CONDITIONS.index("Pleural Effusion")] == 1.0
    row = rules.label(["No effusion on the left. Possible small right effusion."])[0]
    assert row[CONDITIONS.index("Pleural Effusion")] == -1.0


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_report_is_blank(rules, text):
    # decided: an empty report asserts nothing, so every condition (No Finding included) is blank
    assert np.isnan(rules.label([text])).all()
    assert rules.mentions(text) == []


@pytest.mark.parametrize("bad", [None, 3, 2.5, ["no effusion"], b"no effusion"])
def test_non_text_is_rejected(rules, bad):
    with pytest.raises(TypeError, match="string"):
        rules.label(["fine", bad])


def test_huge_report(rules):
    text = "No pleural effusion. " * 50_000 + "Large right pneumothorax."  # ~1 MB
    row = rules.label([text])[0]
    # the first 100k characters are labelled (documented cap), so the late pneumothorax is not seen
    assert row[CONDITIONS.index("Pleural Effusion")] == 0.0
    assert np.isnan(row[CONDITIONS.index("Pneumothorax")])


def test_whitespace_does_not_change_labels(rules):
    a = rules.label(["No pleural effusion.  Mild cardiomegaly."])
    b = rules.label(["No pleural\neffusion.\n\n\tMild   cardiomegaly.   "])
    np.testing.assert_array_equal(a, b)


def test_signature_names_the_labeler(rules):
    assert rules.signature().startswith("labeler:rules|")
    assert RuleLabeler().name == "rules"


def test_unknown_labeler():
    from rexeval.base.exceptions import ConfigError

    with pytest.raises(ConfigError, match="unknown labeler"):
        get_labeler("negbio")


def test_all_iu_reports_label(rules):
    """Every IU report labels without error; the label counts are plausible for a normal-heavy set."""
    from benchmarks.rules_labeler_iu import iu_reports

    path = shared_path("iu_reports", "NLMCXR_reports.tgz")

    texts = list(iu_reports(path).values())
    assert len(texts) == 3955
    labels = rules.label(texts)
    assert labels.shape == (3955, 14)
    nf = labels[:, -1]
    assert 0.3 < np.mean(nf == 1) < 0.6  # IU is about 40% normal
    effusion = labels[:, CONDITIONS.index("Pleural Effusion")]
    assert np.sum(effusion == 0) > 10 * np.sum(effusion == 1)
