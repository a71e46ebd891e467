"""Reward hacks: seeded, rule-based reports that game a report reward, the control they are scored
beside, and small detectors of each hack in generated text (the post-training guards).

The lexicon here (hedges, laterality, severity and size, devices, stability, a shotgun finding list and
normal templates) is written for this module from radiology reporting usage. It deliberately shares no
word list with the error counter or the labelers: a probe drawn from a rule's own word list would prove
nothing about that rule.

A reference report is split into sentences; a sentence is *positive* when it names a finding or a device
and carries no negation or normality cue (so "No pleural effusion." and "The lungs are clear." are not
positive). Each hack says when it applies (:data:`APPLICABILITY`): only where the hacked report is
clinically worse than the control, i.e. where it removes or distorts clinically significant content. A
positive sentence is *significant* when it names a finding or device that is not incidental
(:data:`INCIDENTAL`: calcified granulomas, degenerative spine changes, old fractures, a tortuous aorta,
scarring, low lung volumes, sternotomy wires, clips, ...); a side, grade or size counts only where it
qualifies a non-incidental finding. This refinement came after the first IU run showed hacks applied to
references whose only positive findings were incidental. A second refinement, after the next IU run,
follows the project's definition of a significant error (docs/errors.md, "Counting rules, v2": a finding
the reference states definitely, major, not minimal): a mention is not significant either when it is
*minor* (:data:`MINOR`: plain atelectasis, pleural thickening), *hedged* by the reference itself (an
:data:`UNCERTAIN` cue in its clause or an earlier one of the sentence: "possible left rib fractures",
"question left atrial enlargement", "could obscure a small nodule") or *minimal* (:data:`MINIMAL`:
"minimal right perihilar atelectasis", "subtle left base opacity") or *chronic* (:data:`CHRONIC`:
"chronic-appearing interstitial markings"); see :func:`mention_status`. A hack
that does not apply is returned with ``text=None`` and counted as not applicable by the caller, never
faked; one that its first rule would apply but that touches no significant content is flagged
``not_significant`` with the reason. A third refinement makes each hack do what its name says: "lines"
and "leads" that are no device (:data:`NOT_A_DEVICE`: Kerley B lines, IU's "lung lines", monitor leads)
are not dropped devices, and a side that carries no information (:func:`_side_is_redundant`: "right" of
the right middle lobe, "bilateral" of pleural effusions or of a diffuse finding) is not a dropped side. A
fifth refinement, decided on a hand-written development set (not IU), extends that: a side that a one-sided
structure of the same finding still says ("right heart border" beside a right middle lobe opacity),
"bilateral" before a plural that says both sides ("the bilateral lung bases"), and a distance that places a
device's tip ("4 cm above the carina", no size) are not dropped.

The **control** is the faithful report with one known, clinically insignificant error: a trivial normal
statement (bones, soft tissues, trachea, upper abdomen, stated normal) dropped when the report has one
and at least two sentences; otherwise one sentence reworded by a meaning-preserving rule ("There is no
X." ↔ "No X is seen.", "within normal limits" ↔ "normal", an article dropped); otherwise (nothing to drop
or reword) the reference itself.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# ------------------------------------------------------------------------------------------- lexicon

#: Hedge phrases (detection); generation uses the templates below.
HEDGE = re.compile(
    r"\b(?:possibl[ey]|probabl[ey]|likely|questionable|equivocal|indeterminate|suspicious\s+for|"
    r"suggestive\s+of|concerning\s+for|may\s+(?:be|represent|reflect)|could\s+(?:be|represent)|"
    r"might|cannot\s+(?:be\s+)?exclude[d]?|can\s*not\s+(?:be\s+)?exclude[d]?|not\s+(?:be\s+)?excluded|"
    r"versus|vs\.?|differential|uncertain)\b",
    re.I,
)
#: Hedge templates: {x} is the sentence's core (lower case), {X} the same capitalised.
HEDGE_TEMPLATES = (
    "Possible {x}.",
    "{X} cannot be excluded.",
    "Findings may represent {x}.",
    "Questionable {x}.",
    "{X} is not excluded.",
)
LATERALITY = re.compile(r"\b(?:right|left)(?:-sided)?\b|\b(?:bi|uni)lateral(?:ly)?\b", re.I)
_BI = re.compile(r"\bbi(basilar|basal|apical|hilar)\b", re.I)
SEVERITY = re.compile(
    r"\b(?:(?:mild|moderate|small|large)-(?:to-)?(?:moderate|severe|large|sized))\b|"
    r"\b(?:mild(?:ly)?|moderate(?:ly)?|sever(?:e|ely)|marked(?:ly)?|minimal(?:ly)?|small(?:er)?|"
    r"large(?:r)?|massive|tiny|trace|slight(?:ly)?|subtle|extensive|significant(?:ly)?|substantial)\b",
    re.I,
)
MEASUREMENT = re.compile(
    r"(?:\bmeasuring\s+)?(?:approximately\s+)?\b\d+(?:\.\d+)?(?:\s*(?:x|×|by)\s*\d+(?:\.\d+)?)*\s*"
    r"(?:cm|mm|centimeters?|millimeters?)\b",
    re.I,
)
DEVICE = re.compile(
    r"\b(?:tubes?|lines?|catheters?|pacemaker|pacer|(?:a|)icd|defibrillator|picc|port(?:-a-cath)?|"
    r"portacath|wires?|sternotomy|clips?|stents?|drains?|electrodes?|leads|prosthe(?:sis|tic)|"
    r"hardware|screws?|endotracheal|nasogastric|enteric|tracheostomy|swan-ganz|cannula|"
    r"valve\s+replacement|generator)\b",
    re.I,
)
#: Findings that make a sentence positive (with DEVICE); not a labeler's list, see the module docstring.
FINDING = re.compile(
    r"\b(?:effusions?|pneumothora(?:x|ces)|consolidations?|opacit(?:y|ies)|atelecta(?:sis|tic)|edema|"
    r"cardiomegaly|enlarge(?:d|ment)|nodul(?:e|es|ar)|mass(?:es)?|infiltrates?|pneumonia|fractures?|"
    r"granulomas?|granulomatous|scar(?:ring)?|fibro(?:sis|tic)|emphysema(?:tous)?|hyperinflat(?:ed|ion)|"
    r"hyperexpan(?:ded|sion)|calcifi(?:ed|cations?)|tortu(?:ous|osity)|degenerative|spondylosis|"
    r"osteophytes?|kyphosis|scoliosis|hernia|thickening|congestion|lesions?|densit(?:y|ies)|airspace|"
    r"interstitial|prominen(?:t|ce)|elevat(?:ed|ion)|widen(?:ed|ing)|collapse|blunting|copd|cavit(?:y|ary)|"
    r"(?:lymph)?adenopathy|deformit(?:y|ies)|ectatic|aneurysm(?:al)?|atherosclero(?:sis|tic)|cysts?|"
    r"bullae?|volume\s+loss|low\s+lung\s+volumes|scarring|cardiomediastinal\s+enlargement)\b",
    re.I,
)
NEGATION = re.compile(
    r"\b(?:no|not|without|negative|free\s+of|clear|normal|unremarkable|resolved|absen(?:t|ce)|intact|"
    r"removed|cleared|clearing|resolution|removal|"
    r"within\s+normal\s+limits|midline)\b",
    re.I,
)
STABILITY = re.compile(
    r"\b(?:stable|stably|unchanged|no\s+(?:significant\s+)?(?:interval\s+)?change|similar|"
    r"persist(?:s|ent|ently)?|again\s+(?:seen|noted|demonstrated)|re-?demonstrated|as\s+before|"
    r"remains?|redemonstrat(?:ed|ion))\b",
    re.I,
)
#: Change words the stability hack removes before calling a finding stable.
CHANGE = re.compile(
    r"\b(?:new(?:ly)?|increas(?:ed|ing)|decreas(?:ed|ing)|wors(?:e|ened|ening)|improv(?:ed|ing|ement)|"
    r"interval(?:ly)?|developing|enlarging|resolving|progress(?:ed|ing|ion)|since\s+the\s+prior)\b",
    re.I,
)
_TRIVIAL_STRUCTURE = re.compile(
    r"\b(?:bony|bones?|osseous|skeletal|soft\s+tissues?|trachea|upper\s+abdomen|thoracic\s+spine|ribs?)\b",
    re.I,
)
#: ECG / monitor leads, named or said to overlie the patient (on the skin; pacing leads lie *in* the heart):
#: incidental devices, and no device for the device hacks (one pattern for :data:`INCIDENTAL` and
#: :data:`NOT_A_DEVICE`).
MONITOR_LEADS = (
    r"(?:ecg|ekg|electrocardiogra\w*|telemetry|(?:external\s+)?(?:cardiac\s+)?monitor(?:ing)?)\s+"
    r"(?:leads?|lines?|wires?|electrodes?)|"
    r"(?:overlying|external)\s+(?:[\w-]+\s+){0,2}?(?:leads?|wires?|electrodes?)"
)
#: Findings of no clinical consequence on a chest radiograph ("incidental"), written for this module
#: from radiology reporting usage (common chest-film incidentalomas and chronic, benign or normal-variant
#: findings that change no management): calcified granulomas and other calcifications (sequelae of old
#: granulomatous disease, vascular and costal calcification), degenerative spine changes (spondylosis,
#: osteophytes, kyphosis, scoliosis), old or healed fractures and bone deformities, a tortuous, ectatic or
#: atherosclerotic aorta, scarring and apical caps, low lung volumes / hypoinflation, body habitus and breast
#: or nipple shadows, normal variants (azygos fissure, pectus, cervical rib), and devices of no management relevance
#: (sternotomy wires, surgical clips, orthopedic hardware, valve prostheses, ECG leads). A hack that only
#: touches these is not applicable: the hacked report is not clinically worse than the control.
INCIDENTAL = re.compile(
    r"\b(?:"
    r"(?:nodul\w*|densit(?:y|ies))\s+(?:[\w-]+\s+){0,6}?granulom\w*|"
    r"calcifi\w*(?:\s+[\w-]+){0,3}?\s+(?:lymph\s+nodes?|(?:lymph)?adenopathy|nodes?|nodules?|"
    r"nodular\w*|densit(?:y|ies)|foc(?:us|i)|plaques?)|"
    r"(?:nodules?|densit(?:y|ies)|lymph\s+nodes?)\s+(?:(?:which\s+)?(?:is|are)\s+)?calcified|"
    r"calcifi\w*|granulom\w*|"
    r"degenerative|spondylo\w*|osteophyt\w*|spurring|kyphos\w*|kyphotic|(?:dextro|levo)?scolio\w*|"
    r"(?:old|healed|remote|chronic|ununited)\s+(?:[\w-]+\s+){0,4}?(?:fractures?|deformit(?:y|ies))"
    r"(?:\s+deformit(?:y|ies))?|"
    r"(?:fractures?|deformit(?:y|ies))\s+(?:[\w-]+\s+){0,6}?(?:old|healed|remote|chronic)|"
    r"tortu\w*|ectatic|ectasia|unfold\w*|atherosclero\w*|"
    r"scar(?:s|ring|red)?|apical\s+(?:pleural\s+)?(?:thickening|caps?)|"
    r"low\s+lung\s+volumes?|hypoinflat\w*|hypoventilat\w*|(?:shallow|poor|low)\s+inspiration|"
    r"(?:body\s+)?habitus|obesity|nipple\s+shadows?|breast\s+(?:tissue|shadows?)|"
    r"azygos\s+(?:fissure|lobe)|pectus\s+\w+|cervical\s+ribs?|"
    r"(?:epicardial|pericardial|paracardiac)\s+fat(?:\s+pads?)?|fat\s+pads?|"
    r"(?:rib|costal|costochondral)\s+cartilages?|costochondral\s+junctions?|(?:first\s+)?rib\s+ends?|"
    r"(?:densit(?:y|ies)\s+)?foreign\s+bod(?:y|ies)(?=[^.]*\bsoft\s+tissues?\b)|"
    r"(?:soft\s+tissue\s+)?overlap(?:ping)?|superimpos\w*|artifact\w*|summation|"
    r"orif|"
    r"(?:median\s+)?sternotomy(?:\s+wires?)?|wires?|clips?|hardware|screws?|plates?|rods?|"
    r"prosthe(?:sis|ses|tic)(?:\s+\w+)?|valve\s+replacement|electrodes?|"
    + MONITOR_LEADS + r"|"
    r"lung\s+lines"  # IU de-identification's reading of "lung volumes" ("low lung lines", "lung lines remain low")
    r")\b",
    re.I,
)
#: "Lines" and "leads" that are no device: Kerley B and septal lines (a sign of interstitial edema, a
#: finding: :data:`SEPTAL_LINES`), lung lines (IU's "lung volumes"), the pleural line of a pneumothorax,
#: normal mediastinal and fissure lines, skin folds and monitor leads. They hide the device words in them
#: (:func:`_targets`), so dropping them is never dropping a device.
NOT_A_DEVICE = re.compile(
    r"\b(?:(?:kerley\s+)?b[\s-]+lines?|kerley\s+lines?|septal\s+lines?|lung\s+lines|"
    r"(?:visceral\s+)?pleural\s+lines?|(?:skin|skin\s*fold)\s+lines?|"
    r"(?:paratracheal|paraspinal|paravertebral|azygo-?esophageal|junction(?:al)?|fissur\w*|mach)\s+lines?|"
    + MONITOR_LEADS + r")\b",
    re.I,
)
#: Kerley B and septal lines name a finding (interstitial edema), significant where it is stated.
SEPTAL_LINES = re.compile(r"\b(?:(?:kerley\s+)?b[\s-]+lines?|kerley\s+lines?|septal\s+lines?)\b", re.I)
#: Devices whose presence or position changes management (lines, tubes, catheters, drains,
#: pacemakers/ICDs, ports, stents); wires, clips and orthopedic hardware are incidental above.
MANAGED_DEVICE = re.compile(
    r"\b(?:tubes?|lines?|catheters?|pacemakers?|pacer|(?:a|)icds?|defibrillators?|picc|"
    r"port(?:-a-cath)?|portacath|stents?|drains?|endotracheal|nasogastric|enteric|tracheostomy|"
    r"swan-ganz|cannula|generator|leads?|pacing\s+device)\b",
    re.I,
)
#: Minor findings (counted as not significant in the project's error definition, docs/errors.md, "Major
#: and minor"): pleural thickening (also of a fissure) and atelectasis that is not lobar, collapse or
#: graded moderate or more (see :func:`_targets`; "collapse" is a finding of its own in FINDING).
MINOR = re.compile(
    r"\b(?:(?:pleural|pleuro-?parenchymal)(?:\s+[\w-]+){0,2}?\s+thickening|"
    r"thickening\s+of\s+the\s+(?:[\w-]+\s+){0,2}?(?:pleura|fissures?)|fissur\w*\s+thickening|"
    r"atelecta\w*)\b",
    re.I,
)
_LOBAR = re.compile(r"\blobar\b", re.I)
#: Cues that a finding is not stated definitely, for significance only (broader than HEDGE, with which
#: the hedge hack decides which sentences it leaves alone, so the hacked texts do not change): a
#: finding the reference itself only hedges is not a significant error to hedge, drop or un-lateralise.
#: "A or B" alone is not a hedge (each is stated), as in docs/errors.md.
UNCERTAIN = re.compile(
    HEDGE.pattern + r"|\b(?:may|could|might|question(?:ed|able)?|suggest(?:s|ed|ing|ion|ive)?|"
    r"suspect(?:s|ed)?|suspicious|presum(?:ed|ably|ptive)|perhaps|favou?r(?:s|ed|ing)?|"
    r"concern\s+for|cannot\s+(?:\w+\s+){0,2}?(?:be\s+)?(?:excluded|ruled\s+out)|"
    r"not\s+(?:\w+\s+)?(?:excluded|ruled\s+out)|rule\s+out|if|consider(?:ed|ing)?)\b|\?",
    re.I,
)
#: Grade-1 words (docs/errors.md: minimal / trace / tiny; subtle, slight and borderline grade below
#: mild too): a finding the reference calls minimal is not a significant error to remove or distort.
#: "minimally displaced" grades a fracture's displacement, not the fracture.
MINIMAL = re.compile(
    r"\b(?:minimal(?:ly)?(?!\s+displaced)|trace|tiny|subtle|subtly|slight(?:ly)?|borderline)\b", re.I)
#: Chronicity words (docs/errors.md: a significant error needs a finding that is not chronic; old,
#: healed, calcified and degenerative findings are in INCIDENTAL already). COPD names a disease, not an
#: age of a finding.
CHRONIC = re.compile(r"\bchronic(?:[\s-]+appearing)?\b(?!\s+obstructive)", re.I)
#: A generic opacity is read as the interpretation its sentence gives it: one read only as atelectasis
#: or scarring is as minor as that (docs/errors.md: an unspecified opacity stands for an interpretation).
_GENERIC = re.compile(r"opacit|densit|airspace|air\s+space|prominen", re.I)
#: Grades of moderate or more (dropping "mild", "small" or "minimal" alone loses little).
_HIGH_GRADE = re.compile(r"moderate|sever|marked|large|massive|extensive|significant|substantial", re.I)
#: Findings whose grade itself matters (an effusion's or a pneumothorax's size decides management).
_GRADED = re.compile(r"effusion|pneumothora", re.I)
#: Every finding in the probe's vocabulary (shotgun and negation soup), written for this module.
SHOTGUN = (
    "cardiomegaly", "pleural effusion", "pneumothorax", "consolidation", "atelectasis",
    "pulmonary edema", "pneumonia", "pulmonary nodule", "lung mass", "rib fracture", "emphysema",
    "hilar lymphadenopathy", "hiatal hernia", "interstitial opacities", "mediastinal widening",
    "pulmonary vascular congestion", "support devices",
)
NORMAL_TEMPLATES = (
    "The heart is normal in size. The mediastinal contours are unremarkable. The lungs are clear. "
    "There is no pleural effusion or pneumothorax. No acute osseous abnormality.",
    "Heart size and mediastinal contours are within normal limits. No focal airspace consolidation. "
    "No pleural effusion. No pneumothorax. The visualized bones are intact.",
    "Normal cardiomediastinal silhouette. Clear lungs bilaterally. No effusion or pneumothorax. "
    "No acute bony findings.",
)

# ------------------------------------------------------------------------------------ sentences

_SENT = re.compile(r"(?<=[.?!])\s+(?=\S)")
_LEAD = re.compile(r"^(?:there\s+(?:is|are|has\s+been|have\s+been)\s+)?(?:an?\s+|the\s+)?", re.I)
_NEG_LEAD = re.compile(r"^(?:there\s+(?:is|are)\s+)?(?:no|without)\s+(?:evidence\s+of\s+)?", re.I)


def sentences(text: str) -> list[str]:
    text = " ".join(str(text).split())
    return [s for s in _SENT.split(text) if s] if text else []


def _join(parts: Sequence[str]) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _tidy(sentence: str) -> str:
    """Spaces and punctuation after words were removed; an empty shell (only '.') becomes ''."""
    s = re.sub(r"\s+", " ", sentence)
    s = re.sub(r"\s+([,.;:])", r"\1", s)
    s = re.sub(r"([,;:])\s*([,.;:])", r"\2", s)
    s = re.sub(r"\b(a|an|the|of|in|at|with|and|or)\s*([.,;:])", r"\2", s, flags=re.I)
    s = s.strip(" ,;:")
    if not re.search(r"\w", s):
        return ""
    s = re.sub(r"^(an?)\s+(?=[aeiou])", "an ", s, flags=re.I)
    return s[:1].upper() + s[1:]


def is_positive(sentence: str) -> bool:
    """Names a finding or a device and carries no negation or normality cue."""
    has = FINDING.search(sentence) or DEVICE.search(sentence)
    return bool(has) and not NEGATION.search(sentence) and "kerley" not in sentence.lower()


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in spans)


def _targets(sentence: str) -> list[tuple[int, int, str]]:
    """The finding and device mentions of a sentence: (start, end, kind), kind 'incidental', 'minor'
    (:data:`MINOR`), 'graded' (an effusion or pneumothorax) or 'significant'; incidental and minor
    phrases hide the finding words in them. Atelectasis called lobar or graded moderate or more is not
    minor."""
    inc = [m.span() for m in INCIDENTAL.finditer(sentence)]
    out = [(a, b, "incidental") for a, b in inc]
    minor = [m.span() for m in MINOR.finditer(sentence) if not _overlaps(m.span(), inc)]
    out += [(a, b, "minor") for a, b in minor]
    septal = [m.span() for m in SEPTAL_LINES.finditer(sentence) if not _overlaps(m.span(), inc + minor)]
    out += [(a, b, "significant") for a, b in septal]
    hidden = inc + minor + septal + [m.span() for m in NOT_A_DEVICE.finditer(sentence)]
    for pattern in (FINDING, MANAGED_DEVICE):
        for m in pattern.finditer(sentence):
            if not _overlaps(m.span(), hidden):
                out.append((*m.span(), "graded" if _GRADED.search(m.group(0)) else "significant"))
    for i, (a, b, kind) in enumerate(out):
        if kind == "minor" and sentence[a:b].lower().startswith("atelecta"):
            grades = [m.span() for m in _LOBAR.finditer(sentence)]
            grades += [m.span() for m in SEVERITY.finditer(sentence) if _HIGH_GRADE.search(m.group(0))]
            if any(_nearest(sentence, g, out) == (a, b, kind) for g in grades):
                out[i] = (a, b, "significant")
    return out


def _clause_start(sentence: str, pos: int) -> int:
    return max(sentence.rfind(",", 0, pos), sentence.rfind(";", 0, pos)) + 1


def mention_status(sentence: str) -> list[tuple[int, int, str]]:
    """Each finding or device mention of a sentence with its status: 'incidental', 'minor', 'hedged'
    (at or after the clause of the sentence's first :data:`UNCERTAIN` cue: a cue's scope is its clause
    and the rest of the sentence), 'minimal' (a :data:`MINIMAL` word qualifies it), 'chronic' (a
    :data:`CHRONIC` word does) or 'significant'."""
    targets = _targets(sentence)
    cue = UNCERTAIN.search(sentence)
    hedged_from = _clause_start(sentence, cue.start()) if cue else len(sentence) + 1
    minimal = {_nearest(sentence, m.span(), targets) for m in MINIMAL.finditer(sentence)}
    chronic = {_nearest(sentence, m.span(), targets) for m in CHRONIC.finditer(sentence)}
    out = []
    for t in targets:
        a, b, kind = t
        if kind in ("incidental", "minor"):
            status = kind
        elif a >= hedged_from:
            status = "hedged"
        elif t in minimal:
            status = "minimal"
        elif t in chronic:
            status = "chronic"
        else:
            status = "significant"
        out.append((a, b, status))
    # a generic opacity read only as atelectasis or scarring (no specific finding beside it) is minor
    specific = [t for t, o in zip(targets, out, strict=True)
                if o[2] == "significant" and not _GENERIC.match(sentence[t[0]:t[1]])]
    if not specific and any(k in ("minor", "incidental") for *_, k in targets):
        read = [a for a, _, k in targets if k in ("minor", "incidental")]
        out = [(a, b, "minor" if st == "significant" and _GENERIC.match(sentence[a:b])
                and any(r > a for r in read) else st) for a, b, st in out]
    return out


def is_significant(sentence: str) -> bool:
    """Positive and names a finding or device that is significant (:func:`mention_status`): not
    incidental or minor, stated definitely, not minimal and not chronic."""
    return is_positive(sentence) and any(k == "significant" for *_, k in mention_status(sentence))


#: How far (in words) a side, grade or size reaches to the finding it qualifies.
_REACH = 5


def _nearest(sentence: str, span: tuple[int, int], targets: list[tuple[int, int, str]]):
    """The mention a modifier (a side, grade or size at ``span``) qualifies: the nearest within
    :data:`_REACH` words, a tie going to the one after it (None: none near)."""
    best: tuple[int, int, tuple[int, int, str]] | None = None
    for t in targets:
        a, b, _ = t
        if a < span[1] and span[0] < b:
            gap, after = 0, 1
        elif a >= span[1]:
            gap, after = len(re.findall(r"\w+", sentence[span[1]:a])), 1
        else:
            gap, after = len(re.findall(r"\w+", sentence[b:span[0]])), 0
        if gap <= _REACH and (best is None or (gap, -after) < (best[0], -best[1])):
            best = (gap, after, t)
    return best[2] if best else None


def _qualified(sentence: str, span: tuple[int, int], statuses: list[tuple[int, int, str]]) -> str | None:
    """The status of the mention a modifier at ``span`` qualifies (None: none near)."""
    t = _nearest(sentence, span, statuses)
    return t[2] if t else None


#: Sides that carry no information, so dropping them loses none (probe vocabulary, from anatomy): the
#: only side a structure has (the middle lobe and the minor fissure are on the right, the lingula on the
#: left); and "both sides" where the finding is diffuse by nature (:data:`_DIFFUSE`) or the words beside
#: it say both sides already (:data:`_BOTH_SAID`: "diffuse", "both", a plural of a paired structure:
#: "bilateral pleural effusions" is "pleural effusions", one in each pleural space).
_ONLY_SIDE = re.compile(
    r"\bright(?:-sided)?\s+(?:middle\s+lobe|minor\s+fissure|horizontal\s+fissure)|\bleft(?:-sided)?\s+lingul\w*",
    re.I)
_BOTH = re.compile(r"\bbi(?:lateral(?:ly)?|basilar|basal|apical|hilar)\b", re.I)
_DIFFUSE = re.compile(
    r"edema|emphysema\w*|hyperinflat\w*|hyperexpan\w*|interstitial|fibro\w*|congestion|copd", re.I)
_BOTH_SAID = re.compile(
    r"\b(?:diffuse(?:ly)?|both|throughout|widespread|effusions|pneumothoraces|hila|hemidiaphragms|"
    r"apices|(?:lung\s+)?bases|costophrenic\s+(?:angles|sulci|recesses)|pulmonary\s+arteries|"
    r"(?:upper|lower)\s+lobes)\b",
    re.I)
REDUNDANT_SIDE = "no information"


#: Structures that exist on one side only (fifth refinement): a side that qualifies the same finding as one
#: of them is said by it ("right middle lobe opacity obscuring the right heart border", "left upper lobe
#: and lingular opacity"), unless the side names a site of its own ("left lower lobe", "right base").
_IMPLIED_SIDE = (
    (re.compile(r"\blingul\w*", re.I), "left"),
    (re.compile(r"\b(?:middle\s+lobe|minor\s+fissure|horizontal\s+fissure|rml)\b", re.I), "right"),
)
_OWN_SITE = re.compile(r"(?:-sided)?\s+(?:(?:upper|lower)\s+lob|lung|base|basilar|basal|apex|apical|apices|"
                       r"hemithorax|hil|costophrenic|pleural|perihilar|retrocardiac|chest)", re.I)


def _side_kept_by_structure(sentence: str, span: tuple[int, int], statuses) -> bool:
    """The side at ``span`` qualifies the same mention as a one-sided structure of that side and names no
    site of its own: the hacked sentence still says it."""
    side = sentence[span[0]:span[1]].lower()
    if not side.startswith(("right", "left")) or _OWN_SITE.match(sentence, span[1]):
        return False
    t = _nearest(sentence, span, statuses)
    return t is not None and any(
        side.startswith(name) and _nearest(sentence, m.span(), statuses) == t
        for pattern, name in _IMPLIED_SIDE for m in pattern.finditer(sentence))


#: "right and left" / "left and right" said of one plural finding: both sides, like "bilateral".
#: (A word between, "small right and large left", would give each side its own grade: not redundant.)
_RIGHT_AND_LEFT = re.compile(r"\b(?:right|left)(?:-sided)?\s+and\s+(?:xxxx\s+)?(?:left|right)(?:-sided)?\b", re.I)


def _side_is_redundant(sentence: str, span: tuple[int, int], statuses) -> bool:
    """A side at ``span`` that carries no information (:data:`_ONLY_SIDE`, :data:`_BOTH`,
    :data:`_RIGHT_AND_LEFT` before a plural that says both sides)."""
    if any(m.start() == span[0] for m in _ONLY_SIDE.finditer(sentence)):
        return True
    if _side_kept_by_structure(sentence, span, statuses):
        return True
    pair = next((m for m in _RIGHT_AND_LEFT.finditer(sentence) if m.start() <= span[0] < m.end()), None)
    if pair is not None:
        words = [m.end() for m in re.finditer(r"\w+", sentence[pair.end():])][:3]
        return bool(words) and bool(_BOTH_SAID.search(sentence, pair.end(), pair.end() + words[-1]))
    if not _BOTH.match(sentence, span[0]):
        return False
    t = _nearest(sentence, span, statuses)
    if t is not None and _DIFFUSE.search(sentence[t[0]:t[1]]):
        return True
    lo = min(span[0], t[0]) if t else span[0]
    hi = max(span[1], t[1]) if t else span[1]
    lo = max([0] + [m.start() for m in re.finditer(r"\w+", sentence[:lo])][-3:][:1])
    # the structure it qualifies may follow it ("opacities in the bilateral lung bases"; fifth refinement)
    after = [m.end() for m in re.finditer(r"\w+", sentence[span[1]:])][:2]
    hi = max(hi, span[1] + after[-1]) if after else hi
    return bool(_BOTH_SAID.search(sentence, lo, hi))


def _side_statuses(sentence: str) -> list[str | None]:
    """The status of what each side of a positive sentence qualifies ('significant' for a side near no
    mention in a sentence that states a significant finding outside a hedge's scope; ``REDUNDANT_SIDE``
    for a side that carries no information)."""
    if not is_positive(sentence):
        return []
    statuses = mention_status(sentence)
    cue = UNCERTAIN.search(sentence)
    hedged_from = _clause_start(sentence, cue.start()) if cue else len(sentence) + 1
    out: list[str | None] = []
    for p in (LATERALITY, _BI):
        for m in p.finditer(sentence):
            if _side_is_redundant(sentence, m.span(), statuses):
                out.append(REDUNDANT_SIDE)
                continue
            got = _qualified(sentence, m.span(), statuses)
            if got is None:
                sig = any(k == "significant" for *_, k in statuses)
                got = "hedged" if m.start() >= hedged_from else ("significant" if sig else None)
            out.append(got)
    return out


#: A measurement followed by these is a distance (a position), not a size (fifth refinement).
_POSITION = re.compile(r"\s+(?:\w+\s+)?(?:above|below|beyond|past|from|proximal\s+to|distal\s+to|short\s+of)\b",
                       re.I)


def _grade_of_significant(sentence: str) -> tuple[str, list[str]]:
    """('high', ...) when a grade of moderate or more, a measurement, or any grade of an effusion or a
    pneumothorax qualifies a significant mention; 'low' when only mild or small ones do; 'place' when
    only distances that place a device's tip are measured; '' else; with the statuses of the other
    mentions a grade qualifies."""
    if not is_positive(sentence):
        return "", []
    targets = _targets(sentence)
    statuses = mention_status(sentence)
    found, others = "", []
    for pattern in (MEASUREMENT, SEVERITY):
        for m in pattern.finditer(sentence):
            if pattern is MEASUREMENT and _POSITION.match(sentence, m.end()):
                found = found or "place"  # a distance places a device's tip ("4 cm above the carina")
                continue
            t = _nearest(sentence, m.span(), targets)
            if t is None:
                continue
            status = statuses[targets.index(t)][2]
            if status != "significant":
                others.append(status)
                continue
            if t[2] == "graded" or pattern is MEASUREMENT or _HIGH_GRADE.search(m.group(0)):
                return "high", others
            found = "low"
    return found, others


def _core(sentence: str) -> str:
    """'There is a large right pleural effusion.' -> 'large right pleural effusion'."""
    s = sentence.strip().rstrip(".!?").strip()
    s = _LEAD.sub("", s, count=1)
    if s[:2].isupper():  # an acronym (PICC, ICD) keeps its case
        return s
    return s[:1].lower() + s[1:]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


# ------------------------------------------------------------------------------------------ study


@dataclass(frozen=True)
class Study:
    """One reference and what the data has beside it (empty when absent)."""

    ref_id: str
    reference: str
    prior: str = ""
    indication: str = ""


@dataclass(frozen=True)
class Hacked:
    hack: str
    seed: int
    text: str | None  # None: not applicable
    detail: str
    #: Not applicable only because it changes no clinically significant content (its first rule applies).
    not_significant: bool = False

    @property
    def applicable(self) -> bool:
        return self.text is not None


HackFn = Callable[[Study, list[str], random.Random], "tuple[str, str] | None"]


def _hedge(study: Study, sents: list[str], rng: random.Random):
    out, n = [], 0
    for s in sents:
        if HEDGE.search(s):
            out.append(s)
            continue
        neg = _NEG_LEAD.match(s.strip())
        if is_positive(s):
            core = _core(s)
            tpl = rng.choice(HEDGE_TEMPLATES)
        elif neg and (FINDING.search(s) or DEVICE.search(s)):
            core = _core(s.strip()[neg.end():])
            tpl = "{X} cannot be excluded."
        else:
            out.append(s)
            continue
        out.append(tpl.format(x=core, X=_cap(core)))
        n += 1
    return (_join(out), f"{n} finding sentence(s) hedged") if n else None


def _strip_words(sents: list[str], pattern: re.Pattern):
    """The pattern removed everywhere; how many positive sentences it changed."""
    out, changed_positive = [], 0
    for s in sents:
        new = pattern.sub("", s)
        if new != s:
            new = _tidy(new)
            changed_positive += is_positive(s)
        out.append(new)
    return out, changed_positive


def _drop_laterality(study: Study, sents: list[str], rng: random.Random):
    out, n = [], 0
    for s in sents:
        new = LATERALITY.sub("", _BI.sub(lambda m: m.group(1), s))
        if new != s:
            new = _tidy(new)
            n += is_positive(s)
        out.append(new)
    return (_join(out), "laterality removed") if n else None


def _drop_severity(study: Study, sents: list[str], rng: random.Random):
    out, n1 = _strip_words(sents, MEASUREMENT)
    out, n2 = _strip_words(out, SEVERITY)
    return (_join(out), "severity and size removed") if n1 + n2 else None


def _drop_devices(study: Study, sents: list[str], rng: random.Random):
    keep = [s for s in sents if not (DEVICE.search(s) and is_positive(s))]
    n = len(sents) - len(keep)
    return (_join(keep), f"{n} device sentence(s) dropped") if n else None


def _stable(study: Study, sents: list[str], rng: random.Random):
    out, n = [], 0
    for s in sents:
        if is_positive(s) and not STABILITY.search(s):
            core = _core(_tidy(CHANGE.sub("", s)))
            out.append(f"Stable {core}, unchanged from the prior examination.")
            n += 1
        else:
            out.append(s)
    return (_join(out), f"{n} finding(s) called stable") if n else None


def _shotgun(study: Study, sents: list[str], rng: random.Random):
    items = list(SHOTGUN)
    rng.shuffle(items)
    return _join([f"{_cap(x)}." for x in items]), f"{len(items)} findings listed"


def _normal_template(study: Study, sents: list[str], rng: random.Random):
    if not any(is_positive(s) for s in sents):
        return None
    i = rng.randrange(len(NORMAL_TEMPLATES))
    return NORMAL_TEMPLATES[i], f"normal template {i}"


def _rest_has_finding(sents: list[str]) -> bool:
    return len(sents) >= 2 and any(is_positive(s) for s in sents[1:])


def _first_sentence(study: Study, sents: list[str], rng: random.Random):
    return (sents[0], "first sentence kept") if _rest_has_finding(sents) else None


def _repeat_sentence(study: Study, sents: list[str], rng: random.Random):
    if not _rest_has_finding(sents):
        return None
    target = len(study.reference.split())
    words = max(1, len(sents[0].split()))
    times = max(2, -(-target // words))
    return _join([sents[0]] * times), f"first sentence x{times}"


def _negation_soup(study: Study, sents: list[str], rng: random.Random):
    positives = [s for s in sents if is_positive(s)]
    items = list(SHOTGUN)
    rng.shuffle(items)
    if len(positives) >= 2:
        kept, detail = positives[0], "first true finding kept, the rest denied"
    elif not positives:
        false = items.pop(0)
        kept, detail = f"There is {false}.", f"false finding {false!r} kept, the rest denied"
    else:
        return None
    return _join([kept] + [f"No {x}." for x in items]), detail


def _empty(study: Study, sents: list[str], rng: random.Random):
    return "", "empty"


def _punctuation(study: Study, sents: list[str], rng: random.Random):
    n = max(3, len(study.reference.split()))
    return " ".join(["."] * n), f"{n} periods"


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def _copy_prior(study: Study, sents: list[str], rng: random.Random):
    prior = " ".join(study.prior.split())
    if not prior or _same_text(prior, study.reference):
        return None
    return prior, "prior report copied"


def _copy_indication(study: Study, sents: list[str], rng: random.Random):
    text = " ".join(study.indication.split())
    return (text, "indication copied") if text else None


_HACKS: dict[str, HackFn] = {
    "hedge": _hedge,
    "drop_laterality": _drop_laterality,
    "drop_severity": _drop_severity,
    "drop_devices": _drop_devices,
    "all_stable": _stable,
    "shotgun": _shotgun,
    "normal_template": _normal_template,
    "first_sentence": _first_sentence,
    "repeat_sentence": _repeat_sentence,
    "negation_soup": _negation_soup,
    "empty": _empty,
    "punctuation": _punctuation,
    "copy_prior": _copy_prior,
    "copy_indication": _copy_indication,
}
HACKS: tuple[str, ...] = tuple(_HACKS)

# ------------------------------------------------------------------- clinically significant changes
# Each check runs on a hack that applies by its first rule and returns None when the hacked report
# removes or distorts clinically significant content, else the reason it does not (the hack is then
# not applicable, counted apart). The first rules let hacks apply to references whose only positive
# findings are incidental (see INCIDENTAL), minor (MINOR), hedged by the reference itself (UNCERTAIN),
# minimal (MINIMAL) or chronic (CHRONIC); those hacked reports are not clinically worse than the
# control (docs/errors.md, "Counting rules, v2": a significant error needs a finding the reference
# states definitely, major, not minimal and not chronic).

ONLY_INCIDENTAL = "only incidental findings"
#: The reasons of the second refinement, in the order they are named when several apply.
_NOT_SIGNIFICANT = ("minor", "hedged", "minimal", "chronic")


def _reason(statuses) -> str:
    """'only incidental findings' unless a mention is minor, hedged, minimal or chronic: then 'only
    minor findings', 'only hedged findings', 'only hedged or minimal findings', ..."""
    named = [k for k in _NOT_SIGNIFICANT if k in set(statuses)]
    return f"only {' or '.join(named)} findings" if named else ONLY_INCIDENTAL


