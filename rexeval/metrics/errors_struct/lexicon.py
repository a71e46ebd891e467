"""Counter v2's own vocabulary: device types, the words that qualify a finding, and what is major.

Written from chest radiograph reporting conventions (device names and tip landmarks, the severity
ladder, change language); not shared with the stress suite's perturbation lexicon. Everything is
lower-case and compiled once. Each scanner is one alternation with a named group per type:
:data:`DEVICES` (device types), :data:`OTHER_FINDINGS` (named abnormalities outside the 13 conditions) and
:data:`QUALIFIERS` (sides, zones, grades, sizes, chronicity, change words, tip positions, malposition; the
smaller :data:`FINDING_QUALIFIERS` and :data:`CHANGE_WORDS` serve sentences that need less). Word screens
(``*_HINTS``) skip a scanner when none of its words is in the sentence; a finding reads the qualifier
tokens that fall in its stretch of the sentence.
"""

from __future__ import annotations

import re


def _w(pattern: str) -> str:
    return rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])"


def _any_of(words) -> re.Pattern:
    """A search for any of these literal strings, as a trie ("p(?:acer|acem|...)"): two to three times faster
    than testing each string in turn, where a flat alternation of the strings was no faster."""

    def trie(rest: list[str]) -> str:
        if "" in rest:  # a word ends here; longer ones go on
            longer = [w for w in rest if w]
            return f"(?:{trie(longer)})?" if longer else ""
        heads: dict[str, list[str]] = {}
        for w in rest:
            heads.setdefault(w[0], []).append(w[1:])
        alts = [re.escape(c) + trie(tails) for c, tails in heads.items()]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return re.compile(trie(sorted(set(words))))


def _scanner(groups: list[tuple[str, str]]) -> re.Pattern:
    """One alternation, earlier groups winning at the same start (longer phrases are listed first)."""
    # One word-start check for the whole alternation (not one per alternative): most positions fail it.
    body = "|".join(f"(?P<{name}>{p})" for name, p in groups)
    return re.compile(rf"(?<![a-z0-9])(?=[a-z0-9])(?:{body})(?![a-z0-9])")


_LINE = r"(?:lines?|catheters?|sheaths?|introducers?)"
# Places a line's tip may reach that share words with device names ("in the right IJ", "side port"): read as
# tip positions, never as devices (the scanner takes the leftmost phrase, so these win over "IJ" or "port").
_TO_THE = r"(?:in|into|within|at|to|toward|towards|up)\s+the\s+"
_VEIN_SIDE = r"(?:(?:right|left|proximal|distal|ipsilateral)\s+)?"
TIP_IJ = rf"{_TO_THE}{_VEIN_SIDE}(?:internal\s+jugular|ij|jugular)(?:\s+veins?)?|(?:internal\s+jugular|ij)\s+veins?"
TIP_PERIPHERAL = (rf"{_TO_THE}{_VEIN_SIDE}(?:subclavian|axillary|cephalic|basilic)\s+veins?"
                  rf"|{_TO_THE}{_VEIN_SIDE}(?:axilla|subclavian)")
TIP_CONTRALATERAL = (r"contralateral\s+(?:brachiocephalic|innominate|subclavian|internal\s+jugular|jugular|ij|"
                     r"axillary)(?:\s+veins?)?|(?:in|into)\s+the\s+contralateral\s+\w+")
