"""Reading a report with the stress suite's lexicon: sentences, finding and device mentions with their
negation or hedge status, and the small text operations the edits and the abnormal-base generator share."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from rexeval.tools.stress import lexicon as lx

_SENT = re.compile(r"(?<=[.?!])\s+(?=\S)")


def split_sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    return [s for s in _SENT.split(text) if s] if text else []


def join(sentences: list[str]) -> str:
    return " ".join(s.strip() for s in sentences if s.strip())


def cap(s: str) -> str:
    s = " ".join(s.split())
    return s[:1].upper() + s[1:] if s else s


def keep_case(old: str, new: str) -> str:
    if old.isupper() and len(old) > 1:
        return new.upper()
    if old[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


@dataclass(frozen=True)
class Mention:
    sent: int
    start: int
    end: int
    kind: str
    device: bool
    status: str  # positive | negated | hedged | other
    scope: tuple[int, int] | None = None  # the negation scope (negated mentions)

    @property
    def major(self) -> bool:
        return (lx.DEVICES[self.kind] if self.device else lx.FINDINGS[self.kind]).major


def negation_scopes(s: str) -> tuple[list[tuple[int, int, int]], bool]:
    """Negation scopes (cue start, scope start, scope end) of a sentence; and whether it has a pseudo-negation."""
    body_end = len(s.rstrip(" .!?"))
    terms = [m.start() for m in lx.NEG_TERMINATOR_RE.finditer(s)]
    pseudo = bool(lx.PSEUDO_NEGATION_RE.search(s))
    scopes = []
    for cue in lx.PRE_NEGATION_RE.finditer(s):
        end = min([t for t in terms if t >= cue.end()] + [body_end])
        scopes.append((cue.start(), cue.end(), end))
    for post in lx.POST_NEGATION_RE.finditer(s):
        start = max([t for t in terms if t < post.start()] + [0])
        scopes.append((post.start(), start, post.start()))
    return scopes, pseudo


def scan_sentence(s: str, idx: int = 0) -> list[Mention]:
    hits = []
    for key, f in lx.FINDINGS.items():
        hits += [(m.start(), m.end(), key, False) for m in f.pattern.finditer(s)]
    for key, d in lx.DEVICES.items():
        hits += [(m.start(), m.end(), key, True) for m in d.pattern.finditer(s)]
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    kept: list[tuple[int, int, str, bool]] = []
    for h in hits:  # longest match wins where terms overlap ("calcified nodule" over "nodule")
        if not kept or h[0] >= kept[-1][1]:
            kept.append(h)
    scopes, pseudo = negation_scopes(s)
    # "XXXX" (IU de-identification) may hide a hedge or a grade ("XXXX representing", "a XXXX effusion"):
    # a finding in such a sentence is not taken as definite.
    hedged = bool(lx.HEDGE_RE.search(s)) or "XXXX" in s
    other = bool(re.search(r"\b(?:resolved|removed|removal|withdrawn|cleared)\b", s, re.I))
    out = []
    for start, end, key, device in kept:
        scope = next(((a, b) for _c, a, b in scopes if a <= start and end <= b), None)
        if scope is not None:
            status = "other" if pseudo else "negated"
        elif other:
            status = "other"
        elif hedged:
            status = "hedged"
        else:
            status = "positive"
        out.append(Mention(idx, start, end, key, device, status, scope))
    return out


def scan(sentences: list[str]) -> list[Mention]:
    return [m for i, s in enumerate(sentences) for m in scan_sentence(s, i)]


def significant_positive(m: Mention, sentences: list[str]) -> bool:
    """A definite, major, not minimal and not chronic finding or device (the spec's significant presence)."""
    if m.status != "positive":
        return False
    s = sentences[m.sent]
    if m.device:
        return m.major
    if m.kind == "atelectasis":  # lobar, collapse or >= moderate atelectasis is major
        grades = [lx.SEVERITY[w.lower()] for w in lx.SEVERITY_RE.findall(s)]
        lobar = re.search(
            r"\b(?:lobe|lobar|collapse)\b", s, re.I
        ) and not lx.MINOR_EXTENT_RE.search(s)
        if not (lobar or (grades and max(grades) >= 3)):
            return False
    elif not m.major:
        return False
    near = s[max(0, m.start - 30) : m.end + 30]
    if (
        lx.CHRONIC_RE.search(s)
        or re.search(r"\bborderline\b", near, re.I)
        or any(lx.SEVERITY[w.lower()] == 1 for w in lx.SEVERITY_RE.findall(near))
    ):
        return False
    return True


def kind_of(m: Mention) -> str:
    if m.kind == "atelectasis":
        return "lobar_atelectasis"
    return m.kind


@dataclass(frozen=True)
class Edit:
    text: str
    detail: str
    kinds: tuple[
        str, ...
    ] = ()  # the findings/devices it touched (multi-edit reports touch each once)


def swap_word(s: str, start: int, end: int, new: str) -> str:
    """``s`` with s[start:end] replaced by ``new``, and an article just before it agreeing ("a" / "an")."""
    head = s[:start]
    art = re.search(r"\b(a|an)\s+$", head, re.I)
    if art:
        want = "an" if new[:1].lower() in "aeiou" else "a"
        head = (
            head[: art.start()]
            + keep_case(art.group(1), want)
            + head[art.start() + len(art.group(1)) :]
        )
    return head + new + s[end:]


EditFn = Callable[[str, random.Random, frozenset], "Edit | None"]

# ------------------------------------------------------------------------------------- list handling


def list_items(s: str, scope: tuple[int, int]) -> list[tuple[int, int]]:
    """Spans of the list members of a negation scope ("no A, B or C")."""
    a, b = scope
    spans, pos = [], a
    for sep in lx.LIST_SPLIT_RE.finditer(s, a, b):
        if sep.start() > pos:
            spans.append((pos, sep.start()))
        pos = sep.end()
    if pos < b:
        spans.append((pos, b))
    return [(x + len(s[x:y]) - len(s[x:y].lstrip()), y) for x, y in spans if s[x:y].strip()]


def _conjunction(s: str, scope: tuple[int, int]) -> str:
    found = re.findall(r"\b(and|or|nor)\b", s[scope[0] : scope[1]], re.I)
    return found[-1].lower() if found else "or"


def _list_phrase(parts: list[str], conj: str) -> str:
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + f" {conj} " + parts[-1]


def remove_member(s: str, scope: tuple[int, int], at: int) -> str | None:
    """The sentence without the negated list member at char ``at``; "" when nothing negated remains and the
    sentence says nothing else; None when the member cannot be isolated."""
    items = list_items(s, scope)
    which = next((i for i, (x, y) in enumerate(items) if x <= at < y), None)
    if which is None:
        return None
    texts = [s[x:y] for x, y in items]
    tail_m = lx.LIST_TAIL_RE.search(texts[-1])
    tail = tail_m.group(0) if tail_m else ""
    if tail_m:
        texts[-1] = texts[-1][: tail_m.start()]
    rest = [t for i, t in enumerate(texts) if i != which and t.strip()]
    head, foot = s[: items[0][0]], s[scope[1] :]
    if rest:
        return cap(head + _list_phrase(rest, _conjunction(s, scope)) + tail + foot)
    cue = next((c for c in lx.PRE_NEGATION_RE.finditer(s) if c.end() <= items[0][0] + 1), None)
    before = s[: cue.start()].strip(" ,") if cue else ""
    if before and not re.search(r"\b(?:there (?:is|are)|is|are|with|and)$", before, re.I):
        return cap(before + ".")
    return ""