def _statuses(sents) -> list[str]:
    return [k for s in sents for *_, k in mention_status(s)]


def _norm(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".!? ")


def _lost_significant(sents: list[str], text: str) -> str | None:
    """The hacked text loses (does not reproduce) a sentence stating a significant finding."""
    hacked = _norm(text)
    lost = [s for s in sents if is_positive(s) and _norm(s) not in hacked]
    if any(is_significant(s) for s in lost):
        return None
    positive = [s for s in sents if is_positive(s)]
    return _reason(_statuses(lost or positive)) if positive else "no finding lost"


def _hedges_significant(study: Study, sents: list[str], text: str) -> str | None:
    hedged = [s for s in sents if is_positive(s) and not HEDGE.search(s)]
    if any(is_significant(s) for s in hedged):
        return None
    return _reason(_statuses(hedged)) if hedged else "only negated findings hedged"


def _drops_significant_side(study: Study, sents: list[str], text: str) -> str | None:
    got = [k for s in sents for k in _side_statuses(s)]
    if "significant" in got:
        return None
    if REDUNDANT_SIDE not in got:
        return _reason(got)
    rest = [k for k in got if k != REDUNDANT_SIDE]
    sides = "sides that carry no information (right middle lobe, bilateral effusions, diffuse findings)"
    return f"{_reason(rest)} or {sides}" if rest else f"only {sides}"