SIDE_HOLE = r"side[\s-]?(?:ports?|holes?)|sideports?|sideholes?"
_CAVA = r"svc|superior\s+vena\s+cava|cavo-?atrial"  # where a venous catheter's tip belongs
# --- devices and hardware (type -> phrases); "xxxx" (IU de-identification) may stand between words ---
DEVICE_GROUPS: list[tuple[str, str]] = [
    ("place", "|".join((TIP_CONTRALATERAL, TIP_IJ, TIP_PERIPHERAL, SIDE_HOLE))),
    ("monitor", r"(?:ekg|ecg|telemetry|monitoring|(?:cardiac\s+)?monitor(?:ing)?)\s+(?:leads?|wires?|electrodes?|pads?)"
                r"|electrodes?|external\s+(?:[a-z]+\s+){0,2}leads?"),
    ("swan", r"swan[\s-]?ganz(?:\s+catheters?)?|pulmonary\s+artery\s+" + _LINE + r"|pa\s+" + _LINE),
    ("ett", r"endotracheal(?:\s+tubes?)?|et\s+tubes?|ett"),
    ("trach", r"tracheostomy(?:\s+(?:tubes?|cannula))?|trach(?:\s+tubes?)?"),
    ("enteric", r"(?:nasogastric|orogastric|feeding|enteric|nasoenteric|nasojejunal|gastric|gastrostomy|ng|og"
                r"|dobhoff|dobbhoff|dobhof|peg|g|j)[\s-]+tubes?|ngt|ogt|dobhoff|dobbhoff"
                r"|(?:nasogastric|orogastric|enteric)(?:\s+" + _LINE + r")?"),
    ("chest_tube", r"(?:chest|thoracostomy|pleural|pigtail|mediastinal|pericardial|drainage)\s+(?:drainage\s+)?"
                   r"(?:tubes?|drains?|catheters?)|pigtail(?:\s+catheters?)?|pleurx|drains?"),
    # a cardiac device whose name the de-identification hid: "cardiac XXXX with leads", "dual-XXXX XXXX",
    # leads that end in the right heart
    ("pacer", r"(?:dual|single)[\s-]+(?:chamber|lead|xxxx)\s+xxxx|cardiac\s+xxxx|leads?(?=\s+(?:[a-z]+\s+){0,2}?"
              r"(?:over\w*|in|into|within|at|terminat\w*|project\w*|to)\s+(?:the\s+)?right\s+(?:atri|ventric))"
              r"|(?:(?:dual|single|biventricular)[\s-]+(?:chamber|lead)\s+)?(?:pacemakers?|pacers?|pacing\s+"
              r"(?:device|wires?|leads?|generator)|(?:pacemaker|pacer|icd|aicd|transvenous|epicardial|"
              r"defibrillator)\s+(?:leads?|wires?|generators?|device)|a?icds?|defibrillators?|"
              r"(?:cardiac|pacing)\s+(?:leads?|device|generator)|pacing(?:\s+xxxx)+|(?:xxxx\s+)?generator(?:\s+pack)?)"),
    ("port", r"port-?a-?caths?|portacaths?|mediports?|(?:chest\s+wall|chest|power|infusion|subcutaneous|venous|"
             r"implanted|central)\s+(?:venous\s+)?ports?(?:\s+catheters?)?|ports?"),
    ("cvc", r"(?:(?:central|venous|picc|pic|subclavian|internal|jugular|ij|midline|dialysis|hemodialysis|"
            r"triple[\s-]lumen|double[\s-]lumen|tunnel+ed|permcath|quinton|vascath|brachiocephalic|"
            r"femoral)\s+)+" + _LINE + r"|piccs?|cvcs?|cvl|internal\s+jugular|ij|permcath|"
            r"central\s+venous\s+access"
            # a venous line whose name the de-identification hid (rules 2.5): "left subclavian XXXX line"
            r"|(?:(?:subclavian|jugular|ij|venous|central|picc|arm|chest|femoral|brachiocephalic|internal|"
            r"tunnel+ed|dialysis)\s+)+(?:xxxx\s+)+lines?"),
    ("stent", r"(?:(?:endovascular|aortic|coronary|tracheal|bronchial|esophageal|biliary|svc|vascular)\s+)?"
              r"(?:stents?|stent[\s-]grafts?|endografts?)"),
    ("sternotomy", r"(?:median\s+)?sternotomy(?:\s+(?:xxxx\s+)?(?:wires?|sutures?|changes?|clips?))?"
                   r"|sternal\s+(?:wires?|sutures?|cerclage)|(?:xxxx\s+)+(?:wires?|sutures?)"
                   r"|cabg|coronary\s+artery\s+bypass(?:\s+graft\w*)?"),
    ("valve", r"(?:prosthetic|mechanical|replacement|bioprosthetic|porcine|artificial)\s+(?:aortic\s+|mitral\s+|"
              r"tricuspid\s+|heart\s+|cardiac\s+)?valves?|(?:aortic|mitral|tricuspid)\s+valve\s+"
              r"(?:replacements?|prosthes[ei]s|repair)|valve\s+(?:replacements?|prosthes[ei]s)|avr|mvr|tavr|tavi"
              r"|annuloplasty(?:\s+ring)?"),
    ("clips", r"(?:(?:surgical|vascular|cholecystectomy|axillary|metallic|xxxx)\s+)*(?:clips?|staples?)"
              r"|suture\s+(?:material|lines?)"),
    ("ortho", r"(?:(?:orthopedic|orthopaedic|fixation|spinal|surgical|postsurgical|cervical|thoracic|lumbar|"
              r"fusion|xxxx)\s+)*(?:hardware|screws?|rods?|plates?(?!-?like))|(?:spinal|cervical|lumbar)\s+fusion"
              r"|arthroplast\w*|(?:shoulder|humeral|hip)\s+(?:prosthes[ei]s|replacement)|kyphoplast\w*"
              r"|vertebroplast\w*"),
    ("assist", r"(?:intra-?aortic\s+)?balloon\s+pump|iabp|impella|lvad|(?:left\s+)?ventricular\s+assist\s+device"
               r"|ecmo(?:\s+cannula\w*)?|loop\s+recorder|(?:embolization\s+)?coils"),
    ("tube", r"tubes?"),
    # "right chest XXXX with its tip in the SVC": a venous catheter or port whose name the de-identification hid
    ("catheter", _LINE.replace("(?:lines?|", "(?:") + r"|(?:lines?\s+and\s+tubes?|tubes?\s+and\s+lines?)"
                 rf"|chest(?:\s+wall)?\s+xxxx(?=(?:[\s,]+[a-z-]+){{0,9}}?\s+(?:{_CAVA}))"
                 # "a XXXX line with tip in the SVC" (rules 2.5): a line that ends in a central vein
                 rf"|(?:xxxx\s+)+lines?(?=(?:[\s,]+[a-z-]+){{0,6}}?\s+(?:{_CAVA}"
                 r"|atrio-?caval|right\s+atri|brachiocephalic|innominate))"),
    ("device", r"(?:support|medical|monitoring|cardiac|surgical)\s+devices?|devices?|hardware"),
]
DEVICES = _scanner(DEVICE_GROUPS)
#: A cheap screen: a sentence without any of these cannot name a device.
DEVICE_HINTS = (  # looked for in " " + sentence; a leading space marks a word start ("stent", not "consistent")
    "tube", "cath", " ett", " et ", "trach", " ng", "ngt", " og", "ogt", "drain", "pigtail", "pacer", "pacem", "pacing",
    "icd", "defib", "port", "picc", " pic ", "cvc", "cvl", " ij", "jugular", " stent", "graft", "stern", "wire",
    "suture", "cabg", "bypass", "valve", "avr", "mvr", "tavr", "tavi", "annulo", "clip", "staple", "hardware",
    "screw", " rod", "plate", " fusion", "arthroplast", "prosthe", "kypho", "vertebro", "balloon", "iabp", "impella",
    "lvad", "assist", "ecmo", "recorder", "coil", "device", "swan", "dobhoff", "dobbhoff", " peg", "generator",
    "electrode", "lead", "permcath", "quinton", "vascath", "sheath", "introducer", "pleurx", "cannula", " pa ",
    "ekg", "ecg", "telemetry", "pads", "central", "subclavian", "replacement", "monitoring", "electronic",
    "endotracheal", "gastric", "enteric", "venous", "dialysis", "tunnel", "lumen", "femoral", "brachiocephalic",
    "midline", "cardiac xxxx", "chest xxxx", "chest wall xxxx", "dual", "single", "monitor", "external",
    "xxxx line",
)
DEVICE_SCREEN = _any_of(DEVICE_HINTS)  # searched in " " + sentence

