"""Curated radiology vocabulary for the rule-based labeler (our own lists).

Each condition has regular expressions over lower-cased, whitespace-collapsed text, grouped by the
status a bare match asserts: ``positive`` (the finding is named: "cardiomegaly", "enlarged heart"),
``uncertain`` (a sign CheXpert treats as equivocal: "vascular congestion", "blunted costophrenic
angle", "borderline heart size"), ``negative`` (a normal descriptor: "heart size is
normal", "sharp costophrenic angles"). Negation and uncertainty cues around a match then modify it
(rules.py). ``exclude`` lists phrases whose matches are not mentions of the condition ("pericardial
effusion" is not a pleural effusion). Patterns use ``\\b`` and explicit misspelling alternatives.

Descriptor patterns pair an organ with an adjective inside one clause; ``GAP`` keeps them within a few
words and never across a clause boundary.
"""

from __future__ import annotations

#: Up to 6 intervening words (no sentence/clause punctuation).
GAP = r"(?:[^\s.;:]+\s+){0,6}?"
GAP3 = r"(?:[^\s.;:]+\s+){0,3}?"
GAP3_NO_COMMA = r"(?:[^\s.;:,]+\s+){0,3}?"

# Organ phrases for the descriptor patterns.
HEART = (
    r"(?:heart(?:\s+size)?|cardiac\s+(?:size|silhouette|contours?|shadow|diameter|borders?|dimensions)"
    r"|cardiac\s+silhouette\s+size|size\s+of\s+the\s+(?:heart|cardiac\s+silhouette)|heart\s+shadow|cardiac)"
)
MEDIASTINUM = (
    r"(?:cardio-?mediastinal(?:\s+(?:silhouettes?|contours?|structures|shadow|outlines?|configuration|width|size))?"
    r"|mediastinal\s+(?:silhouettes?|contours?|structures|shadow|width|configuration|outlines?|size)"
    r"|mediastinum|mediastinal\s+and\s+hilar\s+contours?|hilar\s+and\s+mediastinal\s+contours?"
    r"|heart\s+and\s+mediastinum|cardiac\s+and\s+mediastinal\s+(?:contours?|silhouettes?))"
)
NORMAL = r"(?:normal(?:\s+in\s+size)?|unremarkable|within\s+normal\s+limits?|wnl|upper\s+limits?\s+of\s+normal|top\s+normal|top-normal|upper\s+normal)"
ENLARGED = r"(?:enlarg\w*|large|increased(?:\s+in\s+size)?|widen\w*|wide|massive|dilated)"
BORDERLINE = r"(?:borderline|prominent|prominence|mildly\s+prominent)"
STABLE = r"(?:stable|unchanged|not\s+changed|similar\s+to\s+(?:the\s+)?prior)"

# Where a device's tip ends: a vessel, a heart chamber, the carina, the stomach ("superior XXXX" is the
# de-identified superior vena cava).
_DEVICE_END = (
    r"(?:svc|superior\s+(?:vena|xxxx)|cavo-?atrial|caval|atri(?:um|al)|ventric\w*|brachiocephalic|subclavian"
    r"|innominate|jugular|carina|stomach|duoden\w*|gastric)"
)