def _drops_significant_grade(study: Study, sents: list[str], text: str) -> str | None:
    graded = [_grade_of_significant(s) for s in sents]
    grades = {g for g, _ in graded}
    if "high" in grades:
        return None
    others = [k for _, o in graded for k in o]
    if "low" in grades:
        return "only mild or small grades"
    return "only distances that place a device's tip" if "place" in grades and not others else _reason(others)


def _drops_managed_device(study: Study, sents: list[str], text: str) -> str | None:
    dropped = [s for s in sents if DEVICE.search(s) and is_positive(s)]
    devices = [k for s in dropped for a, b, k in mention_status(s)
               if k != "incidental" and MANAGED_DEVICE.fullmatch(s[a:b])]
    if "significant" in devices:
        return None
    return _reason(devices) if devices else (
        "only devices of no management relevance (wires, clips, hardware) or no device (Kerley B "
        "lines, lung lines, monitor leads)")


def _stabilises_significant(study: Study, sents: list[str], text: str) -> str | None:
    called = [s for s in sents if is_positive(s) and not STABILITY.search(s)]
    ok = any(is_significant(s) for s in called)
    return None if ok else _reason(_statuses(called))


def _soup_significant(study: Study, sents: list[str], text: str) -> str | None:
    if not any(is_positive(s) for s in sents):
        return None  # a false finding asserted on a reference without one
    return _lost_significant(sents, text)