#: Device types whose presence or position is acted upon (lines, tubes, catheters, drains, pacers...).
MINOR_DEVICES = frozenset({"sternotomy", "clips", "ortho"})
IGNORED_DEVICES = frozenset({"monitor"})  # ECG leads are not a finding
PLACES = frozenset({"place"})  # tip positions and side holes matched by the device scanner: no device
#: A generic name pairs with an unmatched specific device of these types on the other side.
GENERIC_DEVICES = {
    "tube": frozenset({"ett", "trach", "enteric", "chest_tube"}),
    "catheter": frozenset({"cvc", "swan", "chest_tube", "port", "enteric"}),
    "device": frozenset({"pacer", "assist", "port", "stent", "valve", "ortho", "clips", "sternotomy", "cvc",
                         "ett", "trach", "enteric", "chest_tube", "swan"}),
}
DEVICE_NAMES = {
    "ett": "endotracheal tube", "trach": "tracheostomy tube", "enteric": "enteric tube", "cvc": "central line",
    "swan": "pulmonary artery catheter", "chest_tube": "chest tube", "pacer": "pacemaker/ICD", "port": "port",
    "stent": "stent", "sternotomy": "sternotomy wires", "clips": "surgical clips", "ortho": "orthopedic hardware",
    "valve": "prosthetic valve", "assist": "assist device", "tube": "tube", "catheter": "catheter",
    "device": "device",
}

