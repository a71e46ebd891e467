"""Counter v2's counting rules: match the findings of two reports and count A-F, significant or not
(the table in docs/errors.md, "Counting rules of errors_struct v2")."""

from __future__ import annotations

from dataclasses import dataclass

from rexeval.metrics.errors_struct import lexicon as lx
from rexeval.metrics.errors_struct.findings import GLOBAL, NEG, POS, UNC, Summary

#: Parenchymal conditions that an unspecified "opacity" may stand for.
OPACITY_FAMILY = frozenset({"Consolidation", "Pneumonia", "Atelectasis", "Edema", "Lung Lesion"})


@dataclass(frozen=True)
class ErrorItem:
    """One counted error, with the reason (for inspection and tests)."""

    type: str  # A..F
    significant: bool
    key: str  # finding kind ("dev:<type>" for a device), or "*" for the report as a whole
    reason: str


@dataclass
class Report:
    findings: dict[str, Summary]
    temporal: set  # statuses stated of the report as a whole
    statement: bool  # says anything about the chest (empty-report rule)


def name(kind: str) -> str:
    return lx.DEVICE_NAMES.get(kind[4:], kind[4:]) if kind.startswith("dev:") else kind


def major(f: Summary) -> bool:
    if f.device:
        return f.kind[4:] not in lx.MINOR_DEVICES
    if f.kind == "Atelectasis":
        return f.collapse or (f.grade or 0.0) >= 3.0
    return f.kind not in lx.MINOR_KINDS


def _side(s: set) -> str:
    return "bilateral" if len(s) == 2 else (next(iter(s)) if s else "none")


def _carina_mm(tips: set) -> float | None:
    """The stated distance of a tip above the carina (millimetres), if any."""
    dist = [float(t.split("@")[1]) for t in tips if "@" in t]
    return max(dist) if dist else None


def _in_ett_range(mm: float) -> bool:
    lo, hi = lx.ETT_CARINA_MM
    return lo <= mm <= hi


def _tips_differ(r: set, c: set) -> bool:
    if not r or not c:
        return False
    a, b = _carina_mm(r), _carina_mm(c)
    # "N cm above the carina" on both: 2 cm or more apart, or one in the 3-7 cm range and the other not
    if a is not None and b is not None and (abs(a - b) >= lx.CARINA_DIFF_MM or _in_ett_range(a) != _in_ett_range(b)):
        return True
    base = lambda s: {t.split("@")[0] for t in s}  # noqa: E731
    return not (base(r) & base(c))


def malposed(f: Summary, dtype: str) -> bool:
    """A malposition stated in words, or a tip where a device of this type does not belong (lexicon.py);
    an endotracheal tube stated less than 3 or more than 7 cm above the carina."""
    if f.malpos or {t.split("@")[0] for t in f.tips} & lx.MALPOSITIONS.get(dtype, frozenset()):
        return True
    mm = _carina_mm(f.tips)
    return dtype == "ett" and mm is not None and not _in_ett_range(mm)


def _by_side(f: Summary, by_size: bool) -> dict[str, float]:
    """The largest grade (or size) a report gives each side ("" for statements without one)."""
    out: dict[str, float] = {}
    for side, grade, size in f.graded:
        v = size if by_size else grade
        if v is not None:
            out[side] = max(out.get(side, 0.0), v)
    return out


def _larger(values: dict[str, float], by_size: bool) -> str | None:
    """The side with the larger grade (one step or more) or size (as the D rule reads two sizes), if any."""
    if "left" not in values or "right" not in values:
        return None
    lo, hi = sorted((values["left"], values["right"]))
    if hi - lo < 1.0 or by_size and hi < 1.2 * lo:
        return None
    return "left" if values["left"] > values["right"] else "right"


