"""Rule labeler v2 (issue 20): support devices, de-identified ("XXXX") device names, and the Lung
Lesion / Edema / Pneumonia precision fixes. Sentences written for these tests (not from IU reports)."""

from __future__ import annotations

import numpy as np
import pytest

from rexeval.backends.labelers import CONDITIONS, get_labeler
from tests.helpers.paths import shared_path

P, N, U, B = 1.0, 0.0, -1.0, None


@pytest.fixture(scope="module")
def rules():
    return get_labeler("rules")


def _label(rules, text: str, cond: str):
    v = rules.label([text])[0, CONDITIONS.index(cond)]
    return None if np.isnan(v) else float(v)


DEVICES = [
    # hardware named in words
    ("Median sternotomy wires are intact.", P),
    ("Sternal cerclage wires, one of them fractured.", P),
    ("Vagal nerve stimulator over the left upper chest.", P),
    ("Left humeral head prosthesis.", P),
    ("Thoracolumbar fusion rods are unchanged.", P),
    ("Bone anchors in the right humeral head.", P),
    ("VP shunt tubing courses along the right chest wall.", P),
    ("Coronary artery stents.", P),
    ("Bypass graft markers over the mediastinum.", P),
    ("Overlying external monitoring leads.", P),
    ("Pulse generator in the left infraclavicular region.", P),
    # de-identified names placed by their context
    ("Median sternotomy XXXX are intact.", P),
    ("Cardiac XXXX generator in the left chest with two leads in the right heart.", P),
    ("Left chest XXXX with its tip in the distal SVC.", P),
    ("A right-sided XXXX catheter ends in the right atrium.", P),
    ("The XXXX tip projects over the cavoatrial junction.", P),
    ("Left chest XXXX overlies the upper lobe.", P),
    ("Right humerus internal fixation XXXX.", P),
    ("Right chest XXXX in the SVC.", P),
    ("New left chest XXXX, tip in the superior XXXX XXXX.", P),
    ("Left XXXX-a-XXXX in place.", P),
    ("Portacatheter tip in the low SVC.", P),
    ("Spinal neurostimulator over the lower thoracic spine.", P),
    # "XXXX" with no device context, and things that are not support devices
    ("The pulmonary XXXX are normal.", B),
    ("Cardiac XXXX are within normal limits.", B),
    ("No XXXX of a pneumothorax.", B),
    ("Postsurgical changes of a XXXX sternotomy.", B),
    ("Surgical XXXX in the left axilla.", B),
    ("Surgical clips in the right upper quadrant.", B),  # clips: not a support device (docs)
    ("The tip of the lingula is clear.", B),
    ("Low volumes, which leads to crowding of the vessels.", B),
    ("Bilateral breast implants.", B),
    # negated
    ("The sternotomy wires have been removed.", N),
    ("The left chest XXXX catheter has been removed.", N),
]


@pytest.mark.parametrize("text,want", DEVICES, ids=[t[:50] for t, _ in DEVICES])
def test_support_devices(rules, text, want):
    assert _label(rules, text, "Support Devices") == want


def test_clips_alone_leave_no_finding(rules):
    row = rules.label(["Cholecystectomy clips. The lungs are clear."])[0]
    assert row[-1] == 1.0 and np.isnan(row[CONDITIONS.index("Support Devices")])


PRECISION = [
    # Lung Lesion: calcified nodules are granulomas; "nodular" needs a lesion noun
    ("Calcified nodule in the left upper lobe, a healed granuloma.", "Lung Lesion", B),
    ("Two calcified right hilar nodules.", "Lung Lesion", B),
    ("Nodular interstitial pattern at both bases.", "Lung Lesion", B),
    ("Nodular interstitial pattern at both bases.", "Lung Opacity", P),
    # ... true positives that must stay
    ("Non-calcified 8 mm nodule in the right upper lobe.", "Lung Lesion", P),
    ("Noncalcified nodule in the left lung.", "Lung Lesion", P),
    ("1.5 cm nodular opacity in the right upper lobe.", "Lung Lesion", P),
    ("Spiculated mass in the left upper lobe.", "Lung Lesion", P),
    ("Multiple pulmonary nodules.", "Lung Lesion", P),
    # Edema: vascular descriptors said to be normal; soft-tissue edema
    ("Pulmonary vascular engorgement is within normal limits.", "Edema", N),
    ("Heart size and pulmonary venous congestion appear within limits of normal.", "Edema", N),
    ("Soft tissue edema of the left chest wall.", "Edema", B),
    # ... true positives that must stay
    ("Mild pulmonary vascular congestion.", "Edema", U),
    ("Interstitial pulmonary edema.", "Edema", P),
    ("Findings consistent with CHF.", "Edema", P),
    # Pneumonia: healed granulomatous infection
    ("Calcified nodes from old granulomatous infection.", "Pneumonia", B),
    ("Hilar calcifications from prior histoplasmosis infection.", "Pneumonia", B),
    # ... true positives that must stay
    ("Right lower lobe pneumonia.", "Pneumonia", P),
    ("Left basilar opacity suspicious for infection.", "Pneumonia", U),
]