# --- qualifier tokens ---------------------------------------------------------------------------
_NUM = r"\d+(?:\.\d+)?"
_UNIT = r"(?:mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)"
#: A comparison of sides, not of time: "right greater than left", "worse on the left".
_SIDE_CMP = r"\s+than\s+(?:the\s+|on\s+the\s+)?(?:right|left)|\s+(?:on|in)\s+the\s+(?:right|left)"
QUALIFIER_GROUPS: list[tuple[str, str]] = [
    # tip positions (before sides: "right atrium" is a place, not a side)
    ("tip_carina_dist", rf"{_NUM}\s*{_UNIT}\s+(?:above|superior\s+to|from|proximal\s+to)\s+(?:the\s+)?carina"),
    ("tip_cavoatrial", r"cavo-?atrial(?:\s+junction)?|atrio-?caval(?:\s+junction)?|junction\s+of\s+the\s+(?:svc|"
                       r"superior\s+vena\s+cava)\s+and\s+(?:the\s+)?right\s+atri\w+|(?:svc|superior\s+vena\s+cava)"
                       r"[\s/-]*(?:ra|right\s+atri\w+)\s+junction"),
    ("tip_ra", r"right\s+atri(?:um|al)|right\s+heart"),
    # central veins a line should not end in (a catheter too short, or turned up the neck / across)
    ("tip_contra", TIP_CONTRALATERAL), ("tip_ij", TIP_IJ), ("tip_periph", TIP_PERIPHERAL),
    ("tip_azygos", r"azygou?s(?:\s+(?:vein|arch))?"),
    ("tip_cs", r"coronary\s+sinus|(?:lateral\s+|posterior\s+)?(?:coronary|cardiac)\s+veins?"),
    ("tip_rv", r"right\s+ventric\w*"),
    # a heart chamber named without its side (rules 2.2): a position of its own, so "leads in the atrium and
    # ventricle" for "... the right atrium and right ventricle" is a different tip (a C), not the same one
    ("tip_heart", r"atri(?:um|a)|ventricles?"),
    ("tip_svc", r"superior\s+vena\s+cava|svc|superior\s+vena\s+cava"),
    ("tip_ivc", r"inferior\s+vena\s+cava|ivc"),
    ("tip_brachio", r"(?:left|right)\s+brachiocephalic(?:\s+vein)?|brachiocephalic\s+vein|innominate\s+vein"),
    # a Swan-Ganz belongs in the main or proximal pulmonary artery; distal or wedged is a malposition
    ("tip_pa_distal", r"(?:distal|peripheral|lobar|segmental|interlobar|descending)\s+(?:(?:right|left)\s+)?"
                      r"(?:pulmonary\s+arter(?:y|ies)|pa)|(?:(?:right|left)\s+)?(?:lower|upper|middle)\s+lobe\s+"
                      r"(?:pulmonary\s+arter(?:y|ies)|pa)|(?:right|left)\s+interlobar\s+(?:pulmonary\s+)?arter\w*"
                      r"|wedged?(?:\s+position)?"),
    ("tip_pa", r"(?:main|right|left|proximal)\s+pulmonary\s+arter(?:y|ies)|pulmonary\s+(?:arter(?:y|ies)|outflow\s+tract)"
               r"|(?:main|proximal)\s+pa"),
    # airway beyond the carina, lung and pleura (an enteric tube or endotracheal tube gone astray)
    ("tip_bronchus", r"(?:(?:right|left)\s+)?(?:lower|upper|middle)\s+lobe\s+bronch\w*|(?:segmental|lobar|"
                     r"subsegmental)\s+bronch\w*|(?:in|into|within)\s+(?:the\s+|a\s+)(?:\w+\s+)?(?:bronchus|"
                     r"bronchi|airway|tracheobronchial\s+tree)"),
    ("tip_lung", r"intraparenchymal|intrapulmonary|(?:in|into|within)\s+the\s+(?:(?:right|left)\s+)?lung\s+"
                 r"parenchyma|(?:into|within)\s+the\s+(?:(?:right|left)\s+)?lung"),
    ("tip_pleural", r"(?:in|into|within)\s+the\s+(?:(?:right|left)\s+)?pleural\s+(?:space|cavity)|intrapleural"),
    ("tip_fissure", r"(?:in|into|within)\s+the\s+(?:(?:right|left|major|minor|oblique|horizontal)\s+){0,2}"
                    r"fissure|intra-?fissural"),
    ("tip_subcut", r"subcutaneous(?:ly)?(?!\s+(?:emphysema|air|gas|ports?|tissue\s+emphysema|icd|defib))|outside\s+"
                   r"(?:of\s+)?the\s+(?:chest|thorax|thoracic\s+cavity|pleural\s+(?:space|cavity)|rib\s+cage|ribs)"
                   r"|extra-?thoracic|extra-?pleural|(?:within|in)\s+the\s+(?:lateral\s+)?chest\s+wall"
                   r"|lateral\s+to\s+the\s+ribs?"),
    # an intra-aortic balloon pump's tip: just below the aortic knob; above it, or in the abdomen, is wrong
    ("tip_arch", r"(?:above|superior\s+to)\s+(?:the\s+)?(?:level\s+of\s+(?:the\s+)?)?(?:aortic\s+)?(?:knob|arch)"
                 r"|(?:in|within|into)\s+the\s+(?:aortic\s+)?arch"),
    ("tip_knob", r"(?:at|near|below|beneath|inferior\s+to)\s+(?:the\s+)?(?:level\s+of\s+(?:the\s+)?)?"
                 r"(?:aortic\s+)?knob|aortic\s+knob|(?:proximal\s+|mid\s+)?descending\s+(?:thoracic\s+)?aorta"),
    ("tip_abd_aorta", r"abdominal\s+aorta|(?:at|below)\s+the\s+(?:level\s+of\s+the\s+)?renal\s+arter\w*"),
    ("tip_rmain", r"right\s+main-?\s*stem(?:\s+bronch\w*)?|right\s+main\s+bronch\w*|bronchus\s+intermedius"),
    ("tip_lmain", r"left\s+main-?\s*stem(?:\s+bronch\w*)?|left\s+main\s+bronch\w*"),
    ("tip_esophagus", r"(?:distal\s+|proximal\s+|mid\s+)?(?:o?esophag\w*)|(?:above|at)\s+the\s+(?:level\s+of\s+the\s+)?"
                      r"(?:ge|gastro-?esophageal|gastroesophageal)\s+junction"),
    ("tip_stomach", r"stomach|gastric\s+(?:body|fundus|antrum|lumen|bubble)|fundus|(?:below|beneath|under)\s+the\s+"
                    r"(?:left\s+)?(?:hemi-?)?diaphragm\w*|(?:beyond|past|below)\s+the\s+(?:ge|gastro-?esophageal)"
                    r"\s+junction"),
    ("tip_duodenum", r"duoden\w*|post-?pyloric|jejun\w*|pylor\w*"),
    # an endotracheal tube 3-7 cm above the carina is in place; at the carina, or up in the neck, it is not
    ("tip_carina", r"(?:at|near|to)\s+(?:the\s+)?(?:level\s+of\s+the\s+)?carina|(?:just|immediately|slightly|barely)"
                   r"\s+(?:above|superior\s+to)\s+(?:the\s+)?carina|abut\w*\s+(?:the\s+)?carina|"
                   r"(?:below|beyond)\s+(?:the\s+)?carina"),
    ("tip_high", r"(?:above|at|near|to)\s+(?:the\s+)?(?:level\s+of\s+(?:the\s+)?)?thoracic\s+inlet|thoracic\s+inlet"
                 r"|(?:above|superior\s+to)\s+(?:the\s+)?(?:level\s+of\s+(?:the\s+)?)?(?:medial\s+)?clavic\w*"
                 r"(?:\s+heads?)?|(?:hypo|oro|naso)?pharyn\w*|laryn\w*|vocal\s+cords?|glottis|subglottic"),
    ("tip_trachea", r"(?:mid-?\s*|distal\s+|proximal\s+)?trachea|clavicular\s+heads"
                    r"|(?:above|superior\s+to)\s+the\s+carina"),
    ("tip_neck", r"(?:in|into)\s+the\s+(?:neck|axilla)"),
    # sizes (a measurement; "1.5 x 2.0 cm" uses the largest dimension)
    ("size", rf"{_NUM}(?:\s*{_UNIT})?(?:\s*(?:x|by|×)\s*{_NUM}(?:\s*{_UNIT})?){{0,2}}\s*{_UNIT}"),
    # lobes named by abbreviation carry a side and a zone
    ("lobe_rul", r"rul|right\s+upper\s+lobe"), ("lobe_rml", r"rml|right\s+middle\s+lobe|middle\s+lobe"),
    ("lobe_rll", r"rll|right\s+lower\s+lobe"), ("lobe_lul", r"lul|left\s+upper\s+lobe"),
    ("lobe_lll", r"lll|left\s+lower\s+lobe"), ("lobe_ling", r"lingula\w*"),
    ("bibase", r"bibasilar|bibasal|bibasally|bibasilarly"), ("biapex", r"biapical|biapically"),
    ("retrocardiac", r"retrocardiac"),
    ("left", r"left|left-sided|leftward|lt\.?"), ("right", r"right|right-sided|rightward|rt\.?"),
    # "both" of two findings just named ("a moderate and a small effusion, both increased") is no side (rules 2.5)
    ("both", r"bilateral|bilaterally|b/l|both(?!\s+(?:of\s+(?:which|them|these|those)|are|were|is|have|has|had"
             r"|appear\w*|seem\w*|remain\w*|increas\w*|decreas\w*|improv\w*|worsen\w*|unchanged|stable|new|now"
             r"|persist\w*|resolv\w*|measur\w*|larger|smaller|similar)(?![a-z]))"),
    ("upper", r"upper|apex|apices|apical|apically"), ("middle", r"middle|mid|midlung|mid-lung|perihilar"),
    ("lower", r"lower|base|bases|basal|basilar|basally|infrahilar|costophrenic"),
    # severity ladder (ranges first)
    ("g25", r"(?:small|mild|minimal|trace)\s*(?:to|-|or)\s*moderate(?:ly)?(?:[\s-]sized)?"),
    ("g35", r"moderate\s*(?:to|-|or)\s*(?:large|severe|marked|extensive)"),
    ("g15", r"(?:minimal|trace|tiny)\s*(?:to|-|or)\s*(?:small|mild)"),
    ("g1", r"minimal|minimally|trace|tiny|minute|trivial|subtle|slight|slightly|very\s+small|faint"),
    ("g2", r"small|mild|mildly|minor|little|small-sized"),
    ("g3", r"moderate|moderately|moderate-sized|moderate\s+sized|medium|medium-sized"
           r"|significantly(?=\s+enlarged)|significant(?=\s+(?:cardiomegaly|enlargement))"),
    ("g4", r"large|large-sized|severe|severely|marked|markedly|extensive|massive|huge|substantial|sizable|sizeable"
           r"|prominent\s+amount|complete|completely|total|tension|whiteout|white-out"),
    # chronicity, collapse
    ("chronic", r"chronic|chronically|old|healed|healing|remote|calcified|calcific|degenerative|sequela\w*|"
                r"long-?standing|post-?surgical|post-?operative|prior\s+(?:surgery|trauma)"),
    ("scar", r"scar|scars|scarring|scarred|granulomatous"),
    ("collapse", r"collapse|collapsed|lobar"),
    # change language ("no new" first: "no new effusion" says nothing about the effusion's presence)
    ("nonew", r"no\s+(?:definite\s+|significant\s+|acute\s+|other\s+|interval\s+)?new|without\s+(?:any\s+)?new"),
    ("resolved", r"(?:interval\s+)?clearing\s+of|resolved|resolution|has\s+cleared|have\s+cleared|cleared|no\s+longer\s+(?:seen|visible|present|"
                 r"identified|evident|visualized|demonstrated)|no\s+longer|removed|removal|withdrawn|discontinued"
                 r"|disappear\w*|interval\s+removal"),
    ("stable", r"unchanged|stable|stably|persist\w*|similar|again\s+(?:seen|noted|demonstrated|visualized|"
               r"identified)|redemonstrat\w*|re-demonstrat\w*|remain(?:s|ed|ing)?|no\s+(?:significant\s+|"
               r"appreciable\s+|substantial\s+|definite\s+|interval\s+)*(?:change|changes|increase|worsening|"
               r"progression|decrease|improvement|enlargement)|without\s+(?:significant\s+|interval\s+)?change"
               r"|not\s+(?:significantly\s+)?changed|no\s+interval\s+change|grossly\s+unchanged|constant"),
    ("new", r"new|newly|interval\s+(?:development|appearance)|(?:has|have)\s+developed|developing|development"
            r"|appearance\s+of|now\s+(?:seen|present|noted|visible|demonstrated)|(?:has|have)\s+appeared|"
            r"new-onset|recently\s+(?:placed|inserted)|interval\s+placement|(?:has|have)\s+been\s+(?:placed|inserted)"),
    ("better", rf"decreas\w*|improv\w*|smaller(?!{_SIDE_CMP})|diminish\w*|reduc\w*|regress\w*|resolving"
               r"|partially\s+resolved|near(?:ly)?[\s-]+(?:complete\s+)?resol\w*|clearing|lessened"
               rf"|less(?!\s+likely|{_SIDE_CMP})"),
    ("worse", rf"increas\w*|worsen\w*|(?:worse|larger|greater|more|bigger)(?!\s+likely|{_SIDE_CMP})|progress\w*"
              r"|enlarging|expanding|expanded|advancing|extending|spread\w*|accumulat\w*|grown|growing"
              ),
    # malposition of a device
    ("malpos", r"malposition\w*|mal-?positioned|coiled|coiling|kinked|kinking|looped|looping|folded|"
               r"(?:needs|need|requires|require|recommend\w*|suggest\w*|consider)\s+(?:\w+\s+){0,2}?"
               r"(?:reposition\w*|withdraw\w*|retract\w*|advanc\w*|pull\w*\s+back)|should\s+be\s+(?:withdrawn|"
               r"retracted|advanced|repositioned|pulled\s+back)|too\s+(?:low|high|deep|proximal|distal|far)|"
               r"aberrant\w*|extravascular|extra-?vascular|not\s+in\s+(?:the\s+)?(?:expected|standard|appropriate|"
               r"satisfactory|good)|suboptimal(?:ly)?\s+position\w*|(?:inadvertent|inadvertently)|misplac\w*|"
               r"displaced|dislodged|migrated|retracted\s+into|perforat\w*|twiddler\w*|discontinu\w*|disconnect\w*"
               r"|fractur\w*"),
]
QUALIFIERS = _scanner(QUALIFIER_GROUPS)
#: Without the device-only groups (tip positions, malposition), for sentences that name no device; the
#: heart chambers and mainstem bronchi stay, so that "right atrial" is never read as a side.
_DEVICE_ONLY = {g for g, _ in QUALIFIER_GROUPS if g.startswith("tip_") or g == "malpos"} - {
    "tip_ra", "tip_rv", "tip_rmain", "tip_lmain"}
