"""Offline rule-based CheXpert labeler: no weights, no network, thousands of reports per second.

Pipeline per report (all regular expressions, compiled once):

1. normalise: strip, collapse every whitespace run to one space (the CheXbert preprocessing, so spans
   refer to the same text CheXbert sees), lower-case for matching (length-preserving);
2. split into sentences (``.``/``?``/``!`` before a space or the end; decimals survive) and each
   sentence into clauses at scope terminators (``;``, "but", "however", "although", "except",
   "which", ", there ...", ", and the ..."): a negation never reaches past its clause;
3. find mentions with the curated vocabulary (vocabulary.py), dropping excluded phrases
   ("pericardial effusion") and overlaps (left to right; at one start the shortest match, so a
   descriptor binds to its nearest adjective);
4. status per mention, in the CheXpert labeler's precedence: pre-negation uncertainty first
   ("cannot be excluded", "not ruled out", "no new"), then negation ("no", "without", "negative
   for", "free of", "resolved", "removed", "is not seen"), then uncertainty ("may", "possible",
   "likely", "suspicious/concerning for", "versus", "A or B", "?"), else the match's own status;
5. per condition, CheXpert's conflict rule (positive beats uncertain beats negative); "chf"/"heart
   failure" also make Cardiomegaly uncertain; "No Finding" = 1 when no condition other than Support
   Devices, and no other abnormality (emphysema, granuloma, scoliosis, ...), is positive or uncertain.

Why our own rules rather than medspacy/negspacy: they need spaCy and a model download (network,
hundreds of MB, seconds per thousand reports), and their default ConText rules neither encode
CheXpert's label conventions ("no new X" uncertain, "X or Y" uncertain, normal-organ descriptors as
negations) nor its No Finding rule. Clause-scoped regular expressions do, and run in milliseconds.

Empty or whitespace-only text gets no labels at all (every condition blank, No Finding blank):
an empty report asserts nothing, and crediting it with "No Finding" would reward empty generations.
"""

from __future__ import annotations

import re
import re._parser as _sre_parse
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rexeval._version import __version__
from rexeval.backends.labelers import CONDITIONS
from rexeval.backends.labelers.vocabulary import OTHER_FINDINGS, VOCAB
from rexeval.base.exceptions import ConfigError

POS, NEG, UNC = "positive", "negative", "uncertain"
_VALUE = {POS: 1.0, NEG: 0.0, UNC: -1.0}
RULES_VERSION = "2.2"

#: Hard cap on characters labelled per report (a pathological 10 MB "report" must not stall a run).
MAX_CHARS = 100_000

_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Mention:
    """A condition named in a report, with its status and where it was found."""

    condition: str
    status: str  # 'positive' | 'negative' | 'uncertain'
    sentence: str  # the sentence's text (normalised, original case)
    start: int  # char span of the matched phrase in the normalised text
    end: int
    text: str  # the matched phrase (normalised, original case)
    sentence_start: int
    sentence_end: int
    sentence_index: int
    cue: str | None = None  # the negation/uncertainty cue that set the status, if any
    certainty: str | None = None  # uncertain mentions: "probable" or "possible" (:func:`hedge_grade`)


def normalise(text: str) -> str:
    """Strip and collapse every whitespace run to one space (CheXbert's preprocessing)."""
    return _WS.sub(" ", text).strip()


def lower_same_length(text: str) -> str:
    # str.lower() can change the length of a few characters (e.g. 'İ'); spans must stay valid.
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _words(pattern: str) -> str:
    """Wrap an alternation so it only matches whole words."""
    return rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])"


def _alt(patterns: list[str]) -> re.Pattern | None:
    if not patterns:
        return None
    return re.compile(_words("|".join(f"(?:{p})" for p in patterns)))


# --- sentence and clause splitting -------------------------------------------------------------

