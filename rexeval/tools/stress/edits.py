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
from collections.abc import Sequence

from rexeval.tools.stress import lexicon as lx
from rexeval.tools.stress.scan import (  # noqa: F401 (split_sentences is re-exported)
    Edit,
    EditFn,
    Mention,
    cap,
    join,
    keep_case,
    kind_of,
    list_items,
    negation_scopes,
    remove_member,
    scan,
    scan_sentence,
    significant_positive,
    split_sentences,
    swap_word,
)

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
        assert m.scope is not None  # a negated mention carries its scope
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
            and significant_positive(m, sentences)
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
            assert m.scope is not None  # asserted mentions are negated ones
            new = remove_member(s, m.scope, m.start)
            if new is None:
                continue
            in_list = len(list_items(s, m.scope)) > 1
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
            if not m.device and significant_positive(m, sentences) and kind_of(m) not in avoid
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
            significant_positive(m, sentences)
            for m in mentions
            if m.kind == kind and m.sent in idx
        ):
            continue
        out = join([s for i, s in enumerate(sentences) if i not in idx])
        return Edit(
            out,
            f"{kind}: {len(idx)} sentence(s) removed",
            (kind_of(next(m for m in mentions if m.kind == kind)),),
        )
    return None


def _insert(sentences: list[str], sentence: str, rng: random.Random) -> str:
    at = rng.randint(0, len(sentences))
    return join(sentences[:at] + [sentence] + sentences[at:])


def false_finding(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """Insert a generated sentence asserting a major finding the report does not mention."""
    from rexeval.tools.stress.abnormal import finding_sentence

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
            or not significant_positive(m, sentences)
            or kind_of(m) in avoid
        ):
            continue
        s = sentences[m.sent]
        scopes, _ = negation_scopes(s)
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
    return Edit(join(sentences), f"{kind_of(m)}: {w.group(1)} -> {new}", (kind_of(m),))


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
    return Edit(join(sentences), f"{kind_of(m)}: {w.group(0)} -> {new}", (kind_of(m),))


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
    return Edit(join(sentences), f"{kind_of(m)}: {w.group(0)} -> {new}", (kind_of(m),))


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
        return Edit(join(sentences), f"{kind_of(m)}: {w.group(0)} -> {new}", (kind_of(m),))
    bare = [
        m
        for m in mentions
        if not m.device
        and significant_positive(m, sentences)
        and kind_of(m) not in avoid
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
    return Edit(out, f"{kind_of(m)}: status {status} added ({added!r})", (kind_of(m),))


def device_inserted(text: str, rng: random.Random, avoid: frozenset = frozenset()) -> Edit | None:
    """Insert a generated line/tube/pacemaker sentence of a device type the report does not mention."""
    from rexeval.tools.stress.abnormal import device_sentence

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
            if m.device and significant_positive(m, sentences) and m.kind not in avoid
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
            or not significant_positive(m, sentences)
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
    forms: Sequence[str]
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
        scopes, pseudo = negation_scopes(s)
        if pseudo or "XXXX" in s or len(scopes) != 1:
            continue
        cue, a, b = scopes[0]
        items = list_items(s, (a, b))
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