FINDING_QUALIFIERS = _scanner([g for g in QUALIFIER_GROUPS if g[0] not in _DEVICE_ONLY])
#: Change language only: enough for a sentence whose findings are all negated (most sentences).
TEMPORAL_GROUPS = ("nonew", "resolved", "stable", "new", "better", "worse")
CHANGE_WORDS = _scanner([g for g in QUALIFIER_GROUPS if g[0] in TEMPORAL_GROUPS])

GRADES = {"g1": 1.0, "g15": 1.5, "g2": 2.0, "g25": 2.5, "g3": 3.0, "g35": 3.5, "g4": 4.0}
SIDE_TOKENS = {"left": ("left",), "right": ("right",), "both": ("left", "right"), "bibase": ("left", "right"),
               "biapex": ("left", "right"), "lobe_rul": ("right",), "lobe_rml": ("right",),
               "lobe_rll": ("right",), "lobe_lul": ("left",), "lobe_lll": ("left",), "lobe_ling": ("left",)}
ZONE_TOKENS = {"upper": ("upper",), "middle": ("middle",), "lower": ("lower",), "bibase": ("lower",),
               "biapex": ("upper",), "lobe_rul": ("upper",), "lobe_rml": ("middle",), "lobe_rll": ("lower",),
               "lobe_lul": ("upper",), "lobe_lll": ("lower",), "lobe_ling": ("middle",),
               "retrocardiac": ("lower", "retrocardiac")}