_SENT_END = re.compile(r"[.?!](?=\s|$)")
_CLAUSE_END = re.compile(
    r";|:(?=\s)|\s(?=(?:but|however|although|though|except|whereas|which|apart\s+from|aside\s+from)\b)"
    r"|,(?=\s+(?:and\s+)?(?:there|the|this|these|it|which|with|but|however|although|otherwise)\b)"
    r"|\s(?=and\s+(?:there|the)\b)"
)


def _sentences(low: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _SENT_END.finditer(low):
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(low)))
    out = []
    for a, b in spans:
        while a < b and low[a] == " ":
            a += 1
        if a < b:
            out.append((a, b))
    return out


def split_clauses(low: str, a: int, b: int) -> list[tuple[int, int]]:
    """(start, end) of the clauses of ``low[a:b]``: a negation or hedge never reaches past its clause.
    Public because the error counter reads findings through the same scopes."""
    out, start = [], a
    for m in _CLAUSE_END.finditer(low, a, b):
        if m.start() > start:
            out.append((start, m.start()))
        start = m.end()
    if b > start:
        out.append((start, b))
    return out


# --- cues ----------------------------------------------------------------------------------------

# Phrases that look like negations but are not ("no change in the effusion" keeps the effusion).
_PSEUDO = re.compile(_words(
    r"no\s+(?:significant\s+|appreciable\s+|interval\s+|definite\s+|substantial\s+)?(?:change|increase|decrease|worsening|improvement|progression|enlargement)(?:\s+in|\s+of)?"
    r"|not\s+(?:significantly\s+)?(?:changed|increased|decreased)|without\s+(?:significant\s+|interval\s+)?change"
    r"|gram[\s-]negative|not\s+only|no\s+other\s+than"
))

# Uncertainty that must win over the negation words it contains.
_PRE_UNC_FIRST = re.compile(_words(
    r"(?:cannot|can\s+not|can't|could\s+not|not|unable\s+to)\s+(?:be\s+|entirely\s+|completely\s+|definitely\s+)*(?:exclude[ds]?|rule[ds]?\s+out|ruled\s+out)"
    r"|no\s+new|not\s+(?:well|clearly)\s+(?:seen|visualized|visualised|evaluated|assessed|demonstrated)"
    r"|(?:difficult|hard)\s+to\s+(?:completely\s+|entirely\s+|definitely\s+)?exclude"
    r"|not\s+(?:seen|visualized|visualised|evaluated|assessed)\s+(?:well|clearly)"
    r"|no\s+evidence\s+to\s+rule\s+out"
))
_POST_UNC_FIRST = re.compile(
    r"^[\s,]*(?:[a-z]+\s+){0,2}?(?:(?:is|are|was|were|has|have|been|be|cannot|can\s+not|can't|could\s+not|not|entirely|completely|definitely)\s+)*"
    r"(?:not\s+|cannot\s+|can\s+not\s+|can't\s+|could\s+not\s+)(?:be\s+|been\s+)?(?:entirely\s+|completely\s+|definitely\s+)?"
    r"(?:exclude[ds]?|ruled\s+out|rule[ds]?\s+out|well\s+(?:seen|visualized|evaluated|demonstrated)|appreciated"
    r"|clearly\s+(?:seen|visualized))"
    r"|^[\s,]*(?:is\s+|are\s+)?(?:difficult|hard)\s+to\s+(?:completely\s+|entirely\s+)?exclude"
)