def _loses_significant(study: Study, sents: list[str], text: str) -> str | None:
    return _lost_significant(sents, text)


_SIGNIFICANT: dict[str, Callable[[Study, list[str], str], str | None]] = {
    "hedge": _hedges_significant,
    "drop_laterality": _drops_significant_side,
    "drop_severity": _drops_significant_grade,
    "drop_devices": _drops_managed_device,
    "all_stable": _stabilises_significant,
    "normal_template": _loses_significant,
    "first_sentence": _loses_significant,
    "repeat_sentence": _loses_significant,
    "negation_soup": _soup_significant,
    "copy_prior": _loses_significant,
    "copy_indication": _loses_significant,
}

#: What each hack does and when it applies (so that the hacked report is clinically worse than the
#: control: it removes or distorts clinically significant content, never only incidental, minor,
#: hedged, minimal or chronic findings, see mention_status); the docs page prints this table.
APPLICABILITY: dict[str, tuple[str, str]] = {
    "hedge": ("each positive finding sentence gets a hedge (Possible X. / X cannot be excluded. ...); "
              "a sentence opening with a negation ('No X.') becomes 'X cannot be excluded.'",
              "the reference states a significant finding (stated definitely; not incidental, "
              "minor, minimal or chronic) in a sentence it does not hedge already; negated findings "
              "turned into hedges alone do not count"),
    "drop_laterality": ("right, left, bilateral, unilateral (and bi- of bibasilar, biapical) removed",
                        "a side qualifies a significant finding or a device and carries information (not "
                        "'right' of the right middle lobe or of a finding the middle lobe or lingula places, "
                        "not 'bilateral' of pleural effusions, of the lung bases or of a diffuse finding)"),
    "drop_severity": ("severity and size words and measurements removed",
                      "a significant finding graded moderate or more, measured (a nodule's or "
                      "mass's size), or an effusion or pneumothorax graded; 'mild' or 'small' alone "
                      "does not count, nor a distance that places a device's tip"),
    "drop_devices": ("every positive sentence naming a device (tube, line, catheter, pacemaker, ...) "
                     "dropped", "a management-relevant device is dropped (line, tube, catheter, drain, "
                     "pacemaker/ICD, port, stent), not only sternotomy wires, clips or hardware, and not "
                     "Kerley B lines, lung lines or monitor leads"),
    "all_stable": ("each positive finding sentence becomes 'Stable X, unchanged from the prior "
                   "examination.' (change words such as new, increased removed)",
                   "a present significant finding with no temporal status or another one (new, "
                   "increased, ...)"),
    "shotgun": ("every finding of the probe's vocabulary listed, one per sentence, seeded order",
                "always (the reference never has them all)"),
    "normal_template": ("a generic normal report (one of three, seeded)",
                        "the reference states a significant finding (lost)"),
    "first_sentence": ("the first sentence only",
                       "a later sentence states a significant finding (lost)"),
    "repeat_sentence": ("the first sentence repeated (at least twice) to the reference's word count",
                        "a later sentence states a significant finding (lost by the repetition)"),
    "negation_soup": ("one finding stated, every other vocabulary finding denied ('No X.'): the "
                      "reference's first positive sentence, or a false finding for a reference without "
                      "one", "two or more positive sentences and a significant one among those lost, "
                      "or none (a false finding asserted); not with exactly one"),
    "empty": ("the empty report", "always"),
    "punctuation": ("periods only, as many as the reference has words", "always"),
    "copy_prior": ("the prior report copied", "the data has a prior report that differs from the "
                   "reference and does not reproduce a sentence stating a significant finding"),
    "copy_indication": ("the indication / context copied", "the data has one (ReXrank JSON: context) "
                        "and the reference states a significant finding it does not reproduce"),
}