TEMPORAL_TOKENS = {"nonew": "stable", "stable": "stable", "new": "new", "worse": "worse", "better": "better",
                   "resolved": "resolved"}
CHANGES = frozenset({"new", "worse", "better", "resolved"})

_CVC_WRONG = frozenset({"tip_ra", "tip_rv", "tip_heart", "tip_ivc", "tip_neck", "tip_ij", "tip_periph", "tip_contra", "tip_azygos",
                        "tip_pa", "tip_pa_distal"})
_AIRWAY_LOW = frozenset({"tip_rmain", "tip_lmain", "tip_carina", "tip_bronchus"})
#: Tip positions that are a malposition for a device type, from where each device belongs: a central line or
#: PICC in the SVC or at the cavoatrial junction (not the heart, IVC, neck veins, arm veins, the other side's
#: brachiocephalic vein or the azygos); an endotracheal tube in the trachea 3-7 cm above the carina (not at the
#: carina, in a bronchus, up in the neck or in the esophagus; the distance rule is in compare.py); an enteric
#: tube in the stomach or beyond (not the esophagus or a side port above the GE junction, not the airway, lung
#: or pleura); a Swan-Ganz in the main or proximal pulmonary artery (not distal or wedged, not the ventricle);
#: a chest tube in the pleural space (not a fissure, the lung or the chest wall, no side hole outside the
#: chest); an intra-aortic balloon pump just below the aortic knob (not the arch, not the abdominal aorta).
MALPOSITIONS = {
    "cvc": _CVC_WRONG,
    "port": _CVC_WRONG,
    "ett": _AIRWAY_LOW | {"tip_esophagus", "tip_stomach", "tip_high", "tip_neck", "tip_lung"},
    "enteric": _AIRWAY_LOW | {"tip_esophagus", "tip_trachea", "tip_lung", "tip_pleural", "tip_high", "tip_neck"},
    "trach": _AIRWAY_LOW | {"tip_esophagus"},
    "swan": frozenset({"tip_pa_distal", "tip_rv"}),
    "chest_tube": frozenset({"tip_fissure", "tip_subcut", "tip_lung"}),
    "assist": frozenset({"tip_arch", "tip_abd_aorta", "tip_stomach"}),
}
#: An endotracheal tube's tip this far above the carina (millimetres) is in place.
ETT_CARINA_MM = (30.0, 70.0)
#: Two stated distances above the carina this far apart (millimetres) are two positions.
CARINA_DIFF_MM = 20.0