VOCAB: dict[str, dict[str, list[str]]] = {
    "Enlarged Cardiomediastinum": {
        "positive": [
            r"enlarged\s+cardio-?mediastin\w*",
            r"(?:widen(?:ed|ing)|enlarge(?:d|ment))\s+(?:of\s+)?(?:the\s+)?(?:superior\s+)?mediastin\w*",
            r"(?:superior\s+)?mediastinal\s+(?:widening|enlargement|prominence|mass)",
            r"cardio-?mediastinal\s+enlargement",
            rf"{MEDIASTINUM}\s+{GAP}(?:is\s+|are\s+|appears?\s+|remains?\s+)?{ENLARGED}",
            # not across a comma: "heart enlarged for technique, stable mediastinal contours"
            rf"{ENLARGED}\s+{GAP3_NO_COMMA}{MEDIASTINUM}",
            # ... and its thickening or widening is a widened mediastinal contour
            r"paratracheal\s+(?:stripe\s+)?(?:thickening|widening)"
            r"|(?:thicken\w*|widen\w*)\s+(?:of\s+)?(?:the\s+)?(?:right\s+)?paratracheal\s+(?:stripe|soft\s+tissues?)",
        ],
        "uncertain": [
            # "silhouette with borderline cardiomegaly": the adjective is the heart's
            rf"{MEDIASTINUM}\s+{GAP}{BORDERLINE}(?!\s+(?:heart|cardiac|cardiomeg))",
            rf"{BORDERLINE}\s+{GAP3}{MEDIASTINUM}",
            # the right paratracheal stripe is a mediastinal contour: its prominence or fullness is equivocal
            r"paratracheal\s+(?:stripe\s+)?(?:prominence|fullness)"
            r"|(?:prominen\w*|full(?:ness)?)\s+(?:of\s+)?(?:the\s+)?(?:right\s+)?paratracheal\s+(?:stripe|soft\s+tissues?)",
            # not "stable/unchanged cardiomediastinal silhouette": CheXpert's uncertain label for it is
            # counted as an enlargement by rules_f1; it states no size (docs/conditions.md)
        ],
        "negative": [
            rf"{MEDIASTINUM}\s+{GAP}{NORMAL}",
            rf"{NORMAL}\s+{GAP3}{MEDIASTINUM}",
        ],
        "exclude": [r"pneumomediastinum"],
    },
    "Cardiomegaly": {
        "positive": [
            r"cardiomeg\w*|cardiomgea\w*|cardiamegaly|cardiomegly",
            r"enlarged\s+(?:heart|cardiac\s+silhouette)|cardiac\s+enlargement|enlargement\s+of\s+the\s+(?:heart|cardiac\s+silhouette)",
            rf"{HEART}\s+{GAP}{ENLARGED}",
            rf"{ENLARGED}\s+{GAP3}{HEART}",
        ],
        "uncertain": [
            rf"{HEART}\s+{GAP}{BORDERLINE}",
            rf"{BORDERLINE}\s+{GAP3}{HEART}",
            # not "stable heart size": like the stable cardiomediastinal silhouette, it states no size
        ],
        "negative": [
            rf"{HEART}\s+{GAP}{NORMAL}",
            rf"{NORMAL}\s+{GAP3}{HEART}",
        ],
        "exclude": [r"cardiac\s+(?:monitor\w*|leads?|pacer|pacemaker|device|valve|surgery|catheter)"],
    },
    "Lung Opacity": {
        "positive": [
            r"opaci\w*",
            r"air[\s-]?space\s+(?:disease|process|opacit\w*|filling)",
            r"infiltrat\w*",
            r"(?:increased|focal|patchy|hazy|ill-defined|airspace|parenchymal|retrocardiac|basilar|basal|lung|pulmonary|interstitial)\s+densit(?:y|ies)",
            r"ground[\s-]?glass",
            r"haziness",
            r"reticula(?:r|tion)\w*",
            r"interstitial\s+(?:(?:lung\s+)?markings?|opacit\w*|pattern|prominence|thickening|lung\s+disease|disease|changes?)",
            # increased lung markings are an interstitial opacity (crowded markings of low volumes are not matched)
            r"(?:increased|increase\s+in)\s+(?:the\s+)?(?:(?:lung|pulmonary|perihilar|basilar|bibasilar|interstitial|bronchovascular|reticular)\s+){1,2}markings?",
            r"prominen\w*\s+(?:of\s+)?(?:the\s+)?(?:pulmonary\s+)?interstiti(?:um|al\s+tissues?)",
            r"(?:parenchymal|lung|pulmonary|linear|apical|basilar|bibasilar|biapical)\s+scar\w*",
            r"scar(?:ring|s)?",
            r"peribronchial\s+(?:thickening|cuffing|opacit\w*)",
            r"bronchial\s+wall\s+thickening",
        ],
        "uncertain": [],
        # "lungs are clear airspace disease": "clear of" with its "of" dropped
        "negative": [r"clear\s+(?:focal\s+|acute\s+)?air[\s-]?space\s+(?:disease|opacit\w*|process)"],
        "exclude": [
            r"pleural(?:-|\s+)(?:parenchymal\s+)?scar\w*",
            r"pleuro-?parenchymal\s+scar\w*",
            r"scar\w*\s+(?:from|of|after)\s+(?:prior\s+)?(?:surgery|sternotomy|thoracotomy)",
        ],
    },
    "Lung Lesion": {
        "positive": [
            # "nodular" alone ("nodular infiltrate", "nodular interstitial pattern") is no lesion;
            # CheXpert's phrases name nodular opacities and densities
            r"nodules?|nodularity|micronodul\w*",
            r"nodular\s+(?:opacit\w*|densit\w*|opacification|lesions?|mass\w*|foc(?:us|i)|shadows?)",
            r"(?:pulmonary|lung|hilar|perihilar|apical|lobe|spiculated|cavitary|large|small|rounded|round)\s+mass(?:es)?",
            r"mass(?:es)?\s+(?:in|within|at)\s+the\s+(?:\w+\s+){0,3}?(?:lung|lobe|apex|hilum|base)",
            r"mass(?:es|like)?",
            r"lesions?",
            r"tumou?rs?",
            r"neoplas\w*",
            r"malignan\w*",
            r"carcinoma\w*|cancer\w*",
            r"metasta\w*",
            r"cavit(?:y|ies|ation|ary\s+lesion)",
        ],
        "uncertain": [],
        "negative": [],
        "exclude": [
            r"mass\s+effect",
            r"(?:lytic|sclerotic|blastic|bone|bony|osseous|skin|cutaneous|soft\s+tissue|breast|liver|hepatic|renal|adrenal|rib)\s+(?:lesions?|mass(?:es)?|nodul\w*|metasta\w*)",
            r"body\s+mass",
            r"(?:osseous|bone|bony|skeletal|rib)\s+metasta\w*",
            # a lesion or metastasis sited in a bone ("expansile lesion of the right 9th rib")
            r"(?:lesions?|metasta\w*(?:\s+disease)?)\s+(?:of|in|to|within|involving)\s+(?:the\s+)?(?:[^\s.;:,]+\s+){0,3}?"
            r"(?:ribs?|bones?|clavicles?|scapula\w*|humer\w*|vertebra\w*|spine|sternum|skeleton)",
            r"osteo\w*\s+lesions?",
            # a nodular density the report explains as a granuloma or a nipple shadow is not a lesion
            # (calcified granulomas: the calcified-nodule rule below)
            r"nodular\s+(?:opacit\w*|densit\w*)\s+(?:[^.;:]+\s+)?(?:consistent\s+with|compatible\s+with|represent\w*"
            r"|(?:is\s+|are\s+)?(?:most\s+)?(?:likely|probably)|from|due\s+to|xxxx)\s+(?:a\s+|an\s+|the\s+)?"
            r"(?:\w+\s+){0,2}?(?:granulom\w*|nipples?(?:\s+shadows?)?)",
            r"calcific\s+nodular\s+(?:opacit\w*|densit\w*)",
            r"nipple\s+shadows?",
            # a calcified nodule is a healed granuloma: CheXpert's labeler leaves "calcified nodule" unlabelled
            r"(?<!non-)calcified\s+(?:[^\s.;:]+\s+){0,2}?(?:nodul\w*|lesions?)",
            # a disclaimer, not a finding: "overlapping bone could obscure a small pulmonary nodule"
            r"(?:could|may|might|can|would)\s+(?:potentially\s+)?(?:obscure|mask|hide|conceal)\s+(?:a\s+|an\s+|any\s+)?"
            r"(?:[^\s.;:,]+\s+){0,3}?(?:nodul\w*|mass(?:es)?|lesions?)",
        ],
    },
    "Edema": {
        "positive": [
            r"o?edema\w*|oedema|edemia",
            r"chf|congestive\s+heart\s+failure|heart\s+failure|cardiac\s+failure",
            r"fluid\s+overload|volume\s+overload",
        ],
        "uncertain": [
            r"(?:pulmonary\s+)?(?:vascular|venous)\s+congestion|pulmonary\s+congestion|congestion",
            r"(?:pulmonary\s+)?vascular\s+(?:prominence|engorgement|indistinctness|redistribution)",
            r"indistinct(?:ness)?\s+(?:pulmonary\s+)?vascula\w*|indistinctness",
            r"cephalization",
            # CheXpert's "vascular prominence" said the other way round ("prominence of the central pulmonary
            # vasculature", "pulmonary vascularity is prominent"); prominent pulmonary *arteries* are not matched
            r"prominen\w*\s+(?:of\s+)?(?:the\s+)?(?:central\s+)?(?:pulmonary\s+)?(?:vasculature|vascularity|vessels)",
            r"(?:pulmonary\s+)?(?:vasculature|vascularity)\s+(?:is\s+|are\s+|appears?\s+|remains?\s+)?(?:mildly\s+|slightly\s+)?prominent",
            # pulmonary venous hypertension is the first stage of cardiogenic congestion (not arterial
            # hypertension); engorged vessels and increased vascularity name the same sign
            r"(?:pulmonary\s+)?venous\s+hypertension",
            r"(?:pulmonary|lung)\s+(?:vessels|vasculature|vascularity|xxxx)\s+(?:is\s+|are\s+)?(?:engorged|congested)",
            r"increased\s+(?:pulmonary|lung)\s+vascularity",
        ],
        "negative": [
            r"(?:pulmonary\s+)?(?:vascular|venous)\s+(?:engorgement|congestion|prominence)\s+"
            r"(?:[^\s.;:]+\s+){0,3}?(?:normal|within\s+(?:\w+\s+)?limits)",
        ],
        "exclude": [
            r"(?:soft\s+tissue|subcutaneous|chest\s+wall|extremity|leg|pedal|facial|periorbital|scrotal|cerebral)\s+edema",
            r"edema\s+of\s+the\s+(?:soft\s+tissues?|chest\s+wall)",
        ],
    },
    "Consolidation": {
        "positive": [r"consolidat\w*|consolodat\w*|consolidaton"],
        "uncertain": [],
        "negative": [],
        "exclude": [],
    },
    "Pneumonia": {
        "positive": [
            r"p?n(?:eu|ue)moni(?:a|ae|as)|pnemonia|bronchopneumonia|pna",
            r"infections?|infectious(?:\s+process)?|infected",
        ],
        "uncertain": [],
        "negative": [],
        "exclude": [r"(?:urinary|urinary\s+tract|uti|wound|skin|line|catheter)\s+infection\w*",
                    # healed granulomatous disease, not a pneumonia
                    r"(?:granulomatous|old|prior|previous|remote|healed|histoplasm\w*)\s+(?:[^\s.;:]+\s+)?infection\w*"],
    },
    "Atelectasis": {
        "positive": [
            r"atel[a-z]*",
            r"(?:lobar|lobe|lung|segmental|subsegmental|left\s+lower\s+lobe|right\s+lower\s+lobe|right\s+upper\s+lobe|left\s+upper\s+lobe|right\s+middle\s+lobe|middle\s+lobe)\s+collapse",
            r"collapse\s+of\s+(?:the\s+|a\s+)?(?:\w+\s+){0,5}?(?:lobe|lung)",
            r"collapsed\s+(?:\w+\s+){0,2}?(?:lobe|lung)",
        ],
        "uncertain": [],
        "negative": [],
        "exclude": [],
    },
    "Pneumothorax": {
        "positive": [
            r"(?:hydro)?p?n(?:eu|ue)mothora(?:x|ces|xes)|pneumothorx|pnuemothorax|ptx",
            r"pleural\s+air",
        ],
        "uncertain": [],
        "negative": [],
        "exclude": [],
    },
    "Pleural Effusion": {
        "positive": [
            r"(?:pleural\s+)?eff?uss?ions?|efusions?",
            r"pleural\s+fluid|fluid\s+in\s+the\s+(?:\w+\s+){0,2}?pleural\s+space|hydrothorax|hydropneumothorax|hemothorax|haemothorax|empyema",
            r"layering\s+fluid",
        ],
        # "costophrenic XXXX" is the de-identified "costophrenic angle(s)"
        "uncertain": [
            r"blunt\w*\s+(?:of\s+)?(?:the\s+)?(?:\w+\s+){0,2}?costophrenic\s+(?:angles?|sulc\w*|recess\w*|xxxx)",
            r"costophrenic\s+(?:angles?|sulc\w*|recess\w*|xxxx)\s+(?:\w+\s+){0,3}?blunt\w*",
            r"(?:angles?|sulc\w*)\s+blunting",
        ],
        "negative": [
            r"costophrenic\s+(?:angles?|sulc\w*|recess\w*|xxxx)\s+(?:are\s+|is\s+|remain\s+)?(?:sharp\w*|clear|normal|preserved|well[\s-]defined)",
            r"(?:sharp|clear|normal|preserved)\s+costophrenic\s+(?:angles?|sulc\w*|recess\w*|xxxx)",
        ],
        "exclude": [
            r"(?:pericardial|joint|knee|shoulder|middle\s+ear|subpulmonic\s+pericardial)\s+e?ff?uss?ions?",
        ],
    },
    "Pleural Other": {
        "positive": [
            r"pleural\s+(?:thickening|scar\w*|plaques?|calcification\w*|fibrosis|reaction|based\s+(?:opacity|density))",
            r"pleural(?:-|\s+)parenchymal\s+(?:scar\w*|thickening|changes?)",
            r"pleuro-?parenchymal\s+(?:scar\w*|thickening|changes?)",
            r"pleuro-?pericardial\s+scar\w*",
            r"fibrothorax",
            r"(?:bi)?apical\s+(?:[^\s.;:]+\s+)?(?:pleural\s+)?(?:cap|capping|thickening)",
            # the fissures are pleura: a thickened fissure is pleural thickening
            r"fissur(?:al|e)\s+thickening|thicken\w*\s+(?:of\s+)?(?:the\s+)?(?:[^\s.;:]+\s+)?fissures?",
            r"calcified\s+pleura\w*",
            r"pleural\s+(?:tumou?r|mass|disease|abnormalit\w*)|mesothelioma",
        ],
        "uncertain": [],
        "negative": [],
        "exclude": [],
    },
    "Fracture": {
        "positive": [r"fractur\w*|frature\w*|fx|fxs|broken\s+ribs?"],
        "uncertain": [],
        "negative": [],
        # the disclaimer "fractures may not be demonstrated" names no fracture
        "exclude": [
            r"fractures?\s+(?:may|might|can|could|will)\s+not\s+be\s+(?:demonstrated|seen|visible|detected|apparent|evident)",
            # a broken device is no bone fracture ("catheter fracture", "the screw is fractured")
            r"(?:catheter|line|lead|wire|screw|plate|rod|hardware)s?\s+(?:(?:is|are|was|were|has|have|had)\s+(?:been\s+)?)?fractur\w*",
            r"fractured\s+(?:[^\s.;:,]+\s+){0,3}?(?:catheters?|lines?|leads?|wires?|screws?|plates?|rods?|hardware)",
            # a work-up condition or indication, no finding: "if there is concern for fracture, ...",
            # "limited exam for evaluation of fractures"
            r"if\s+(?:there\s+is\s+)?(?:continued\s+|persistent\s+|further\s+)?(?:clinical\s+)?(?:concern|suspicion)\s+"
            r"(?:for|of)\s+(?:a\s+)?(?:[^\s.;:,]+\s+)?fractures?",
            r"(?:evaluation|assessment)\s+(?:of|for)\s+(?:a\s+|possible\s+)?(?:rib\s+)?fractures?",
        ],
    },
    "Support Devices": {
        "positive": [
            r"(?:endotracheal|et|ng|og|nasogastric|orogastric|feeding|dobhoff|dobhof|chest|thoracostomy|tracheostomy|trach|gastric|enteric|nasoenteric|drainage|mediastinal|pleural)\s+tubes?",
            r"tubes?\s+and\s+lines|lines?\s+and\s+tubes?|support\s+(?:lines?|devices?|tubes?)|monitoring\s+(?:lines?|leads?|devices?)",
            r"tubes?",
            r"ett|ngt",
            r"(?:central|central\s+venous|venous|picc|pic|arterial|swan[\s-]?ganz|pulmonary\s+artery|pa|dialysis|hemodialysis|subclavian|jugular|ij|internal\s+jugular|midline|port)\s+(?:lines?|catheters?)",
            r"picc|cvc|cvl|swan[\s-]?ganz",
            r"catheters?",
            r"pacemakers?|pacers?|pacing\s+(?:wires?|leads?)|(?:pacemaker|pacer|icd|aicd|transvenous|epicardial|cardiac)\s+(?:leads?|wires?|generators?)",
            r"a?icds?|defibrillators?|defib",
            r"port-?a-?cath\w*|porta-?cath\w*|mediports?|(?:chest|power|infusion|subcutaneous|venous)\s+ports?",
            r"drains?|pigtail\w*",
            r"stents?",
            r"(?:prosthetic|mechanical|replacement)\s+(?:aortic\s+|mitral\s+)?valves?|valve\s+(?:replacement|prosthes\w*)|(?:aortic|mitral)\s+valve\s+replacement",
            r"(?:orthopedic|orthopaedic|fixation|spinal|surgical)\s+hardware|hardware|screws?|arthroplast\w*|(?:fixation|surgical|metallic)\s+plates?",
            r"(?:intra-?aortic\s+)?balloon\s+pump|iabp|impella|lvad|ventricular\s+assist\s+device|ecmo|cannula\w*",
            r"(?:ekg|ecg|telemetry)\s+(?:leads?|electrodes?|wires?)",
            r"(?:embolization\s+)?coils?",
            r"devices?",
            # wires: sternotomy/cerclage/pacing wires (fixation hardware; surgical clips are not devices,
            # see docs/conditions.md); "sternotomy XXXX" is the de-identified "sternotomy wires"
            r"wires?|(?:sternotomy|sternal)\s+(?:xxxx|sutures?|cerclage)",
            r"(?:pulse\s+)?generators?|\w*stimulators?",
            r"leads|(?:pacemaker|pacer|pacing|icd|aicd|defibrillator|transvenous|epicardial|cardiac|monitor(?:ing)?|ekg|ecg|telemetry|external)\s+(?:[^\s.;:]+\s+){0,2}?lead",
            r"prosthe\w*",
            r"(?:internal|external|surgical|screw|plate|rod)\s+fixation|fixation\s+(?:devices?|rods?|xxxx)",
            r"(?:harrington|spinal|fusion|stabilization|fixation|paraspinal)\s+rods?|(?:bone|suture)\s+anchors?",
            r"(?:vp|ventriculoperitoneal|ventriculoatrial|ventriculopleural|peritoneal|tips|dialysis)\s+shunt\w*|shunt\s+(?:tubing|catheters?|tubes?)|tubing",
            r"(?:bypass|graft|cabg)\s+markers?",
            # a tip that ends in a vessel, a heart chamber, the trachea or the stomach is a device's tip,
            # whatever the de-identification left of its name ("right chest XXXX tip in the SVC")
            rf"tips?(?=\s+(?:[^\s.;:]+\s+){{0,5}}?{_DEVICE_END})",
            # "cardiac XXXX generator", "left chest XXXX overlies ...": a de-identified device name
            # placed by a device context word
            r"(?:cardiac|chest|subclavian|infraclavicular)\s+xxxx(?=\s+(?:generator|device|tip|with\s+(?:leads|tip|its)"
            r"|over(?:lies|lying)|projects?|terminat\w*|in\s+place|in\s+(?:good|satisfactory|stable|unchanged)\s+position))",
            rf"(?:chest|subclavian|jugular|infraclavicular)\s+xxxx(?=\s+(?:[^\s.;:]+\s+){{0,3}}?{_DEVICE_END})",
            r"xxxx-a-xxxx",  # the de-identified Port-A-Cath
        ],
        "uncertain": [],
        "negative": [],
        "exclude": [
            r"tubercul\w*",
            r"(?:eustachian|fallopian|neural)\s+tubes?",
            r"plate-?like|platelike",
            r"(?:coil|coiled|coiling)\s+(?:of|in)\s+the\s+(?:\w+\s+)?(?:tube|catheter)",
            r"breast\s+(?:implants?|prosthes\w*)|leads?\s+to|lead\s+(?:poisoning|apron)",
        ],
    },
}