@pytest.mark.parametrize("text,cond,want", PRECISION, ids=[f"{c}:{t[:40]}" for t, c, _ in PRECISION])
def test_precision_fixes(rules, text, cond, want):
    assert _label(rules, text, cond) == want


def test_signature_shows_rules_v2_2(rules):
    # v2.2 (fourth round: "would be a consideration" is a hedge) changes labels, so the signature says which ran
    assert "|rules:v2.2|" in rules.signature()
    assert rules.options()["rules"] == "v2.2"


def test_mesh_map_on_written_terms():
    from benchmarks.mesh_chexpert_map import conditions_of

    assert conditions_of(["normal"]) == {"No Finding"}
    assert conditions_of(["Costophrenic Angle/right/blunted"]) == {"Pleural Effusion"}
    assert conditions_of(["Costophrenic Angle/right"]) == set()
    assert conditions_of(["Nodule/breast/left"]) == set()
    assert conditions_of(["Nodule/lung/upper lobe/right"]) == {"Lung Lesion"}
    assert conditions_of(["Surgical Instruments/abdomen"]) == set()
    assert conditions_of(["Hydropneumothorax/right"]) == {"Pneumothorax", "Pleural Effusion"}
    assert conditions_of(["Calcified Granuloma/lung", "Catheters, Indwelling/left"]) == {"Support Devices"}


def test_mesh_benchmark_holds_out_the_rexrank_test_reports():
    from benchmarks.rules_labeler_mesh import development_split, held_out_reports

    archive = shared_path("iu_reports", "NLMCXR_reports.tgz")
    test_json = shared_path("rexrank", "iu_xray_test.json")
    held = held_out_reports(test_json)
    ids, texts, refs, n_held = development_split(archive, test_json)
    assert n_held == len(held) == 590
    assert not set(ids) & held
    assert len(ids) == len(texts) == len(refs) > 3000


MORE = [
    # "costophrenic XXXX" is the de-identified angle
    ("The left costophrenic XXXX is blunted.", "Pleural Effusion", U),
    ("Both costophrenic XXXX are sharp.", "Pleural Effusion", N),
    ("The costophrenic XXXX of the XXXX are clear.", "Pneumothorax", B),
    # the fracture disclaimer names no fracture; a stated fracture stays
    ("Subtle rib fractures may not be demonstrated on this study.", "Fracture", B),
    ("Healed left sixth rib fracture.", "Fracture", P),
    # a thickened fissure is pleural
    ("Mild thickening of the minor fissure.", "Pleural Other", P),
    ("Biapical pleural thickening.", "Pleural Other", P),
    # a tortuous aorta or spinal spurs are findings, so not No Finding
    ("Tortuous thoracic aorta. Lungs are clear.", "No Finding", B),
    ("Spurring of the thoracic spine. Lungs are clear.", "No Finding", B),
    ("Lungs are clear. Heart size is normal.", "No Finding", P),
]


@pytest.mark.parametrize("text,cond,want", MORE, ids=[f"{c}:{t[:40]}" for t, c, _ in MORE])
def test_more_v2_rules(rules, text, cond, want):
    assert _label(rules, text, cond) == want