_PRE_NEG = re.compile(_words(
    r"no|not|without|negative\s+for|free\s+of|absence\s+of|absent|neither|nor|rules?\s+out|ruled\s+out|r/o"
    r"|clear\s+of|lack\s+of|never"
))
# Negations that only reach a few words ahead ("resolved effusion", "removal of the chest tube").
_PRE_NEG_NEAR = re.compile(_words(
    r"resolved|resolution\s+of|removal\s+of|removed|history\s+of|clearing\s+of|cleared|disappearance\s+of"
    r"|interval\s+resolution\s+of|s/p\s+removal\s+of"
) + r"(?=\s+(?:[^\s]+\s+){0,3}?$)")
_POST_NEG = re.compile(
    r"^[\s,]*(?:(?:is|are|was|were|has|have|had|been|now|also|again|previously|otherwise|seen|noted|present|identified)\s+)*"
    r"(?:no\s+longer|not|absent|resolved|removed|cleared|gone|negative|withdrawn|discontinued)\b"
)
_PRE_UNC = re.compile(_words(
    r"may|might|could|can|possibl[ey]|probabl[ey]|likely|unlikely|suspect\w*|suspicio\w*|concern\w*|worrisome|worrying"
    r"|question\w*|consider\w*|suggest\w*|differential|versus|vs\.?|equivocal|indeterminate|presum\w*|potential\w*"
    r"|favou?r\w*|borderline|perhaps|maybe|uncertain|correlat\w*|evaluat\w*\s+for|assess\w*\s+for|compatible|representing"
    r"|and/or|or|\?"
))
_POST_UNC = re.compile(
    r"^[\s,]*(?:(?:is|are|was|were|be|would|seems?|appears?|remains?|also|not|still)\s+)*"
    r"(?:likely|unlikely|less\s+likely|possible|probable|suspected|questioned|questionable|an?(?:other)?\s+consideration|considered|favou?red|suggested|in\s+question)"
    r"(?=\s*$|\s*[,.;?]|\s+(?:but|although|however))"
    r"|^\s*\?"
    r"|^\s*,?\s*(?:and/)?or\b|^\s*,?\s*(?:versus|vs\.?)(?![a-z])"
    r"|^\s*(?:(?:is|are)\s+)?(?:could|may|might|can)\s+(?:also\s+)?(?:be\s+)?(?:present|seen|noted|visible|identified)\b"
    r"|^\s*(?:could|may|might)\s+be\s*$"
)


# Hedges that favour the finding: the "probable" and "suspicious for" rungs of radiology's diagnostic
# certainty scales (consistent with > suspicious for / probably > possibly > less likely > unlikely), and
# "A or B" / "A and/or B", which states each alternative (the error counter's reading, docs/errors.md).
# Every other cue ("may", "possible", "versus", "cannot be excluded", "differential", "unlikely") only keeps
# the finding open.
_PROBABLE_CUE = re.compile(
    r"(?:(?:is|are|was|were)\s+)?(?:(?<![a-z])likely|probabl[ey]|suggest\w*|compatible|representing|concern\w*"
    r"|suspect\w*|suspicio\w*|favou?r\w*|presum\w*|worrisome|worrying|borderline)"
    r"|or|and/or"
)
HEDGES = ("chexpert", "graded")


def check_hedges(hedges: str, who: str = "rule labeler") -> str:
    """``hedges`` if it is one of :data:`HEDGES`, else a ConfigError naming ``who`` asked for it."""
    if hedges not in HEDGES:
        raise ConfigError(f"{who}: hedges must be one of {', '.join(HEDGES)}, not {hedges!r}")
    return hedges


# A modal before a favouring cue weakens it: "may be compatible with", "could be suggestive of".
_MODAL = re.compile(_words(r"may|might|could|possibl[ey]|perhaps|maybe|question\w*"))


def hedge_grade(cue: str | None, before: str = "") -> str:
    """``"probable"`` (the report favours the finding: "likely", "suggestive of", "concerning for",
    "borderline"; or names it as one of stated alternatives: "atelectasis or scarring") or ``"possible"``
    (it only keeps it open: "may", "versus", "cannot be excluded", "unlikely", and a favouring cue under a
    modal: "may be compatible with", "may represent atelectasis or scarring"). ``before``: the clause
    before the mention. An uncertain mention without a cue is uncertain by vocabulary (CheXpert's
    "vascular congestion" for Edema): a stated finding, graded probable."""
    if not cue:
        return "probable"
    if not _PROBABLE_CUE.fullmatch(cue.lower().strip()):
        return "possible"
    return "possible" if _MODAL.search(_mask_pseudo(before.lower())) else "probable"


