"""Graded hedges (issue 20): the rule labeler's ``hedges="graded"`` reading and ``rules_f1 -O hedges=graded``.
Every sentence and expected label is written for these tests."""

from __future__ import annotations

import numpy as np
import pytest

from rexeval.backends.labelers import CONDITIONS, get_labeler
from rexeval.backends.labelers.rules import hedge_grade
from rexeval.base.exceptions import ConfigError

P, N, U, B = 1.0, 0.0, -1.0, None


@pytest.mark.parametrize("cue, grade", [
    ("likely", "probable"), ("is likely", "probable"), ("probably", "probable"), ("suggestive", "probable"),
    ("concerning", "probable"), ("suspicious", "probable"), ("favored", "probable"), ("borderline", "probable"),
    ("compatible", "probable"), ("may", "possible"), ("or", "probable"), ("and/or", "probable"),
    ("versus", "possible"),
    ("cannot be excluded", "possible"), ("differential", "possible"), ("unlikely", "possible"),
    ("less likely", "possible"), ("question", "possible"), ("possible", "possible"), (None, "probable"),
])
def test_hedge_grade(cue, grade):
    assert hedge_grade(cue) == grade


def _label(labeler, text: str, cond: str):
    v = labeler.label([text])[0, CONDITIONS.index(cond)]
    return None if np.isnan(v) else float(v)


CASES = [
    # (text, condition, CheXpert reading, graded reading)
    ("Right basilar opacity, most likely pneumonia.", "Pneumonia", U, P),
    ("Findings are suggestive of mild interstitial edema.", "Edema", U, P),
    ("Left lower lobe opacity may represent pneumonia.", "Pneumonia", U, N),
    ("A small left pneumothorax cannot be excluded.", "Pneumothorax", U, N),
    ("Atelectasis versus consolidation at the right base.", "Consolidation", U, N),
    # "A or B" states each alternative (as the error counter reads it), unless a modal governs it
    ("Streaky left basilar scarring or atelectasis.", "Atelectasis", U, P),
    ("Bibasilar opacities, which may represent scarring or atelectasis.", "Atelectasis", U, N),
    ("Pneumonia is unlikely.", "Pneumonia", U, N),
    ("The opacity may be compatible with pneumonia.", "Pneumonia", U, N),  # a modal weakens "compatible"
    ("The opacity is compatible with pneumonia.", "Pneumonia", U, P),
    # rules v2.2: a finding offered as "a consideration" is hedged, not stated
    ("A superimposed pneumonia would be a consideration.", "Pneumonia", U, N),
    ("Atypical infection is another consideration.", "Pneumonia", U, N),
    ("Borderline enlarged heart size.", "Cardiomegaly", U, P),
    ("Mild pulmonary vascular congestion.", "Edema", U, U),  # uncertain by vocabulary, not hedged: stays -1
    ("Large right pleural effusion.", "Pleural Effusion", P, P),
    ("No pleural effusion.", "Pleural Effusion", N, N),
    # CheXpert's conflict rule after grading: a stated mention beats a possible one
    ("Possible small effusion on the left. Definite right pleural effusion.", "Pleural Effusion", P, P),
]


@pytest.mark.parametrize("text, cond, chexpert, graded", CASES)
def test_graded_reading(text, cond, chexpert, graded):
    assert _label(get_labeler("rules"), text, cond) == chexpert
    assert _label(get_labeler("rules", hedges="graded"), text, cond) == graded


def test_graded_labeler_signature_and_bad_option():
    assert "hedges:graded" in get_labeler("rules", hedges="graded").signature()
    assert "hedges" not in get_labeler("rules").signature()  # the default labels and signature are unchanged
    with pytest.raises(ConfigError, match="hedges must be one of chexpert, graded"):
        get_labeler("rules", hedges="strict")


def test_rules_f1_graded_keys_do_not_mix_with_the_default():
    from rexeval.metrics import resolve_metrics

    graded = resolve_metrics(["rules_f1"], {"rules_f1": {"hedges": "graded"}})[-1]
    keys = [o.key for o in graded.outputs()]
    assert "rules_graded_f1_14_micro" in keys and not any(k.startswith("rules_f1") for k in keys)
    with pytest.raises(ConfigError, match="hedges must be one of"):
        resolve_metrics(["rules_f1"], {"rules_f1": {"hedges": "strict"}})


def test_graded_rules_reward_on_two_kinds_of_hedge():
    from rexeval.rewards import RewardSuite

    ref = "There is a large right pleural effusion. Moderate cardiomegaly. No pneumothorax."
    hedged = "Possible effusion. Cannot exclude pneumothorax. Heart size may be enlarged."
    # CheXpert reading: effusion and cardiomegaly uncertain = positive (2 TP), pneumothorax uncertain vs
    # negative (1 FP): F1 = 4 / 5. Graded: all three merely possible = negative: no TP, F1 = 0.
    default = RewardSuite({"components": [{"metric": "rules_f1_study"}]}).score([hedged, ref], [ref, ref])
    graded = RewardSuite({"components": [{"metric": "rules_f1_study", "options": {"hedges": "graded"}}]}).score(
        [hedged, ref], [ref, ref])
    assert list(default.rewards) == pytest.approx([0.8, 1.0])
    assert list(graded.rewards) == pytest.approx([0.0, 1.0])
    # ... but a hedged *ruled-out* finding reads as ruled out: graded, hedging "No pneumothorax" costs nothing
    ref2 = "Large right pleural effusion. No pneumothorax."
    hedged2 = "Large right pleural effusion. Pneumothorax cannot be excluded."
    # CheXpert reading: effusion TP, pneumothorax uncertain = positive vs negative FP: F1 = 2 / 3
    default2 = RewardSuite({"components": [{"metric": "rules_f1_study"}]}).score([hedged2], [ref2])
    graded2 = RewardSuite({"components": [{"metric": "rules_f1_study", "options": {"hedges": "graded"}}]}).score(
        [hedged2], [ref2])
    assert list(default2.rewards) == pytest.approx([2 / 3])
    assert list(graded2.rewards) == pytest.approx([1.0])