def _larger_side_moved(r: Summary, c: Summary) -> str | None:
    """Rules 2.5: the reference grades (an effusion, a pneumothorax) or measures (a nodule) its two sides
    differently and the candidate puts the larger one on the other side, or gives its grades or sizes with no
    side at all: the side to drain, or to follow up, is lost."""
    for by_size in (False, True) if r.kind in lx.SIZE_DECIDES else (True,):
        big = _larger(_by_side(r, by_size), by_size)
        if big is None:
            continue
        theirs = _by_side(c, by_size)
        what = "size" if by_size else "grade"
        cand_big = _larger(theirs, by_size)
        if cand_big is not None and cand_big != big:
            return f"larger {what} on the {cand_big} vs reference {big}"
        if "" in theirs and "left" not in theirs and "right" not in theirs:
            return f"reference's larger {what} on the {big} given without a side"
    return None


def _where(key: str, r: Summary, c: Summary) -> ErrorItem | None:
    """C: one per finding, the significant reason first."""
    important = major(r) or r.device
    out: list[tuple[bool, str]] = []
    if r.graded and c.graded and not r.device and major(r):
        moved = _larger_side_moved(r, c)
        if moved:
            out.append((True, moved))
    if r.sides and c.sides and r.sides != c.sides:
        out.append((important, f"side {_side(c.sides)} vs reference {_side(r.sides)}"))
    if r.device or c.device:
        if _tips_differ(r.tips, c.tips):
            out.append((True, f"tip {sorted(c.tips)} vs reference {sorted(r.tips)}"))
        # a generic "tube" paired with an endotracheal tube is read as one
        dtype = next((k[4:] for k in (r.kind, c.kind) if k[4:] not in lx.GENERIC_DEVICES), r.kind[4:])
        rm, cm = malposed(r, dtype), malposed(c, dtype)
        if rm != cm:
            out.append((True, "malposition stated by the " + ("reference" if rm else "candidate") + " only"))
    if r.unilateral and not c.sides:  # also two one-sided statements ("right ...", "left ...") merged
        out.append((major(r), f"reference side {_side(r.sides)} not given"))
    elif r.bilateral and not c.sides and not c.spread and not r.spread and r.kind not in lx.DIFFUSE_KINDS:
        # "bilateral effusion" as "effusion": one side or both? ("effusions", "diffuse" say both)
        out.append((major(r), "reference side bilateral not given"))
    lost = (r.sided_lobes & c.bare_lobes) - c.sided_lobes
    if lost and c.sides and not out:  # no side at all is the rule above's
        out.append((major(r), f"side of the {'/'.join(sorted(lost))} lobe not given"))
    if r.zones and c.zones and not (r.zones & c.zones):
        out.append((False, f"zone {'/'.join(sorted(c.zones))} vs reference {'/'.join(sorted(r.zones))}"))
    if not out:
        return None
    out.sort(key=lambda x: not x[0])
    return ErrorItem("C", out[0][0], key, f"{name(key)}: {out[0][1]}")


def _severity(key: str, r: Summary, c: Summary) -> ErrorItem | None:
    """D: grade, size or certainty; one per finding, the significant reason first."""
    out: list[tuple[bool, str]] = []
    if r.grade is not None and c.grade is not None and abs(r.grade - c.grade) >= 1.0:
        out.append((abs(r.grade - c.grade) >= 2.0, f"grade {c.grade:g} vs reference {r.grade:g}"))
    if r.size is not None and c.size is not None:
        lo, hi = sorted((r.size, c.size))
        if hi >= 1.2 * lo and hi - lo >= 1.0:
            out.append((hi >= 1.5 * lo or hi - lo >= 5.0, f"size {c.size:g} mm vs reference {r.size:g} mm"))
    if c.grade is None and c.size is None and (
            (r.grade or 0.0) >= 3.0 or (r.grade or 0.0) >= 2.0 and r.kind in lx.SIZE_DECIDES):
        # a small effusion or pneumothorax is watched, a larger one may be drained: its grade is acted upon
        out.append((major(r), f"reference grade {r.grade:g} not given"))
    if r.size is not None and c.size is None and c.grade is None:  # a size decides follow-up (Fleischner)
        out.append((major(r), f"reference size {r.size:g} mm not given"))
    if r.presence == POS and c.presence == UNC:
        out.append((major(r), "definite in the reference, hedged by the candidate"))
    elif r.presence == UNC and c.presence == POS:
        out.append((False, "hedged in the reference, definite in the candidate"))
    if not out:
        return None
    out.sort(key=lambda x: not x[0])
    return ErrorItem("D", out[0][0], key, f"{name(key)}: {out[0][1]}")