def _last(pattern: re.Pattern, text: str) -> str | None:
    found = None
    for m in pattern.finditer(text):
        found = m.group(0)
    return found


def _mask_pseudo(text: str) -> str:
    return _PSEUDO.sub(lambda m: "_" * len(m.group(0)), text)


def status_of(base: str, before: str, inner: str, after: str) -> tuple[str, str | None]:
    """Status of a match from its clause context (CheXpert precedence)."""
    before_m = _mask_pseudo(before)
    inner_m = _mask_pseudo(inner)
    cue = _last(_PRE_UNC_FIRST, before_m + " " + inner_m)
    if cue:
        return UNC, cue
    m = _POST_UNC_FIRST.match(after)
    if m:
        return UNC, m.group(0).strip(" ,")
    if base == NEG:
        return NEG, None
    cue = _last(_PRE_NEG, before_m) or _last(_PRE_NEG, inner_m) or _last(_PRE_NEG_NEAR, before_m)
    if cue:
        return NEG, cue
    m = _POST_NEG.match(after)
    if m:
        return NEG, m.group(0).strip(" ,")
    cue = _last(_PRE_UNC, before_m) or _last(_PRE_UNC, inner_m)
    if cue:
        return UNC, cue
    m = _POST_UNC.match(after)
    if m:
        return UNC, m.group(0).strip(" ,")
    return base, None


# --- the labeler ---------------------------------------------------------------------------------


# --- literal pre-filter --------------------------------------------------------------------------
# Most clauses name one or two conditions, yet every condition's alternation used to be scanned over
# every clause (~0.3 ms per sentence). Each pattern has a set of literal "factors" derived from its
# parse tree such that every match contains at least one of them; a condition whose factors are all
# absent from a clause cannot match it, so its regexes are skipped. Necessary-condition only: labels
# and mentions are exactly what the full scan gives.

_LIT = _sre_parse.LITERAL


def _best(cands: list[frozenset]) -> frozenset | None:
    # Longest shortest factor first (fewest false alarms), then fewest factors.
    return max(cands, key=lambda c: (min(map(len, c)), -len(c)), default=None)


def _factors(seq) -> frozenset | None:
    """Literal strings one of which every match of the parsed sequence contains (None: unknown)."""
    cands: list[frozenset] = []
    run: list[str] = []
    for op, av in seq:
        if op is _LIT:
            run.append(chr(av))
            continue
        if run:
            cands.append(frozenset(["".join(run)]))
            run = []
        sub: frozenset | None = None
        if op is _sre_parse.SUBPATTERN:
            _group, add_flags, _del_flags, p = av
            if not add_flags & (re.IGNORECASE | re.VERBOSE):
                sub = _factors(p)
        elif op is _sre_parse.BRANCH:
            alts = [_factors(p) for p in av[1]]
            if all(a is not None for a in alts):
                sub = frozenset().union(*(a for a in alts if a is not None))
        elif op in (_sre_parse.MAX_REPEAT, _sre_parse.MIN_REPEAT) and av[0] >= 1:
            sub = _factors(av[2])
        if sub:  # an empty set would claim "never matches": treat as unknown
            cands.append(sub)
    if run:
        cands.append(frozenset(["".join(run)]))
    return _best(cands)


def _pattern_factors(pattern: re.Pattern) -> frozenset | None:
    if pattern.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    return _factors(_sre_parse.parse(pattern.pattern, pattern.flags))