# --- findings outside the 13 conditions (the labeler's "Other" mentions, named by their words) -------
OTHER_GROUPS: list[tuple[str, str]] = [
    ("Granuloma", r"(?:calcified\s+)?granuloma\w*"),
    ("Emphysema", r"emphysema\w*|copd|chronic\s+obstructive\s+pulmonary\s+disease|bullae|bullous|bulla|blebs?"),
    ("Hyperinflation", r"hyperinflat\w*|hyperexpan\w*|hyperaerat\w*|over-?inflat\w*|overexpan\w*"),
    ("Scoliosis", r"(?:dextro|levo|thoraco|rotary\s+)?scolio\w*|kyphos\w*|kyphotic|kyphoscolio\w*"
                  r"|(?:\w+\s+)?curvature\s+of\s+the\s+(?:\w+\s+)?spine"),
    ("Adenopathy", r"(?:lymph)?adenopath\w*|(?:enlarged|prominent)\s+(?:\w+\s+)?(?:lymph\s+)?nodes"),
    ("Degenerative", r"degenerat\w*|spondylos\w*|osteophyt\w*|arthropathy|arthritic\s+changes?|osteoarthritis"
                     r"|arthritis"),
    ("Hernia", r"hernia\w*"),
    ("Pneumoperitoneum", r"pneumoperitoneum|free\s+(?:intraperitoneal\s+|subdiaphragmatic\s+)?air"),
    ("Pneumomediastinum", r"pneumomediastinum"),
    ("Fibrosis", r"fibrosis|fibrotic"),
    ("Bronchiectasis", r"bronchiectasis|bronchiectatic"),
    # a vertebral compression fracture, named by its shape ("XXXX" hides "compression"); only in a sentence
    # about the spine (SPINE below), not a pectus or rib deformity
    ("Fracture", r"(?:(?:compression|wedge|wedge-shaped|wedging|xxxx)\s+)+deformit(?:y|ies)|(?:anterior\s+)?wedging"
                 r"|(?:vertebral\s+(?:body\s+)?)?compression(?:\s+deformit(?:y|ies))?|loss\s+of\s+(?:vertebral\s+"
                 r"(?:body\s+)?)?height|height\s+loss"),
    # phrenic palsy, subpulmonic fluid, volume loss or a mass below: a finding, with its side
    ("Elevated Hemidiaphragm", r"(?:elevat\w*|eventrat\w*|raised|high)\s+(?:of\s+)?(?:the\s+)?(?:(?:right|left)\s+)?"
                               r"(?:hemi-?)?diaphragms?|(?:hemi-?)?diaphragms?\s+(?:elevation|eventration"
                               r"|(?:is|are|remains?|appears?|seems?)\s+(?:\w+\s+){0,2}(?:elevated|raised|high))"),
]
#: Findings added in rules 2.4 for their side, scanned before the others (so that "subcutaneous emphysema" is not
#: read as the lung's) and only past their own word screen (SIDED_SCREEN).
SIDED_GROUPS: list[tuple[str, str]] = [
    # air in the soft tissues (an air leak: a chest tube, a pneumothorax, surgery), not the lung's emphysema;
    # a finding with its side (rules 2.4)
    ("Subcutaneous Emphysema", r"(?:subcutaneous|soft[\s-]tissue|chest\s+wall)\s+(?:emphysema|air|gas)"),
    # a rib, clavicle, scapula or humerus deformity not called old is a fracture of unknown age, with its side
    # (rules 2.4; an old one is not read, OLD_DEFORMITY; a vertebra's is the spine's "fracture" group)
    ("bone_deformity", r"(?:ribs?|clavicles?|clavicular|scapula[er]?|scapular|humeral|humerus)\s+(?:contour\s+)?"
                       r"deformit(?:y|ies)|deformit(?:y|ies)\s+(?:of|involving)\s+(?:the\s+)?(?:[a-z0-9-]+\s+){0,5}?"
                       r"(?:ribs?|clavicles?|scapula|humerus)"),
]
#: Findings added after the reward-check probes (rules 2.1), scanned only when a sentence has both a word of
#: what they are about (EXTRA_SUBJECTS) and a word of what is wrong with it (EXTRA_CHANGES): most sentences
#: name a vessel, a hilum or a bone to call it normal.
EXTRA_GROUPS: list[tuple[str, str]] = [
    # pulmonary arterial hypertension's sign, and enlarged hila (adenopathy or vessels): findings with a work-up
    ("Pulmonary Artery Enlargement", r"(?:prominen\w*|enlarge\w*|dilat\w*|distended|fullness)\s+(?:of\s+)?(?:the\s+)?"
                                     r"(?:(?:main|central|right|left|bilateral|proximal)\s+)*pulmonary\s+arter(?:y|ies)"
                                     r"|pulmonary\s+arter(?:y|ies)\s+(?:(?:is|are|appears?|remains?|seems?)\s+)?"
                                     r"(?:[a-z]+\s+){0,2}?(?:prominent|enlarged|dilated|distended)"
                                     r"|pulmonary\s+(?:arterial\s+)?hypertension"),
    ("Hilar Enlargement", r"(?:prominen\w*|enlarge\w*|fullness|full|bulky|bulkiness)\s+(?:of\s+)?(?:the\s+|both\s+)?"
                          r"(?:(?:right|left|bilateral)\s+)?(?:hila|hilum|hili|hilar\s+(?:contours?|regions?|shadows?))"
                          r"|(?:hila|hilum|hilar\s+(?:contours?|regions?|shadows?))\s+(?:(?:is|are|appears?|appear|remains?"
                          r"|remain)\s+)?(?:[a-z]+\s+){0,2}?(?:prominent|enlarged|full|bulky)|hilar\s+(?:prominence|"
                          r"fullness|enlargement)"),
    # a lytic or sclerotic bone lesion (metastasis, myeloma): a finding with a work-up, outside the lung
    ("Bone Lesion", r"(?:(?:sclerotic|lytic|blastic|osteolytic|osteoblastic|osteosclerotic|expansile|destructive|bony"
                    r"|bone|osseous|skeletal)\s+(?:or\s+[a-z]+\s+)?)+(?:lesions?|foci|focus|metastas[ie]s)"
                    r"|(?:osseous|skeletal|bone|bony)\s+metastatic\s+disease"),
    # a widened right paratracheal stripe: adenopathy or a mass until shown otherwise (rules 2.2)
    ("Paratracheal Widening", r"(?:prominen\w*|widen\w*|thicken\w*)\s+(?:of\s+)?(?:the\s+)?(?:(?:right|left)\s+)?"
                              r"paratracheal\s+(?:stripe|soft\s+tissues?)|paratracheal\s+(?:stripe|soft\s+tissues?)\s+"
                              r"(?:(?:is|are|appears?|remains?)\s+)?(?:[a-z]+\s+)?(?:widened|thickened|prominent)"),
    # a breast mass seen on the chest film is worked up (mammography); outside the lung, with its side (rules 2.2)
    ("Breast Mass", r"breast\s+(?:masses|mass|lesions?|nodules?|neoplasm|carcinoma|cancer|tumou?r)"),
    # read as the labeler reads their neighbours ("peribronchial thickening": an opacity; "vascular congestion":
    # possible edema, CheXpert's convention), under these kinds (OTHER_KIND_OF)
    ("bronchial", r"bronch(?:ial|ovascular)\s+(?:wall\s+)?(?:thickening|cuffing)|bronchitis|bronchiolitis"),
    ("vascular", r"(?:prominen\w*|engorge\w*|congest\w*|cephaliz\w*|redistribut\w*|increased)\s+(?:of\s+)?(?:the\s+)?"
                 r"(?:(?:central|pulmonary|venous|interstitial)\s+){0,2}(?:vascularity|vasculature|vessels|vascular"
                 r"\s+markings)|(?:pulmonary\s+)?venous\s+(?:engorgement|congestion|distension|hypertension)"
                 r"|(?:vascularity|vasculature)\s+(?:is|are|appears?|remains?)\s+(?:[a-z]+\s+)?(?:prominent|engorged"
                 r"|congested|increased|cephalized)"),
]
#: Named abnormalities outside the 13 conditions (the group name is the finding kind).
OTHER_FINDINGS = re.compile("|".join(f"(?P<{k.lower().replace(' ', '_')}>{_w(p)})" for k, p in OTHER_GROUPS))
SIDED_FINDINGS = re.compile("|".join(f"(?P<{k.lower().replace(' ', '_')}>{_w(p)})" for k, p in SIDED_GROUPS))
SIDED_HINTS = ("deformit", "subcutaneous", "tissue air", "tissue gas", "tissue emph", "wall air", "wall gas", "wall emph")
SIDED_SCREEN = _any_of(SIDED_HINTS)
EXTRA_FINDINGS = re.compile("|".join(f"(?P<{k.lower().replace(' ', '_')}>{_w(p)})" for k, p in EXTRA_GROUPS))
#: Groups named after the words they read, and the finding kind each stands for.
OTHER_KIND_OF = {"bronchial": "Lung Opacity", "vascular": "Edema", "bone_deformity": "Fracture"}
OTHER_KINDS = {k.lower().replace(" ", "_"): OTHER_KIND_OF.get(k, k) for k, _ in OTHER_GROUPS + EXTRA_GROUPS
               + SIDED_GROUPS}
