"""Human names of the reported numbers, defined once for every renderer (terminal table, leaderboard,
plots, HTML report, compare).

Each summary key maps to a :class:`Display`: the name a reader sees ("BLEU-2", "1/RadCliQ-v1",
"significant errors per report"), the group it is shown in and whether it is a headline number shown
by default (the rest appear with ``--columns all``). Groups, in display order:

- ``rexrank``: the ReXrank leaderboard's columns (BLEU-2, BERTScore, SembScore, RadGraph F1,
  RadCliQ-v1, 1/RadCliQ-v1, RaTEScore, GREEN);
- ``clinical``: error counts per report and condition F1 (what a clinician would ask about);
- ``other``: everything else (BLEU-4, ROUGE-L, precision/recall parts, shares, per-type counts).

The error families (structured counter, LLM judge, GREEN) are named by pattern, so a key added to one
of them, or the same counts under another prefix, still gets a readable name. A key this module does not
know is shown as itself, in ``other``, after the known ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

GROUPS: tuple[str, ...] = ("rexrank", "clinical", "other")
GROUP_TITLES: dict[str, str] = {"rexrank": "ReXrank", "clinical": "Clinical", "other": "Other"}


@dataclass(frozen=True)
class Display:
    """How one summary key is shown."""

    name: str
    group: str = "other"
    #: shown by default (the table's and the leaderboard's headline numbers)
    headline: bool = False
    #: position within the group (smaller first)
    order: float = 1000.0


def _d(name: str, group: str, order: float, headline: bool = True) -> Display:
    return Display(name, group, headline, order)


#: Keys with a fixed name, in display order within each group.
NAMES: dict[str, Display] = {
    # the ReXrank columns, in the leaderboard's order (RadCliQ-v1 beside its inverse, the rank key)
    "bleu": _d("BLEU-2", "rexrank", 10),
    "bertscore": _d("BERTScore", "rexrank", 20),
    "semb_score": _d("SembScore", "rexrank", 30),
    "radgraph": _d("RadGraph F1", "rexrank", 40),
    "radcliq_v1": _d("RadCliQ-v1", "rexrank", 50),
    "inv_radcliq_v1": _d("1/RadCliQ-v1", "rexrank", 51),
    "ratescore": _d("RaTEScore", "rexrank", 60),
    "green": _d("GREEN", "rexrank", 70),
    "inv_fineradscore": _d("1/FineRadScore", "rexrank", 80),
    # clinical: condition F1 after the error counts (named by pattern below)
    "crimson": _d("CRIMSON", "clinical", 300),
    "temporal_f1": _d("temporal F1", "clinical", 310),
    "rules_f1_study": _d("condition F1 per study (rules, 14)", "clinical", 305, False),
    "srrbert_micro_f1": _d("SRR-BERT F1 (micro)", "clinical", 320),
    "srrbert_macro_f1": _d("SRR-BERT F1 (macro)", "clinical", 321, False),
    "srrbert_weighted_f1": _d("SRR-BERT F1 (weighted)", "clinical", 322, False),
    "srrbert_sample_f1": _d("SRR-BERT F1 (per study)", "clinical", 323, False),
    "srrbert_sample_precision": _d("SRR-BERT precision (per study)", "clinical", 324, False),
    "srrbert_sample_recall": _d("SRR-BERT recall (per study)", "clinical", 325, False),
    "crimson_false_findings": _d("CRIMSON false findings per report", "clinical", 301, False),
    "crimson_missing_findings": _d("CRIMSON missing findings per report", "clinical", 302, False),
    "crimson_attribute_errors": _d("CRIMSON attribute errors per report", "clinical", 303, False),
    "crimson_n_failed": _d("CRIMSON failed judgements", "clinical", 304, False),
    # the rest
    "bleu4": _d("BLEU-4", "other", 10),
    "rouge_l": _d("ROUGE-L", "other", 20),
    "radeval_bertscore": _d("RadEval BERTScore", "other", 30),
    "radeval_bertscore_p": _d("RadEval BERTScore precision", "other", 31, False),
    "radeval_bertscore_r": _d("RadEval BERTScore recall", "other", 32, False),
    "bertscore_p": _d("BERTScore precision", "other", 40, False),
    "bertscore_r": _d("BERTScore recall", "other", 41, False),
    "radgraph_simple": _d("RadGraph F1 (simple)", "other", 50, False),
    "radgraph_partial": _d("RadGraph F1 (partial)", "other", 51, False),
    "radgraph_complete": _d("RadGraph F1 (complete)", "other", 52, False),
    "radcliq_v0": _d("RadCliQ-v0", "other", 60, False),
    "green_matched": _d("GREEN matched findings per report", "other", 70, False),
}

#: Error families: key prefix -> (qualifier in the name, order offset). Old and new spellings both.
_ERROR_FAMILIES: tuple[tuple[str, str, float], ...] = (
    ("struct_err_", "", 100),
    ("errors_struct_", "", 100),
    ("llm_errors_", " (LLM judge)", 130),
    ("errors_llm_", " (LLM judge)", 130),
    ("green_", " (GREEN)", 160),
)
_ERROR_KIND = {"total_sig": "significant errors", "total": "all errors"}
_ERROR_TYPES = {
    "A": "false findings", "B": "missed findings", "C": "wrong locations", "D": "wrong severities",
    "E": "false comparisons", "F": "missed comparisons",
}
_ERROR_PATTERN = re.compile(
    r"^(?P<kind>total_sig|total)(?:_share(?P<share>0|_le1|_ge4))?$|^(?P<sig>sig|insig)_(?P<type>[A-F])$|^n_failed$"
)
_CONDITION_PATTERN = re.compile(
    r"^(?P<labeler>rules_graded|rules|chexbert)_(?:f1_(?P<n>14|5)_(?P<avg>micro|macro|weighted)|accuracy_(?P<n2>14|5))$"
)


def _error_display(key: str) -> Display | None:
    for prefix, qualifier, offset in _ERROR_FAMILIES:
        if not key.startswith(prefix):
            continue
        m = _ERROR_PATTERN.match(key[len(prefix):])
        if m is None:
            return None
        if m.group("kind"):
            what = _ERROR_KIND[m.group("kind")]
            share = m.group("share")
            if share is None:
                return _d(f"{what} per report{qualifier}", "clinical", offset + (0 if m.group("kind") == "total_sig" else 1),
                          headline=prefix != "green_")
            bound = {"0": "0", "_le1": "≤1", "_ge4": "≥4"}[share]
            return _d(f"share of reports with {bound} {what}{qualifier}", "clinical",
                      offset + 2 + ("0", "_le1", "_ge4").index(share) + (0 if m.group("kind") == "total_sig" else 3),
                      headline=False)
        if m.group("type"):
            weight = "significant" if m.group("sig") == "sig" else "insignificant"
            return _d(f"{weight} {_ERROR_TYPES[m.group('type')]} per report{qualifier}", "other",
                      offset + 10 + "ABCDEF".index(m.group("type")) + (0 if weight == "significant" else 6),
                      headline=False)
        return _d(f"failed judgements{qualifier}", "other", offset + 30, headline=False)
    return None


def _condition_display(key: str) -> Display | None:
    m = _CONDITION_PATTERN.match(key)
    if m is None:
        return None
    labeler = m.group("labeler")
    base = {"rules": 200, "chexbert": 230, "rules_graded": 260}[labeler]
    # the rules labeler is rexeval's default; "graded": its labels with hedges graded (docs/conditions.md)
    source = {"rules": "", "chexbert": "CheXbert ", "rules_graded": "graded-hedge "}[labeler]
    if m.group("n2"):
        n = m.group("n2")
        return _d(f"{source}exact label match ({n} conditions)", "clinical", base + 20 + (n == "5"), False)
    n, avg = m.group("n"), m.group("avg")
    order = base + (0 if n == "14" else 1) + 2 * ("micro", "macro", "weighted").index(avg)
    return _d(f"{source}condition F1 ({n}, {avg})", "clinical", order, headline=avg == "micro")


def display(key: str) -> Display:
    """How ``key`` is shown: its human name, group, headline flag and order."""
    found = NAMES.get(key) or _error_display(key) or _condition_display(key)
    return found or Display(key, "other", False, 10_000.0)


def display_name(key: str) -> str:
    """The human name of a summary key ("inv_radcliq_v1" -> "1/RadCliQ-v1"); an unknown key as itself."""
    return display(key).name


def arrow(higher_is_better: bool) -> str:
    return "↑" if higher_is_better else "↓"


def label(key: str, higher_is_better: bool) -> str:
    """Human name with the direction arrow, e.g. "significant errors per report ↓"."""
    return f"{display_name(key)} {arrow(higher_is_better)}"


def ordered(keys: Iterable[str]) -> list[str]:
    """``keys`` in display order: ReXrank, clinical, other; within a group by the registry's order
    (ties and unknown keys keep their given order)."""
    keys = list(dict.fromkeys(keys))
    position = {k: i for i, k in enumerate(keys)}

    def sort_key(k: str) -> tuple[int, float, int]:
        d = display(k)
        return GROUPS.index(d.group), d.order, position[k]

    return sorted(keys, key=sort_key)


def select(keys: Iterable[str], columns: str | Iterable[str] | None = "default") -> list[str]:
    """The keys to show, in display order: ``"default"`` (or None) the headline numbers, ``"all"``
    every key; a list (or comma-separated text) of keys is kept as given, unknown ones dropped."""
    keys = list(keys)
    if columns is None or columns == "default":
        return [k for k in ordered(keys) if display(k).headline]
    if columns == "all":
        return ordered(keys)
    wanted = [c.strip() for c in columns.split(",")] if isinstance(columns, str) else list(columns)
    return [k for k in wanted if k in keys]


def grouped(keys: Iterable[str]) -> list[tuple[str, list[str]]]:
    """(group title, keys) for each group with keys, in display order."""
    out: dict[str, list[str]] = {}
    for k in ordered(keys):
        out.setdefault(display(k).group, []).append(k)
    return [(GROUP_TITLES[g], out[g]) for g in GROUPS if g in out]