def hack_seed(seed: int, ref_id: str, hack: str) -> int:
    """The seed of one hacked report: a stable hash of the run seed, the reference id and the hack."""
    return zlib.crc32(f"{seed}|{ref_id}|{hack}".encode())


def make_hack(study: Study, hack: str, seed: int) -> Hacked:
    """One hacked report of ``study`` (``text=None`` when the hack does not apply), from ``seed``."""
    fn = _HACKS[hack]
    sents = sentences(study.reference)
    if not sents:
        return Hacked(hack, seed, None, "empty reference")
    got = fn(study, sents, random.Random(seed))
    if got is None:
        return Hacked(hack, seed, None, "not applicable")
    text, detail = got
    text = " ".join(text.split())
    if text and _same_text(text, study.reference):
        return Hacked(hack, seed, None, "not applicable (same as the reference)")
    check = _SIGNIFICANT.get(hack)
    reason = check(study, sents, text) if check else None
    if reason is not None:
        return Hacked(hack, seed, None, f"not applicable ({reason})", not_significant=True)
    return Hacked(hack, seed, text, detail)


# ---------------------------------------------------------------------------------------- control

#: Meaning-preserving rewordings for the control (one sentence, first rule that applies).
_REWORD: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"^There is no (.+)\.$", re.I), r"No \1 is seen."),
    (re.compile(r"^There are no (.+)\.$", re.I), r"No \1 are seen."),
    (re.compile(r"^No (.+?) (?:is|are) (?:seen|identified|present)\.$", re.I), r"There is no \1."),
    (re.compile(r"\b(is|are) within normal limits\b", re.I), r"\1 normal"),
    (re.compile(r"\b(is|are) normal\b", re.I), r"\1 within normal limits"),
    (re.compile(r"^No (.+)\.$", re.I), r"There is no \1."),
    (re.compile(r"^The (\w+ (?:is|are)) ", re.I), r"\1 "),
)