#: Read as possible, not definite (CheXpert's convention for vascular congestion, which the labeler follows).
OTHER_POSSIBLE = frozenset({"vascular"})
OTHER_HINTS = ("curvature", "adenopath", "nodes", "granulom", "emphysem", "copd", "obstructive", "bull", "bleb", "hyper", "infla", "expan", "scolio",
               "kypho", "degenerat", "spondylo", "osteophyt", "arthr", "hernia", "pneumoperitoneum", "free",
               "pneumomediastinum", "fibro", "bronchiecta", "elevat", "eventrat", "raised", "high", "deformit", "wedg", "compression", "height")
OTHER_SCREEN = _any_of(OTHER_HINTS)
EXTRA_SUBJECTS = ("arter", "hypertension", "hila", "hilu", "hili", "bronch", "vascula", "vessels", "venous", "lesion",
                  "foci", "focus", "metasta", "breast", "paratracheal")
EXTRA_CHANGES = ("prominen", "enlarg", "dilat", "distend", "full", "bulk", "hypertension", "thicken", "cuff",
                 "bronchit", "bronchiol", "engorg", "congest", "cephaliz", "redistribut", "increased", "venous",
                 "sclero", "lytic", "blastic", "expansile", "destructive", "metasta", "bone", "bony", "osseous",
                 "skeletal", "widen", "mass", "lesion", "nodule", "neoplasm", "carcinoma", "cancer", "tumor", "tumour")
EXTRA_SUBJECT_SCREEN = _any_of(EXTRA_SUBJECTS)
EXTRA_CHANGE_SCREEN = _any_of(EXTRA_CHANGES)
#: A density the labeler does not read ("increasing density", "round density", "soft tissue density in the
#: right apex"), read only in a sentence that places it in the lung and gives it no benign explanation (an
#: overlying or superimposed structure, a shadow, a calcified granuloma, a hernia, a bone): a rounded or
#: mass-like one is a lesion, any other an opacity (rules 2.4).
LUNG_DENSITY = re.compile(_w(r"(?P<lesion>(?:round|rounded|oval|ovoid|mass|mass-?like|soft[\s-]tissue)\s+(?:focal\s+)?"
                             r"(?:area\s+of\s+)?densit(?:y|ies))|(?P<opacity>densit(?:y|ies))"))
DENSITY_IN_LUNG = re.compile(_w(r"lungs?|lobes?|apex|apices|apical|bases?|basilar|midlung|mid-lung|lingula\w*|perihilar"
                                r"|suprahilar|infrahilar|hilar|hemithorax|rul|rml|rll|lul|lll"))
DENSITY_EXPLAINED = re.compile(r"overl[aiy]\w*|superimpos\w*|shadow\w*|artifact\w*|nipple|breast|hernia|granulom\w*"
                               r"|calci\w*|fractur\w*|(?<![a-z])(?:ribs?|bon[ey]\w*|osseous|scapula\w*|clavic\w*|skin"
                               r"|external|vascula\w*|vessels?|fat|piercings?|summation|projecting|projected)(?![a-z])")
#: A side in a place named after a finding, past the 50 characters of its own qualifiers ("4 cm opacity with
#: one XXXX margin and the other ill-defined in the lateral lower left lung"; rules 2.4): the finding's side.
FAR_SIDE = re.compile(r"(?<![a-z])(?:in|within|at|of|involving)\s+the\s+(?:[a-z-]+\s+){0,3}?(?P<side>left|right)"
                      r"\s+(?:[a-z-]+\s+){0,2}?(?:lung|lobe|hemithorax|apex|base|midlung|mid-lung|lung\s+base)s?(?![a-z])")
#: Findings of the lung and pleura, which a far side may place (a heart or a device is placed otherwise).
FAR_SIDE_KINDS = frozenset({"Lung Opacity", "Lung Lesion", "Consolidation", "Pneumonia", "Atelectasis",
                            "Pleural Effusion", "Pneumothorax", "Edema"})
#: A bone deformity called healed or old (rules 2.4: read as no fracture, not as an old one, whose side the C
#: rule would count as any major finding's).
OLD_DEFORMITY = re.compile(_w(r"old|healed|remote|chronic\w*|sequela\w*|long-?standing|prior\s+(?:trauma|injur\w*)"))
#: A sentence about the spine, where a shape word names a vertebral compression fracture.
SPINE = re.compile(_w(r"vertebra\w*|spine|spinal|thoracic|lumbar|[tl]\d{1,2}(?:-[tl]?\d{1,2})?"))

#: Findings that are never significant by themselves (spec: "minor").
MINOR_KINDS = frozenset({"Pleural Other", "Degenerative", "Granuloma"})
#: Findings that fill both lungs by nature: "bilateral" omitted says nothing the reader does not assume.
DIFFUSE_KINDS = frozenset({"Edema", "Emphysema", "Hyperinflation", "Fibrosis", "Pulmonary Artery Enlargement"})
#: Findings whose grade decides what is done (watched when small, drained when larger): an omitted small
#: grade is an error too.
SIZE_DECIDES = frozenset({"Pleural Effusion", "Pneumothorax"})

#: A statement about the chest (for the empty-report rule), beyond any finding or device.
NORMAL_STATEMENT = re.compile(_w(
    r"normal|clear|unremarkable|no\s+acute|within\s+normal\s+limits|negative|intact|stable|unchanged|wnl"
    r"|no\s+(?:active|acute)\s+(?:disease|process|abnormalit\w*)"
))
#: An observation about the chest that names no finding ("low lung volumes", "the heart is enlarged" is a
#: finding already): a sentence of three or more words with one of these is a statement (empty-report rule).
CHEST_WORDS = re.compile(_w(
    r"lungs?|volumes?|heart|cardiac|cardiomediastinal|mediastin\w*|hil(?:a|um|ar)|pleura\w*|(?:hemi)?diaphragm\w*"
    r"|osseous|bony|bones?|spine|ribs?|thora\w*|chest|trachea|aort\w*|soft\s+tissues?|costophrenic|vascula\w*"
    r"|inspiration|expiratory|aerat\w*|lucen\w*|densit\w*|markings|silhouette"
))
WORD = re.compile(r"[a-wyz][a-z]*|x(?!xxx)[a-z]*")  # a word, "xxxx" (de-identification) not counted