#: Findings outside the 13 conditions: a positive or uncertain one means the report is not
#: "No Finding" (the CheXpert labeler's rule; our own list of such findings).
OTHER_FINDINGS: list[str] = [
    r"emphysema\w*",
    r"hyperinflat\w*|hyperexpan\w*|hyperaerat\w*|over-?inflat\w*|overexpan\w*",
    # the opposite state, low lung volumes, is as much a finding (crowded markings, atelectasis risk)
    r"(?:low|decreased|reduced|diminished|small)\s+lung\s+volumes?|lung\s+volumes?\s+(?:are\s+|is\s+|remain\s+)?(?:\w+\s+)?"
    r"(?:low|decreased|reduced|diminished)|hypoinflat\w*|hypoventilat\w*|hypoexpan\w*|underinflat\w*",
    r"\w*scolio\w*|kyphos\w*|kyphotic",
    r"degenerat\w*|spondylos\w*|osteophyt\w*|arthropathy|arthritic\s+changes?|arthritis",
    r"calcifi\w*",
    r"granuloma\w*",
    r"hernia\w*",
    r"copd|chronic\s+obstructive\s+pulmonary\s+disease",
    r"plaques?",
    r"osteopeni\w*|osteoporo\w*|demineraliz\w*",
    r"tortu\w*|spurr\w*|spurs",
    r"atherosclero\w*|aortic\s+(?:ectasia|aneurysm|dilat\w*|disease)|ectatic\s+aorta",
    r"elevat(?:ed|ion)\s+(?:of\s+)?(?:the\s+)?(?:\w+\s+)?(?:hemi)?diaphragm\w*|(?:hemi)?diaphragm\w*\s+(?:is\s+|are\s+)?elevat\w*|eventration",
    r"bronchiectasis|bronchitis|bronchiolitis|airways?\s+disease|asthma|bronchospasm",
    r"fibrosis|fibrotic",
    r"thickening",
    r"cephalization|cuffing",
    r"pneumomediastinum|pneumoperitoneum|free\s+air",
    r"bullae|bullous|bulla|blebs?",
    r"contusion\w*|hematoma\w*|hemorrhage\w*|haemorrhage\w*",
    r"aspiration",
    r"inflam\w*",
    r"volume\s+loss",
    r"deformit\w*",
    r"metasta\w*",
    r"hypertension",
    r"lucenc\w*",
    r"densit(?:y|ies)",
    r"blunt\w*",
    r"bullet\w*|shrapnel|radiopaque\s+foreign\s+bod\w*|foreign\s+bod\w*",
    # from the CheXpert labeler's No Finding list (phrases/mention/no_finding.txt): "prominen", "elevation",
    # "osteodystrophy", "thoracentesis", "aerophagia", "radiopaque" (its "fissure" is normal anatomy and
    # "tracheostomy"/"defib" are devices, which No Finding ignores: not taken); a nipple shadow is no finding
    r"prominen\w*(?!\s+(?:of\s+(?:the\s+)?)?nipples?)",
    r"elevation",
    r"osteodystroph\w*|thoracentesis|aerophagia|radiopaque",
    # abnormalities named outright: lymph node enlargement, a curved spine (scoliosis by another name),
    # skeletal hyperostosis, an aortic dissection or dilatation, a chest wall deformity
    r"(?:lymph)?adenopath\w*|enlarged\s+(?:[^\s.;:]+\s+)?(?:lymph\s+)?nodes?",
    # ("normal curvature of the spine" is not one)
    r"(?:dextro|levo)[\s-]?curvature|(?<!normal\s)(?<!physiologic\s)(?:curvature\s+of\s+the\s+(?:[^\s.;:]+\s+){0,2}?spine"
    r"|(?:thoracic\s+|lumbar\s+)?spin\w*\s+curvature)",
    r"dish|(?:skeletal\s+)?hyperostosis",
    r"dissection",
    r"(?:dilated|enlarged|aneurysmal)\s+(?:thoracic\s+|ascending\s+|descending\s+)?aort\w*",
    r"pectus\s+(?:excavatum|carinatum)",
]
