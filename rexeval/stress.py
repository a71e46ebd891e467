"""``rexeval stress``: which clinical errors a metric sees and which harmless edits it ignores.

Every reference report is perturbed by seeded, deterministic, rule-based edits, each tagged with a
CheXprompt-style error category (clinical) or as meaning-preserving. A metric then scores each
perturbed report against its original; the original scored against itself is the baseline.

- **Sensitivity** (clinical categories): the share of applied perturbations whose score is worse than the
  baseline (in the metric's direction, beyond float noise).
- **Invariance** (meaning-preserving edits): the share whose score stays within ``tolerance`` of the
  baseline, the tolerance being a fraction of the output's range (absolute for unbounded outputs such as
  error counts, where 0.05 means "unchanged").

A perturbation that does not apply to a report (no laterality word to swap, no positive finding to omit,
no measurement) is recorded as not applicable and counted; nothing is invented to fill the cell. Shares
come with Wilson 95% intervals (each reference gives at most one perturbation per category, so the
trials are independent references; Wilson stays sensible at shares of 0 and 1 where a percentile
bootstrap collapses).

Findings, negations and laterality are located with the rule labeler (:mod:`rexeval.labelers.rules`):
an edit that claims to flip, omit or insert a condition is kept only when the rule labeler's label for
that condition changes accordingly, and a meaning-preserving synonym/phrasing edit only when all 14
labels stay the same. The labeler is therefore the judge of what an edit did, which makes the rule
condition F1's own sensitivity and invariance on those categories high by construction (stated in the
docs, not hidden).

Each perturbation is reproducible from its seed: ``perturb(original, category, seed)``.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rexeval.exceptions import ConfigError, InputError

if TYPE_CHECKING:
    import pandas as pd

CLINICAL = (
    "negation_flip", "laterality_swap", "omission", "false_finding", "severity_change",
    "measurement_change", "temporal_change", "device_change",
)
PRESERVING = ("sentence_reorder", "case_whitespace", "synonym_swap", "normal_phrasing")
CATEGORIES = CLINICAL + PRESERVING
DEFAULT_METRICS = ("bleu", "rouge_l", "errors_struct", "rules_f1")
DEFAULT_TOLERANCE = 0.05
#: CheXprompt / ReXVal error category each clinical perturbation is an instance of.
CHEXPROMPT = {
    "negation_flip": "false prediction of finding / omission of finding",
    "laterality_swap": "incorrect location/position of finding",
    "omission": "omission of finding",
    "false_finding": "false prediction of finding",
    "severity_change": "incorrect severity of finding",
    "measurement_change": "incorrect severity of finding (size)",
    "temporal_change": "false comparison / change from prior",
    "device_change": "false prediction or omission of a support device",
}

_NEG_WORDS = re.compile(r"\b(?:no|not|without|negative|free\s+of|absent|resolved)\b", re.I)
_SENT = re.compile(r"(?<=[.?!])\s+(?=\S)")


def split_sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    return [s for s in _SENT.split(text) if s] if text else []


def _join(sentences: list[str]) -> str:
    return " ".join(s.strip() for s in sentences if s.strip())


def _cap(s: str) -> str:
    s = " ".join(s.split())
    return s[:1].upper() + s[1:] if s else s


def _keep_case(old: str, new: str) -> str:
    if old.isupper() and len(old) > 1:
        return new.upper()
    if old[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


@dataclass(frozen=True)
class Perturbation:
    category: str
    seed: int
    original: str
    perturbed: str | None  # None: not applicable to this report
    detail: str

    @property
    def applicable(self) -> bool:
        return self.perturbed is not None


class _Labels:
    """Rule-labeler access with a per-text memo (the same sentence is labelled many times)."""

    def __init__(self) -> None:
        from rexeval.labelers import CONDITIONS
        from rexeval.labelers.rules import RuleLabeler

        self.labeler = RuleLabeler()
        self.conditions = CONDITIONS
        self._memo: dict[str, np.ndarray] = {}

    def vector(self, text: str) -> np.ndarray:
        if text not in self._memo:
            self._memo[text] = self.labeler.label_one(text) if text.strip() else np.full(len(self.conditions), np.nan)
        return self._memo[text]

    def label(self, text: str, condition: str) -> float:
        return float(self.vector(text)[self.conditions.index(condition)])

    def same(self, a: str, b: str) -> bool:
        return bool(np.array_equal(self.vector(a), self.vector(b), equal_nan=True))

    def mentions(self, text: str, include_other: bool = False):
        return self.labeler.mentions(text, include_other=include_other)


_LABELS: _Labels | None = None


def _labels() -> _Labels:
    global _LABELS
    if _LABELS is None:
        _LABELS = _Labels()
    return _LABELS


def _positive(v: float) -> bool:
    return v in (1.0, -1.0)


# ------------------------------------------------------------------------------- clinical edits

_CUE_REPLACEMENT = {
    "no evidence of": "evidence of", "without evidence of": "with evidence of", "without": "with",
    "free of": "with", "negative for": "positive for", "is not": "is", "are not": "are", "not": "",
    "no": "", "none": "some", "absence of": "presence of", "absent": "present",
}
_FINDING_CONDITIONS = (
    "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema", "Consolidation",
    "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion", "Pleural Other", "Fracture",
)


def _negation_flip(text: str, rng: random.Random) -> tuple[str, str] | None:
    lab = _labels()
    sentences = split_sentences(text)
    candidates = []
    for m in lab.mentions(text):
        if m.condition in _FINDING_CONDITIONS and m.status in ("negative", "positive"):
            candidates.append(m)
    rng.shuffle(candidates)
    for m in candidates:
        idx = next((i for i, s in enumerate(sentences) if m.text in s and (m.cue is None or m.cue.lower() in s.lower())), None)
        if idx is None:
            continue
        s = sentences[idx]
        before = lab.label(text, m.condition)
        if m.status == "negative" and m.cue:
            cue = m.cue.lower()
            pos = [x.start() for x in re.finditer(rf"\b{re.escape(cue)}\b", s, re.I)]
            if not pos:
                continue
            at = min(pos, key=lambda p: abs(p - s.find(m.text)))
            new = _cap(s[:at] + _CUE_REPLACEMENT.get(cue, "") + s[at + len(cue):])
            detail = f"{m.condition}: negated -> asserted"
        elif m.status == "positive":
            new = _cap(f"No {m.text.lower()}.")
            detail = f"{m.condition}: asserted -> negated"
        else:
            continue
        out = _join(sentences[:idx] + [new] + sentences[idx + 1:])
        after = lab.label(out, m.condition)
        if _positive(after) != _positive(before) and not np.isnan(after):
            return out, detail
    return None


_LATERALITY = {"left": "right", "right": "left"}
_LATERAL = re.compile(r"\b(left|right)\b", re.I)


def _replace_match(text: str, m: re.Match, table: dict[str, str]) -> tuple[str, str, str]:
    """``text`` with the word ``m`` captured swapped for its table entry (case kept): (text, word, new word)."""
    word = m.group(1)
    new = _keep_case(word, table[word.lower()])
    return text[: m.start()] + new + text[m.end():], word, new


def _laterality_swap(text: str, rng: random.Random) -> tuple[str, str] | None:
    hits = list(_LATERAL.finditer(text))
    if not hits:
        return None
    m = rng.choice(hits)
    out, word, new = _replace_match(text, m, _LATERALITY)
    return out, f"{word} -> {new} at char {m.start()}"


def _omission(text: str, rng: random.Random) -> tuple[str, str] | None:
    lab = _labels()
    present = [c for c in _FINDING_CONDITIONS if _positive(lab.label(text, c))]
    rng.shuffle(present)
    sentences = split_sentences(text)
    for cond in present:
        keep = [s for s in sentences if not _positive(lab.label(s, cond))]
        out = _join(keep)
        if len(keep) < len(sentences) and not _positive(lab.label(out, cond) if out else np.nan):
            return out, f"{cond}: {len(sentences) - len(keep)} sentence(s) removed"
    return None


FALSE_FINDINGS = {
    "Cardiomegaly": "The heart is mildly enlarged.",
    "Edema": "There is mild pulmonary edema.",
    "Consolidation": "There is consolidation in the right lower lobe.",
    "Atelectasis": "There is left basilar atelectasis.",
    "Pleural Effusion": "There is a small right pleural effusion.",
    "Pneumothorax": "There is a small left apical pneumothorax.",
    "Lung Lesion": "There is a 1 cm nodule in the right upper lobe.",
    "Pneumonia": "Findings are concerning for pneumonia.",
    "Fracture": "There is an acute fracture of the left sixth rib.",
    "Lung Opacity": "There is a patchy opacity in the left lower lobe.",
    "Enlarged Cardiomediastinum": "The mediastinum is widened.",
    "Pleural Other": "There is right apical pleural thickening.",
}


def _insert_sentence(sentences: list[str], sentence: str, rng: random.Random) -> str:
    at = rng.randint(0, len(sentences))
    return _join(sentences[:at] + [sentence] + sentences[at:])


def _false_finding(text: str, rng: random.Random) -> tuple[str, str] | None:
    lab = _labels()
    absent = [c for c in FALSE_FINDINGS if np.isnan(lab.label(text, c))]  # not mentioned at all
    rng.shuffle(absent)
    sentences = split_sentences(text)
    for cond in absent:
        out = _insert_sentence(sentences, FALSE_FINDINGS[cond], rng)
        if lab.label(out, cond) == 1.0:
            return out, f"{cond}: inserted {FALSE_FINDINGS[cond]!r}"
    return None


_SEVERITY = {
    "mild": "severe", "mildly": "severely", "minimal": "extensive", "minimally": "markedly", "small": "large",
    "tiny": "large", "trace": "large", "slight": "marked", "slightly": "markedly", "moderate": "severe",
    "moderately": "severely", "severe": "mild", "severely": "mildly", "large": "small", "marked": "mild",
    "markedly": "mildly", "extensive": "minimal", "massive": "small",
}
_SEVERITY_RE = re.compile(r"\b(" + "|".join(sorted(_SEVERITY, key=len, reverse=True)) + r")\b", re.I)


def _swap_word(text: str, rng: random.Random, pattern: re.Pattern, table: dict[str, str]) -> tuple[str, str] | None:
    """Swap one seeded occurrence of a table word, in a sentence without a negation cue."""
    sentences = split_sentences(text)
    sites = [(i, m) for i, s in enumerate(sentences) if not _NEG_WORDS.search(s) for m in pattern.finditer(s)]
    if not sites:
        return None
    i, m = rng.choice(sites)
    sentences[i], word, new = _replace_match(sentences[i], m, table)
    return _join(sentences), f"{word} -> {new}"


def _severity_change(text: str, rng: random.Random) -> tuple[str, str] | None:
    return _swap_word(text, rng, _SEVERITY_RE, _SEVERITY)


_MEASURE = re.compile(r"\b(\d+(?:\.\d+)?)(\s*)(cm|mm|centimeters?|millimeters?)\b", re.I)


def _measurement_change(text: str, rng: random.Random) -> tuple[str, str] | None:
    hits = list(_MEASURE.finditer(text))
    if not hits:
        return None
    m = rng.choice(hits)
    value = float(m.group(1))
    factor = rng.choice((2.0, 3.0, 0.5)) if value > 0 else 1.0
    new_value = value * factor if value > 0 else 1.0
    shown = f"{new_value:g}"
    new = f"{shown}{m.group(2)}{m.group(3)}"
    return text[: m.start()] + new + text[m.end():], f"{m.group(0)} -> {new}"


_TEMPORAL = {
    "stable": "new", "unchanged": "new", "new": "unchanged", "increased": "decreased", "decreased": "increased",
    "increasing": "decreasing", "decreasing": "increasing", "improved": "worsened", "improving": "worsening",
    "worsened": "improved", "worsening": "improving", "persistent": "resolving", "resolving": "worsening",
    "enlarging": "shrinking", "redemonstrated": "new", "again seen": "newly seen", "chronic": "acute",
    "acute": "chronic", "old": "new", "healed": "acute",
}
_TEMPORAL_RE = re.compile(r"\b(" + "|".join(sorted(_TEMPORAL, key=len, reverse=True)) + r")\b", re.I)


def _temporal_change(text: str, rng: random.Random) -> tuple[str, str] | None:
    return _swap_word(text, rng, _TEMPORAL_RE, _TEMPORAL)


DEVICES = (
    "A right internal jugular central venous catheter terminates in the superior vena cava.",
    "An endotracheal tube terminates 4 cm above the carina.",
    "A left chest wall pacemaker is present with leads in the right atrium and right ventricle.",
    "A nasogastric tube courses below the diaphragm.",
)


def _device_change(text: str, rng: random.Random) -> tuple[str, str] | None:
    lab = _labels()
    sentences = split_sentences(text)
    if lab.label(text, "Support Devices") == 1.0:
        keep = [s for s in sentences if lab.label(s, "Support Devices") != 1.0]
        out = _join(keep)
        if len(keep) < len(sentences) and (not out or lab.label(out, "Support Devices") != 1.0):
            return out, f"removal: {len(sentences) - len(keep)} device sentence(s) removed"
        return None
    device = rng.choice(DEVICES)
    out = _insert_sentence(sentences, device, rng)
    if lab.label(out, "Support Devices") == 1.0:
        return out, f"insertion: {device!r}"
    return None


# -------------------------------------------------------------------------- meaning-preserving edits


def _sentence_reorder(text: str, rng: random.Random) -> tuple[str, str] | None:
    sentences = split_sentences(text)
    if len(sentences) < 2:
        return None
    order = list(range(len(sentences)))
    while order == sorted(order):
        rng.shuffle(order)
    return _join([sentences[i] for i in order]), "order " + ",".join(map(str, order))


def _case_whitespace(text: str, rng: random.Random) -> tuple[str, str] | None:
    kind = rng.choice(("upper", "lower", "spacing", "lower+spacing"))
    out = text
    if "upper" in kind:
        out = out.upper()
    if "lower" in kind:
        out = out.lower()
    if "spacing" in kind:
        out = "\n".join(split_sentences(out)).replace(" ", "  ") + "\n"
    if out == text:
        return None
    return out, kind


SYNONYMS = (
    ("osseous", "bony"), ("bony", "osseous"), ("unremarkable", "normal"), ("within normal limits", "normal"),
    ("no evidence of", "no"), ("there is no", "no"), ("there are no", "no"), ("cardiomediastinal silhouette",
    "cardiomediastinal contour"), ("contours", "silhouette"), ("opacity", "opacification"),
    ("air space", "airspace"), ("identified", "seen"), ("visualized", "seen"), ("demonstrated", "seen"),
    ("lungs are clear", "lungs are clear bilaterally"), ("heart size", "size of the heart"), ("grossly", "overall"),
)
_SYN_RE = [(re.compile(rf"\b{re.escape(a)}\b", re.I), a, b) for a, b in SYNONYMS]


def _synonym_swap(text: str, rng: random.Random) -> tuple[str, str] | None:
    lab = _labels()
    sites = [(m, b) for pat, _a, b in _SYN_RE for m in pat.finditer(text)]
    rng.shuffle(sites)
    for m, b in sites:
        out = text[: m.start()] + _keep_case(m.group(0), b) + text[m.end():]
        out = " ".join(out.split())
        if out != text and lab.same(text, out):
            return out, f"{m.group(0)!r} -> {_keep_case(m.group(0), b)!r}"
    return None


_NORMAL_FORMS = {
    "Pneumothorax": ("No pneumothorax.", "There is no pneumothorax.", "No evidence of pneumothorax.",
                     "Pneumothorax is not seen."),
    "Pleural Effusion": ("No pleural effusion.", "There is no pleural effusion.",
                         "No evidence of pleural effusion.", "Pleural effusion is not seen."),
    "Consolidation": ("No focal consolidation.", "There is no focal consolidation.",
                      "No evidence of focal consolidation.", "Focal consolidation is not seen."),
    "Edema": ("No pulmonary edema.", "There is no pulmonary edema.", "No evidence of pulmonary edema."),
    "Cardiomegaly": ("Heart size is normal.", "The heart is normal in size.", "Normal heart size.",
                     "The cardiac silhouette is within normal limits."),
    "Enlarged Cardiomediastinum": ("The cardiomediastinal silhouette is normal.", "Normal cardiomediastinal silhouette.",
                                   "The cardiomediastinal silhouette is within normal limits.",
                                   "Cardiomediastinal contours are unremarkable."),
    "Fracture": ("No acute fracture.", "There is no acute fracture.", "No acute fracture is seen."),
}
_LUNGS_CLEAR = ("The lungs are clear.", "Lungs are clear.", "The lungs are clear bilaterally.", "Clear lungs.")
_LUNGS_CLEAR_RE = re.compile(r"^(?:the\s+)?(?:lungs\s+are\s+clear(?:\s+bilaterally)?|clear\s+lungs)\.?$", re.I)


def _normal_phrasing(text: str, rng: random.Random) -> tuple[str, str] | None:
    lab = _labels()
    sentences = split_sentences(text)
    sites = []
    for i, s in enumerate(sentences):
        if _LUNGS_CLEAR_RE.match(s.strip()):
            sites.append((i, _LUNGS_CLEAR))
            continue
        if len(s.split()) > 8:
            continue
        ms = lab.mentions(s, include_other=True)
        conds = {m.condition for m in ms}
        if len(conds) == 1 and all(m.status == "negative" for m in ms) and ms[0].condition in _NORMAL_FORMS:
            sites.append((i, _NORMAL_FORMS[ms[0].condition]))
    rng.shuffle(sites)
    for i, forms in sites:
        options = [f for f in forms if f.lower().rstrip(".") != sentences[i].lower().rstrip(".")]
        new = rng.choice(options)
        out = _join(sentences[:i] + [new] + sentences[i + 1:])
        if lab.same(text, out):
            return out, f"{sentences[i]!r} -> {new!r}"
    return None


_EDITS: dict[str, Callable[[str, random.Random], tuple[str, str] | None]] = {
    "negation_flip": _negation_flip, "laterality_swap": _laterality_swap, "omission": _omission,
    "false_finding": _false_finding, "severity_change": _severity_change,
    "measurement_change": _measurement_change, "temporal_change": _temporal_change,
    "device_change": _device_change, "sentence_reorder": _sentence_reorder,
    "case_whitespace": _case_whitespace, "synonym_swap": _synonym_swap, "normal_phrasing": _normal_phrasing,
}


def perturbation_seed(seed: int, ref_id: str, category: str) -> int:
    """The seed of one perturbation: a stable hash of the run seed, the reference id and the category."""
    return zlib.crc32(f"{seed}|{ref_id}|{category}".encode())


def perturb(text: str, category: str, seed: int) -> Perturbation:
    """One perturbation of ``text`` (whitespace-collapsed first), reproducible from ``seed``."""
    if category not in _EDITS:
        raise ConfigError(f"unknown perturbation {category!r}; known: {', '.join(CATEGORIES)}")
    original = " ".join(str(text).split())
    if not original:
        return Perturbation(category, seed, original, None, "empty reference")
    got = _EDITS[category](original, random.Random(seed))
    if got is None or got[0] == original:
        return Perturbation(category, seed, original, None, "not applicable")
    return Perturbation(category, seed, original, got[0], got[1])


def perturb_all(ref_ids: list[str], texts: list[str], categories: tuple[str, ...] = CATEGORIES,
                seed: int = 0) -> pd.DataFrame:
    """Every (reference, category) perturbation, applicable or not, as a table."""
    import pandas as pd

    rows = []
    for rid, text in zip(ref_ids, texts, strict=True):
        for cat in categories:
            s = perturbation_seed(seed, rid, cat)
            p = perturb(text, cat, s)
            rows.append({"ref_id": rid, "category": cat, "kind": "clinical" if cat in CLINICAL else "preserving",
                         "seed": s, "applicable": p.applicable, "detail": p.detail, "original": p.original,
                         "perturbed": p.perturbed if p.applicable else ""})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------- scoring


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a share k/n (NaN when n = 0)."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


@dataclass
class StressResult:
    perturbations: pd.DataFrame  # one row per (reference, category), with scores per output
    table: pd.DataFrame  # one row per (output, category)
    info: dict[str, Any]

    def write(self, out_dir: str | Path) -> list[Path]:
        from rexeval.metaeval import records, write_files

        return write_files(out_dir, {"perturbations.csv": self.perturbations, "stress_table.csv": self.table,
                                     "stress.json": {"table": records(self.table), **self.info}})


def _headline_outputs(metrics: list, keys: list[str] | None) -> list:
    from rexeval.metaeval import select_outputs

    if keys:
        return select_outputs(metrics, keys)
    out = []
    for m in metrics:
        outs = m.outputs()
        per = [o for o in outs if o.per_study]
        out.append((per or outs)[0])
    return out


def run_stress(ref_ids: list[str], texts: list[str], metrics: list[str] | None = None, *,
               keys: list[str] | None = None, categories: tuple[str, ...] = CATEGORIES, seed: int = 0,
               tolerance: float = DEFAULT_TOLERANCE, progress: bool = True) -> StressResult:
    import pandas as pd

    from rexeval.align import load_pairs
    from rexeval.metaeval import per_pair_values
    from rexeval.metrics import resolve_metrics
    from rexeval.scoring import score_pairs

    if tolerance < 0:
        raise ConfigError("--tolerance must be >= 0")
    if len(set(ref_ids)) != len(ref_ids):
        raise InputError("reference ids are not unique")
    table = perturb_all(ref_ids, texts, categories, seed)
    applied = table[table["applicable"]]
    originals = [" ".join(str(t).split()) for t in texts]
    pair_ids = [f"{r}|identity" for r in ref_ids] + [f"{r}|{c}" for r, c in zip(applied["ref_id"], applied["category"], strict=True)]
    preds = originals + applied["perturbed"].tolist()
    refs = originals + applied["original"].tolist()
    keep = [i for i, r in enumerate(refs) if r]
    frame = pd.DataFrame({"study_id": [pair_ids[i] for i in keep], "prediction": [preds[i] for i in keep],
                          "reference": [refs[i] for i in keep]})
    chosen = resolve_metrics(list(metrics or DEFAULT_METRICS))
    result = score_pairs(load_pairs(frame), chosen, n_resamples=0, progress=progress)
    if result.summary["skipped"]:
        from rexeval.exceptions import MetricUnavailable

        name, reason = next(iter(result.summary["skipped"].items()))
        raise MetricUnavailable(f"metric {name!r} cannot run", reason)
    columns = {c: result.per_study[c].to_numpy(dtype=float) for c in result.per_study.columns if c != "study_id"}
    outputs = _headline_outputs(chosen, keys)
    values = per_pair_values(outputs, columns)
    index = {pid: i for i, pid in enumerate(frame["study_id"])}
    rows = []
    for out in outputs:
        v = values[out.key]
        lo, hi = out.value_range
        scale = (hi - lo) if np.isfinite(hi - lo) else 1.0
        sign = 1.0 if out.higher_is_better else -1.0
        base = np.array([v[index[f"{r}|identity"]] if f"{r}|identity" in index else np.nan for r in table["ref_id"]])
        pert = np.array([v[index[f"{r}|{c}"]] if f"{r}|{c}" in index else np.nan
                         for r, c in zip(table["ref_id"], table["category"], strict=True)])
        table[f"{out.key}.baseline"] = base
        table[f"{out.key}.perturbed"] = pert
        delta = pert - base
        table[f"{out.key}.delta"] = delta
        for cat in categories:
            mask = (table["category"] == cat).to_numpy()
            app = mask & table["applicable"].to_numpy()
            ok = app & ~np.isnan(delta)
            d = delta[ok]
            # Clinical edits: also the share worse by more than the tolerance, so that a drop smaller than what
            # a harmless rewording costs is visible as such.
            beyond = int(np.sum(sign * d < -tolerance * scale - 1e-12))
            if cat in CLINICAL:
                hits = int(np.sum(sign * d < -1e-9 * scale))
                measure = "sensitivity"
            else:
                hits = int(np.sum(np.abs(d) <= tolerance * scale + 1e-12))
                measure = "invariance"
            n = int(ok.sum())
            ci = wilson(hits, n)
            rows.append({"output": out.key, "metric": _metric_of(chosen, out.key), "category": cat,
                         "kind": "clinical" if cat in CLINICAL else "preserving", "measure": measure,
                         "share": hits / n if n else float("nan"), "ci_lo": ci[0], "ci_hi": ci[1], "hits": hits,
                         "n_scored": n, "n_applicable": int(app.sum()), "n_not_applicable": int((mask & ~app).sum()),
                         "n_failed": int(app.sum()) - n, "mean_delta": float(np.mean(d)) if n else float("nan"),
                         "share_worse_beyond_tolerance": beyond / n if n else float("nan")})
    info = {"n_references": len(ref_ids), "seed": seed, "tolerance": tolerance,
            "tolerance_meaning": "fraction of the output's range (absolute for unbounded outputs)",
            "sensitivity": "share of applied clinical perturbations scored worse than the report against itself",
            "invariance": "share of applied meaning-preserving edits scored within the tolerance of the baseline",
            "share_worse_beyond_tolerance": "share scored worse than the baseline by more than the tolerance",
            "ci": "Wilson 95%", "signatures": {m.name: m.signature() for m in chosen},
            "categories": {c: CHEXPROMPT.get(c, "meaning-preserving") for c in categories}}
    return StressResult(table, pd.DataFrame(rows), info)


def _metric_of(metrics: list, key: str) -> str:
    return next((m.name for m in metrics if any(o.key == key for o in m.outputs())), key)


def read_references(path: str | Path, track: str = "auto") -> tuple[list[str], list[str]]:
    """Reference ids and texts from any file ``rexeval score --refs`` reads (ReXrank JSON with --track)."""
    from rexeval.align import TRACKS, _as_frame, _ids, _reference_texts

    if track not in TRACKS:
        raise ConfigError(f"--track must be one of {', '.join(TRACKS)}, not {track!r}")
    frame, fpath = _as_frame(path if isinstance(path, str) else str(path), "REFS")
    ids = _ids(frame, fpath)
    texts = [t or "" for t in _reference_texts(frame, fpath, track, ids, {})]
    return [str(i) for i in ids], [str(t) for t in texts]


def print_table(result: StressResult) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"stress: {result.info['n_references']} references, seed {result.info['seed']}; share [Wilson 95% CI] "
                    f"(sensitivity: scored worse; invariance: within {result.info['tolerance']:g} of the range)")
    t.add_column("category")
    t.add_column("applied/not")
    outputs = list(dict.fromkeys(result.table["output"]))
    for o in outputs:
        t.add_column(o, justify="right")
    for cat in dict.fromkeys(result.table["category"]):
        part = result.table[result.table["category"] == cat].set_index("output")
        first = part.iloc[0]
        cells = []
        for o in outputs:
            r = part.loc[o]
            cells.append("n/a" if r["n_scored"] == 0 else f"{r['share']:.2f} [{r['ci_lo']:.2f}, {r['ci_hi']:.2f}]")
        label = f"{cat} ({'sens.' if first['kind'] == 'clinical' else 'inv.'})"
        t.add_row(label, f"{first['n_applicable']}/{first['n_not_applicable']}", *cells)
    console = Console()
    console.width = max(console.width, 180)  # a table this wide should not wrap when piped
    console.print(t)


def heatmap(result: StressResult, out_dir: str | Path) -> list[Path]:
    """Outputs x categories, share (sensitivity for clinical, invariance for meaning-preserving)."""
    from rexeval.plots import _plt, save

    plt = _plt()
    tab = result.table
    outputs = list(dict.fromkeys(tab["output"]))
    cats = list(dict.fromkeys(tab["category"]))
    grid = np.full((len(outputs), len(cats)), np.nan)
    for _, r in tab.iterrows():
        grid[outputs.index(r["output"]), cats.index(r["category"])] = r["share"]
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(cats), 1.6 + 0.55 * len(outputs)))
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="cividis", vmin=0, vmax=1, aspect="auto")
    for i in range(len(outputs)):
        for j in range(len(cats)):
            v = grid[i, j]
            ax.text(j, i, "n/a" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=9,
                    color="black" if (not np.isnan(v) and v > 0.6) else "white")
    n_clin = sum(1 for c in cats if c in CLINICAL)
    if 0 < n_clin < len(cats):
        ax.axvline(n_clin - 0.5, color="white", lw=3)
    ax.set_xticks(range(len(cats)), [c.replace("_", " ") for c in cats], rotation=45, ha="right")
    from rexeval.display import display_name

    ax.set_yticks(range(len(outputs)), [display_name(o) for o in outputs])
    ax.set_title("Sensitivity (clinical edits, left) and invariance (meaning-preserving, right)")
    fig.colorbar(im, ax=ax, fraction=0.03, label="share")
    return save(fig, out_dir, "stress_heatmap")
