"""CRIMSON judge answers -> findings -> score, as the RadEval package (2.x) parses and scores them.

Written from the facts of RadEval's ``metrics/crimson`` (MIT); no code is copied. The answer is a JSON
object with ``reference_findings`` / ``predicted_findings`` (id, finding, clinical_significance),
``matched_findings`` (ref_id, pred_id) and ``errors`` (false_findings: P ids, missing_findings: R ids,
attribute_errors: ref_id, pred_id, severity, error_types, explanation).

Recovery of imperfect JSON follows the peer step by step (its answers and ours must agree on every
canned answer, tested): keep the fenced block or the outermost braces, drop trailing commas; escape
curly quotes; repair ``["":[`` and keys missing their opening quote; then parse, else drop orphan
strings inside objects, else double invalid backslashes, else escape stray quotes one at a time; else
close a truncated object. Duplicate keys keep their first value (except after the truncation repair).

Score: significance weights urgent 1, actionable_not_urgent 0.5, not_actionable_not_urgent 0.25,
benign_expected 0, anything else 0.25; attribute-error severity significant 0.5, negligible 0, else 0.25.
N_G = weighted reference findings; correct = per matched reference finding (first pair only) its weight,
scaled by w / (w + sum of its attribute-error weights) when it has attribute errors; false findings cost
their predicted weights. S = (correct - E_false) / N_G (special cases when N_G = 0); a negative S is
replaced by -x / (1 + x) with x = E_false - correct (0 when x <= 0). Rounded to 4 decimals.
"""

from __future__ import annotations

import json
import re
from typing import Any

SIGNIFICANCE = {"urgent": 1.0, "actionable_not_urgent": 0.5, "not_actionable_not_urgent": 0.25, "benign_expected": 0.0}
ATTRIBUTE_SEVERITY = {"significant": 0.5, "negligible": 0.0}
#: Weight of a label outside the published vocabulary.
UNKNOWN_WEIGHT = 0.25
ATTRIBUTE_TYPES = ("location", "severity", "descriptor", "measurement", "certainty", "unspecific",
                   "overinterpretation", "temporal")
COUNT_KEYS = ("false_findings", "missing_findings", "attribute_errors") + tuple(f"{t}_errors" for t in ATTRIBUTE_TYPES)
REQUIRED_KEYS = ("reference_findings", "predicted_findings", "matched_findings", "errors")