def _prefilter(patterns: list[re.Pattern]) -> tuple[str, ...] | None:
    """Factors of a condition's patterns together, or None when one pattern has none (always run)."""
    out: set[str] = set()
    for pat in patterns:
        f = _pattern_factors(pat)
        if f is None:
            return None
        out |= f
    # a factor containing a shorter one is redundant: the shorter one is present whenever it is
    return tuple(sorted(f for f in out if not any(g != f and g in f for g in out)))


def _may_match(clause: str, factors: tuple[str, ...] | None) -> bool:
    if factors is None:
        return True
    for f in factors:
        if f in clause:
            return True
    return False


class _Compiled:
    def __init__(self) -> None:
        self.conditions: list[tuple[str, list[tuple[str, re.Pattern]], re.Pattern | None, tuple[str, ...] | None]] = []
        for cond in CONDITIONS[:-1]:
            entry = VOCAB[cond]
            pats = [(st, p) for st in (POS, UNC, NEG) if (p := _alt(entry[st])) is not None]
            self.conditions.append((cond, pats, _alt(entry["exclude"]), _prefilter([p for _, p in pats])))
        other = _alt(OTHER_FINDINGS)
        assert other is not None  # OTHER_FINDINGS is a fixed, non-empty list
        self.other = other
        self.other_factors = _prefilter([self.other])
        self.heart_failure = re.compile(_words(r"chf|congestive\s+heart\s+failure|heart\s+failure|cardiac\s+failure"))


@lru_cache(maxsize=1)
def _compiled() -> _Compiled:
    return _Compiled()


def _find(low: str, a: int, b: int, pats: list[tuple[str, re.Pattern]], exclude: re.Pattern | None):
    """Non-overlapping matches in low[a:b], left to right, shortest first at one start."""
    found = []
    for status, pat in pats:
        # The descriptor gaps are lazy, so an organ binds to its nearest adjective.
        for m in pat.finditer(low, a, b):
            found.append((m.start(), m.end(), status))
    if exclude is not None and found:
        ex = [(m.start(), m.end()) for m in exclude.finditer(low, a, b)]
        if ex:
            found = [f for f in found if not any(f[0] < e1 and e0 < f[1] for e0, e1 in ex)]
    negs = [f for f in found if f[2] == NEG]
    if negs:
        # "stable and within normal limits": the normal descriptor wins over the "stable" one
        found = [f for f in found if f[2] != UNC or not any(f[0] < n[1] and n[0] < f[1] for n in negs)]
    found.sort(key=lambda f: (f[0], f[1] - f[0]))
    out, last_end = [], -1
    for s, e, st in found:
        if s >= last_end:
            out.append((s, e, st))
            last_end = e
    return out


@lru_cache(maxsize=200_000)
def clause_mentions(
    clause: str, include_other: bool, include_devices: bool = True
) -> tuple[tuple[str, str, int, int, str | None], ...]:
    """(condition, status, start, end, cue) for one lower-cased clause; clauses repeat a lot across
    reports ("the lungs are clear"), so this is memoised. ``include_devices=False`` leaves out Support
    Devices (the error counter reads devices by type itself; their 60 literal factors are the costliest
    pre-filter)."""
    comp = _compiled()
    n = len(clause)
    out = []
    for cond, pats, exclude, factors in comp.conditions:
        if not include_devices and cond == "Support Devices":
            continue
        if not _may_match(clause, factors):
            continue  # no match possible (literal pre-filter above)
        for s, e, base in _find(clause, 0, n, pats, exclude):
            status, cue = status_of(base, clause[:s], clause[s:e], clause[e:])
            out.append((cond, status, s, e, cue))
            if cond == "Edema" and status != NEG and comp.heart_failure.fullmatch(clause[s:e]):
                # CheXpert: "chf"/"heart failure" also make Cardiomegaly uncertain.
                out.append(("Cardiomegaly", UNC, s, e, "heart failure"))
    if include_other and _may_match(clause, comp.other_factors):
        for s, e, base in _find(clause, 0, n, [(POS, comp.other)], None):
            status, cue = status_of(base, clause[:s], clause[s:e], clause[e:])
            out.append(("Other", status, s, e, cue))
    return tuple(out)