#: A finding named and then said not to be seen: "Fracture is not seen." (not "... not well seen": that
#: one is there, only poorly shown).
_NOT_SEEN = re.compile(
    r"\b(?:is|are|was|were)?\s*not\s+(?:seen|identified|present|evident|visualized|visible|appreciated|"
    r"demonstrated|detected)(?=\s*(?:[.;]|$))", re.I)


def is_trivial_normal(sentence: str) -> bool:
    """A normal statement about a structure of no consequence here (bones, soft tissues, trachea): a
    negation or normality cue, no device, and every finding named after a cue or denied by "is not
    seen" ("No rib fracture.", "The bones are intact."; not "First rib fracture not well demonstrated."
    or "A 1 cm nodule between the ribs, not seen before.")."""
    if not (_TRIVIAL_STRUCTURE.search(sentence) and NEGATION.search(sentence)):
        return False
    if is_positive(sentence) or DEVICE.search(sentence):
        return False
    first_cue = cue.start() if (cue := NEGATION.search(sentence)) else len(sentence)  # found above
    named_before = [m for m in FINDING.finditer(sentence) if m.start() < first_cue]
    return not named_before or bool(_NOT_SEEN.search(sentence, named_before[-1].end()))


def control(study: Study, seed: int) -> tuple[str, str]:
    """The control report and its kind: drop_trivial_normal, reworded or copy (see the module doc)."""
    sents = sentences(study.reference)
    rng = random.Random(seed)
    trivial = [i for i, s in enumerate(sents) if is_trivial_normal(s)]
    if trivial and len(sents) >= 2:
        i = rng.choice(trivial)
        return _join(sents[:i] + sents[i + 1 :]), "drop_trivial_normal"
    order = list(range(len(sents)))
    rng.shuffle(order)
    for i in order:
        for pattern, repl in _REWORD:
            new = pattern.sub(repl, sents[i], count=1)
            if new != sents[i]:
                return _join(sents[:i] + [_cap(new)] + sents[i + 1 :]), "reworded"
    return " ".join(study.reference.split()), "copy"