# Rules added after the MeSH fit-half error review (docs/conditions.md, "v2, second round"). Sentences
# written for these tests; each rule has the mentions it removes and the true positives it must keep.
SECOND_ROUND = [
    # "stable" states no size: blank, not CheXpert's uncertain (which rules_f1 counts as enlarged)
    ("The cardiomediastinal silhouette is unchanged from the prior exam.", "Enlarged Cardiomediastinum", B),
    ("Stable mediastinal contours. Lungs are clear.", "Enlarged Cardiomediastinum", B),
    ("Stable mediastinal contours. Lungs are clear.", "No Finding", P),
    ("Heart size is stable.", "Cardiomegaly", B),
    # ... an enlargement said to be stable is still an enlargement; a normal one still negative
    ("Stable enlarged cardiomediastinal silhouette.", "Enlarged Cardiomediastinum", P),
    ("Stable widening of the superior mediastinum.", "Enlarged Cardiomediastinum", P),
    ("Heart size is stable and enlarged.", "Cardiomegaly", P),
    ("Stable moderate cardiomegaly.", "Cardiomegaly", P),
    ("The mediastinal contour is stable and within normal limits.", "Enlarged Cardiomediastinum", N),
    ("Borderline prominent mediastinal silhouette.", "Enlarged Cardiomediastinum", U),
    # the adjective belongs to the heart, or sits past a comma
    ("Normal cardiomediastinal silhouette with borderline heart size.", "Enlarged Cardiomediastinum", N),
    ("Heart mildly enlarged for the projection, normal mediastinal contours.", "Enlarged Cardiomediastinum", N),
    ("Heart mildly enlarged for the projection, normal mediastinal contours.", "Cardiomegaly", P),
    # Lung Lesion: a nodular density explained as a granuloma or a nipple shadow; lesions of bone
    ("Nodular opacities in the left midlung consistent with healed granulomas.", "Lung Lesion", B),
    ("Nodular density at the right base, most likely a nipple shadow.", "Lung Lesion", B),
    ("Calcific nodular density in the left upper lobe.", "Lung Lesion", B),
    ("Lytic-appearing lesion of the left fifth rib.", "Lung Lesion", B),
    ("Metastatic disease to the bones of the thoracic spine.", "Lung Lesion", B),
    # ... true positives that must stay
    ("Nodular opacity in the right upper lobe, new since the prior exam.", "Lung Lesion", P),
    ("Nodular density in the left lower lobe; a nipple marker study is suggested.", "Lung Lesion", P),
    ("Right upper lobe mass lesion measuring 4 cm.", "Lung Lesion", P),
    ("Innumerable pulmonary metastases.", "Lung Lesion", P),
    # Fracture: a broken device, a work-up condition, an indication
    ("The distal tip of the catheter has fractured and migrated.", "Fracture", B),
    ("One of the sternal screws is fractured.", "Fracture", B),
    ("Fractured pacing lead in the right ventricle.", "Fracture", B),
    ("If there is clinical concern for rib fracture, a rib series is recommended.", "Fracture", B),
    ("Portable study, limited for evaluation of fractures.", "Fracture", B),
    # ... true positives that must stay
    ("Acute fracture of the left seventh rib.", "Fracture", P),
    ("Displaced XXXX fracture with overriding fragments.", "Fracture", P),
    ("Healing fracture of the right clavicle, the fixation plate intact.", "Fracture", P),
    ("Possible nondisplaced fracture of the right eighth rib.", "Fracture", U),
    ("Rib fracture not well demonstrated on this view.", "Fracture", U),
    # Edema: signs of pulmonary venous congestion are uncertain edema; arterial hypertension is not
    ("Cardiomegaly with pulmonary venous hypertension.", "Edema", U),
    ("The pulmonary vessels are engorged.", "Edema", U),
    ("Increased pulmonary vascularity.", "Edema", U),
    ("Enlarged central pulmonary arteries suggest pulmonary arterial hypertension.", "Edema", B),
    # hedged pneumonia stays uncertain, also when exclusion is called difficult
    ("It is difficult to exclude an early pneumonia.", "Pneumonia", U),
    ("May represent atelectasis or pneumonia.", "Pneumonia", U),
    # low lung volumes are a finding (like hyperinflation), so not No Finding
    ("Low lung volumes. Lungs are otherwise clear.", "No Finding", B),
    ("Lung volumes are mildly diminished. No acute disease.", "No Finding", B),
    ("Normal lung volumes. Lungs are clear.", "No Finding", P),
    ("No hypoinflation. Lungs are clear.", "No Finding", P),
]


@pytest.mark.parametrize("text,cond,want", SECOND_ROUND, ids=[f"{c}:{t[:40]}" for t, c, _ in SECOND_ROUND])
def test_second_round_rules(rules, text, cond, want):
    assert _label(rules, text, cond) == want


