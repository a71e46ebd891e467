"""Seeded rule-based edits of a report, located with the stress suite's own lexicon (:mod:`.lexicon`).

Clinical edits are each meant to be one clinically significant error as the counting spec defines it (a major
finding or device, stated definitely, changed in presence, side, grade >= 2 steps, size >= 1.5x, temporal
status, or tip position). Meaning-preserving edits change words, not findings. An edit that finds nothing to
change returns None (not applicable); nothing is invented to fill a cell. No labeler decides what an edit did:
the lexicon locates findings, NegEx-style triggers their negation, and each edit says what it changed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from rexeval.stress import lexicon as lx

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


def _scopes(s: str) -> tuple[list[tuple[int, int, int]], bool]:
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
    scopes, pseudo = _scopes(s)
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


def _significant_positive(m: Mention, sentences: list[str]) -> bool:
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


def _kind_of(m: Mention) -> str:
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


def _items(s: str, scope: tuple[int, int]) -> list[tuple[int, int]]:
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
    items = _items(s, scope)
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


# ----------------------------------------------------------------------------------- clinical edits

ASSERT = {
    "effusion": "There is a pleural effusion.",
    "pneumothorax": "There is a pneumothorax.",
    "consolidation": "There is focal consolidation.",
    "pneumonia": "There is pneumonia.",
    "edema": "There is pulmonary edema.",
    "cardiomegaly": "There is cardiomegaly.",
    "nodule": "There is a pulmonary nodule.",
    "mass": "There is a lung mass.",
    "fracture": "There is a rib fracture.",
    "pneumoperitoneum": "There is pneumoperitoneum.",
}


def _negated_candidates(
    sentences: list[str], mentions: list[Mention], avoid: frozenset
) -> list[Mention]:
    out = []
    for m in mentions:
        if m.status != "negated" or m.device or m.kind not in ASSERT or m.kind in avoid:
            continue
        s = sentences[m.sent]
        if "XXXX" in s[m.scope[0] : m.end] or re.search(
            r"\b(?:large|significant|sizable|new)\b", s[m.scope[0] : m.end], re.I
        ):
            continue  # "no large effusion" does not deny a small one; "XXXX" hides what was negated
        out.append(m)
    return out


def _replace_sentence(sentences: list[str], i: int, new: list[str]) -> str:
    return join(sentences[:i] + new + sentences[i + 1 :])


def negation_flip(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """Assert a negated major finding (also one member of "no X or Y") or deny a definite positive one."""
    sentences = split_sentences(text)
    mentions = scan(sentences)
    options: list[tuple[str, Mention]] = [
        ("assert", m) for m in _negated_candidates(sentences, mentions, avoid)
    ]
    positive_kinds = sorted(
        {
            m.kind
            for m in mentions
            if not m.device
            and m.kind in ASSERT
            and _significant_positive(m, sentences)
            and m.kind not in avoid
        }
    )
    options += [
        ("deny", next(m for m in mentions if m.kind == k and not m.device)) for k in positive_kinds
    ]
    rng.shuffle(options)
    for action, m in options:
        if action == "assert":
            s = sentences[m.sent]
            new = remove_member(s, m.scope, m.start)
            if new is None:
                continue
            in_list = len(_items(s, m.scope)) > 1
            out = _replace_sentence(sentences, m.sent, [x for x in (new, ASSERT[m.kind]) if x])
            return Edit(
                out,
                f"{m.kind}: negated -> asserted{' (list member)' if in_list else ''}",
                (m.kind,),
            )
        denied = _deny(sentences, mentions, m.kind)
        if denied is not None:
            return Edit(denied, f"{m.kind}: asserted -> negated", (m.kind,))
    return None


def _deny(sentences: list[str], mentions: list[Mention], kind: str) -> str | None:
    """Every sentence asserting ``kind`` replaced by "No <finding>." when it asserts nothing else major."""
    idx = sorted(
        {
            m.sent
            for m in mentions
            if m.kind == kind and not m.device and m.status in ("positive", "hedged")
        }
    )
    out = list(sentences)
    for i in idx:
        others = [
            m
            for m in mentions
            if m.sent == i and m.major and m.kind != kind and m.status != "negated"
        ]
        if others:
            return None
        out[i] = f"No {lx.FINDINGS[kind].noun}."
    return join(out) if idx else None


def omission(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """Drop the sentences asserting one definite major finding (when they assert nothing else major)."""
    sentences = split_sentences(text)
    mentions = scan(sentences)
    kinds = sorted(
        {
            m.kind
            for m in mentions
            if not m.device and _significant_positive(m, sentences) and _kind_of(m) not in avoid
        }
    )
    rng.shuffle(kinds)
    for kind in kinds:
        idx = {
            m.sent
            for m in mentions
            if m.kind == kind and not m.device and m.status in ("positive", "hedged")
        }
        if any(
            m.sent in idx and m.major and m.kind != kind and m.status != "negated" for m in mentions
        ):
            continue
        if kind == "atelectasis" and not all(
            _significant_positive(m, sentences)
            for m in mentions
            if m.kind == kind and m.sent in idx
        ):
            continue
        out = join([s for i, s in enumerate(sentences) if i not in idx])
        return Edit(
            out,
            f"{kind}: {len(idx)} sentence(s) removed",
            (_kind_of(next(m for m in mentions if m.kind == kind)),),
        )
    return None


def _insert(sentences: list[str], sentence: str, rng: random.Random) -> str:
    at = rng.randint(0, len(sentences))
    return join(sentences[:at] + [sentence] + sentences[at:])


def false_finding(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """Insert a generated sentence asserting a major finding the report does not mention."""
    from rexeval.stress.abnormal import finding_sentence

    kinds = [
        k
        for k in lx.GENERATED_FINDINGS
        if k not in avoid and not lx.FINDINGS[k].mention_pattern.search(text)
    ]
    if not kinds:
        return None
    kind = rng.choice(kinds)
    sentence = finding_sentence(kind, rng)
    return Edit(
        _insert(split_sentences(text), sentence, rng), f"{kind}: inserted {sentence!r}", (kind,)
    )


def _sites_near_positive(
    sentences: list[str],
    mentions: list[Mention],
    pattern: re.Pattern,
    avoid: frozenset,
    window: int = 40,
    devices: bool = False,
) -> list[tuple[int, re.Match, Mention]]:
    """Matches of ``pattern`` within ``window`` chars of a significant positive finding (or device), outside
    any negation scope."""
    sites = []
    for m in mentions:
        if (
            (m.device and not devices)
            or not _significant_positive(m, sentences)
            or _kind_of(m) in avoid
        ):
            continue
        s = sentences[m.sent]
        scopes, _ = _scopes(s)
        for w in pattern.finditer(s):
            if any(a <= w.start() < b for _c, a, b in scopes):
                continue
            if w.end() >= m.start - window and w.start() <= m.end + window:
                sites.append((m.sent, w, m))
    return sites


def laterality_swap(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """Swap the side (left <-> right) of a definite major finding or device."""
    sentences = split_sentences(text)
    mentions = scan(sentences)
    sites = [
        (i, w, m)
        for i, w, m in _sites_near_positive(sentences, mentions, lx.SIDE_RE, avoid, 60, True)
        if not lx.FIXED_ANATOMY_RE.match(sentences[i], w.end())
        and not (
            re.search(r"\bleft\b", sentences[i], re.I)
            and re.search(r"\bright\b", sentences[i], re.I)
        )
        and not re.search(r"\b(?:bilateral|bilaterally|bibasilar|both)\b", sentences[i], re.I)
    ]
    if not sites:
        return None
    i, w, m = rng.choice(sites)
    s = sentences[i]
    new = keep_case(w.group(1), lx.SIDES[w.group(1).lower()])
    sentences[i] = swap_word(s, w.start(), w.end(), new)
    return Edit(join(sentences), f"{_kind_of(m)}: {w.group(1)} -> {new}", (_kind_of(m),))


def _modifies(s: str, w: re.Match, m: Mention) -> bool:
    """A grade word that modifies the finding: before it, at most three words between, no list break."""
    between = s[w.end() : m.start]
    return (
        w.end() <= m.start
        and len(between.split()) <= 3
        and not re.search(r"[,;]|\b(?:and|with|or)\b", between, re.I)
    )


def severity_change(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """Change the grade of a definite major finding by >= 2 steps (small <-> large, mild <-> severe)."""
    sentences = split_sentences(text)
    mentions = scan(sentences)
    sites = [
        (i, w, m)
        for i, w, m in _sites_near_positive(sentences, mentions, lx.SEVERITY_RE, avoid, 30)
        if _modifies(sentences[i], w, m)
    ]
    if not sites:
        return None
    i, w, m = rng.choice(sites)
    s = sentences[i]
    new = keep_case(w.group(0), lx.SEVERITY_SWAP[w.group(0).lower()])
    sentences[i] = swap_word(s, w.start(), w.end(), new)
    return Edit(join(sentences), f"{_kind_of(m)}: {w.group(0)} -> {new}", (_kind_of(m),))


def _scaled(match: re.Match, factor: float) -> str:
    return re.sub(r"\d+(?:\.\d+)?", lambda n: f"{float(n.group(0)) * factor:g}", match.group(0))


def measurement_change(
    text: str, rng: random.Random, avoid: frozenset = frozenset()
) -> Edit | None:
    """Multiply the size of a definite major finding by 2 or 3, or halve it (a change >= 50 %)."""
    sentences = split_sentences(text)
    mentions = scan(sentences)
    sites = [
        (i, w, m)
        for i, w, m in _sites_near_positive(sentences, mentions, lx.MEASURE_RE, avoid, 60)
        if not lx.DISTANCE_AFTER_RE.match(sentences[i], w.end())
    ]
    if not sites:
        return None
    i, w, m = rng.choice(sites)
    factor = rng.choice((2.0, 3.0, 0.5))
    s = sentences[i]
    new = _scaled(w, factor)
    sentences[i] = swap_word(s, w.start(), w.end(), new)
    return Edit(join(sentences), f"{_kind_of(m)}: {w.group(0)} -> {new}", (_kind_of(m),))


def temporal_change(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """Change the temporal status of a definite major finding (new <-> unchanged, increased <-> decreased),
    or give one without a status a new one ("The effusion is new since the prior examination.")."""
    sentences = split_sentences(text)
    mentions = scan(sentences)
    sites = _sites_near_positive(sentences, mentions, lx.TEMPORAL_RE, avoid, 40)
    if sites:
        i, w, m = rng.choice(sites)
        s = sentences[i]
        new = keep_case(w.group(0), lx.TEMPORAL_SWAP[w.group(0).lower()])
        sentences[i] = swap_word(s, w.start(), w.end(), new)
        return Edit(join(sentences), f"{_kind_of(m)}: {w.group(0)} -> {new}", (_kind_of(m),))
    bare = [
        m
        for m in mentions
        if not m.device
        and _significant_positive(m, sentences)
        and _kind_of(m) not in avoid
        and not lx.TEMPORAL_RE.search(sentences[m.sent])
        and not re.search(
            r"\b(?:resolved|prior|previous|since|compared|again)\b", sentences[m.sent], re.I
        )
    ]
    if not bare:
        return None
    m = rng.choice(bare)
    status, template = rng.choice(lx.TEMPORAL_ADDED)
    noun = sentences[m.sent][m.start : m.end].lower()
    plural = bool(re.search(r"(?<!thora)(?<!ss)s$", noun))
    added = template.format(
        noun=noun, **({"is": "are", "has": "have"} if plural else {"is": "is", "has": "has"})
    )
    out = join(sentences[: m.sent + 1] + [added] + sentences[m.sent + 1 :])
    return Edit(out, f"{_kind_of(m)}: status {status} added ({added!r})", (_kind_of(m),))


def device_inserted(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """Insert a generated line/tube/pacemaker sentence of a device type the report does not mention."""
    from rexeval.stress.abnormal import device_sentence

    kinds = [
        k for k in lx.GENERATED_DEVICES if k not in avoid and not lx.DEVICES[k].pattern.search(text)
    ]
    if not kinds:
        return None
    kind = rng.choice(kinds)
    sentence = device_sentence(kind, rng)
    return Edit(
        _insert(split_sentences(text), sentence, rng), f"{kind}: inserted {sentence!r}", (kind,)
    )


def device_removed(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """Drop the sentences describing one major device (when they describe nothing else major)."""
    sentences = split_sentences(text)
    mentions = scan(sentences)
    kinds = sorted(
        {
            m.kind
            for m in mentions
            if m.device and _significant_positive(m, sentences) and m.kind not in avoid
        }
    )
    rng.shuffle(kinds)
    for kind in kinds:
        idx = {m.sent for m in mentions if m.device and m.kind == kind and m.status != "negated"}
        if any(
            m.sent in idx and m.major and m.kind != kind and m.status != "negated" for m in mentions
        ):
            continue
        return Edit(
            join([s for i, s in enumerate(sentences) if i not in idx]),
            f"{kind}: {len(idx)} sentence(s) removed",
            (kind,),
        )
    return None


def device_malpositioned(
    text: str, rng: random.Random, avoid: frozenset = frozenset()
) -> Edit | None:
    """Move a major device's stated tip from where it belongs to a wrong place (CVC in the SVC -> right atrium)."""
    sentences = split_sentences(text)
    mentions = scan(sentences)
    sites = []
    for m in mentions:
        dev = lx.DEVICES.get(m.kind) if m.device else None
        if (
            dev is None
            or dev.tip_pattern is None
            or not _significant_positive(m, sentences)
            or m.kind in avoid
        ):
            continue
        s = sentences[m.sent]
        if re.search(r"\b(?:malposition\w*|coiled|repositioning|retracted)\b", s, re.I):
            continue
        sites += [(m, t) for t in dev.tip_pattern.finditer(s) if t.start() >= m.end]
    if not sites:
        return None
    m, t = rng.choice(sites)
    wrong = rng.choice(lx.DEVICES[m.kind].wrong_tips)
    s = sentences[m.sent]
    sentences[m.sent] = s[: t.start()] + wrong + s[t.end() :]
    return Edit(join(sentences), f"{m.kind}: {t.group(0)!r} -> {wrong!r}", (m.kind,))