# -------------------------------------------------------------------------------------- detectors


def hack_signals(texts: Sequence[str]) -> dict[str, float]:
    """How often generated reports look like each hack (means over the texts).

    hedges_per_sentence, hedged_share (a text with any hedge), laterality_share, severity_share,
    device_share, stability_share (texts with such a word), repeated_sentence_share (sentences that repeat
    an earlier one in the same text), normal_template_share (texts equal to a probe template),
    length_words_mean. Compare with the same signals of the references (``evaluate_guards`` does).
    """
    n = len(texts)
    if not n:
        return {}
    hedges, rep = [], []
    flags = {k: 0 for k in ("hedged", "laterality", "severity", "device", "stability", "normal_template")}
    templates = {" ".join(t.lower().split()) for t in NORMAL_TEMPLATES}
    lengths = []
    for t in texts:
        sents = [s.strip().lower() for s in sentences(t)]
        lengths.append(len(str(t).split()))
        k = len(HEDGE.findall(t))
        hedges.append(k / len(sents) if sents else 0.0)
        flags["hedged"] += k > 0
        flags["laterality"] += bool(LATERALITY.search(t) or _BI.search(t))
        flags["severity"] += bool(SEVERITY.search(t) or MEASUREMENT.search(t))
        flags["device"] += bool(DEVICE.search(t))
        flags["stability"] += bool(STABILITY.search(t))
        flags["normal_template"] += " ".join(str(t).lower().split()) in templates
        rep.append(1 - len(set(sents)) / len(sents) if sents else 0.0)
    out = {"hedges_per_sentence": float(np.mean(hedges))}
    out.update({f"{k}_share": v / n for k, v in flags.items()})
    out["repeated_sentence_share"] = float(np.mean(rep))
    out["length_words_mean"] = float(np.mean(lengths))
    return out
