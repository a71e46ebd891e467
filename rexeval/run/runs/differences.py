"""Were two runs scored the same way? What differs, one line each, before runs are combined (merge,
compare, leaderboard)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rexeval.base.exceptions import InputError
from rexeval.run.runs.summary import Summary


def _strip_version(signature: str) -> str:
    return "|".join(p for p in str(signature).split("|") if not p.startswith("rexeval:"))


def _minor(version: Any) -> str:
    # patch releases fix bugs without changing numbers (DEVELOPERS.md); a minor release may change them
    return ".".join(str(version).split(".")[:2])


def scoring_differences(summaries: list[tuple[str, Summary]], *, same_input: bool = False,
                        same_studies: bool = True) -> list[str]:
    """What differs in how the runs were scored, one line per difference (empty: they can be combined).

    Compared with the first run: the reference texts, track and whitespace handling, every shared
    metric's signature (its options; rexeval's patch version aside), rexeval's minor version, and with
    ``same_studies`` the set of studies; with ``same_input`` (shards of one run) also the predictions
    file's sha256, the shard layout and the metric set. A fingerprint a run does not record (an older
    rexeval) is not compared.
    """
    if len(summaries) < 2:
        return []
    (name0, s0), rest = summaries[0], summaries[1:]
    out: list[str] = []

    def differ(label: str, get: Callable[[Summary], Any]) -> None:
        v0 = get(s0)
        for name, s in rest:
            v = get(s)
            if v0 is not None and v is not None and v != v0:
                out.append(f"{label}: {_short(v0)} ({name0}) vs {_short(v)} ({name})")

    # the references fingerprint covers the whole aligned input: comparable only between equal study sets
    # (a study-set difference is reported on its own)
    differ("references (sha256 of the reference texts)",
           lambda s: s.input.references_sha256 if s.input.study_ids_sha256 == s0.input.study_ids_sha256 else None)
    differ("track", lambda s: s.input.track)
    differ("whitespace", lambda s: s.input.collapse_whitespace)
    differ("rexeval version", lambda s: _minor(v) if (v := s.versions.get("rexeval")) else None)
    if same_studies:
        differ("study set (sha256 of the study ids)", lambda s: s.study_ids_sha256)
    if same_input:
        differ("predictions (sha256 of the file)", lambda s: s.input.preds_sha256)
        differ("studies in the full input", lambda s: s.shard.n_total if s.shard else None)
        differ("metric set", lambda s: sorted(s.metrics))
    m0 = s0.metrics
    for name, s in rest:
        for key, entry in s.metrics.items():
            if key in m0 and entry.signature is not None and m0[key].signature is not None:
                a, b = _strip_version(m0[key].signature or ""), _strip_version(entry.signature)
                if a != b:
                    out.append(f"metric {key} options: {a} ({name0}) vs {b} ({name})")
    return out


def _short(v: Any) -> str:
    text = str(v)
    return text[:12] if len(text) == 64 and all(c in "0123456789abcdef" for c in text) else text[:80]


def refuse_differences(differences: list[str], what: str, allow: bool) -> list[str]:
    """Raise unless ``allow``; returns the differences (to record them in the output when allowed)."""
    if differences and not allow:
        more = f" (+{len(differences) - 3} more)" if len(differences) > 3 else ""
        raise InputError(f"{what}: the runs were scored differently: {'; '.join(differences[:3])}{more}. "
                         "Pass --allow-mismatch to combine them anyway (recorded in the output)")
    return differences