def test_mesh_benchmark_halves_split_on_report_parity():
    from benchmarks.rules_labeler_mesh import halves

    parts = halves(["CXR2", "CXR3", "CXR10", "CXR11"])
    assert parts["fit (even)"].tolist() == [True, False, True, False]
    assert parts["check (odd)"].tolist() == [False, True, False, True]
    assert parts["whole"].all()


# Third round (docs/conditions.md, "v2.1"): the CheXpert labeler's No Finding terms our list lacked, plain
# abnormalities, and phrasings of existing conditions. Sentences written for these tests, not taken from IU
# reports; each rule has the mentions it adds and the look-alikes it must leave alone.
THIRD_ROUND = [
    # No Finding: CheXpert's "prominen", "elevation", "thoracentesis", "radiopaque"; a nipple shadow is none
    ("Prominence of the aortic knob. Lungs are clear.", "No Finding", B),
    ("Mild elevation of the right hilum. Lungs are clear.", "No Finding", B),
    ("Status post thoracentesis. Lungs are clear.", "No Finding", B),
    ("Prominent nipple shadows. The lungs are clear.", "No Finding", P),
    ("No prominent hilar structures. The lungs are clear.", "No Finding", P),
    # ... and abnormalities named outright
    ("Right hilar adenopathy. Lungs are clear.", "No Finding", B),
    ("No adenopathy. The lungs are clear.", "No Finding", P),
    ("Mild dextrocurvature of the thoracic spine. The lungs are clear.", "No Finding", B),
    ("Mild curvature of the thoracic spine. The lungs are clear.", "No Finding", B),
    ("Normal curvature of the thoracic spine. The lungs are clear.", "No Finding", P),
    ("Changes of DISH in the thoracic spine. The lungs are clear.", "No Finding", B),
    ("Dilated ascending aorta. The lungs are clear.", "No Finding", B),
    ("No evidence of aortic dissection. The lungs are clear.", "No Finding", P),
    ("Mild pectus excavatum. The lungs are clear.", "No Finding", B),
    # Edema: CheXpert's "vascular prominence" in other word orders; prominent arteries are not congestion
    ("The pulmonary vascularity is mildly prominent.", "Edema", U),
    ("Prominence of the central pulmonary vasculature.", "Edema", U),
    ("No prominence of the pulmonary vasculature.", "Edema", N),
    ("Prominent pulmonary arteries suggest pulmonary arterial hypertension.", "Edema", B),
    # Lung Opacity: increased lung markings and a prominent interstitium; crowded markings are not
    ("Increased lung markings at both bases.", "Lung Opacity", P),
    ("Mild increase in the perihilar markings.", "Lung Opacity", P),
    ("No increase in lung markings.", "Lung Opacity", N),
    ("Crowded bronchovascular markings from low lung volumes.", "Lung Opacity", B),
    ("Prominence of the pulmonary interstitium.", "Lung Opacity", P),
    # ... "clear airspace disease" is "clear of airspace disease" with the "of" dropped
    ("Lungs are expanded and clear airspace disease.", "Lung Opacity", N),
    ("The lungs are clear. Focal airspace disease in the right lower lobe.", "Lung Opacity", P),
    # Enlarged Cardiomediastinum: the right paratracheal stripe is a mediastinal contour
    ("Thickening of the right paratracheal stripe.", "Enlarged Cardiomediastinum", P),
    ("Prominent right paratracheal soft tissues.", "Enlarged Cardiomediastinum", U),
    ("The right paratracheal stripe is normal.", "Enlarged Cardiomediastinum", B),
    # Atelectasis: collapse of part of a lobe
    ("Collapse of a portion of the right lower lobe.", "Atelectasis", P),
    ("No collapse of the left lung.", "Atelectasis", N),
    # Lung Lesion: a disclaimer that an overlap could hide a nodule names no nodule; a seen nodule stays
    ("Overlapping ribs could obscure a small pulmonary nodule. Lungs are clear.", "Lung Lesion", B),
    ("Overlapping ribs could obscure a small pulmonary nodule. Lungs are clear.", "No Finding", P),
    ("A 6 mm nodule projects over the left fifth rib.", "Lung Lesion", P),
]


@pytest.mark.parametrize("text,cond,want", THIRD_ROUND, ids=[f"{c}:{t[:40]}" for t, c, _ in THIRD_ROUND])
def test_third_round_rules(rules, text, cond, want):
    assert _label(rules, text, cond) == want
