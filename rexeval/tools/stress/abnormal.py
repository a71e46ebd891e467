"""Seeded realistic abnormal findings and derived abnormal bases for the stress suite.

Most IU references are normal, and an edit of a normal report does not look like the errors a model makes on
a sick patient. The generator writes abnormal sentences from the lexicon (:mod:`.lexicon`): findings with a
side, a zone, a grade, a size and sometimes a temporal status; devices with a tip where they belong. A
*derived abnormal base* is an IU reference with 1-3 such sentences added (a finding it negated is first taken
out of its negation, so the base never contradicts itself; "The lungs are clear." becomes "The lungs are
otherwise clear."; a "no acute cardiopulmonary ..." sentence is dropped). Derived bases are marked as such
everywhere (base = "derived", id ``<ref>+abn``).
"""

from __future__ import annotations

import random
import re

from rexeval.tools.stress import lexicon as lx
from rexeval.tools.stress.scan import cap, join, remove_member, scan, split_sentences

_ORDINALS = ("fourth", "fifth", "sixth", "seventh", "eighth", "ninth")


def _side(rng: random.Random) -> str:
    return rng.choice(("left", "right"))


def _temporal(rng: random.Random) -> tuple[str, str]:
    """(prefix word, suffix clause): at most one is set, about 40% of findings get a status."""
    roll = rng.random()
    if roll < 0.15:
        return "new ", ""
    if roll < 0.25:
        return "", ", increased since the prior examination"
    if roll < 0.35:
        return "", ", unchanged from the prior examination"
    if roll < 0.40:
        return "", ", decreased since the prior examination"
    return "", ""


def finding_sentence(kind: str, rng: random.Random) -> str:
    """One realistic sentence asserting a major finding of the lexicon (side, zone, grade, size, status)."""
    pre, post = _temporal(rng)
    side = _side(rng)
    zone = rng.choice(tuple(z for z in lx.LUNG_ZONES if "middle" not in z))
    if kind == "effusion":
        sev = rng.choice(("small", "moderate", "large"))
        if rng.random() < 0.2:
            return cap(f"{pre}{sev} bilateral pleural effusions{post}.")
        return rng.choice(
            (
                f"There is a {pre}{sev} {side} pleural effusion{post}.",
                cap(f"{pre}{sev} {side} pleural effusion{post}."),
            )
        )
    if kind == "pneumothorax":
        if rng.random() < 0.35:
            return f"There is a {pre}{side} apical pneumothorax measuring {rng.choice((1.5, 2, 2.5, 3)):g} cm{post}."
        return f"There is a {pre}{rng.choice(('small', 'moderate', 'large'))} {side} pneumothorax{post}."
    if kind == "consolidation":
        return cap(
            f"{rng.choice(('focal', 'patchy', 'dense'))} {pre}consolidation in the {zone}{post}."
        )
    if kind == "pneumonia":
        return rng.choice(
            (
                f"Findings are consistent with {pre}{zone} pneumonia{post}.",
                f"There is {pre}{zone} pneumonia{post}.",
            )
        )
    if kind == "edema":
        sev = rng.choice(("mild", "moderate", "severe"))
        return rng.choice(
            (
                f"There is {pre}{sev} pulmonary edema{post}.",
                cap(f"{sev} {pre}interstitial pulmonary edema{post}."),
            )
        )
    if kind == "cardiomegaly":
        sev = rng.choice(("mild", "moderate", "severe"))
        return rng.choice(
            (f"There is {pre}{sev} cardiomegaly{post}.", cap(f"{sev} cardiomegaly{post}."))
        )
    if kind == "nodule":
        size = rng.choice(("6 mm", "8 mm", "10 mm", "12 mm", "15 mm", "1.2 cm", "1.8 cm"))
        return f"There is a {pre}{size} nodule in the {zone}{post}."
    if kind == "mass":
        return f"There is a {pre}{rng.choice((3, 3.5, 4, 5, 6)):g} cm mass in the {zone}{post}."
    if kind == "lobar_atelectasis":
        lobe = zone if zone != "lingula" else "left lower lobe"
        return rng.choice(
            (f"There is {pre}collapse of the {lobe}{post}.", cap(f"{pre}{lobe} collapse{post}."))
        )
    if kind == "fracture":
        return rng.choice(
            (
                f"There is an acute fracture of the {side} {rng.choice(_ORDINALS)} rib.",
                cap(f"acute {side} {rng.choice(_ORDINALS)} rib fracture."),
            )
        )
    raise ValueError(f"no template for finding {kind!r}")