def _covers(spot: tuple, site: tuple) -> bool:
    """Whether a candidate's statement (sides, zones) can be the reference's at ``site``: no side or zone
    said on either, or the same side and zone (one side or zone in common)."""
    return all(not a or not b or bool(set(a) & set(b)) for a, b in zip(spot, site))


def _family_spots(key: str, f: Summary, findings: dict) -> set:
    """The sited statements of a finding and, for an opacity, of every present kind of its family."""
    spots = set(f.spots)
    if key == "Lung Opacity" or key in OPACITY_FAMILY:
        for k in (*OPACITY_FAMILY, "Lung Opacity"):
            if k in findings and findings[k].present:
                spots |= findings[k].spots
    return {p for p in spots if p[0] or p[1]}


def _site_missed(key: str, r: Summary, c: Summary, rf: dict, cf: dict) -> ErrorItem | None:
    """B (rules 2.3): a sited statement of the reference (definite or a possibility, not minimal, not chronic)
    that no sited statement of the candidate can be, while each of the candidate's is one of the reference's: a
    second opacity left out or denied ("no right lower lobe opacity" beside a left upper lobe one). An
    opacity's statements may be any kind of its family (an opacity named as consolidation)."""
    # a statement with no site ("likely atelectasis" after "bibasilar opacities") is read with the sited ones;
    # a candidate with none at all is the C rule's (a side not given), and so is one with a statement at a
    # site the reference does not name (the reference's finding put elsewhere: a zone or side, not an omission)
    spots = _family_spots(key, c, cf)
    ref_spots = _family_spots(key, r, rf)
    if not spots or not all(any(_covers(p, q) for q in ref_spots) for p in spots):
        return None
    missed = next((s for s in sorted(r.sites) if not any(_covers(p, s) for p in spots)), None)
    if missed is None:
        return None
    where = " ".join((*missed[0], *missed[1])) or "its site"
    return ErrorItem("B", True, key, f"reference's {name(key)} at {where} not reported by the candidate")


def _comparison(key: str, r: Summary | None, c: Summary | None, ref: Report, cand: Report) -> list[ErrorItem]:
    tr = r.temporal if r else set()
    tc = c.temporal if c else set()
    items = []
    subject = r if r is not None and (r.present or c is None) else c
    assert subject is not None  # the key comes from one of the two reports
    is_major = major(subject)
    extra = tc - tr
    if extra:
        status = next((s for s in ("new", "worse", "better", "resolved") if s in extra), "stable")
        if status in lx.CHANGES:
            sig = is_major
        else:  # a stability claim: significant against a change, or for a present finding given none
            sig = is_major and (bool(tr & lx.CHANGES) or (not tr and c is not None and c.present))
        said = "/".join(sorted(tr)) if tr else "no temporal status"
        items.append(ErrorItem("E", sig, key, f"candidate calls {name(key)} {status}; reference: {said}"))
    changes = tr & lx.CHANGES
    # "no temporal status" for this change: none at all, or only statuses the reference gives other statements
    # of the finding ("stable markings. Decreased basilar opacity" against "stable ... stable ...", "new nodules.
    # The left lower lobe nodule has increased" against "new nodules")
    if changes - tc and not items:
        items.append(ErrorItem("F", is_major, key,
                               f"reference calls {name(key)} {'/'.join(sorted(changes - tc))}; candidate gives "
                               + ("only " + "/".join(sorted(tc)) if tc else "no status")))
    return items