# -------------------------------------------------------------------------- meaning-preserving edits

_ANAPHORA = re.compile(
    r"^(?:this|these|it|they|that|those|otherwise|elsewhere|specifically|again|also|"
    r"additionally|however|the remainder|remainder|compared|the (?:\w+ ){0,3}is (?:new|unchanged)"
    r"|the (?:\w+ ){0,3}has (?:increased|decreased))\b",
    re.I,
)


def sentence_reorder(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """A seeded permutation of the sentences; a sentence that refers back ("This was not present...") moves
    with the one before it."""
    blocks: list[list[str]] = []
    for s in split_sentences(text):
        if blocks and _ANAPHORA.match(s):
            blocks[-1].append(s)
        else:
            blocks.append([s])
    if len(blocks) < 2:
        return None
    order = list(range(len(blocks)))
    while order == sorted(order):
        rng.shuffle(order)
    return Edit(
        join([s for i in order for s in blocks[i]]), "block order " + ",".join(map(str, order))
    )


def case_whitespace(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    kind = rng.choice(("upper", "lower", "spacing", "lower+spacing"))
    out = text
    if "upper" in kind:
        out = out.upper()
    if "lower" in kind:
        out = out.lower()
    if "spacing" in kind:
        out = "\n".join(split_sentences(out)).replace(" ", "  ") + "\n"
    return Edit(out, kind) if out != text else None


_SYN_RE = [(re.compile(rf"\b{re.escape(a)}\b", re.I), a, b) for a, b in lx.SYNONYMS]


def synonym_swap(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """One word or phrase replaced by a true synonym (osseous <-> bony, SVC <-> superior vena cava)."""
    sites = [(m, b) for pat, _a, b in _SYN_RE for m in pat.finditer(text)]
    if not sites:
        return None
    m, b = rng.choice(sites)
    new = keep_case(m.group(0), b) if b != "SVC" else b
    return Edit(text[: m.start()] + new + text[m.end() :], f"{m.group(0)!r} -> {new!r}")


_NEG_SENT = re.compile(r"^(?:there (?:is|are) no|no evidence of|no)\s+(?P<x>[^,;]+?)\.?$", re.I)
_NEG_POST = re.compile(r"^(?P<x>[^,;]+?)\s+is not seen\.?$", re.I)


def _single_negated(s: str) -> str | None:
    """The finding words of a sentence that only negates one finding ("No pleural effusion." -> "pleural
    effusion"), else None."""
    m = _NEG_SENT.match(s.strip()) or _NEG_POST.match(s.strip())
    if not m:
        return None
    x = m.group("x")
    if (
        "XXXX" in x
        or lx.LIST_SPLIT_RE.search(x)
        or re.search(
            r"\b(?:new|change|interval|definite|large|significant|sizable|obvious|gross)\b", x, re.I
        )
    ):
        return None
    found = scan_sentence(x)
    if len(found) != 1 or found[0].device or len(x.split()) > 4 or x.lower().endswith("s"):
        return None
    return x


def normal_phrasing(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """A normal statement said another equivalent way ("No pneumothorax." -> "Pneumothorax is not seen.",
    "The lungs are clear." -> "Clear lungs.")."""
    sentences = split_sentences(text)
    sites = []
    for i, s in enumerate(sentences):
        key = s.strip().lower()
        for forms in lx.NORMAL_FORMS:
            if key in {f.lower() for f in forms}:
                sites.append((i, [f for f in forms if f.lower() != key]))
        x = _single_negated(s)
        if x:
            forms = [f.format(x=x.lower(), X=cap(x.lower())) for f in lx.NEGATION_FORMS]
            sites.append((i, [f for f in forms if f.lower().rstrip(".") != key.rstrip(".")]))
    if not sites:
        return None
    i, forms = rng.choice(sites)
    new = rng.choice(forms)
    return Edit(_replace_sentence(sentences, i, [new]), f"{sentences[i]!r} -> {new!r}")


def _unit_text(value_mm: float, unit: str) -> str:
    return f"{value_mm / 10:g} cm" if unit == "cm" else f"{value_mm:g} mm"


def unit_rewrite(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """A measurement written in the other unit (15 mm <-> 1.5 cm), same length."""
    sites = [m for m in lx.MEASURE_RE.finditer(text) if "x" not in m.group(0).lower()]
    if not sites:
        return None
    m = rng.choice(sites)
    mm = float(m.group(1)) * lx.MM_PER[m.group(3).lower()]
    new = _unit_text(mm, "mm" if lx.MM_PER[m.group(3).lower()] == 10.0 else "cm")
    return Edit(text[: m.start()] + new + text[m.end() :], f"{m.group(0)!r} -> {new!r}")


def _agree(tail: str, subject: str) -> str:
    """A list's trailing "is/are seen" made to agree with one member ("effusions are", "pneumothorax is")."""
    plural = bool(re.search(r"(?<!thora)(?<!ss)s$", subject.strip(), re.I))
    return re.sub(r"^\s+(?:is|are)\b", " are" if plural else " is", tail) if tail else ""


def negation_list_rewording(
    text: str, rng: random.Random, avoid: frozenset = frozenset()
) -> Edit | None:
    """ "No effusion or pneumothorax." <-> "No effusion. No pneumothorax." (split a negated list, or join two
    consecutive single negations)."""
    sentences = split_sentences(text)
    sites: list[tuple[str, int, list[str]]] = []
    for i, s in enumerate(sentences):
        scopes, pseudo = _scopes(s)
        if pseudo or "XXXX" in s or len(scopes) != 1:
            continue
        cue, a, b = scopes[0]
        items = _items(s, (a, b))
        if len(items) < 2 or s[b:].strip(" .") or re.search(r"\b(?:is|are)\s+not\b", s, re.I):
            continue
        texts = [s[x:y] for x, y in items]
        tail_m = lx.LIST_TAIL_RE.search(texts[-1])
        tail = tail_m.group(0) if tail_m else ""
        if tail_m:
            texts[-1] = texts[-1][: tail_m.start()]
        if not all(scan_sentence(t) for t in texts):
            continue  # every member must name a finding of the lexicon
        first = s[: items[0][0]] + texts[0] + _agree(tail, texts[0]) + "."
        sites.append(
            ("split", i, [cap(first)] + [cap(f"No {t}{_agree(tail, t)}.") for t in texts[1:]])
        )
    for i in range(len(sentences) - 1):
        x, y = _single_negated(sentences[i]), _single_negated(sentences[i + 1])
        if (
            x
            and y
            and sentences[i].lower().startswith("no ")
            and sentences[i + 1].lower().startswith("no ")
        ):
            sites.append(("join", i, [cap(f"No {x.lower()} or {y.lower()}.")]))
    if not sites:
        return None
    how, i, new = rng.choice(sites)
    span = 2 if how == "join" else 1
    out = join(sentences[:i] + new + sentences[i + span :])
    return Edit(out, f"{how}: {' '.join(sentences[i : i + span])!r} -> {' '.join(new)!r}")


CLINICAL_EDITS: dict[str, EditFn] = {
    "negation_flip": negation_flip,
    "laterality_swap": laterality_swap,
    "omission": omission,
    "false_finding": false_finding,
    "severity_change": severity_change,
    "measurement_change": measurement_change,
    "temporal_change": temporal_change,
    "device_inserted": device_inserted,
    "device_removed": device_removed,
    "device_malpositioned": device_malpositioned,
}
PRESERVING_EDITS: dict[str, EditFn] = {
    "sentence_reorder": sentence_reorder,
    "case_whitespace": case_whitespace,
    "synonym_swap": synonym_swap,
    "normal_phrasing": normal_phrasing,
    "unit_rewrite": unit_rewrite,
    "negation_list_rewording": negation_list_rewording,
}
EDITS: dict[str, EditFn] = {**CLINICAL_EDITS, **PRESERVING_EDITS}
