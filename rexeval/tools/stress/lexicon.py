"""The stress suite's own perturbation lexicon: findings, devices, sides, grades, sizes, time, hedges, negation.

Written for the stress suite only, separately from the error counter and the rule labeler (their word lists
were not read while this was written), so that an edit drawn from here does not test a rule with its own
words. ``benchmarks/stress_targets.py --overlap`` prints where the two vocabularies meet at run time.

Sources, per group (facts read, wording our own):

- FINDINGS (names, synonyms, which are graded, sided, sized): Fleischner Society glossary of terms for
  thoracic imaging (Hansell et al., Radiology 2008;246:697-722; Bankier et al., Radiology 2024;310:e232558:
  consolidation, atelectasis/collapse and its lobar/subsegmental/linear forms, nodule < 3 cm vs mass >= 3 cm,
  pneumothorax, pleural effusion/thickening, emphysema, granuloma) and RadLex (RSNA; e.g. RID43255
  consolidation). Which findings are *major* (their error is clinically significant) follows the counting
  spec the counter shares (docs/errors.md, v2 spec): minor are non-lobar atelectasis, pleural thickening,
  granulomas/calcified nodules, degenerative changes, old fractures, wires, clips, orthopedic hardware.
- DEVICES and tip positions: endotracheal tube 5 +/- 2 cm above the carina, malposition in a mainstem
  bronchus or the esophagus (Radiopaedia "Evaluation of endotracheal tube position"; Goodman et al., AJR
  1976; UVA radiology course "Malpositioning of endotracheal tubes"); central venous catheters and ports in
  the SVC or at the cavoatrial junction, too deep in the right atrium, too proximal in a brachiocephalic vein,
  aberrant in the azygos or internal jugular vein (Radiology Masterclass "CV catheters - position"; Roldan &
  Paniagua, West J Emerg Med 2015;16:658-664); enteric tubes below the diaphragm in the stomach, malpositioned
  in the esophagus or an airway; chest tubes in the pleural space, malpositioned in a fissure or the chest
  wall (Ramponi & Callahan, Adv Emerg Nurs J 2020;42:3; ACR-SPR practice parameter for portable chest
  radiography); pacemaker/ICD leads in the right atrium and ventricle, a lead retracted into the SVC or in
  the coronary sinus as malposition (same ICU-radiography sources).
- LATERALITY, ZONES: RadLex anatomic modifiers (left, right, bilateral; upper/middle/lower lobe, lingula,
  apical, basilar, retrocardiac, perihilar).
- SEVERITY grades 1 minimal/trace/tiny, 2 small/mild, 3 moderate, 4 large/severe/extensive/massive/marked:
  the ordinal grading used in ACR/RSNA structured chest radiograph templates (radreport.org) and in the
  counting spec; an edit changes the grade by >= 2 steps.
- MEASUREMENTS: mm and cm, as RadLex units; a size change is by a factor >= 1.5 (the spec's significance).
- TEMPORAL words: the comparison vocabulary of the Fleischner glossary and of ACR reporting guidance (new,
  increased, decreased, unchanged/stable, resolved; "since the prior examination").
- HEDGES: the diagnostic-certainty scale of the Brigham and Women's radiology department (Shinagare et al.
  2020: most likely, likely, may represent, unlikely) and Panicek & Hricak (AJR 2016) certainty lexicon
  (consistent with, suspicious for, possible, cannot be excluded).
- NEGATION triggers: NegEx (Chapman et al., J Biomed Inform 2001;34:301-310) pre- and post-negation
  phrases and its scope terminators, restricted to those used in radiology reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    key: str
    noun: str  # how the generator and the edits name it ("pleural effusion")
    terms: tuple[str, ...]  # regex alternatives that name it, synonyms included
    major: bool = True
    sided: bool = True
    graded: bool = False
    sized: bool = False
    zones: tuple[str, ...] = ()
    #: wider words whose presence means the report already speaks of this finding (or its organ)
    mentions: tuple[str, ...] = ()
    source: str = "Fleischner glossary 2008/2024; RadLex"

    @property
    def pattern(self) -> re.Pattern:
        return _alternation(self.terms)

    @property
    def mention_pattern(self) -> re.Pattern:
        return _alternation(self.terms + self.mentions)


def _alternation(terms: tuple[str, ...]) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(sorted(terms, key=len, reverse=True)) + r")\b", re.I)


LUNG_ZONES = (
    "right upper lobe",
    "right middle lobe",
    "right lower lobe",
    "left upper lobe",
    "lingula",
    "left lower lobe",
)

FINDINGS: dict[str, Finding] = {
    f.key: f
    for f in (
        Finding(
            "effusion",
            "pleural effusion",
            (r"pleural effusions?", r"effusions?", r"pleural fluid"),
            graded=True,
            mentions=(r"costophrenic", r"pleural spaces?"),
        ),
        Finding(
            "pneumothorax",
            "pneumothorax",
            (r"pneumothora(?:x|ces)",),
            graded=True,
            sized=True,
            mentions=(r"pleural air",),
        ),
        Finding(
            "consolidation",
            "consolidation",
            (
                r"consolidations?",
                r"airspace consolidation",
                r"airspace disease",
                r"air space disease",
                r"infiltrates?",
            ),
            zones=LUNG_ZONES,
            mentions=(r"airspace opacit(?:y|ies)",),
        ),
        Finding(
            "pneumonia",
            "pneumonia",
            (r"pneumonias?", r"bronchopneumonia"),
            zones=LUNG_ZONES,
            mentions=(r"infection", r"infectious process"),
        ),
        Finding(
            "edema",
            "pulmonary edema",
            (r"pulmonary edema", r"interstitial edema", r"alveolar edema", r"edema"),
            sided=False,
            graded=True,
            mentions=(r"vascular congestion", r"pulmonary vascular(?:ity|ature)", r"heart failure"),
        ),
        Finding(
            "cardiomegaly",
            "cardiomegaly",
            (r"cardiomegaly", r"cardiac enlargement", r"enlarged (?:heart|cardiac silhouette)"),
            sided=False,
            graded=True,
            mentions=(r"heart", r"cardiac", r"cardio ?mediastinal", r"mediastin\w*"),
        ),
        Finding(
            "nodule",
            "pulmonary nodule",
            (r"(?:pulmonary |lung )?nodules?",),
            sized=True,
            zones=LUNG_ZONES,
            mentions=(r"masses", r"mass", r"lesions?"),
        ),
        Finding(
            "mass",
            "mass",
            (r"(?:lung |pulmonary )?mass",),
            sized=True,
            zones=LUNG_ZONES,
            mentions=(r"nodules?", r"lesions?"),
        ),
        Finding(
            "lobar_atelectasis",
            "lobar collapse",
            (
                r"lobar collapse",
                r"lobe collapse",
                r"collapse of the (?:right|left) (?:upper|middle|lower) lobe",
            ),
            zones=LUNG_ZONES,
            mentions=(r"atelecta\w+",),
        ),
        Finding(
            "fracture",
            "rib fracture",
            (r"fractures?",),
            mentions=(r"osseous", r"bony", r"ribs?", r"skeletal"),
        ),
        Finding(
            "pneumoperitoneum",
            "pneumoperitoneum",
            (
                r"pneumoperitoneum",
                r"free intraperitoneal air",
                r"free air under the (?:right |left )?hemidiaphragm",
            ),
            sided=False,
        ),
        # Minor findings: recognised so that edits leave them alone and the generator does not contradict them.
        Finding(
            "atelectasis",
            "atelectasis",
            (r"atelectasis", r"atelectatic changes?"),
            major=False,
            zones=LUNG_ZONES,
        ),
        Finding("pleural_thickening", "pleural thickening", (r"pleural thickening",), major=False),
        Finding(
            "granuloma",
            "granuloma",
            (r"granulomas?", r"calcified (?:nodules?|granulomas?)"),
            major=False,
            sided=True,
        ),
        Finding(
            "degenerative",
            "degenerative changes",
            (r"degenerative (?:changes?|disease)", r"spondylosis", r"osteophytes?"),
            major=False,
            sided=False,
        ),
        Finding("scarring", "scarring", (r"scarring", r"scar"), major=False),
    )
}

MAJOR_FINDINGS = tuple(k for k, f in FINDINGS.items() if f.major)
#: Findings the abnormal-reference generator writes (all major; each with a template in abnormal.py).
GENERATED_FINDINGS = (
    "effusion",
    "pneumothorax",
    "consolidation",
    "pneumonia",
    "edema",
    "cardiomegaly",
    "nodule",
    "mass",
    "lobar_atelectasis",
    "fracture",
)


@dataclass(frozen=True)
class Device:
    key: str
    noun: str
    terms: tuple[str, ...]
    major: bool = True
    #: tip-position phrases where the device belongs (regex; the edit replaces the whole match)
    correct_tips: tuple[str, ...] = ()
    #: phrases naming a wrong tip position (written, never matched)
    wrong_tips: tuple[str, ...] = ()
    source: str = ""

    @property
    def pattern(self) -> re.Pattern:
        return _alternation(self.terms)

    @property
    def tip_pattern(self) -> re.Pattern | None:
        return _alternation(self.correct_tips) if self.correct_tips else None


_CVC_TIPS = (
    r"(?:in|at|within|over|projects over|projecting over|overlying) the (?:expected (?:region|location)"
    r" of the )?(?:(?:lower|mid|distal|proximal) )?(?:superior vena cava|SVC)",
    r"(?:in|at|over|near) the (?:cavoatrial|cavo-atrial|caval-atrial|atriocaval) junction",
)
_CVC_WRONG = (
    "in the right atrium",
    "in the right internal jugular vein",
    "in the azygos vein",
    "in the left brachiocephalic vein",
)
_ICU = "Radiology Masterclass CV catheters; Roldan & Paniagua 2015"

DEVICES: dict[str, Device] = {
    d.key: d
    for d in (
        Device(
            "ett",
            "endotracheal tube",
            (r"endotracheal tube", r"ET tube", r"ETT"),
            correct_tips=(
                r"\d+(?:\.\d+)? cm above the carina",
                r"(?:in|at) the mid(?:-| )?trachea",
            ),
            wrong_tips=("in the right mainstem bronchus", "in the esophagus"),
            source="Radiopaedia ETT position; Goodman 1976; UVA ETT malposition",
        ),
        Device(
            "tracheostomy",
            "tracheostomy tube",
            (r"tracheostomy tube", r"tracheostomy"),
            source="ACR-SPR portable chest radiography",
        ),
        Device(
            "enteric",
            "nasogastric tube",
            (
                r"nasogastric tube",
                r"NG tube",
                r"orogastric tube",
                r"OG tube",
                r"enteric tube",
                r"feeding tube",
                r"Dobhoff tube",
            ),
            correct_tips=(
                r"(?:in|within|into) the (?:stomach|gastric (?:body|fundus|antrum))",
                r"below the (?:left )?(?:hemi)?diaphragm",
            ),
            wrong_tips=(
                "in the distal esophagus",
                "coiled in the esophagus",
                "in the right lower lobe bronchus",
            ),
            source="Ramponi & Callahan 2020",
        ),
        Device(
            "cvc",
            "central venous catheter",
            (
                r"central venous catheter",
                r"central line",
                r"CVC",
                r"internal jugular (?:catheter|line)",
                r"subclavian (?:catheter|line)",
                r"IJ (?:catheter|line)",
            ),
            correct_tips=_CVC_TIPS,
            wrong_tips=_CVC_WRONG,
            source=_ICU,
        ),
        Device(
            "picc",
            "PICC",
            (r"PICC(?: line)?", r"peripherally inserted central catheter"),
            correct_tips=_CVC_TIPS,
            wrong_tips=_CVC_WRONG,
            source=_ICU,
        ),
        Device(
            "port",
            "chest port",
            (r"(?:chest (?:wall )?)?port(?:-a-cath)?", r"Port-A-Cath", r"portacath"),
            correct_tips=_CVC_TIPS,
            wrong_tips=_CVC_WRONG,
            source=_ICU,
        ),
        Device(
            "swan",
            "pulmonary artery catheter",
            (r"Swan-Ganz catheter", r"pulmonary artery catheter"),
            correct_tips=(
                r"(?:in|at|within) the (?:main|right|left|proximal right|proximal left) pulmonary artery",
            ),
            wrong_tips=(
                "in a distal right lower lobe pulmonary artery branch",
                "in the right ventricle",
            ),
            source="ACR-SPR portable chest radiography; ICU radiography reviews",
        ),
        Device(
            "chest_tube",
            "chest tube",
            (r"chest tubes?", r"thoracostomy tubes?", r"pleural drain", r"pigtail catheter"),
            correct_tips=(r"(?:at|in|over|toward|towards) the (?:right |left )?(?:lung )?apex",),
            wrong_tips=("in the major fissure", "in the chest wall soft tissues"),
            source="Ramponi & Callahan 2020",
        ),
        Device(
            "pacemaker",
            "pacemaker",
            (
                r"pacemaker",
                r"pacer",
                r"(?:implantable cardioverter-)?defibrillator",
                r"ICD",
                r"pacing leads?",
            ),
            correct_tips=(
                r"(?:terminating |projecting )?(?:in|over) the right atrium and (?:the )?right ventricle",
            ),
            wrong_tips=(
                "terminating in the superior vena cava",
                "terminating in the coronary sinus",
            ),
            source="ICU radiography reviews (lead dislodgement)",
        ),
        Device("stent", "stent", (r"stents?",), source="RadLex devices"),
        # Minor hardware (the spec: not acted upon) -- recognised, never edited as a clinical error.
        Device(
            "sternotomy",
            "sternotomy wires",
            (r"sternotomy wires?", r"sternal wires?", r"sternotomy"),
            major=False,
            source="RadLex devices",
        ),
        Device(
            "clips",
            "surgical clips",
            (r"(?:surgical )?clips",),
            major=False,
            source="RadLex devices",
        ),
        Device(
            "hardware",
            "orthopedic hardware",
            (r"(?:orthopedic|spinal|fixation) hardware", r"screws?", r"fusion hardware"),
            major=False,
            source="RadLex devices",
        ),
    )
}
MAJOR_DEVICES = tuple(k for k, d in DEVICES.items() if d.major)
#: Devices the generator writes, each with a correct tip position (so malposition applies).
GENERATED_DEVICES = ("ett", "enteric", "cvc", "picc", "port", "chest_tube", "pacemaker", "swan")

SIDES = {"left": "right", "right": "left"}
SIDE_RE = re.compile(r"\b(left|right)\b", re.I)
#: A side word that names fixed anatomy, not the side of a finding ("right atrium", "right mainstem").
FIXED_ANATOMY_RE = re.compile(
    r"\s+(?:atrium|atrial|ventricle|ventricular|mainstem|main ?stem|heart border|"
    r"middle lobe)",
    re.I,
)

#: Severity grade of each word (adjective and adverb forms).
SEVERITY = {
    "minimal": 1,
    "minimally": 1,
    "trace": 1,
    "tiny": 1,
    "small": 2,
    "mild": 2,
    "mildly": 2,
    "moderate": 3,
    "moderately": 3,
    "large": 4,
    "severe": 4,
    "severely": 4,
    "extensive": 4,
    "massive": 4,
    "marked": 4,
    "markedly": 4,
}
#: The word each severity word becomes in a severity edit (>= 2 grades away, same part of speech).
SEVERITY_SWAP = {
    "minimal": "large",
    "minimally": "markedly",
    "trace": "large",
    "tiny": "large",
    "small": "large",
    "mild": "severe",
    "mildly": "severely",
    "moderate": "minimal",
    "moderately": "minimally",
    "large": "small",
    "severe": "mild",
    "severely": "mildly",
    "extensive": "minimal",
    "massive": "small",
    "marked": "mild",
    "markedly": "mildly",
}
SEVERITY_RE = _alternation(tuple(SEVERITY))
GRADE_WORDS = {1: ("small",), 2: ("small", "mild"), 3: ("moderate",), 4: ("large", "severe")}

MEASURE_RE = re.compile(
    r"\b(\d+(?:\.\d+)?)(?:\s*x\s*\d+(?:\.\d+)?)*(\s*)(mm|cm|millimeters?|centimeters?)\b", re.I
)
MM_PER = {
    "mm": 1.0,
    "millimeter": 1.0,
    "millimeters": 1.0,
    "cm": 10.0,
    "centimeter": 10.0,
    "centimeters": 10.0,
}
#: A measurement that is a distance, not a size (device tip levels) -- not a size edit.
DISTANCE_AFTER_RE = re.compile(r"^\s*(?:above|below|from|proximal|distal)\b", re.I)

#: Temporal status of each word, and the word a temporal edit writes instead (another status).
TEMPORAL = {
    "new": "new",
    "newly": "new",
    "increased": "worse",
    "increasing": "worse",
    "enlarging": "worse",
    "worsened": "worse",
    "worsening": "worse",
    "progressed": "worse",
    "decreased": "better",
    "decreasing": "better",
    "improved": "better",
    "improving": "better",
    "smaller": "better",
    "unchanged": "stable",
    "stable": "stable",
    "persistent": "stable",
    "resolved": "resolved",
}
TEMPORAL_SWAP = {
    "new": "unchanged",
    "newly": "previously",
    "increased": "decreased",
    "increasing": "decreasing",
    "enlarging": "shrinking",
    "worsened": "improved",
    "worsening": "improving",
    "progressed": "improved",
    "decreased": "increased",
    "decreasing": "increasing",
    "improved": "worsened",
    "improving": "worsening",
    "smaller": "larger",
    "unchanged": "new",
    "stable": "new",
    "persistent": "new",
}
TEMPORAL_RE = _alternation(tuple(TEMPORAL_SWAP))
#: Sentences a temporal edit appends to a finding without a temporal status: (status, template).
TEMPORAL_ADDED = (
    ("new", "The {noun} {is} new since the prior examination."),
    ("worse", "The {noun} {has} increased since the prior examination."),
    ("better", "The {noun} {has} decreased since the prior examination."),
)

HEDGE_RE = re.compile(
    r"\b(?:may|might|could|possible|possibly|probable|probably|likely|questionable|question of|"
    r"suspicious for|concerning for|suggestive of|suggests?|worrisome for|cannot be excluded|"
    r"can not be excluded|cannot be ruled out|not (?:be )?excluded|not ruled out|versus|vs|"
    r"differential|or)\b|\?",
    re.I,
)
CHRONIC_RE = re.compile(
    r"\b(?:chronic|old|healed|healing|remote|calcified|degenerative|post-?surgical|"
    r"postoperative)\b",
    re.I,
)
#: Atelectasis counts as major only when lobar, collapse or >= moderate (the spec); these words make it minor.
MINOR_EXTENT_RE = re.compile(
    r"\b(?:subsegmental|platelike|plate-like|linear|discoid|streaky|bibasilar|basilar)\b", re.I
)

#: NegEx-style triggers. Pre-negations govern what follows up to a terminator; post-negations what precedes.
PRE_NEGATION_RE = re.compile(
    r"\b(?:no evidence of|no radiographic evidence of|no signs? of|no definite|no visible|no|without|"
    r"negative for|free of|clear of|absence of|not)\b",
    re.I,
)
POST_NEGATION_RE = re.compile(
    r"\b(?:is|are)\s+(?:not\s+(?:seen|identified|present|visualized|demonstrated|"
    r"evident|appreciated)|absent)\b",
    re.I,
)
NEG_TERMINATOR_RE = re.compile(
    r"\b(?:but|however|although|though|except|with the exception of|which|"
    r"there is|there are)\b|[;:]",
    re.I,
)
#: Negations that speak about change, not presence ("no new", "no change") -- never flipped.
PSEUDO_NEGATION_RE = re.compile(
    r"\bno (?:new|interval|significant change|change|increase|further)\b|"
    r"\bnot (?:significantly|certain)\b",
    re.I,
)
LIST_SPLIT_RE = re.compile(r"\s*,\s*(?:and\s+|or\s+|nor\s+)?|\s+(?:and|or|nor)\s+", re.I)
#: A trailing verb phrase of a negated list ("... is seen"), kept when a member is removed.
LIST_TAIL_RE = re.compile(
    r"\s+(?:is|are|was|were)\b.*$|\s+(?:seen|identified|noted|present)\b.*$", re.I
)

#: True synonyms (both directions meaning the same to a radiologist); source: Fleischner glossary, RadLex
#: preferred/synonym pairs, and common report usage for device abbreviations.
SYNONYMS = (
    ("osseous structures", "bony structures"),
    ("bony structures", "osseous structures"),
    ("unremarkable", "normal"),
    ("within normal limits", "normal"),
    ("cardiomediastinal silhouette", "cardiomediastinal contours"),
    ("pulmonary vascularity", "pulmonary vasculature"),
    ("pulmonary vasculature", "pulmonary vascularity"),
    ("cardiomegaly", "enlargement of the cardiac silhouette"),
    ("pleural effusions", "pleural fluid collections"),
    ("costophrenic angles", "costophrenic sulci"),
    ("hyperinflated", "hyperexpanded"),
    ("hyperexpanded", "hyperinflated"),
    ("lymphadenopathy", "enlarged lymph nodes"),
    ("superior vena cava", "SVC"),
    ("SVC", "superior vena cava"),
    ("endotracheal tube", "ET tube"),
    ("nasogastric tube", "NG tube"),
    ("central venous catheter", "central line"),
    ("identified", "seen"),
    ("demonstrated", "seen"),
    ("noted", "seen"),
    ("no evidence of", "no"),
    ("there is no", "no"),
    ("heart size", "size of the heart"),
    ("airspace disease", "air space disease"),
)

#: Normal statements written in several equivalent ways (normal rephrasing): each tuple is one meaning.
NORMAL_FORMS = (
    (
        "The lungs are clear.",
        "Lungs are clear.",
        "The lungs are clear bilaterally.",
        "Clear lungs.",
    ),
    (
        "Heart size is normal.",
        "The heart is normal in size.",
        "Normal heart size.",
        "The heart is not enlarged.",
    ),
    (
        "The cardiomediastinal silhouette is normal.",
        "Normal cardiomediastinal silhouette.",
        "The cardiomediastinal silhouette is within normal limits.",
    ),
    (
        "No acute osseous abnormality.",
        "No acute bony abnormality.",
        "The osseous structures are intact.",
        "No acute osseous abnormality is seen.",
    ),
)
#: Ways of negating one finding (normal rephrasing of "No X."): {x} is the finding's words as written.
NEGATION_FORMS = ("No {x}.", "There is no {x}.", "No evidence of {x}.", "{X} is not seen.")


def all_terms() -> dict[str, list[str]]:
    """Every literal-ish term of the lexicon by group (for the overlap report)."""
    groups: dict[str, list[str]] = {}
    for f in FINDINGS.values():
        groups.setdefault("findings (major)" if f.major else "findings (minor)", []).extend(f.terms)
    for d in DEVICES.values():
        groups.setdefault("devices", []).extend(d.terms)
        groups.setdefault("device tip positions", []).extend(d.correct_tips + d.wrong_tips)
    groups["severity"] = list(SEVERITY)
    groups["temporal"] = list(TEMPORAL)
    groups["synonym pairs"] = [w for pair in SYNONYMS for w in pair]
    return groups
