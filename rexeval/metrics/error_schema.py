"""The CheXprompt error schema shared by the LLM judge and the structured counter (docs/metrics.md §8).

Six error types, each counted as clinically significant (likely to change treatment, management or
outcome) and as clinically insignificant: 12 counts per study, plus their totals.
"""

from __future__ import annotations

import numpy as np

from rexeval.metrics.base import Output, mean_of, share_of

#: Letter -> the reference implementation's key.
ERROR_TYPES: dict[str, str] = {
    "A": "false_positive_finding",
    "B": "omission_finding",
    "C": "incorrect_location",
    "D": "incorrect_severity",
    "E": "false_positive_comparison",
    "F": "omission_comparison",
}
LETTERS = tuple(ERROR_TYPES)
DESCRIPTIONS: dict[str, str] = {
    "A": "finding reported that the reference does not contain",
    "B": "finding of the reference that the candidate misses",
    "C": "wrong location, side or position of a finding",
    "D": "wrong severity of a finding",
    "E": "change from a prior study claimed that the reference does not describe",
    "F": "change from a prior study described by the reference but omitted",
}
#: Key prefixes before rexeval 0.2's one naming scheme (an output key starts with its metric's name):
#: old runs, reward configs and `--metrics` selectors that use them are read with the current names.
RENAMED_PREFIXES: dict[str, str] = {"struct_err_": "errors_struct_", "llm_errors_": "errors_llm_"}


def current_key(key: str) -> str:
    """``key`` under today's names (``struct_err_total_sig`` -> ``errors_struct_total_sig``); others as given."""
    for old, new in RENAMED_PREFIXES.items():
        if key.startswith(old):
            return new + key[len(old):]
        if key == old.rstrip("_"):  # the bare prefix, as a --metrics selector
            return new.rstrip("_")
    return key


#: Column suffixes in schema order: sig_A..sig_F, insig_A..insig_F.
COUNT_SUFFIXES = tuple(f"sig_{x}" for x in LETTERS) + tuple(f"insig_{x}" for x in LETTERS)


def count_columns(prefix: str) -> list[str]:
    return [f"{prefix}{s}" for s in COUNT_SUFFIXES]


def columns_from_counts(prefix: str, counts: np.ndarray) -> dict[str, np.ndarray]:
    """(n, 12) counts (NaN rows = failures) -> the 12 count columns + total_sig + total."""
    counts = np.asarray(counts, dtype=float).reshape(-1, 12)
    out = {name: counts[:, j] for j, name in enumerate(count_columns(prefix))}
    out[f"{prefix}total_sig"] = counts[:, :6].sum(axis=1)  # NaN stays NaN
    out[f"{prefix}total"] = counts.sum(axis=1)
    return out


def error_outputs(prefix: str, label: str, per_type: bool = True) -> list[Output]:
    """Mean significant / total errors per report, the shares with 0, <=1, >=4 errors, per-type means."""
    inf = float("inf")
    outs: list[Output] = []
    for total, what in (("total_sig", "clinically significant"), ("total", "all (significant + insignificant)")):
        col = f"{prefix}{total}"
        outs.append(Output(col, False, (0.0, inf), mean_of(col), f"{label}: mean {what} errors per report"))
        outs.append(Output(f"{col}_share0", True, (0.0, 1.0), share_of(col, lambda x: x == 0, "share==0"),
                           f"{label}: share of reports with 0 {what} errors", per_study=False))
        outs.append(Output(f"{col}_share_le1", True, (0.0, 1.0), share_of(col, lambda x: x <= 1, "share<=1"),
                           f"{label}: share of reports with <=1 {what} errors", per_study=False))
        outs.append(Output(f"{col}_share_ge4", False, (0.0, 1.0), share_of(col, lambda x: x >= 4, "share>=4"),
                           f"{label}: share of reports with >=4 {what} errors", per_study=False))
    if per_type:
        for suffix in COUNT_SUFFIXES:
            sig, letter = suffix.split("_")
            col = f"{prefix}{suffix}"
            kind = "significant" if sig == "sig" else "insignificant"
            outs.append(Output(col, False, (0.0, inf), mean_of(col),
                               f"{label}: mean {kind} type-{letter} errors ({DESCRIPTIONS[letter]})"))
    return outs