_FENCE = re.compile(r"```(?:json)?\s*\n?(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_ARRAY_AS_OBJECT = re.compile(r'\[""\s*:\s*\[')
_KEY_WITHOUT_OPEN_QUOTE = re.compile(r'([\]}"0-9]\s*,\s*|{\s*)([a-zA-Z_][a-zA-Z0-9_]*")')
_STRAY_STRING_AFTER_COMMA = re.compile(r',\s*"[^"]*"\s*(?=\s*[,}])(?!\s*:)')
_STRAY_STRING_FIRST = re.compile(r'(?<=\{)\s*"[^"]*"\s*,\s*(?=")')
_BAD_ESCAPE = re.compile(r'\\(?!["\\/bfnrtu])')


class CrimsonParseError(ValueError):
    """The judge's answer holds no CRIMSON evaluation we can read."""


def _first_key_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


def _loads(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_first_key_wins)


def json_region(answer: str) -> str:
    """The JSON part of an answer: a fenced block, else outermost braces; trailing commas removed."""
    text = answer.strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    else:
        lo, hi = text.find("{"), text.rfind("}")
        if lo >= 0 and hi > lo:
            text = text[lo:hi + 1]
    return _TRAILING_COMMA.sub(r"\1", text)


def _is_delimiter(text: str, i: int) -> bool:
    """Does the quote at ``i`` open or close a JSON string (rather than sit inside prose)?"""
    prev = text[i - 1] if i > 0 else ""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if prev in (":", "[", "{") or nxt in (":", "]", "}"):
        return True
    if prev == ",":
        before = text[i - 2] if i >= 2 else ""
        return before in ('"', "]", "}") or before.isdigit()
    if nxt == ",":
        after = text[i + 2] if i + 2 < len(text) else ""
        return after in ('"', "[", "{") or after.isdigit()
    return False


def _escape_stray_quotes(text: str, attempts: int = 50) -> Any:
    """Parse, escaping one non-delimiter quote at or up to 5 characters before each error, 50 times at most."""
    for _ in range(attempts):
        try:
            return _loads(text)
        except json.JSONDecodeError as exc:
            fixed = False
            for i in range(exc.pos, max(0, exc.pos - 5) - 1, -1):
                if i < len(text) and text[i] == '"' and (i == 0 or text[i - 1] != "\\") and not _is_delimiter(text, i):
                    text = text[:i] + '\\"' + text[i + 1:]
                    fixed = True
                    break
            if not fixed:
                raise
    raise json.JSONDecodeError("too many stray quotes", text, 0)


def lenient_loads(text: str) -> Any:
    """Parse JSON with the peer's progressive repairs; CrimsonParseError when none works."""
    text = text.replace("\u201c", '\\"').replace("\u201d", '\\"').replace("\u2018", "\\'").replace("\u2019", "\\'")
    text = _ARRAY_AS_OBJECT.sub("[", text)
    text = _KEY_WITHOUT_OPEN_QUOTE.sub(r'\1"\2', text)
    attempts = [text, _STRAY_STRING_FIRST.sub("", _STRAY_STRING_AFTER_COMMA.sub("", text))]
    escaped = _BAD_ESCAPE.sub(r"\\\\", text)
    attempts.append(escaped)
    for candidate in attempts:
        try:
            return _loads(candidate)
        except json.JSONDecodeError:
            pass
    for candidate in (text, escaped):
        try:
            return _escape_stray_quotes(candidate)
        except (json.JSONDecodeError, ValueError):
            pass
    raise CrimsonParseError("answer is not JSON, even after repairs")


def close_truncated(text: str) -> str | None:
    """Close the strings, arrays and objects a cut-off answer left open; None if still not JSON."""
    closers = {"{": "}", "[": "]"}
    pending: list[str] = []
    in_string = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            in_string = not in_string
        elif in_string:
            continue
        elif ch in closers:
            pending.append(closers[ch])
        elif ch in ("}", "]") and pending and pending[-1] == ch:
            pending.pop()
    if in_string:
        text += '"'
    text = re.sub(r",\s*$", "", text) + "".join(reversed(pending))
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return None
    return text


def parse_evaluation(answer: str) -> dict[str, Any]:
    """The judge's evaluation object from its raw answer (CrimsonParseError when unreadable)."""
    region = json_region(answer)
    try:
        data = lenient_loads(region)
    except CrimsonParseError:
        closed = close_truncated(region)
        if closed is None:
            raise
        data = json.loads(closed)
    if not isinstance(data, dict):
        raise CrimsonParseError(f"answer is a JSON {type(data).__name__}, not an object")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise CrimsonParseError(f"answer lacks {', '.join(missing)}")
    if not isinstance(data["errors"], dict):
        raise CrimsonParseError("'errors' is not an object")
    return data


def score_evaluation(evaluation: dict[str, Any]) -> dict[str, Any]:
    """CRIMSON score, error counts and weights of one parsed evaluation (the peer's arithmetic)."""
    errors = evaluation.get("errors", {})
    matched = evaluation.get("matched_findings", [])
    refs = evaluation.get("reference_findings", [])
    preds = evaluation.get("predicted_findings", [])

    def weight(item: dict, table: dict[str, float], key: str) -> float:
        return table.get(item.get(key, ""), UNKNOWN_WEIGHT)

    ref_w = {r["id"]: weight(r, SIGNIFICANCE, "clinical_significance") for r in refs}
    pred_w = {p["id"]: weight(p, SIGNIFICANCE, "clinical_significance") for p in preds}
    e_false = sum(pred_w.get(i, 0.0) for i in errors.get("false_findings", []))
    e_miss = sum(ref_w.get(i, 0.0) for i in errors.get("missing_findings", []))
    attr = errors.get("attribute_errors", [])
    by_type = {t: sum(1 for e in attr if t in e.get("error_types", [])) for t in ATTRIBUTE_TYPES}
    attr_by_ref: dict[Any, list[dict]] = {}
    for e in attr:
        if e.get("ref_id") is not None:
            attr_by_ref.setdefault(e.get("ref_id"), []).append(e)

    n_g = sum(weight(r, SIGNIFICANCE, "clinical_significance") for r in refs)
    if n_g == 0 and not refs:
        n_g = len(matched) + e_miss
    seen: set = set()
    correct = 0.0
    for m in matched:
        rid = m.get("ref_id")
        if rid in seen:
            continue
        seen.add(rid)
        w = ref_w.get(rid, 0.0)
        found = attr_by_ref.get(rid, [])
        if not found:
            correct += w
        else:
            denom = w + sum(weight(e, ATTRIBUTE_SEVERITY, "severity") for e in found)
            correct += w * (w / denom if denom > 0 else 0.0)
    excess = e_false - correct
    if n_g == 0:
        s = 1.0 if e_false == 0 and e_miss == 0 else -(e_false + e_miss + 1)
    else:
        s = (correct - e_false) / n_g
    if s >= 0:
        value = s
    else:
        value = -excess / (1 + excess) if excess > 0 else 0
    counts = {"false_findings": len(errors.get("false_findings", [])),
              "missing_findings": len(errors.get("missing_findings", [])),
              "attribute_errors": len(attr)}
    counts.update({f"{t}_errors": by_type[t] for t in ATTRIBUTE_TYPES})
    return {
        "crimson_score": round(value, 4),
        "error_counts": counts,
        "weighted_error_counts": {"false_findings": e_false, "missing_findings": e_miss,
                                  "attribute_errors": sum(weight(e, ATTRIBUTE_SEVERITY, "severity") for e in attr)},
        "metrics": {"N_G": n_g, "E_penalty": e_false, "correct": correct, "errors_more_than_correct": excess, "S": s},
    }


def parse_and_score(answer: str) -> dict[str, Any]:
    """Raw answer -> {"evaluation", "crimson_score", "error_counts", ...}; CrimsonParseError on any defect."""
    evaluation = parse_evaluation(answer)
    try:
        scored = score_evaluation(evaluation)
    except (KeyError, AttributeError, TypeError) as exc:  # e.g. a finding without "id": the peer fails too
        raise CrimsonParseError(f"malformed evaluation: {type(exc).__name__}: {exc}") from None
    return {"evaluation": evaluation, **scored}