def _same_place(a: Summary, b: Summary) -> bool:
    """Whether an opacity and its interpretation can be one finding (then compared for C as one, as in v1):
    both chronic or scarring, or both not ("scarring" is not a new consolidation)."""
    return (a.chronic or a.scar) == (b.chronic or b.scar)


def _pair_generic_devices(ref: Report, cand: Report) -> dict[str, str]:
    """A generic "tube" / "catheter" / "device" on one side stands for an unmatched specific device of
    a compatible type on the other: ref kind -> cand kind for each such pair."""
    pairs: dict[str, str] = {}
    only_ref = [k for k, f in ref.findings.items() if f.device and f.present
                and not (k in cand.findings and cand.findings[k].present)]
    only_cand = [k for k, f in cand.findings.items() if f.device and f.present
                 and not (k in ref.findings and ref.findings[k].present)]
    used: set = set()
    for a_list, b_list, forward in ((only_ref, only_cand, True), (only_cand, only_ref, False)):
        for g in a_list:
            types = lx.GENERIC_DEVICES.get(g[4:])
            if types is None or g in used:
                continue
            for k in b_list:
                if k not in used and k[4:] in types:
                    used.update((g, k))
                    if forward:
                        pairs[g] = k
                    else:
                        pairs[k] = g
                    break
    return pairs


def _sides_meet(a: Summary, b: Summary) -> bool:
    return not a.sides or not b.sides or bool(a.sides & b.sides)


def _cause_named(f: Summary, own: dict, other: dict) -> bool:
    """Rules 2.4: a consolidation its own report explains as pneumonia and the other report names by that cause
    alone ("right lower lobe consolidation consistent with pneumonia" / "right lower lobe pneumonia"), the
    pneumonias on a side in common: the same finding, not an omission. Not a definite consolidation for a
    possible pneumonia, nor one the other report denies."""
    if f.kind != "Consolidation" or "Pneumonia" not in own or "Pneumonia" not in other:
        return False
    mine, theirs = own["Pneumonia"], other["Pneumonia"]
    return (mine.present and theirs.present and _sides_meet(f, mine) and _sides_meet(f, theirs)
            and (theirs.presence == POS or f.presence == UNC)
            and not ("Consolidation" in other and other["Consolidation"].presence == NEG))


def _with_unmatched_family(f: Summary, own: dict, other: dict) -> Summary:
    """An opacity with the kinds of its family that only its own report names ("left lower lobe consolidation.
    Right upper lobe opacity" against two opacities): one opacity at both sites (rules 2.4); a minimal or chronic
    one adds no site (its omission is insignificant, so is its site)."""
    fam = [own[k] for k in OPACITY_FAMILY if k in own and own[k].present and _same_place(f, own[k])
           and (own[k].firm or own[k].doubt) and not (k in other and other[k].present)]
    return _merge([f, *fam]) if fam else f


