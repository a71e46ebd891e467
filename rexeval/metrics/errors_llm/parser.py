"""Read the 12 CheXprompt error counts out of what an LLM actually answered.

Accepted shapes (see tests/test_llm_parser.py for the full table, with the reference parser's outcome):

- the two-line format ``Number of clinically significant errors by type: [(A, 1), (B, 0), ...]`` and its
  insignificant twin, with round or square brackets, doubled brackets or none, ``A=1``, ``A: 1``,
  ``(A) 1``, ``A - 1``, a trailing period, number words (``one``), any header case, the halves in either
  order, on one line or separated by blank lines, with prose or an explanation around them;
- six bare numbers in a bracket after a header (read as A..F); a half that says only "none" (six zeros);
- JSON (also in a code fence), as structured output returns it: ``{"clinically_significant": {"A": 1,
  ...}, "clinically_insignificant": {...}}`` with letters or the reference's long keys
  (``false_positive_finding``...), nested dicts, ``[["A", 1], ...]`` pairs or a list of six numbers.

Refused (:class:`UnparseableAnswer`, so the caller retries and finally records a failure): an empty
answer, a missing half, a negative or fractional count, conflicting repeats and, in strict mode, a missing
letter or an unknown label. Outside strict mode a missing letter counts 0 (as in the reference, which
simply leaves it out of its sums) and is listed in ``ParsedErrors.missing``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from rexeval.backends.llm.client import UnparseableAnswer
from rexeval.metrics.error_schema import ERROR_TYPES, LETTERS

_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())}
_LONG = {v: k for k, v in ERROR_TYPES.items()}
_NUM = r"(-?\d+(?:\.\d+)?|" + "|".join(_WORDS) + r")"
# A letter A-F standing alone, an optional closing bracket, a separator, a count.
_PAIR = re.compile(
    r"(?<![A-Za-z0-9_])([A-Fa-f])(?![A-Za-z0-9_])\s*[\)\]]?\s*(?:,|:|=|->|-|\s)\s*[\(\[]?\s*" + _NUM + r"(?![\w])"
    r"(?!\s*(?:cm|mm|%))",
    re.IGNORECASE,
)
# Another label in the same (label, n) shape, e.g. "(G, 2)" - kept only to refuse it in strict mode.
_OTHER_PAIR = re.compile(r"\(\s*([G-Zg-z])\s*,\s*-?\d+\s*\)")
_BARE6 = re.compile(r"[\[\(]\s*(" + r"\d+\s*,\s*" * 5 + r"\d+)\s*[\]\)]")
_INSIG = re.compile(
    r"(?:clinically\s+)?(?:in|non[\s-]?|not\s+(?:clinically\s+)?)significant[^\n:\[\(]{0,60}:?", re.IGNORECASE
)
_SIG = re.compile(r"(?:clinically\s+)?significant[^\n:\[\(]{0,60}:?", re.IGNORECASE)
_NONE = re.compile(r"\s*(?:none|no\s+errors?|0)\s*\.?\s*", re.IGNORECASE)
_EXPLANATION = re.compile(r"\bexplanation", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedErrors:
    significant: dict[str, int]
    insignificant: dict[str, int]
    #: Letters not given (counted 0 outside strict mode), as "sig_C", "insig_F".
    missing: tuple[str, ...] = ()
    source: str = "text"  # or "json"

    def counts(self) -> list[int]:
        """12 counts, sig_A..sig_F then insig_A..insig_F."""
        return [self.significant[x] for x in LETTERS] + [self.insignificant[x] for x in LETTERS]


def parse_errors(text: str | None, strict: bool = False) -> ParsedErrors:
    """The 12 counts of an answer, or :class:`UnparseableAnswer` saying why not."""
    if text is None or not text.strip():
        raise UnparseableAnswer("empty answer")
    halves = _from_json(text)
    source = "json"
    if halves is None:
        halves = _from_text(text, strict)
        source = "text"
    sig, insig = halves
    missing: list[str] = []
    for name, half in (("sig", sig), ("insig", insig)):
        for x in LETTERS:
            if x not in half:
                missing.append(f"{name}_{x}")
                half[x] = 0
    if strict and missing:
        raise UnparseableAnswer(f"missing categories: {', '.join(missing)} (strict mode)")
    return ParsedErrors(sig, insig, tuple(missing), source)


def _count(raw: object) -> int:
    if isinstance(raw, bool):
        raise UnparseableAnswer(f"count {raw!r} is not a number")
    if isinstance(raw, str):
        s = raw.strip().lower().rstrip(".")
        if s in _WORDS:
            return _WORDS[s]
        try:
            raw = float(s)
        except ValueError:
            raise UnparseableAnswer(f"count {raw!r} is not a number") from None
    if not isinstance(raw, (int, float)):
        raise UnparseableAnswer(f"count {raw!r} is not a number")
    if raw != int(raw) or raw < 0:
        raise UnparseableAnswer(f"count {raw!r} is not a non-negative integer")
    return int(raw)


# -- text -----------------------------------------------------------------------------------------------
def _from_text(text: str, strict: bool) -> tuple[dict[str, int], dict[str, int]]:
    headers: list[tuple[int, int, str]] = []
    insig_spans = [(m.start(), m.end()) for m in _INSIG.finditer(text)]
    headers += [(s, e, "insig") for s, e in insig_spans]
    for m in _SIG.finditer(text):
        if not any(s <= m.start() < e for s, e in insig_spans):
            headers.append((m.start(), m.end(), "sig"))
    headers.sort()
    if not any(k == "sig" for *_, k in headers):
        raise UnparseableAnswer("no 'significant' header")
    if not any(k == "insig" for *_, k in headers):
        raise UnparseableAnswer("no 'insignificant' header (truncated answer?)")
    found: dict[str, dict[str, int]] = {}
    problems: list[str] = []
    for i, (_, end, kind) in enumerate(headers):
        if kind in found:
            continue
        stop = headers[i + 1][0] if i + 1 < len(headers) else len(text)
        segment = text[end:stop]
        cut = _EXPLANATION.search(segment)
        if cut:
            segment = segment[: cut.start()]
        try:
            half = _pairs(segment, strict)
        except UnparseableAnswer as exc:
            problems.append(f"{kind}: {exc}")
            continue
        if half:
            found[kind] = half
    for kind in ("sig", "insig"):
        if kind not in found:
            why = "; ".join(p for p in problems if p.startswith(kind + ":")) or "no counts after the header"
            raise UnparseableAnswer(f"{'significant' if kind == 'sig' else 'insignificant'} half: {why}")
    return found["sig"], found["insig"]


def _pairs(segment: str, strict: bool) -> dict[str, int]:
    half: dict[str, int] = {}
    for m in _PAIR.finditer(segment):
        letter, value = m.group(1).upper(), _count(m.group(2))
        if strict and letter in half and half[letter] != value:
            raise UnparseableAnswer(f"letter {letter} given twice with different counts (strict mode)")
        half[letter] = value  # the last value wins, as in the reference parser
    if strict:
        other = _OTHER_PAIR.search(segment)
        if other:
            raise UnparseableAnswer(f"unknown error type {other.group(1)!r} (strict mode)")
    if not half:
        bare = _BARE6.search(segment)
        if bare:
            values = [int(v) for v in re.findall(r"\d+", bare.group(1))]
            half = dict(zip(LETTERS, values))
        elif _NONE.fullmatch(segment):  # an explicit "none" is six zeros, not a missing answer
            half = dict.fromkeys(LETTERS, 0)
    return half


# -- JSON -----------------------------------------------------------------------------------------------
def _from_json(text: str) -> tuple[dict[str, int], dict[str, int]] | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        obj = json.loads(text[start : end + 1])
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    sig = insig = None
    for key, value in obj.items():
        k = re.sub(r"[^a-z]", "", str(key).lower())
        if k in {"clinicallyinsignificant", "insignificant", "insig", "nonsignificant", "clinicallyinsignificanterrors",
                 "insignificanterrors", "minor"}:
            insig = value
        elif k in {"clinicallysignificant", "significant", "sig", "clinicallysignificanterrors",
                   "significanterrors", "major"}:
            sig = value
    if sig is None or insig is None:
        if sig is None and insig is None:
            return None
        raise UnparseableAnswer("JSON answer lacks the " + ("significant" if sig is None else "insignificant") + " half")
    return _json_half(sig), _json_half(insig)


def _json_half(value: object) -> dict[str, int]:
    half: dict[str, int] = {}
    if isinstance(value, dict):
        for key, n in value.items():
            letter = _letter(str(key))
            if letter is None:
                continue
            half[letter] = _count(n)
    elif isinstance(value, list):
        if len(value) == 6 and all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in value):
            half = {x: _count(v) for x, v in zip(LETTERS, value)}
        else:
            for item in value:
                if isinstance(item, (list, tuple)) and len(item) == 2:
                    letter = _letter(str(item[0]))
                    if letter is not None:
                        half[letter] = _count(item[1])
    else:
        raise UnparseableAnswer(f"JSON half is {type(value).__name__}, not an object or list")
    if not half:
        raise UnparseableAnswer("JSON half has no A-F counts")
    return half


def _letter(key: str) -> str | None:
    k = key.strip()
    if k.lower() in _LONG:
        return _LONG[k.lower()]
    m = re.match(r"^\(?([A-Fa-f])(?:\)|\.|:|$|\s|_)", k)
    return m.group(1).upper() if m else None
