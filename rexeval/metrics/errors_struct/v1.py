"""``errors_struct`` counter v1 (``ErrorsStruct(counter="v1")``), kept bit-identical to the first release.

Not an LLM and not a replacement for one: a fast rule-based approximation meant for RL rewards and quick
checks, with keys (``errors_struct_*``) that can never be mistaken for the judge's (``errors_llm_*``).

Built on the rule-based condition labeler (:mod:`rexeval.backends.labelers.rules`) plus rules of its own:

- A / B (false / missed finding): a condition positive or uncertain on one side and negative or not
  mentioned on the other. "Lung Opacity" is the umbrella of the parenchymal conditions: "opacity" vs
  "consolidation" is no error, "opacity" vs an interpretation (pneumonia, atelectasis, edema, lesion)
  an insignificant one, and their places are compared for C.
- C (location): for a condition present on both sides, disjoint sides (left / right / bilateral) or,
  with compatible sides, disjoint zones (upper / middle / lower).
- D (severity): for a condition present on both sides with a grade on both (minimal 1, small/mild 2,
  moderate 3, large/severe 4; "small to moderate" 2.5), a difference of at least one step.
- E / F (comparison): change language (worse: increased, new, worsening; better: decreased, improved,
  resolved; stable: unchanged, stable, no new, persistent) tied to the nearest condition in its sentence
  (or to the report as a whole). E: the candidate states a change the reference does not (a conflicting
  direction counts here); F: the reference describes a worsening or improvement the candidate omits.

Significance (likely to change management): A/B/C/D on a major condition (everything except
atelectasis, pleural other and support devices) are significant unless the finding is hedged
(uncertain), minimal/trace, or chronic/old/healed; extensive atelectasis or collapse is significant; a
severity gap of two steps or more is significant, one step is not; a worsening or improvement of a major
condition is significant, stability statements and report-level changes are not.

Speed: the labeler runs once per distinct *sentence* (its scopes never cross a sentence, so this gives
the same mentions as labelling the report — tested), and sentence and report profiles are cached in
memory; radiology reports repeat sentences heavily. ``benchmarks/bench_error_counter.py`` measures it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from rexeval.metrics.error_schema import LETTERS

PREFIX = "errors_struct_"
COUNTER_VERSION = "1"

POS, NEG, UNC = "positive", "negative", "uncertain"
#: Conditions whose false or missed report is clinically significant by default.
MINOR_CONDITIONS = frozenset({"Atelectasis", "Pleural Other", "Support Devices", "No Finding"})
#: Parenchymal conditions that an unspecified "opacity" may stand for.
OPACITY_FAMILY = frozenset({"Consolidation", "Pneumonia", "Atelectasis", "Edema", "Lung Lesion"})

_WS = re.compile(r"\s+")
_SENT_END = re.compile(r"[.?!](?=\s|$)")  # the labeler's sentence rule (rules.py)


def _w(pattern: str) -> re.Pattern:
    return re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])")


_GRADES: list[tuple[re.Pattern, float]] = [
    (_w(r"(?:small|mild|minimal|trace)\s*(?:to|-|or)\s*moderate"), 2.5),
    (_w(r"moderate\s*(?:to|-|or)\s*(?:large|severe|marked)"), 3.5),
    (_w(r"minimal|trace|tiny|minute|trivial|subtle|slight|very\s+small|mildly\s+prominent"), 1.0),
    (_w(r"small|mild|mildly|minor|little"), 2.0),
    (_w(r"moderate|moderately|moderate-sized|moderate\s+sized"), 3.0),
    (_w(r"large|severe|severely|marked|markedly|extensive|massive|huge|substantial|sizable|sizeable"), 4.0),
]
_LEFT = _w(r"left|left-sided|leftward")
_RIGHT = _w(r"right|right-sided|rightward")
_BOTH = _w(r"bilateral|bilaterally|both|bibasilar|bibasal|biapical")
_ZONES = {
    "upper": _w(r"upper|apex|apices|apical|biapical"),
    "middle": _w(r"middle|mid|midlung|lingula|lingular"),
    "lower": _w(r"lower|base|bases|basal|basilar|bibasilar|bibasal|retrocardiac|infrahilar"),
}
_CHRONIC = _w(r"chronic|old|healed|healing|remote|calcified|degenerative")
_COLLAPSE = _w(r"collapse|collapsed|lobar")
_AFTER_WHERE = re.compile(r"^[^,;]{0,40}?(?:in|at|on|of|involving|within|along|over)\s+the\s+")

_STABLE = _w(
    r"no\s+(?:significant\s+|appreciable\s+|substantial\s+|definite\s+)?(?:interval\s+)?"
    r"(?:change|changes|increase|worsening|progression|new)"
    r"|without\s+(?:significant\s+|interval\s+)?change|not\s+(?:significantly\s+)?changed"
    r"|unchanged|stable|stably|similar|persist\w*|again\s+(?:seen|noted|demonstrated|visualized)"
    r"|redemonstrat\w*|remains?|remained|re-demonstrat\w*|grossly\s+unchanged"
)
_WORSE = _w(
    r"increas\w*|worsen\w*|worse|progress\w*|enlarging|larger|new|newly|developing|development"
    r"|more\s+(?:prominent|pronounced|conspicuous|extensive)|greater|interval\s+development"
)
_BETTER = _w(
    r"decreas\w*|improv\w*|smaller|resolv\w*|resolution|less\s+(?:prominent|pronounced|conspicuous|extensive)"
    r"|diminish\w*|reduc\w*|clearing|cleared|removed|removal|regress\w*|near-?resolution"
)
#: Cheap first check: most sentences carry no change language at all.
_ANY_CHANGE = re.compile("|".join(f"(?:{p.pattern})" for p in (_STABLE, _WORSE, _BETTER)))
GLOBAL = "*"


@dataclass(frozen=True)
class ErrorItem:
    """One counted error, with the reason (for inspection and tests)."""

    type: str  # A..F
    significant: bool
    key: str  # condition, or "*" for a report-level comparison
    reason: str


@dataclass(frozen=True)
class _MentionInfo:
    condition: str
    status: str
    lat: frozenset
    zones: frozenset
    grade: float | None
    chronic: bool
    collapse: bool


@dataclass
class _Profile:
    status: dict[str, str]
    lat: dict[str, frozenset]
    zones: dict[str, frozenset]
    grade: dict[str, float]
    minor: dict[str, bool]  # chronic / minimal (only hedges kept apart via status)
    collapse: dict[str, bool]
    changes: dict[tuple[str, str], None]  # ordered set of (key, direction)


def _grade(text: str) -> float | None:
    for pat, g in _GRADES:
        if pat.search(text):
            return g
    return None


def _laterality(text: str) -> frozenset:
    out: set[str] = set()
    if _BOTH.search(text):
        out.update(("left", "right"))
    if _LEFT.search(text):
        out.add("left")
    if _RIGHT.search(text):
        out.add("right")
    return frozenset(out)


def _zones(text: str) -> frozenset:
    return frozenset(z for z, pat in _ZONES.items() if pat.search(text))


def split_sentences(text: str) -> list[str]:
    """Whitespace-collapsed sentences, split exactly where the rule labeler splits them."""
    norm = _WS.sub(" ", text).strip()
    out, start = [], 0
    for m in _SENT_END.finditer(norm):
        s = norm[start : m.end()].strip()
        if s:
            out.append(s)
        start = m.end()
    tail = norm[start:].strip()
    if tail:
        out.append(tail)
    return out


class BoundedCache(OrderedDict):
    """A dict that forgets its oldest entry past ``size`` (the counters' sentence and report caches)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)


class StructuredErrorCounter:
    """``count(reference, candidate)`` -> 12 counts; ``errors(...)`` -> the itemised errors."""

    def __init__(self, labeler: str = "rules", cache_size: int = 200_000) -> None:
        from rexeval.backends.labelers import get_labeler

        self.labeler_name = labeler
        self.labeler: Any = get_labeler(labeler)  # checked below for mentions(), beyond the protocol
        if not hasattr(self.labeler, "mentions"):
            from rexeval.base.exceptions import ConfigError

            raise ConfigError(f"errors_struct needs a labeler with mentions(); {labeler!r} has none (use 'rules')")
        self._sentences: BoundedCache = BoundedCache(cache_size)
        self._profiles: BoundedCache = BoundedCache(cache_size // 4)

    # -- per sentence ---------------------------------------------------------------------------
    def _sentence(self, sentence: str) -> tuple[list[_MentionInfo], list[tuple[str, str]]]:
        hit = self._sentences.get(sentence)
        if hit is not None:
            return hit
        low = sentence.lower()
        mentions = sorted(self.labeler.mentions(sentence), key=lambda m: m.start)
        infos: list[_MentionInfo] = []
        spans: list[tuple[int, int, str]] = []
        for i, m in enumerate(mentions):
            spans.append((m.start, m.end, m.condition))
            if m.status == NEG:  # only findings present on a side are compared for C and D
                infos.append(_MentionInfo(m.condition, m.status, frozenset(), frozenset(), None, False, False))
                continue
            a = mentions[i - 1].end if i > 0 and mentions[i - 1].end <= m.start else m.sentence_start
            b = mentions[i + 1].start if i + 1 < len(mentions) and mentions[i + 1].start >= m.end else m.sentence_end
            # offsets are in the normalised text, which is the sentence itself here
            before, inner, after = low[max(0, a) : m.start], low[m.start : m.end], low[m.end : max(m.end, b)]
            ctx = before + " " + inner
            lat, zones, grade = _laterality(ctx), _zones(ctx), _grade(ctx)
            where = _AFTER_WHERE.match(after)
            if where or not lat:
                tail = after if where else after[:30]
                lat = lat or _laterality(tail)
                zones = zones or _zones(tail)
            if grade is None:
                grade = _grade(after[:25])
            near = ctx + after[:25]
            infos.append(_MentionInfo(m.condition, m.status, lat, zones, grade,
                                      bool(_CHRONIC.search(near)), bool(_COLLAPSE.search(near))))
        changes: list[tuple[str, str]] = []
        if _ANY_CHANGE.search(low):
            masked = low
            for direction, pat in (("stable", _STABLE), ("worse", _WORSE), ("better", _BETTER)):
                for cue in pat.finditer(masked):
                    key = GLOBAL
                    if spans:  # the nearest condition in the sentence
                        pos = (cue.start() + cue.end()) / 2
                        key = min(spans, key=lambda s: 0 if s[0] <= pos <= s[1]
                                  else min(abs(pos - s[0]), abs(pos - s[1])))[2]
                    changes.append((key, direction))
                masked = pat.sub(lambda m: " " * len(m.group(0)), masked)
        out = (infos, changes)
        self._sentences.put(sentence, out)
        return out

    # -- per report -----------------------------------------------------------------------------
    def profile(self, text: str) -> _Profile:
        hit = self._profiles.get(text)
        if hit is not None:
            return hit
        statuses: dict[str, set] = {}
        lat: dict[str, set] = {}
        zones: dict[str, set] = {}
        grade: dict[str, float] = {}
        minor: dict[str, bool] = {}
        collapse: dict[str, bool] = {}
        changes: dict[tuple[str, str], None] = {}
        for sentence in split_sentences(text):
            infos, ch = self._sentence(sentence)
            for info in infos:
                c = info.condition
                statuses.setdefault(c, set()).add(info.status)
                if info.status == NEG:
                    continue
                lat.setdefault(c, set()).update(info.lat)
                zones.setdefault(c, set()).update(info.zones)
                if info.grade is not None:
                    grade[c] = max(grade.get(c, 0.0), info.grade)
                minor[c] = minor.get(c, False) or info.chronic
                collapse[c] = collapse.get(c, False) or info.collapse
            for item in ch:
                changes[item] = None
        status = {c: POS if POS in s else (UNC if UNC in s else NEG) for c, s in statuses.items()}
        for c, g in grade.items():
            if g <= 1.0:
                minor[c] = True
        prof = _Profile(status, {c: frozenset(v) for c, v in lat.items()}, {c: frozenset(v) for c, v in zones.items()},
                        grade, minor, collapse, changes)
        self._profiles.put(text, prof)
        return prof

    # -- the comparison -------------------------------------------------------------------------
    @staticmethod
    def _major(p: _Profile, c: str) -> bool:
        if c in MINOR_CONDITIONS:
            return c == "Atelectasis" and (p.collapse.get(c, False) or p.grade.get(c, 0.0) >= 3.0)
        return True

    def errors(self, reference: str, candidate: str) -> list[ErrorItem]:
        ref, cand = self.profile(reference), self.profile(candidate)
        items: list[ErrorItem] = []
        present = lambda p, c: p.status.get(c) in (POS, UNC)  # noqa: E731
        conditions = [c for c in dict.fromkeys([*ref.status, *cand.status]) if c != "No Finding"]
        for c in conditions:
            in_ref, in_cand = present(ref, c), present(cand, c)
            if in_cand and not in_ref:
                if c == "Lung Opacity" and any(present(ref, f) for f in OPACITY_FAMILY):
                    items.extend(self._where(ref, cand, c, [f for f in OPACITY_FAMILY if present(ref, f)], [c]))
                    continue
                sig = cand.status[c] == POS and self._major(cand, c) and not cand.minor.get(c, False)
                if c in OPACITY_FAMILY and present(ref, "Lung Opacity"):
                    if c == "Consolidation":
                        continue  # the same opacity, named more specifically
                    sig = False  # an interpretation of an opacity the reference reports
                items.append(ErrorItem("A", sig, c, f"candidate reports {c} ({cand.status[c]}), reference "
                                       + ("negates it" if c in ref.status else "does not mention it")))
            elif in_ref and not in_cand:
                if c == "Lung Opacity" and any(present(cand, f) for f in OPACITY_FAMILY):
                    items.extend(self._where(ref, cand, c, [c], [f for f in OPACITY_FAMILY if present(cand, f)]))
                    continue
                sig = ref.status[c] == POS and self._major(ref, c) and not ref.minor.get(c, False)
                if c in OPACITY_FAMILY and present(cand, "Lung Opacity"):
                    if c == "Consolidation":
                        continue
                    sig = False  # the candidate reports the opacity, not its interpretation
                items.append(ErrorItem("B", sig, c, f"reference reports {c} ({ref.status[c]}), candidate "
                                       + ("negates it" if c in cand.status else "omits it")))
            elif in_ref and in_cand:
                items.extend(self._where(ref, cand, c, [c], [c]))
                gr, gc = ref.grade.get(c), cand.grade.get(c)
                if gr is not None and gc is not None and abs(gr - gc) >= 1.0:
                    items.append(ErrorItem("D", abs(gr - gc) >= 2.0 and c not in MINOR_CONDITIONS, c,
                                           f"{c}: severity grade {gc:g} vs reference {gr:g}"))
        items.extend(self._comparison_errors(ref, cand))
        return items

    def _where(self, ref: _Profile, cand: _Profile, key: str, ref_conds: list[str], cand_conds: list[str]) -> list[ErrorItem]:
        """C: the same finding (``key``; an opacity may be named by a more specific condition) placed on
        disjoint sides (significant for a stated major finding; overlapping sides are not) or zones."""
        def union(p: _Profile, conds: list[str], attr: str) -> frozenset:
            return frozenset().union(*(getattr(p, attr).get(x, frozenset()) for x in conds))

        lr, lc = union(ref, ref_conds, "lat"), union(cand, cand_conds, "lat")
        zr, zc = union(ref, ref_conds, "zones"), union(cand, cand_conds, "zones")
        major = any(self._major(ref, x) and not ref.minor.get(x, False) and ref.status[x] == POS for x in ref_conds)
        if lr and lc and lr != lc:
            return [ErrorItem("C", major and not (lr & lc), key,
                              f"{key}: side {'/'.join(sorted(lc))} vs reference {'/'.join(sorted(lr))}")]
        if zr and zc and not (zr & zc):
            return [ErrorItem("C", False, key, f"{key}: zone {'/'.join(sorted(zc))} vs reference {'/'.join(sorted(zr))}")]
        return []

    def _comparison_errors(self, ref: _Profile, cand: _Profile) -> list[ErrorItem]:
        items: list[ErrorItem] = []
        cand_keys = {k for k, _ in cand.changes}

        def matched(item: tuple[str, str], other: dict) -> bool:
            # same condition and direction, or a report-level statement of the same direction
            key, d = item
            return item in other or (GLOBAL, d) in other or (key == GLOBAL and any(d2 == d for _, d2 in other))

        def sig(key: str, d: str) -> bool:
            return d != "stable" and key != GLOBAL and key not in MINOR_CONDITIONS

        for item in cand.changes:
            if not matched(item, ref.changes):
                key, d = item
                items.append(ErrorItem("E", sig(key, d), key, f"candidate says {key} is {d}; reference does not"))
        for item in ref.changes:
            key, d = item
            if d == "stable" or matched(item, cand.changes) or key in cand_keys:
                continue  # stability is not a change; a conflicting direction was already counted as E
            items.append(ErrorItem("F", sig(key, d), key, f"reference says {key} is {d}; candidate omits it"))
        return items

    def count(self, reference: str, candidate: str) -> list[int]:
        """12 counts: significant A..F then insignificant A..F."""
        counts = [0] * 12
        for e in self.errors(reference, candidate):
            counts[LETTERS.index(e.type) + (0 if e.significant else 6)] += 1
        return counts