class RuleLabeler:
    """Rule-based CheXpert labeler: ``label(texts) -> (n, 14)`` and ``mentions(text)``."""

    name = "rules"

    def __init__(self, hedges: str = "chexpert") -> None:
        """``hedges``: ``"chexpert"`` (every hedged mention is uncertain, -1, as CheXpert labels it) or
        ``"graded"`` (a probable hedge counts as positive and a merely possible one as negative, see
        :func:`hedge_grade`; uncertainty by vocabulary stays -1). Graded labels read a report the way an
        indexer of stated and favoured findings does (the IU MeSH coding); as a reward they still pay for
        hedging a finding the reference rules out (docs/conditions.md, "Graded hedges")."""
        self.hedges = check_hedges(hedges)
        _compiled()

    def signature(self) -> str:
        graded = "|hedges:graded" if self.hedges == "graded" else ""
        return f"labeler:rules|rules:v{RULES_VERSION}{graded}|norm:collapse-ws|empty:blank|rexeval:{__version__}"

    def options(self) -> dict:
        return {"labeler": "rules", "rules": f"v{RULES_VERSION}", "hedges": self.hedges, "empty": "blank"}

    # -- mentions --

    def mentions(self, text: str, *, include_other: bool = False) -> list[Mention]:
        """Every condition mention in ``text`` (spans refer to :func:`normalise`'d text).

        With ``include_other=True`` the abnormalities outside the 13 conditions (condition
        ``"Other"``) that decide "No Finding" are included too.
        """
        if not isinstance(text, str):
            raise TypeError(f"report text must be a string, not {type(text).__name__}")
        norm = normalise(text)[:MAX_CHARS]
        low = lower_same_length(norm)
        out: list[Mention] = []
        for si, (sa, sb) in enumerate(_sentences(low)):
            sentence = norm[sa:sb]
            for ca, cb in split_clauses(low, sa, sb):
                for cond, status, s, e, cue in clause_mentions(low[ca:cb], include_other):
                    grade = hedge_grade(cue, low[ca : ca + s]) if status == UNC else None
                    out.append(Mention(cond, status, sentence, ca + s, ca + e, norm[ca + s : ca + e], sa, sb, si, cue, grade))
        return out

    # -- labels --

    def label_one(self, text: str) -> np.ndarray:
        row = np.full(len(CONDITIONS), np.nan)
        if not isinstance(text, str):
            raise TypeError(f"report text must be a string, not {type(text).__name__}")
        if not text.strip():
            return row  # empty report: no labels at all (module docstring)
        statuses: dict[str, set[str]] = {}
        finding = False
        for m in self.mentions(text, include_other=True):
            if m.status in (POS, UNC) and m.condition != "Support Devices":
                finding = True
            if m.condition != "Other":
                status = m.status
                if status == UNC and self.hedges == "graded" and m.cue:
                    status = POS if m.certainty == "probable" else NEG
                statuses.setdefault(m.condition, set()).add(status)
        for i, cond in enumerate(CONDITIONS[:-1]):
            st = statuses.get(cond)
            if not st:
                continue
            # CheXpert's conflict rule: 1 beats -1 beats 0.
            row[i] = 1.0 if POS in st else (-1.0 if UNC in st else 0.0)
        if not finding:
            row[-1] = 1.0
        return row

    def label(self, texts: list[str]) -> np.ndarray:
        """(n, 14) float labels in CONDITIONS order: 1, 0, -1, NaN (blank). Same text, same row."""
        texts = list(texts)
        out = np.full((len(texts), len(CONDITIONS)), np.nan)
        seen: dict[str, np.ndarray] = {}
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"report {i}: text must be a string, not {type(t).__name__}")
            if t not in seen:
                seen[t] = self.label_one(t)
            out[i] = seen[t]
        return out
