"""rexeval reward-check: each hack on a hand-written reference against rewards whose answer is known by
hand; a reward that cannot tell hack from control; not-applicable counts; seeds; the CLI's bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rexeval.cli import app
from rexeval.tools.hacks import (
    HACKS,
    Study,
    control,
    hack_seed,
    hack_signals,
    is_trivial_normal,
    make_hack,
)
from rexeval.tools.reward_check import TOTAL, run_reward_check

PLUGINS = {
    name: f"tests.helpers.reward_check:{cls}"
    for name, cls in [("test_constant", "Constant"), ("test_length", "Length"),
                      ("test_hedge_free", "HedgeFree"), ("test_sides", "SideMatch"),
                      ("test_no_false_stable", "NoFalseStability")]
}

#: Abnormal: sides, severities, a device, one trivial normal statement (the control drops it).
ABNORMAL = Study(
    "abn",
    "There is a large right pleural effusion. A left PICC line terminates in the superior vena cava. "
    "Moderate cardiomegaly. The osseous structures are intact.",
    prior="There is a small right pleural effusion. A left PICC line terminates in the superior vena "
    "cava. Moderate cardiomegaly. The osseous structures are intact.",
    indication="Indication: shortness of breath.",
)
#: Normal: nothing to drop a side, severity or device from; no prior, no indication.
NORMAL = Study("nor", "The heart is normal in size. The lungs are clear. There is no pleural effusion or pneumothorax.")


def _check(metrics, studies=(ABNORMAL,), **kw):
    config = {"components": [{"metric": m} for m in metrics], "plugins": PLUGINS}
    return run_reward_check(config, list(studies), n_resamples=50, **kw)


def _wins(result, hack, component):
    row = result.table[(result.table["hack"] == hack) & (result.table["component"] == component)].iloc[0]
    return row["win_share"]


def test_the_control_drops_the_trivial_normal_statement():
    text, kind = control(ABNORMAL, 0)
    assert kind == "drop_trivial_normal"
    assert text == ("There is a large right pleural effusion. A left PICC line terminates in the superior "
                    "vena cava. Moderate cardiomegaly.")


@pytest.mark.parametrize(
    ("hack", "metric", "wins"),
    [
        ("hedge", "test_hedge_free", 0.0),  # a reward that penalises hedges does not pay for hedging
        ("hedge", "test_constant", 1.0),
        ("drop_laterality", "bleu", 1.0),  # two words lost vs a whole sentence: BLEU pays
        ("drop_laterality", "test_sides", 0.0),
        ("drop_severity", "bleu", 1.0),  # 'large' and 'Moderate' lost vs a sentence
        ("drop_devices", "rouge_l", 0.0),  # the 11-token device sentence lost vs a 5-token one
        ("all_stable", "test_no_false_stable", 0.0),
        ("shotgun", "bleu", 0.0),
        ("normal_template", "rouge_l", 0.0),
        ("first_sentence", "test_length", 0.0),
        ("repeat_sentence", "test_length", 1.0),  # padded to the reference's length
        ("negation_soup", "test_length", 1.0),
        ("negation_soup", "bleu", 0.0),
        ("empty", "test_length", 0.0),
        ("punctuation", "test_length", 1.0),  # one period per reference word
        ("copy_prior", "bleu", 1.0),  # a prior that differs in one word beats a dropped sentence
        ("copy_indication", "bleu", 0.0),
    ],
)
def test_each_hack_has_the_winner_known_by_hand(hack, metric, wins):
    result = _check([metric], hacks=(hack,))
    assert _wins(result, hack, metric) == wins
    assert _wins(result, hack, TOTAL) == wins  # one component of weight 1: the total agrees


def test_every_hack_is_tagged_and_covered_above():
    covered = {p[0] for p in test_each_hack_has_the_winner_known_by_hand.pytestmark[0].args[1]}
    assert covered == set(HACKS)


def test_a_constant_reward_lets_every_hack_win():
    result = _check(["test_constant"], studies=(ABNORMAL, NORMAL))
    scored = result.table[result.table["n_scored"] > 0]
    assert set(scored["hack"]) == set(HACKS)
    assert (scored["win_share"] == 1.0).all() and (scored["mean_margin"] == 0.0).all()
    assert set(result.paid()) == set(HACKS)


def test_not_applicable_hacks_are_counted_not_faked():
    result = _check(["test_length"], studies=(ABNORMAL, NORMAL))
    total = result.table[result.table["component"] == TOTAL].set_index("hack")
    # the normal reference has no side, severity, device, positive finding, prior or indication, and
    # hedging its negated findings alone ("Pleural effusion cannot be excluded.") does not count
    for hack in ("hedge", "drop_laterality", "drop_severity", "drop_devices", "all_stable",
                 "normal_template", "first_sentence", "repeat_sentence", "copy_prior", "copy_indication"):
        assert (total.loc[hack, "n_applicable"], total.loc[hack, "n_not_applicable"]) == (1, 1), hack
    for hack in ("shotgun", "negation_soup", "empty", "punctuation"):
        assert (total.loc[hack, "n_applicable"], total.loc[hack, "n_not_applicable"]) == (2, 0), hack
    assert total.loc["hedge", "n_not_significant"] == 1  # its first rule applied: counted apart
    assert (total.drop(index="hedge")["n_not_significant"] == 0).all()
    assert result.info["not_applicable_reasons"]["hedge"] == {
        "not applicable (only negated findings hedged)": 1}
    texts = result.texts
    na = texts[(texts["ref_id"] == "nor") & ~texts["applicable"]]
    assert (na["text"] == "").all() and na["test_length"].isna().all()


# Hand-written references: one whose only positive findings are incidental (calcified granulomas,
# degenerative spine, old fractures, a tortuous aorta, sternotomy wires, clips), one that adds a clinically
# significant finding the hack removes or distorts.
INCIDENTAL_ONLY = (
    "The heart is normal in size. A calcified granuloma is present in the left lower lobe. "
    "Moderate degenerative changes of the thoracic spine. Healed right posterior rib fractures. "
    "No pleural effusion or pneumothorax."
)
_REFINED = [
    # hack, reference the hack touches only incidentally, reason, reference where it applies
    ("hedge", INCIDENTAL_ONLY, "only incidental findings",
     "There is patchy consolidation in the right lower lobe. No pneumothorax."),
    ("drop_laterality", INCIDENTAL_ONLY, "only incidental findings",
     INCIDENTAL_ONLY + " There is a left apical pneumothorax."),
    ("drop_laterality", INCIDENTAL_ONLY, "only incidental findings",
     "A right internal jugular central venous catheter terminates in the SVC. The lungs are clear."),
    ("drop_severity", "Mild cardiomegaly. Small hiatal hernia. Moderate degenerative changes of the "
     "thoracic spine.", "only mild or small grades", "Moderate cardiomegaly. The lungs are clear."),
    ("drop_severity", INCIDENTAL_ONLY, "only incidental findings",
     "Heart size is normal. There is a 2.3 cm mass in the right upper lobe."),
    ("drop_severity", "Mild cardiomegaly.", "only mild or small grades",
     "Small right pleural effusion. The heart is normal in size."),  # an effusion's grade counts
    ("drop_devices", "Median sternotomy wires are present. Surgical clips in the right upper quadrant. "
     "The lungs are clear.", "only devices of no management relevance (wires, clips, hardware) or "
     "no device (Kerley B lines, lung lines, monitor leads)",
     "Median sternotomy wires are present. A left-sided dual-lead pacemaker is in place. The lungs "
     "are clear."),
    ("all_stable", "The aorta is tortuous. Calcified right hilar lymph nodes. Lungs are clear.",
     "only incidental findings", "The aorta is tortuous. There is a new right lower lobe opacity."),
    ("normal_template", INCIDENTAL_ONLY, "only incidental findings",
     "The heart is enlarged. No pleural effusion."),
    ("first_sentence", INCIDENTAL_ONLY, "only incidental findings",
     "The heart is normal in size. Interstitial edema in both lungs."),
    ("repeat_sentence", INCIDENTAL_ONLY, "only incidental findings",
     "The heart is normal in size. Interstitial edema in both lungs."),
    ("negation_soup", INCIDENTAL_ONLY, "only incidental findings",
     "A calcified granuloma is present in the left lower lobe. There is a right pneumothorax."),
]


@pytest.mark.parametrize(("hack", "incidental", "reason", "significant"), _REFINED)
def test_a_hack_applies_only_where_it_touches_significant_content(hack, incidental, reason,
                                                                  significant):
    got = make_hack(Study("inc", incidental, indication="Cough."), hack, 5)
    assert got.text is None and got.not_significant, got.text
    assert got.detail == f"not applicable ({reason})"
    got = make_hack(Study("sig", significant, indication="Cough."), hack, 5)
    assert got.applicable and not got.not_significant, got.detail


# Second refinement (docs/errors.md, "Counting rules, v2": a significant error needs a finding the
# reference states definitely, major and not minimal). Hand-written references: each first one only
# hedges, calls minimal, or states a minor finding (plain atelectasis, pleural thickening); each second
# one states a comparable finding definitely, not minimal and major.
_SECOND = [
    # hack, reference with no significant target, reason, reference where it applies
    ("drop_laterality", "Possible left rib fractures. No pneumothorax.", "only hedged findings",
     "Acute left rib fractures. No pneumothorax."),
    ("normal_template", "Question left atrial enlargement. The lungs are clear.",
     "only hedged findings", "Left atrial enlargement. The lungs are clear."),
    ("first_sentence", "The heart is normal in size. Bony overlap in the lung apices could obscure a "
     "small nodule.", "only hedged findings",
     "The heart is normal in size. A 9 mm nodule projects over the right lung apex."),
    ("all_stable", "Streaky right basilar opacities suggesting pneumonia. No effusion.",
     "only hedged findings", "Streaky right basilar opacities due to pneumonia. No effusion."),
    ("hedge", "Minimal right perihilar opacity. Subtle left base opacity.", "only minimal findings",
     "Right perihilar opacity. Dense left base opacity."),
    ("drop_severity", "Trace right pleural effusion. Heart size is normal.", "only minimal findings",
     "Small right pleural effusion. Heart size is normal."),
    ("drop_laterality", "Slightly enlarged left hilum. No effusion.", "only minimal findings",
     "Enlarged left hilum. No effusion."),
    ("hedge", "Bibasilar atelectasis. Heart size is normal.", "only minor findings",
     "Bibasilar consolidation. Heart size is normal."),
    ("drop_laterality", "Right pleural thickening along the lateral chest wall. No effusion.",
     "only minor findings", "Right pleural mass along the lateral chest wall. No effusion."),
    ("normal_template", "Patchy opacities at the left base consistent with atelectasis.",
     "only minor findings", "Complete collapse of the left lower lobe."),
    ("all_stable", "Discoid atelectasis in the left midlung.", "only minor findings",
     "Large left lower lobe atelectasis."),  # graded moderate or more: not plain atelectasis
    ("drop_laterality", "Chronic-appearing right basilar interstitial markings. No effusion.",
     "only chronic findings", "New right basilar interstitial markings. No effusion."),
    ("hedge", "Coarse chronic interstitial markings.", "only chronic findings",
     "Coarse interstitial markings, in keeping with chronic obstructive pulmonary disease."),  # no age
]


@pytest.mark.parametrize(("hack", "not_significant", "reason", "significant"), _SECOND)
def test_a_hack_needs_a_definite_major_finding_not_minimal(hack, not_significant, reason, significant):
    got = make_hack(Study("ns", not_significant, indication="Cough."), hack, 5)
    assert got.text is None and got.not_significant, got.text
    assert got.detail == f"not applicable ({reason})"
    got = make_hack(Study("sig", significant, indication="Cough."), hack, 5)
    assert got.applicable and not got.not_significant, got.detail


# Third refinement (the final probe round): hacks that did not do what their name says. Each first
# reference has only a "line" or "lead" that is no device, or a side that carries no information; each
# second one a comparable real device or informative side, where the hack still applies.
_NO_DEVICE = "or no device (Kerley B lines, lung lines, monitor leads)"
_NO_INFO_SIDE = "only sides that carry no information (right middle lobe, bilateral effusions, diffuse findings)"
_THIRD = [
    ("drop_devices", "Diffuse interstitial opacities. B-lines are noted at the lung bases.",
     f"only devices of no management relevance (wires, clips, hardware) {_NO_DEVICE}",
     "Diffuse interstitial opacities. A right internal jugular line terminates in the SVC."),
    ("drop_devices", "Overall low lung lines. The heart is normal in size.",
     f"only devices of no management relevance (wires, clips, hardware) {_NO_DEVICE}",
     "Overall low lung volumes. A nasogastric tube terminates in the stomach."),
    ("drop_devices", "Frontal and lateral views with overlying external cardiac monitor leads show an "
     "unchanged cardiomediastinal silhouette. No effusion.",
     f"only devices of no management relevance (wires, clips, hardware) {_NO_DEVICE}",
     "A dual-lead pacemaker with leads in the right atrium and right ventricle. No effusion."),
    ("drop_laterality", "There is focal airspace disease in the right middle lobe. No pneumothorax.",
     _NO_INFO_SIDE, "There is focal airspace disease in the right lower lobe. No pneumothorax."),
    ("drop_laterality", "Patchy opacity in the left lingula. No effusion.", _NO_INFO_SIDE,
     "Patchy opacity in the left upper lobe. No effusion."),
    ("drop_laterality", "Small bilateral pleural effusions are seen. The heart is normal.",
     _NO_INFO_SIDE, "A small left pleural effusion is seen. The heart is normal."),
    ("drop_laterality", "There are diffuse, bilateral interstitial opacities. No effusion.",
     _NO_INFO_SIDE, "There are bilateral lower lobe consolidations. No effusion."),
    ("drop_laterality", "Bilateral pulmonary edema. No pneumothorax.", _NO_INFO_SIDE,
     "Bilateral pulmonary nodules. No pneumothorax."),
    # fourth refinement: leads said to overlie the chest are monitor leads; an old bone deformity is incidental
    ("drop_devices", "Mild cardiomegaly. Overlying leads.",
     f"only devices of no management relevance (wires, clips, hardware) {_NO_DEVICE}",
     "Mild cardiomegaly. Pacing leads in the right ventricle."),
    ("drop_laterality", "Small right and left pleural effusions. No pneumothorax.", _NO_INFO_SIDE,
     "Small right and large left pleural effusions. No pneumothorax."),  # the grades say which side
    ("drop_laterality", "Old left-sided rib deformities. No effusion.", "only incidental findings",
     "Acute left-sided rib fractures. No effusion."),
    ("drop_laterality", "Deformity of the right clavicle related to remote trauma. No effusion.",
     "only incidental findings", "Displaced fracture of the right clavicle. No effusion."),
    # fifth refinement (hand-written development set): a side a one-sided structure of the same finding
    # still says, "bilateral" before the plural it qualifies, a distance that places a tip
    ("drop_laterality", "Right middle lobe airspace disease silhouetting the right heart border. No effusion.",
     _NO_INFO_SIDE, "Right lower lobe airspace disease silhouetting the right hemidiaphragm. No effusion."),
    ("drop_laterality", "Streaky opacities are present in the bilateral lung bases. No pneumothorax.",
     _NO_INFO_SIDE, "Bilateral streaky opacities are present. No pneumothorax."),
    ("drop_severity", "The endotracheal tube tip lies 5 cm above the carina. Lungs are clear.",
     "only distances that place a device's tip",
     "The endotracheal tube tip lies above the carina. A 3 cm mass in the left upper lobe."),
]


@pytest.mark.parametrize(("hack", "not_applicable", "reason", "applies"), _THIRD)
def test_a_hack_does_what_its_name_says(hack, not_applicable, reason, applies):
    got = make_hack(Study("na", not_applicable), hack, 5)
    assert got.text is None and got.not_significant, got.text
    assert got.detail == f"not applicable ({reason})"
    got = make_hack(Study("ok", applies), hack, 5)
    assert got.applicable and not got.not_significant, got.detail


def test_dropping_a_cardiac_chamber_side_still_applies_to_a_device():
    # "right" of "right atrium" places the lead: the hack applies and the counter calls it a C
    got = make_hack(Study("pm", "Pacemaker leads terminate in the right atrium and right ventricle. "
                              "No effusion."), "drop_laterality", 5)
    assert got.applicable and "in the atrium and ventricle" in got.text


@pytest.mark.parametrize("reference", [
    "The previously seen right-sided PICC has been removed. The lungs are clear.",
    "There has been clearing of left base airspace opacities. The heart is normal.",
    # fourth refinement: the nouns too
    "Interval removal of the right internal jugular catheter. The lungs are clear.",
    "Interval resolution of the right pleural effusion. The heart is normal.",
])
def test_a_removed_device_or_cleared_opacity_is_no_present_finding(reference):
    for hack in ("drop_laterality", "drop_devices", "normal_template"):
        assert not make_hack(Study("gone", reference), hack, 5).applicable


@pytest.mark.parametrize(
    ("sentence", "trivial"),
    [
        ("No rib fracture.", True),
        ("The osseous structures are intact.", True),
        ("Rib fractures are not seen.", True),
        ("First rib fracture not well demonstrated.", False),  # seen, only poorly shown
        ("A 1 cm nodule between the right fourth and fifth ribs, not seen on the prior study.", False),
        ("Degenerative changes of the spine, otherwise normal bones.", False),
    ],
)
def test_the_control_drops_only_a_truly_normal_statement(sentence, trivial):
    assert is_trivial_normal(sentence) is trivial
    text, kind = control(Study("c", "Heart size is normal. " + sentence), 0)
    assert (kind == "drop_trivial_normal") is trivial, text


def test_a_hedge_reaches_its_clause_and_what_follows_not_what_precedes():
    # the enlarged heart precedes the clause of "suggest": stated definitely, so hedging it is worse
    ref = ("Heart size moderately enlarged, stable hilar contours, dense nodules suggest a previous "
           "granulomatous process.")
    assert make_hack(Study("a", ref), "hedge", 0).applicable
    ref = "Stable hilar contours, dense nodules suggest granulomas or an enlarged heart."
    assert make_hack(Study("b", ref), "hedge", 0).not_significant


def test_copy_hacks_apply_only_when_a_significant_finding_is_lost():
    inc = Study("inc", INCIDENTAL_ONLY, prior=INCIDENTAL_ONLY.replace("Moderate", "Mild"),
                indication="Indication: chest pain.")
    for hack in ("copy_prior", "copy_indication"):
        got = make_hack(inc, hack, 0)
        assert got.not_significant and got.detail == "not applicable (only incidental findings)", hack
    sig = Study("sig", "Moderate cardiomegaly. New small right pleural effusion.",
                prior="Moderate cardiomegaly.", indication="Indication: chest pain.")
    for hack in ("copy_prior", "copy_indication"):
        assert make_hack(sig, hack, 0).applicable, hack
    # the prior reproduces the significant sentence and differs only in an incidental one
    same = Study("same", "Moderate cardiomegaly. Calcified granuloma in the left lung.",
                 prior="Moderate cardiomegaly.")
    assert make_hack(same, "copy_prior", 0).not_significant


def test_the_refinement_keeps_the_hacked_texts():
    # where a hack applies, its text is the one its first rule writes (only where it applies changed)
    ref = Study("x", "A calcified granuloma in the left lower lobe. There is a small right pleural "
                "effusion.")
    assert make_hack(ref, "drop_laterality", 0).text == (
        "A calcified granuloma in the lower lobe. There is a small pleural effusion.")
    assert make_hack(ref, "drop_severity", 0).text == (
        "A calcified granuloma in the left lower lobe. There is a right pleural effusion.")


def test_negation_soup_on_a_normal_reference_asserts_one_false_finding():
    got = make_hack(NORMAL, "negation_soup", 7)
    first, *rest = got.text.split(". ")
    assert first.startswith("There is ") and all(s.startswith("No ") for s in rest)


def test_same_seed_same_texts_other_seed_other_order():
    a = _check(["test_length"], studies=(ABNORMAL, NORMAL), seed=3)
    b = _check(["test_length"], studies=(ABNORMAL, NORMAL), seed=3)
    pd.testing.assert_frame_equal(a.texts, b.texts)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert make_hack(ABNORMAL, "shotgun", hack_seed(0, "abn", "shotgun")).text != make_hack(
        ABNORMAL, "shotgun", hack_seed(1, "abn", "shotgun")).text


def test_weighted_total_and_margins():
    config = {"components": [{"metric": "test_length", "weight": 2.0},
                             {"metric": "test_constant", "weight": 1.0}], "plugins": PLUGINS}
    result = run_reward_check(config, [ABNORMAL], hacks=("empty",), n_resamples=0)
    row = result.texts[result.texts["hack"] == "empty"].iloc[0]
    ctrl = result.texts[result.texts["hack"] == "control"].iloc[0]
    assert row["total"] == 0.5 and ctrl["total"] == 2 * 19 + 0.5  # the control has 19 words
    assert row["total.margin"] == -38.0


def test_hack_signals_on_hand_written_texts():
    got = hack_signals(["Possible right effusion. Possible right effusion.", "The lungs are clear."])
    assert got["hedged_share"] == 0.5 and got["hedges_per_sentence"] == 0.5
    assert got["laterality_share"] == 0.5 and got["device_share"] == 0.0
    assert got["repeated_sentence_share"] == 0.25
    assert hack_signals(["Stable left PICC line."])["stability_share"] == 1.0


def test_rules_f1_study_is_per_study():
    from rexeval.metrics import resolve_metrics
    from rexeval.metrics.base import Batch

    metric = resolve_metrics(["rules_f1_study"])[-1]
    preds = ["Large right pleural effusion.", "The lungs are clear.", "The lungs are clear.",
             "Cardiomegaly and pleural effusion."]
    refs = ["There is a large right pleural effusion.", "Cardiomegaly.", "No acute disease.",
            "Cardiomegaly."]
    got = metric.compute(Batch([str(i) for i in range(4)], preds, refs))["rules_f1_study"]
    np.testing.assert_allclose(got, [1.0, 0.0, 1.0, 2 / 3])


# ------------------------------------------------------------------------------------------------ CLI


@pytest.fixture
def refs_csv(tmp_path):
    path = tmp_path / "refs.csv"
    pd.DataFrame({"study_id": ["abn", "nor"], "reference": [ABNORMAL.reference, NORMAL.reference],
                  "prior_report": [ABNORMAL.prior, ""], "context": [ABNORMAL.indication, ""]}).to_csv(path, index=False)
    return path


def _cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_writes_the_table_texts_and_heat_map(refs_csv, tmp_path):
    reward = tmp_path / "run.yaml"
    reward.write_text("model: {name_or_path: x}\nreward:\n  components:\n    - {metric: bleu, weight: 1.0}\n"
                      "    - {metric: rouge_l, weight: 0.5}\n")
    res = _cli("reward-check", refs_csv, "--reward", reward, "-o", tmp_path / "out", "--bootstrap", "20")
    assert res.exit_code == 0, res.output
    assert "reward-check: the reward pays for" in res.output
    out = tmp_path / "out"
    for name in ("reward_check_texts.csv", "reward_check_table.csv", "reward_check.json",
                 "reward_check_heatmap.png"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "reward_check_table.csv")
    assert set(table["component"]) == {"bleu", "rouge_l", TOTAL}
    texts = pd.read_csv(out / "reward_check_texts.csv", keep_default_na=False)
    prior = texts[(texts["hack"] == "copy_prior") & (texts["ref_id"] == "abn")].iloc[0]
    assert prior["text"] == ABNORMAL.prior  # read from the prior_report column


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-m", "bleu", "--reward", "x.yaml"], "either --reward"),
        ([], "either --reward"),
        (["-m", "bleu", "--hacks", "nope"], "unknown hack"),
        (["-m", "no_such_metric"], "no_such_metric"),
        (["-m", "bleu", "--sample", "0"], "--sample"),
        (["-m", "bleu", "--prior-column", "nope"], "nope"),
        (["--reward", "missing.yaml"], "not found"),
        (["-m", "bleu", "--track", "weird"], "--track"),
    ],
)
def test_bad_input_is_one_line_exit_2(refs_csv, args, says):
    res = _cli("reward-check", refs_csv, *args)
    assert res.exit_code == 2, res.output
    assert says in res.output and "Traceback" not in res.output


def test_bad_refs_and_bad_reward_file_exit_2(tmp_path, refs_csv):
    res = _cli("reward-check", tmp_path / "nope.csv", "-m", "bleu")
    assert res.exit_code == 2 and "Traceback" not in res.output
    bad = tmp_path / "reward.yaml"
    bad.write_text("normalize: none\n")
    res = _cli("reward-check", refs_csv, "--reward", bad)
    assert res.exit_code == 2 and "component" in res.output