def device_sentence(kind: str, rng: random.Random) -> str:
    """One sentence describing a major device where it belongs (so that a malposition edit can move it)."""
    side = _side(rng)
    if kind == "ett":
        return f"An endotracheal tube terminates {rng.choice((3, 4, 5, 6))} cm above the carina."
    if kind == "enteric":
        return rng.choice(
            (
                "A nasogastric tube terminates in the stomach.",
                "An enteric tube courses below the diaphragm.",
                "A feeding tube terminates in the stomach.",
            )
        )
    if kind == "cvc":
        where = rng.choice(
            (
                "in the superior vena cava",
                "in the lower superior vena cava",
                "at the cavoatrial junction",
            )
        )
        how = rng.choice(
            ("internal jugular central venous catheter", "subclavian central venous catheter")
        )
        return f"A {side} {how} terminates {where}."
    if kind == "picc":
        return f"A {side} upper extremity PICC terminates {rng.choice(('in the superior vena cava', 'at the cavoatrial junction'))}."
    if kind == "port":
        return f"A {side} chest wall port catheter terminates {rng.choice(('in the superior vena cava', 'at the cavoatrial junction'))}."
    if kind == "chest_tube":
        return f"A {side} chest tube is in place with its tip at the lung apex."
    if kind == "pacemaker":
        return f"A {side} chest wall pacemaker has leads terminating in the right atrium and right ventricle."
    if kind == "swan":
        return "A Swan-Ganz catheter terminates in the main pulmonary artery."
    raise ValueError(f"no template for device {kind!r}")


_NO_ACUTE = re.compile(
    r"\b(?:no acute cardiopulmonary|normal chest|no active disease|no acute disease|"
    r"no acute abnormality|no acute findings?)\b",
    re.I,
)
_LUNGS_CLEAR = re.compile(r"\b(lungs? (?:are|is|appear|remain)) (clear)\b", re.I)
_LUNG_KINDS = {"consolidation", "pneumonia", "nodule", "mass", "lobar_atelectasis", "edema"}


def _unnegate(sentences: list[str], kind: str) -> list[str] | None:
    """The sentences with every negated mention of ``kind`` taken out of its negation (None: not possible)."""
    for _ in range(4):
        mentions = [m for m in scan(sentences) if m.kind == kind and not m.device]
        if any(m.status in ("positive", "hedged", "other") for m in mentions):
            return None
        negated = [m for m in mentions if m.status == "negated"]
        if not negated:
            return sentences
        m = negated[0]
        assert m.scope is not None  # a negated mention carries its scope
        new = remove_member(sentences[m.sent], m.scope, m.start)
        if new is None:
            return None
        sentences = sentences[: m.sent] + ([new] if new else []) + sentences[m.sent + 1 :]
    return None


def abnormal_base(text: str, rng: random.Random) -> tuple[str, str] | None:
    """An abnormal version of a reference: 1-3 generated findings/devices added (detail says which)."""
    sentences = [s for s in split_sentences(text) if not _NO_ACUTE.search(s)]
    n = rng.choice((1, 2, 3))
    added: list[str] = []
    finding_kinds = list(lx.GENERATED_FINDINGS)
    device_kinds = list(lx.GENERATED_DEVICES)
    rng.shuffle(finding_kinds)
    rng.shuffle(device_kinds)
    for _ in range(n):
        current = join(sentences)
        if rng.random() < 0.45 and device_kinds:
            kind = device_kinds.pop()
            if lx.DEVICES[kind].pattern.search(current):
                continue
            sentence = device_sentence(kind, rng)
        else:
            while finding_kinds:
                kind = finding_kinds.pop()
                f = lx.FINDINGS[kind]
                broad = (
                    re.compile(r"\b(?:" + "|".join(f.mentions) + r")\b", re.I)
                    if f.mentions
                    else None
                )
                if broad is not None and broad.search(current):
                    continue
                unneg = _unnegate(sentences, kind)
                if unneg is not None:
                    sentences = unneg
                    break
            else:
                continue
            sentence = finding_sentence(kind, rng)
            if kind in _LUNG_KINDS:
                sentences = [_LUNGS_CLEAR.sub(r"\1 otherwise \2", s) for s in sentences]
        at = rng.randint(0, len(sentences))
        sentences = sentences[:at] + [sentence] + sentences[at:]
        added.append(kind)
    if not added:
        return None
    return join(sentences), "derived: added " + ", ".join(added)
