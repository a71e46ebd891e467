"""Counter v2's reading of a report: a set of findings with presence, side, zone, grade, size, temporal
status, chronicity and, for devices, tip position and malposition (docs/errors.md, "Counting rules").

Conditions come from the rule labeler's mentions (its presence rules: negation lists, hedges, "no new X",
"X has resolved"); devices, and every qualifier, from this counter's own lexicon (lexicon.py). A finding
reads the qualifier tokens of its own stretch of the sentence (from the previous finding to the next one);
change language goes to the nearest finding of its sentence ("no new" to the finding after it), or to
the report as a whole when the sentence names none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from rexeval.backends.labelers.rules import clause_mentions, split_clauses, status_of
from rexeval.metrics.errors_struct import lexicon as lx

POS, NEG, UNC = "positive", "negative", "uncertain"
GLOBAL = "*"  # the report as a whole (a change statement that names no finding)
_SIZE_NUM = re.compile(r"\d+(?:\.\d+)?")
_CM = re.compile(r"cm|centimet")
_HEDGE_ONLY_OR = frozenset({"or", "and/or"})  # "effusion or pneumothorax" is two statements, not a hedge
_HEDGE = re.compile(
    r"(?<![a-z])(?:may|might|could|possibl\w*|probabl\w*|likely|suspect\w*|suspicio\w*|concern\w*|question\w*"
    r"|consider\w*|suggest\w*|differential|versus|vs|equivocal|indeterminate|cannot|excluded|ruled\s+out"
    r"|compatible|represent\w*|favou?r\w*|presum\w*|\?)(?![a-z])"
)
_CALCIFIED = re.compile(r"calcifi\w*\s+(?:[\w-]+\s+){0,3}$")
_STABLE_WORDS = re.compile(r"stable|unchanged|not\s+changed|similar")
# "opacity to suggest pneumonia cannot be excluded": a hedge after the words that follow a finding (the
# labeler reaches two words; the finding it leaves definite is hedged as well)
_NOT_EXCLUDED = (r"\s+(?:cannot|can\s+not|can't|could\s+not|not)\s+(?:be\s+)?"
                 r"(?:entirely\s+|completely\s+|definitely\s+)?(?:excluded|ruled\s+out)")
_POST_HEDGE = re.compile(r"(?:\s+[a-z]+){0,6}?" + _NOT_EXCLUDED)
# "Left PICC terminates in the left internal jugular vein cannot be excluded": a device's presence hedged after
# its words, as a finding's is (rules 2.5), reaching further (its statement carries its tip's position);
# "catheter tip ... cannot be excluded" hedges only its position
_DEVICE_POST_HEDGE = re.compile(r"(?:[\s,]+[a-z-]+){0,10}?" + _NOT_EXCLUDED)
_TIP_NAMED = re.compile(r"(?:'s)?\s+(?:tips?|terminus)(?![a-z])")
_TIP_OF = re.compile(r"(?:tips?|terminus)\s+of\s+(?:the\s+|a\s+)?(?:[a-z-]+\s+){0,3}$")
# characters after a finding where its side may still be written ("effusion on the left", "nodule has
# developed in the posterior segment of the left lower lobe")
_AFTER_SIDE = 50
_AFTER_GRADE = 25
_LEADING_HEDGE = re.compile(r"(?:questionabl[ey]|possibl[ey]|probabl[ey]|suspected|likely|perhaps|equivocal(?:ly)?)\b")
_JOINED = re.compile(r"\s(?:and|with|or)\s")  # another thing named after the finding
_OF_UNKNOWN_AGE = re.compile(r"age[\s-]+indeterminate|indeterminate\s+age|(?:uncertain|indeterminate)\s+"
                             r"(?:age|acuity|chronicity)")
# "9 mm right lower lobe nodule, not seen on prior exams": not a negation, a new finding (the labeler reads
# "not seen" after a mention as one)
_NOT_ON_PRIOR = re.compile(r"[\s,]+(?:which\s+(?:was|is)\s+|and\s+)?not\s+(?:seen|present|visible|identified|evident"
                           r"|demonstrated|visualized)\s+(?:on|in)\s+(?:the\s+|any\s+)?(?:prior|previous|earlier|old)")
# more than one side said without a side word: a diffuse or interstitial process, effusions in the plural
_SPREAD = re.compile(r"(?<![a-z])(?:diffuse\w*|widespread|multifocal|scattered|interstitial|both\s+lungs)(?![a-z])")
_PAIRED_PLURAL = re.compile(r"effusions|pneumothoraces")
# Vascular congestion said plainly ("there is pulmonary vascular congestion"): CheXpert files it as uncertain
# edema, its writer states it (rules 2.3); prominent or indistinct vessels stay the equivocal signs they are
_CONGESTION = re.compile(r"congest|engorg|cephaliz|venous\s+hypertension|redistribut")
_AFTER_SIZE = 60  # "nodule in the right upper lobe measuring approximately 7 mm"
_BEFORE_FINDING = 30  # a change word this close before a finding qualifies it
_NOT_BEFORE = re.compile(r"(?<![a-z])(?:no|not|without)\s+(?:[a-z]+\s+){0,3}$")  # "no evidence of kinking"
# Words that may stand between a pacemaker and "fracture" when the fracture is its lead's ("pacemaker lead
# appears fractured", "fracture of the pacemaker lead"): then the fracture is a malposition, not a bone's.
_LEAD_GAP = re.compile(r"^[a-z]*[\s,;]*(?:(?:leads?|wires?|electrodes?|with|a|an|the|is|are|appears?|seems?|to|be"
                       r"|possible|possibly|probable|probably|likely|suspected|of|its|there|which|has|have|been|no"
                       r"|evidence|right|left|ventricular|atrial|rv|ra|lv|pacing|pacer|pacemaker|icd|defibrillator"
                       r")[\s,;]+)*$")


# an interpretation of the finding before it ("consolidation consistent with pneumonia", "opacity which may
# represent atelectasis"): the same finding, at its site (rules 2.4)
_INTERPRETS = re.compile(r"[\s,]*(?:(?:which|that)\s+)?(?:(?:is|are|may|might|could|most|more|likely|probably|possibly"
                         r"|be)\s+)*(?:consistent\s+with|compatible\s+with|suggestive\s+of|suggesting|suggests?"
                         r"|concerning\s+for|suspicious\s+for|worrisome\s+for|representing|represents?|reflecting"
                         r"|reflects?|likely|probably|possibly)(?:\s+(?:an?|the|early|developing|acute|possible"
                         r"|probable|underlying|superimposed))*\s*$")


_LOBE_WORD = re.compile(r"\s+lobes?(?![a-z])")
_DISPLACED = re.compile(r"[\s-]+(?:displaced|angulated|depressed|comminuted|offset)")


class Finding(NamedTuple):
    """One statement about a finding in one sentence (a named tuple: built for every mention, so cheap)."""

    kind: str  # condition, named abnormality, or "dev:<type>"
    presence: str | None  # positive / uncertain / negative, or None ("no new X": nothing said about X)
    sides: tuple = ()  # sorted names; tuples of strings, so that the garbage collector can untrack cached findings
    zones: tuple = ()
    grade: float | None = None
    size: float | None = None  # millimetres, the largest dimension
    chronic: bool = False
    collapse: bool = False
    tips: tuple = ()
    malpos: bool = False
    scar: bool = False  # an opacity called scarring: not the same finding as a consolidation
    spread: bool = False  # "diffuse", "interstitial", "effusions": more than one side without naming sides
    stated: bool = False  # uncertain only by the labeler's convention, stated without a hedge (rules 2.3)
    # upper or lower lobes named with a side ("left upper lobe", "both lower lobes") and without one ("the upper
    # lobe"), by zone (rules 2.4: a lobe's side lost beside another lobe's)
    sided_lobes: tuple = ()
    bare_lobes: tuple = ()
    # (side, grade, size) per side this statement grades or measures, "" for no side (rules 2.5: which side has
    # the larger effusion or nodule); empty when it gives no grade or size, or both sides one grade
    graded: tuple = ()


@dataclass
class Summary:
    """Every statement of a report about one finding kind, merged (positive beats uncertain beats negative)."""

    kind: str
    presence: str | None = None
    sides: set = field(default_factory=set)
    zones: set = field(default_factory=set)
    grade: float | None = None
    size: float | None = None
    chronic: bool = False
    collapse: bool = False
    tips: set = field(default_factory=set)
    malpos: bool = False
    scar: bool = False
    temporal: set = field(default_factory=set)
    # Per statement, not merged: a definite statement neither minimal nor chronic (a finding is significant
    # when ANY of its statements is: "minimal left basilar opacity" does not make a "1 cm opacity" minor),
    # and a statement with one side ("right" and "left" in two statements are two unilateral sides)
    firm: bool = False
    unilateral: bool = False
    # a hedged statement neither minimal nor chronic: a possibility the reader acts on (docs/errors.md,
    # amendments after the reward-check probes: its omission, or a hedge of what the other report rules out)
    doubt: bool = False
    bilateral: bool = False  # a statement naming both sides ("bilateral", "bibasilar")
    spread: bool = False
    # frozen and shared while empty (most findings): two more sets per finding cost the garbage collector
    sided_lobes: frozenset = frozenset()
    bare_lobes: frozenset = frozenset()
    graded: frozenset = frozenset()  # every statement's Finding.graded (rules 2.5)
    # (sides, zones) per statement, not merged (rules 2.3: a site of its own): every present statement's
    # (spots), and the sited ones that count (sites: firm or doubt, as above), so that a second opacity at
    # another site is not lost in the merged sides and zones
    spots: set = field(default_factory=set)
    sites: set = field(default_factory=set)

    @property
    def present(self) -> bool:
        return self.presence in (POS, UNC)

    @property
    def device(self) -> bool:
        return self.kind.startswith("dev:")

    def add(self, f: Finding) -> None:
        rank = {POS: 3, UNC: 2, NEG: 1, None: 0}
        if rank[f.presence] > rank[self.presence]:
            self.presence = f.presence
        if f.presence in (POS, UNC):
            self.sides.update(f.sides)
            self.zones.update(f.zones)
            self.tips.update(f.tips)
            if f.grade is not None:
                self.grade = max(self.grade or 0.0, f.grade)
            if f.size is not None:
                self.size = max(self.size or 0.0, f.size)
            self.chronic |= f.chronic
            self.collapse |= f.collapse
            self.malpos |= f.malpos
            self.scar |= f.scar
            self.unilateral |= len(f.sides) == 1
            self.bilateral |= len(f.sides) == 2
            self.spread |= f.spread
            if f.sided_lobes or f.bare_lobes:
                self.sided_lobes = self.sided_lobes.union(f.sided_lobes)
                self.bare_lobes = self.bare_lobes.union(f.bare_lobes)
            if f.graded:
                self.graded = self.graded.union(f.graded)
            self.spots.add((f.sides, f.zones))
            # a device is there or not: no grade, and "old" or "post-surgical" beside it makes it no less there
            if self.device or not f.chronic and (f.grade is None or f.grade > 1.0):
                if f.presence == POS or f.stated:
                    self.firm = True
                else:
                    self.doubt = True
                if (f.sides or f.zones) and not self.device:
                    self.sites.add((f.sides, f.zones))


def _size_mm(text: str) -> float:
    return max(float(x) for x in _SIZE_NUM.findall(text)) * (10.0 if _CM.search(text) else 1.0)


def _presence(status: str, cue: str | None, kind: str, text: str, before: str = "", low: str = "") -> str | None:
    if status == UNC:
        if cue is None and kind in ("Cardiomegaly", "Enlarged Cardiomediastinum") and _STABLE_WORDS.search(text):
            return None  # "heart size is stable": a stability statement, not a finding
        if cue is not None:
            c = cue.strip()
            if c in _HEDGE_ONLY_OR and not _HEDGE.search(before):
                return POS
            if c.startswith("no new") or c.startswith("without new"):
                return None
            if c in ("indeterminate", "uncertain") and _OF_UNKNOWN_AGE.search(low):
                return POS  # "age-indeterminate wedging": its age is unknown, not its presence
    return status


def _mention(low: str, clauses: list, m: re.Match, kind: str) -> tuple[int, int, str, str | None]:
    """A finding this counter names itself (device, named abnormality), with the labeler's presence rules
    applied to its clause."""
    a, b = next(((a, b) for a, b in clauses if a <= m.start() < b), (0, len(low)))
    status, cue = status_of(POS, low[a : m.start()], m.group(0), low[m.end() : b])
    return m.start(), m.end(), kind, _presence(status, cue, kind, m.group(0), low[a : m.start()], low)


def read_sentence(low: str) -> tuple[tuple[tuple[Finding, tuple], ...], tuple, bool]:
    """Findings of one lower-cased sentence, each with its temporal statuses; the statuses that belong to
    the sentence as a whole (no finding named); whether it says anything about the chest."""
    spans: list[tuple[int, int, str, str | None]] = []  # start, end, kind, presence
    # The labeler's own clause step (what RuleLabeler.mentions does per sentence, without building Mentions)
    clauses = split_clauses(low, 0, len(low))
    stated: set = set()  # starts of the findings stated although uncertain by the labeler's convention
    for ca, cb in clauses:
        for cond, status, s, e, cue in clause_mentions(low[ca:cb], False, False):  # devices: read below, by type
            text = low[ca + s : ca + e]
            kind = cond
            if cond == "Lung Lesion" and ("granuloma" in text or _CALCIFIED.search(low, max(0, ca + s - 45), ca + s)):
                kind = "Granuloma"  # a granuloma or calcified nodule: one minor kind (the spec's grouping)
            presence = _presence(status, cue, kind, text, low[: ca + s], low)
            if presence == POS and ("exclude" in low or "ruled out" in low) and _POST_HEDGE.match(low, ca + e, cb):
                presence = UNC
            elif presence == NEG and ("prior" in low or "previous" in low or "earlier" in low or " old" in low):
                if _NOT_ON_PRIOR.match(low, ca + e, cb):
                    presence = POS
            spans.append((ca + s, ca + e, kind, presence))
            if kind == "Edema" and presence == UNC and cue is None and _CONGESTION.search(text):
                stated.add(ca + s)
    scans = []  # named abnormalities outside the 13 conditions
    if lx.SIDED_SCREEN.search(low):
        scans.append(lx.SIDED_FINDINGS)
    if lx.OTHER_SCREEN.search(low):
        scans.append(lx.OTHER_FINDINGS)
    if lx.EXTRA_SUBJECT_SCREEN.search(low) and lx.EXTRA_CHANGE_SCREEN.search(low):
        scans.append(lx.EXTRA_FINDINGS)
    for scan in scans:
        for m in scan.finditer(low):
            if any(s < m.end() and m.start() < e for s, e, _, _ in spans):
                continue  # "calcified granuloma" already read as a lesion
            if m.lastgroup == "fracture" and not lx.SPINE.search(low):
                continue  # a compression deformity is a vertebra's
            if m.lastgroup == "bone_deformity" and lx.OLD_DEFORMITY.search(low, max(0, m.start() - 30), m.end() + 30):
                continue  # a healed fracture's deformity is not read (rules 2.4)
            span = _mention(low, clauses, m, lx.OTHER_KINDS[str(m.lastgroup)])
            if m.lastgroup in lx.OTHER_POSSIBLE and span[3] == POS:
                span = (*span[:3], UNC)
            spans.append(span)
    if "densit" in low and lx.DENSITY_IN_LUNG.search(low) and not lx.DENSITY_EXPLAINED.search(low):
        for m in lx.LUNG_DENSITY.finditer(low):
            if not any(s < m.end() and m.start() < e for s, e, _, _ in spans):  # "patchy density": the labeler's
                spans.append(_mention(low, clauses, m, "Lung Lesion" if m.lastgroup == "lesion" else "Lung Opacity"))
    device_spans: list[tuple[int, int]] = []
    if lx.DEVICE_SCREEN.search(" " + low):
        for m in lx.DEVICES.finditer(low):
            dtype = str(m.lastgroup)  # every branch of DEVICES is a named group
            if dtype in lx.PLACES:
                continue  # "into the right IJ", "side port": read by the qualifier scanner
            device_spans.append((m.start(), m.end()))
            if dtype in lx.IGNORED_DEVICES:
                continue
            if any(s < m.end() and m.start() < e for s, e, _, _ in spans):
                continue  # part of a condition's phrase
            spans.append(_mention(low, clauses, m, "dev:" + dtype))
    if device_spans and ("exclud" in low or "ruled out" in low):
        spans = [_device_hedged(sp, spans, clauses, low) if sp[2].startswith("dev:") and sp[3] == POS else sp
                 for sp in spans]
    if device_spans:  # "port with its catheter", "pacemaker device": a generic word names the specific device
        specific = {sp[2][4:] for sp in spans if sp[2].startswith("dev:") and sp[2][4:] not in lx.GENERIC_DEVICES}
        if specific:
            spans = [sp for sp in spans if not (sp[2][4:] in lx.GENERIC_DEVICES and sp[2].startswith("dev:")
                                                and specific & lx.GENERIC_DEVICES[sp[2][4:]])]
    if _LEADING_HEDGE.match(low) and spans and clauses and not any(sp[0] < clauses[0][1] for sp in spans):
        # "Possible, in the interval, a nodule has developed": a hedge that opens the sentence before a clause
        # break that names nothing hedges what the sentence states
        spans = [(a, b, k, UNC if p == POS else p) for a, b, k, p in spans]
    lead_fractures: list[tuple[int, int, str | None]] = []
    if device_spans and "fractur" in low:
        pacers = [(s, e) for s, e, k, _ in spans if k == "dev:pacer"]
        for sp in spans:
            if sp[2] == "Fracture" and any(_LEAD_GAP.match((low[e:sp[0]] if e <= sp[0] else low[sp[1]:s]) + " ")
                                           for s, e in pacers if e <= sp[0] or sp[1] <= s):
                lead_fractures.append((sp[0], sp[1], sp[3]))
        if lead_fractures:
            spans = [sp for sp in spans if (sp[0], sp[1], sp[3]) not in lead_fractures]
    # every qualifier when a finding is present; change language alone otherwise (most sentences)
    if not any(sp[3] in (POS, UNC) for sp in spans):
        scanner = lx.CHANGE_WORDS
    else:
        scanner = lx.QUALIFIERS if device_spans else lx.FINDING_QUALIFIERS
    tokens = [(t.start(), t.end(), t.lastgroup, t.group(0)) for t in scanner.finditer(low)]
    if device_spans:
        tokens = [t for t in tokens if not any(s < t[1] and t[0] < e for s, e in device_spans)
                  and not (t[2] == "malpos" and _NOT_BEFORE.search(low, max(0, t[0] - 30), t[0]))]
        # "fracture" is a malposition only as a pacemaker lead's, stated present ("no lead fracture" is none)
        tokens = [t for t in tokens if not (t[2] == "malpos" and t[3].startswith("fractur")) or any(
            s < t[1] and t[0] < e and p in (POS, UNC) for s, e, p in lead_fractures)]
    spans.sort(key=lambda s: (s[0], s[1]))
    temporal: list[set] = [set() for _ in spans]
    sentence_temporal: set = set()
    for s, e, group, _ in tokens:
        status = lx.TEMPORAL_TOKENS.get(group or "")  # type: ignore[assignment]  # a str past the check
        if status is None:
            continue
        if not spans:
            sentence_temporal.add(status)
            continue
        if group == "nonew":  # "no new effusion": the finding that follows
            later = [i for i, sp in enumerate(spans) if sp[0] >= e]
            if later:
                temporal[later[0]].add(status)
                continue
        nxt = next((i for i, sp in enumerate(spans) if sp[0] >= e), None)
        if nxt is not None and spans[nxt][0] - e <= _BEFORE_FINDING and "," not in low[e : spans[nxt][0]]:
            temporal[nxt].add(status)  # "increased left opacity": the finding the word qualifies
            continue
        mid = (s + e) / 2
        best = min(range(len(spans)), key=lambda i: 0 if spans[i][0] <= mid <= spans[i][1]
                   else min(abs(mid - spans[i][0]), abs(mid - spans[i][1])))
        temporal[best].add(status)
    out = []
    for i, (s, e, kind, presence) in enumerate(spans):
        if presence is None:  # "no new X" (each member of "no new X or Y"), "heart size is stable"
            temporal[i].add("stable")
        if presence in (POS, UNC) and temporal[i] == {"resolved"}:
            presence = NEG  # "X has resolved": absent now
        if presence not in (POS, UNC):
            out.append((Finding(kind, presence), tuple(sorted(temporal[i]))))
            continue
        a = spans[i - 1][1] if i > 0 and spans[i - 1][1] <= s else 0
        b = spans[i + 1][0] if i + 1 < len(spans) and spans[i + 1][0] >= e else len(low)
        near = [t for t in tokens if t[0] >= a and t[1] <= e]  # before and inside
        after = [t for t in tokens if t[0] >= e and t[1] <= b]
        found = _qualify(kind, presence, near, after, (a, s, e, b), low)
        if s in stated:
            found = found._replace(stated=True)
        if i and not found.sides and not found.zones and out[-1][0].presence in (POS, UNC) and not kind.startswith("dev:") \
                and (out[-1][0].sides or out[-1][0].zones) and spans[i - 1][1] <= s \
                and _INTERPRETS.match(low, spans[i - 1][1], s):
            found = found._replace(sides=out[-1][0].sides, zones=out[-1][0].zones)
        out.append((found, tuple(sorted(temporal[i]))))
    statement = (bool(out) or bool(sentence_temporal) or bool(lx.NORMAL_STATEMENT.search(low))
                 or (bool(lx.CHEST_WORDS.search(low)) and len(lx.WORD.findall(low)) >= 3))
    return tuple(out), tuple(sorted(sentence_temporal)), statement


def _device_hedged(span: tuple, spans: list, clauses: list, low: str) -> tuple:
    """A definite device whose own clause ends its statement with "cannot be excluded" / "is not excluded",
    with no other finding named in between: uncertain (rules 2.5). Not when the hedge is about its tip
    ("catheter tip ... cannot be excluded", "the tip of the catheter ...")."""
    s, e = span[0], span[1]
    cb = next((b for a, b in clauses if a <= s < b), len(low))
    m = _DEVICE_POST_HEDGE.match(low, e, cb)
    if m is None or _TIP_NAMED.match(low, e) or _TIP_OF.search(low, max(0, s - 40), s):
        return span
    if any(e <= other[0] < m.end() for other in spans):
        return span  # "chest tube; a small pneumothorax cannot be excluded": the hedge is the pneumothorax's
    return (*span[:3], UNC)


def _qualify(kind: str, presence: str, near: list, after: list, bounds: tuple, low: str) -> Finding:
    """The finding at low[start:end] with the qualifiers of its stretch low[a:b] (bounds: a, start, end, b)."""
    a, start, end, b = bounds
    def collect(tokens: list, table: dict) -> set:
        out: set = set()
        for t in tokens:
            out.update(table.get(t[2], ()))
        return out

    def grade_of(tokens: list) -> float | None:
        grades = [lx.GRADES[t[2]] for t in tokens if t[2] in lx.GRADES]
        return max(grades) if grades else None

    close_side = [t for t in after if t[0] - end <= _AFTER_SIDE]
    close_grade = [t for t in after if t[0] - end <= _AFTER_GRADE]
    sides = collect(near, lx.SIDE_TOKENS) or collect(close_side, lx.SIDE_TOKENS)
    if not sides and kind in lx.FAR_SIDE_KINDS:
        far = lx.FAR_SIDE.search(low, end, b)
        if far:
            sides = {far.group("side")}
    zones = collect(near, lx.ZONE_TOKENS) or collect(close_side, lx.ZONE_TOKENS)
    groups = {t[2] for t in near + close_grade}
    if "chronic" in groups and not any(t[2] == "chronic" for t in near) and _JOINED.search(low, end, max(
            t[0] for t in close_grade if t[2] == "chronic")):
        groups.discard("chronic")  # "cardiomegaly and tortuous calcified aorta": the aorta's, not the heart's
    if kind.startswith("dev:"):
        window = near + after
        tips = {t[2] for t in window if t[2].startswith("tip_") and t[2] != "tip_carina_dist"}
        dist = [_size_mm(t[3]) for t in window if t[2] == "tip_carina_dist"]
        if dist:
            tips.add(f"tip_trachea@{max(dist):g}")
        malpos = any(t[2] == "malpos" for t in window)  # stated in words; tips that imply one: compare.py
        return Finding(kind, presence, tuple(sorted(sides)), tuple(sorted(zones)), None, None, "chronic" in groups,
                       False, tuple(sorted(tips)), malpos)
    # "both sides" said without a side word; asked only where it can matter (no side, or both; compare.py)
    spread = len(sides) != 1 and kind not in lx.DIFFUSE_KINDS and bool(
        _SPREAD.search(low, a, b) or kind in lx.SIZE_DECIDES and _PAIRED_PLURAL.search(low, start, end))
    if kind == "Fracture":  # "minimally displaced": its displacement, not a minimal fracture (rules 2.4)
        near = [t for t in near if not _DISPLACED.match(low, t[1])]
        close_grade = [t for t in close_grade if not _DISPLACED.match(low, t[1])]
    grade = grade_of(near)
    if grade is None:
        grade = grade_of(close_grade)
    sizes = [_size_mm(t[3]) for t in near + after if t[2] == "size" and t[0] - end <= _AFTER_SIZE]
    sided_lobes, bare_lobes = _lobes(near + close_side, low) if sides else ((), ())
    graded = _graded(near, after, bounds, low) if grade is not None or sizes else ()
    return Finding(kind, presence, tuple(sorted(sides)), tuple(sorted(zones)), grade, max(sizes) if sizes else None,
                   "chronic" in groups, "collapse" in groups, scar="scar" in groups, spread=spread,
                   sided_lobes=sided_lobes, bare_lobes=bare_lobes, graded=graded)


def _graded(near: list, after: list, bounds: tuple, low: str) -> tuple:
    """Rules 2.5: the grade and size this statement gives each side, read from its own words only (after the
    last "and" / "with" / comma that parts it from the finding before it, and, when another finding follows,
    up to the first one after it): a grade or size followed by one side pairs with it ("moderate left and small
    right pleural effusions", "effusions, moderate on the left and small on the right"); otherwise the
    statement's one side, or no side (""), carries its grade and size, read as the finding's are (before it
    first, then close after it). Both sides at one grade ("moderate bilateral") say nothing of which is
    larger: nothing is kept."""
    a, start, end, b = bounds
    cut = max(_last_joiner(low, a, start), a) if a else 0
    stop = _first_joiner(low, end, b) if b < len(low) else b
    before = [t for t in near if t[0] >= cut]
    after = [t for t in after if t[1] <= stop]
    pairs: list = []
    grade = size = None
    sides: set = set()
    for t in before + [t for t in after if t[0] - end <= _AFTER_SIDE]:
        if t[2] in lx.GRADES:
            grade = lx.GRADES[t[2]]
        elif t[2] == "size":
            size = _size_mm(t[3])
        elif t[2] in lx.SIDE_TOKENS:
            sides.update(lx.SIDE_TOKENS[t[2]])
            if len(lx.SIDE_TOKENS[t[2]]) == 1 and (grade is not None or size is not None):
                pairs.append((lx.SIDE_TOKENS[t[2]][0], grade, size))
                grade = size = None
    if len({p[0] for p in pairs}) == 2:
        return tuple(pairs)
    if len(sides) == 2:
        return ()
    grades = [lx.GRADES[t[2]] for t in before if t[2] in lx.GRADES] or [
        lx.GRADES[t[2]] for t in after if t[2] in lx.GRADES and t[0] - end <= _AFTER_GRADE]
    sizes = [_size_mm(t[3]) for t in before if t[2] == "size"] or [
        _size_mm(t[3]) for t in after if t[2] == "size" and t[0] - end <= _AFTER_SIZE]
    if not grades and not sizes:
        return ()
    return ((next(iter(sides)) if sides else "", max(grades) if grades else None, max(sizes) if sizes else None),)


_JOINER = re.compile(r"\s(?:and|with)\s|[,;]")


def _last_joiner(low: str, a: int, start: int) -> int:
    last = -1
    for m in _JOINER.finditer(low, a, start):
        last = m.end()
    return last


def _first_joiner(low: str, end: int, b: int) -> int:
    m = _JOINER.search(low, end, b)
    return m.start() if m else b


def _lobes(tokens: list, low: str) -> tuple[tuple, tuple]:
    """Zones of the upper and lower lobes named with a side (a lobe's own token, or a side word earlier in the
    finding's stretch: "right upper and lower lobes") and without one ("in the upper lobe and both lower lobes")."""
    sided: set = set()
    bare: set = set()
    side_seen = False
    for t in tokens:
        if t[2] in lx.SIDE_TOKENS and not t[2].startswith("lobe_"):
            side_seen = True
        elif t[2].startswith("lobe_") and t[2] not in ("lobe_rml", "lobe_ling"):
            sided.update(lx.ZONE_TOKENS[t[2]])
        elif t[2] in ("upper", "lower") and _LOBE_WORD.match(low, t[1]):
            (sided if side_seen else bare).add(t[2])
    return tuple(sorted(sided)), tuple(sorted(bare - sided))