def count_errors(ref: Report, cand: Report) -> list[ErrorItem]:
    items: list[ErrorItem] = []
    rf, cf = ref.findings, cand.findings
    present = lambda d, k: k in d and d[k].present  # noqa: E731
    negated = lambda d, k: k in d and d[k].presence == NEG  # noqa: E731
    paired = _pair_generic_devices(ref, cand)
    paired_cand = set(paired.values())
    for key in dict.fromkeys([*rf, *cf]):
        r, c = rf.get(key), cf.get(key)
        in_ref, in_cand = present(rf, key), present(cf, key)
        if key in paired:
            c = cf[paired[key]]
            in_cand = True
        elif key in paired_cand:
            continue  # counted with its partner
        if in_cand and not in_ref:
            assert c is not None
            fam = [rf[f] for f in OPACITY_FAMILY if present(rf, f) and _same_place(rf[f], c)]
            if key == "Lung Opacity" and fam:
                item = _where(key, _merge(fam), c)
                items.extend([item] if item else [])
            elif (key in OPACITY_FAMILY and present(rf, "Lung Opacity") and _same_place(rf["Lung Opacity"], c)
                  and not negated(rf, key)):  # "no consolidation to suggest pneumonia": ruled out, not unsaid
                if key != "Consolidation":  # consolidation is the opacity, named
                    items.append(ErrorItem("A", False, key, f"candidate interprets the reference's opacity as {key}"))
            elif _cause_named(c, cf, rf):
                pass
            else:
                # a hedge of what the reference rules out ("no pneumothorax" / "pneumothorax cannot be
                # excluded") asks for a work-up the reference's reader was spared
                sig = major(c) and (c.firm or negated(rf, key) and c.doubt)
                items.append(ErrorItem("A", sig, key, f"candidate reports {name(key)} ({c.presence}); reference "
                                       + ("negates it" if key in rf else "does not mention it")))
        elif in_ref and not in_cand:
            assert r is not None
            fam = [cf[f] for f in OPACITY_FAMILY if present(cf, f) and _same_place(r, cf[f])]
            if key == "Lung Opacity" and fam:
                item = _where(key, r, _merge(fam))
                items.extend([item] if item else [])
            elif (key in OPACITY_FAMILY and present(cf, "Lung Opacity") and _same_place(r, cf["Lung Opacity"])
                  and not negated(cf, key)):
                if key != "Consolidation":
                    items.append(ErrorItem("B", False, key, f"candidate reports the opacity, not {key}"))
            elif _cause_named(r, rf, cf):
                pass
            else:
                # a possibility the reference raises ("may represent pneumonia") is acted upon: omitted, the
                # reader never hears of it
                sig = major(r) and (r.firm or r.doubt)
                items.append(ErrorItem("B", sig, key, f"reference reports {name(key)} ({r.presence}); candidate "
                                       + ("negates it" if key in cf else "omits it")))
        elif in_ref and in_cand:
            assert r is not None and c is not None
            if key == "Lung Opacity":
                where = _where(key, _with_unmatched_family(r, rf, cf), _with_unmatched_family(c, cf, rf))
            else:
                where = _where(key, r, c)
            for item in (where, _severity(key, r, c)):
                if item:
                    items.append(item)
            if r.sites and major(r) and not (where and where.significant):
                item = _site_missed(key, r, c, rf, cf)
                items.extend([item] if item else [])
        items.extend(_comparison(key, r, c, ref, cand))
    items.extend(_report_comparison(ref, cand))
    # An empty candidate is always a significant omission, even when the reference's findings are all minor
    if ref.statement and not cand.statement and not any(e.type == "B" and e.significant for e in items):
        items.append(ErrorItem("B", True, GLOBAL, "the candidate says nothing about the chest"))
    return items


def _report_comparison(ref: Report, cand: Report) -> list[ErrorItem]:
    """Change statements about the report as a whole: never significant."""
    said_ref = ref.temporal | {s for f in ref.findings.values() for s in f.temporal}
    said_cand = cand.temporal | {s for f in cand.findings.values() for s in f.temporal}
    items = [ErrorItem("E", False, GLOBAL, f"candidate says the study is {s}; reference does not")
             for s in sorted(cand.temporal - said_ref)]
    items += [ErrorItem("F", False, GLOBAL, f"reference says the study is {s}; candidate does not")
              for s in sorted((ref.temporal & lx.CHANGES) - said_cand)]
    return items


def _merge(fs: list[Summary]) -> Summary:
    out = Summary(fs[0].kind)
    for f in fs:
        out.presence = POS if POS in (out.presence, f.presence) else f.presence
        out.sides |= f.sides
        out.zones |= f.zones
        out.chronic |= f.chronic
        out.collapse |= f.collapse
        out.scar |= f.scar
        out.firm |= f.firm
        out.doubt |= f.doubt
        out.unilateral |= f.unilateral
        out.bilateral |= f.bilateral
        out.spread |= f.spread
        out.spots |= f.spots
        out.sided_lobes |= f.sided_lobes
        out.bare_lobes |= f.bare_lobes
        out.graded |= f.graded
        out.sites |= f.sites
    return out
