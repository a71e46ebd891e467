"""Stress suite v2 on the 590 ReXrank IU X-ray test references (findings track): issue 20's targets for
`errors_struct_total_sig` beside their measured values, and where the perturbation lexicon meets the error
counter's and rule labeler's vocabulary.

Usage:
    python benchmarks/stress_targets.py [--refs iu_xray_test.json] [--bootstrap 1000] [--docs]

Prints the applicable edits per category (every clinical category needs >= 100 on the original + derived
abnormal bases), the target table (PASS/FAIL), the ranked summary and the vocabulary overlap. ``--docs``
rewrites the stress results in docs/metaeval.md between the ``<!-- stress-table:begin/end -->`` and
``<!-- stress-overlap:begin/end -->`` markers, so the table can be regenerated after the counter changes.

The IU test references are only perturbed here; their MeSH indexing is not read (it is held out), and no rule
or word of the lexicon was fitted on these results.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared"))
DEFAULT_REFS = SHARED / "data" / "rexrank" / "iu_xray_test.json"
DOCS = ROOT / "docs" / "metaeval.md"
KEYS = "bleu,rouge_l,errors_struct_total_sig,errors_struct_total,rules_f1_14_micro"
TARGET_OUTPUT = "errors_struct_total_sig"
SENSITIVITY_TARGET, INVARIANCE_TARGET, DISCRIMINATION_TARGET, TAU_TARGET = 0.90, 0.95, 0.95, 0.80
MIN_APPLICABLE = 100


# ------------------------------------------------------------------------------ vocabulary overlap


def _expand(pattern: str, cap: int = 12) -> list[str]:
    """Literal phrases a (simple) lexicon regex matches: alternations, optional chars/groups, \\d+ -> 4."""

    def parse(s: str, i: int) -> tuple[list[list[str]], int]:
        alts: list[list[str]] = [[""]]
        while i < len(s):
            c = s[i]
            if c == ")":
                return alts, i + 1
            if c == "|":
                alts.append([""])
                i += 1
                continue
            if s.startswith("(?:", i):
                inner, i = parse(s, i + 3)
                piece = [p for alt in inner for p in alt]
            elif c == "\\" and i + 1 < len(s):
                nxt = s[i + 1]
                piece = {"d": ["4"], "w": ["x"], "s": [" "], "b": [""]}.get(nxt, [nxt])
                i += 2
                if nxt in "dw" and i < len(s) and s[i] in "+*":
                    i += 1
            else:
                piece = [c]
                i += 1
            if i < len(s) and s[i] == "?":
                piece = piece + [""]
                i += 1
            alts[-1] = [a + p for a in alts[-1] for p in piece][:cap]
        return alts, i

    alts, _ = parse(pattern, 0)
    return sorted({" ".join(p.split()) for alt in alts for p in alt if p.strip()})[:cap]


def counter_vocabulary() -> tuple[list[re.Pattern], set[str], list[str]]:
    """Every compiled pattern and word list of the rule labeler and the error counter modules (read at run
    time; the lexicon was written without reading them)."""
    names = ["rexeval.backends.labelers.vocabulary", "rexeval.backends.labelers.rules"]
    import rexeval.metrics as metrics_pkg

    for m in pkgutil.iter_modules(metrics_pkg.__path__):
        if m.name.startswith("errors_struct"):
            names.append(f"rexeval.metrics.{m.name}")
            if m.ispkg:  # a counter split into a package: every module in it
                sub = importlib.import_module(f"rexeval.metrics.{m.name}")
                names += [f"{sub.__name__}.{x.name}" for x in pkgutil.iter_modules(sub.__path__)]
    import rexeval.backends.labelers as labelers_pkg

    names += [
        f"rexeval.backends.labelers.{x.name}"
        for x in pkgutil.iter_modules(labelers_pkg.__path__)
        if x.name.startswith(("vocabulary", "rules")) and f"rexeval.backends.labelers.{x.name}" not in names
    ]
    patterns: list[re.Pattern] = []
    words: set[str] = set()
    seen: set[int] = set()

    def walk(value, depth: int = 0) -> None:
        if id(value) in seen or depth > 4:
            return
        seen.add(id(value))
        if isinstance(value, re.Pattern):
            patterns.append(value)
        elif isinstance(value, str):
            if 2 < len(value) < 60 and re.fullmatch(r"[A-Za-z][A-Za-z \-/']*", value):
                words.add(value.lower())
            elif len(re.findall(r"[A-Za-z]", value)) >= 3 and len(value) < 5000:
                try:  # a regex kept as a string (a term list joined with "|")
                    patterns.append(re.compile(value, re.I))
                except re.error:
                    pass
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k, depth + 1)
                walk(v, depth + 1)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for v in value:
                walk(v, depth + 1)
        elif (
            type(value).__module__ in names
            and hasattr(value, "__dict__")
            and not isinstance(value, type)
        ):
            walk(vars(value), depth + 1)  # objects of their own classes (rule tables, term sets)
        elif hasattr(value, "__dataclass_fields__") and not isinstance(value, type):
            walk({f: getattr(value, f, None) for f in value.__dataclass_fields__}, depth + 1)

    loaded = []
    for name in names:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        loaded.append(name)
        for attr, value in vars(mod).items():
            if not attr.startswith("__"):
                walk(value)
    return patterns, words, loaded


def vocabulary_overlap() -> tuple[list[dict], list[str]]:
    """Per lexicon group: how many of its phrases a counter/labeler pattern matches or its word lists hold."""
    from rexeval.tools.stress.lexicon import all_terms

    patterns, words, loaded = counter_vocabulary()

    def covered(text: str) -> list[bool]:
        """Which characters of ``text`` lie inside some counter/labeler pattern match or word-list entry."""
        mask = [False] * len(text)
        for pat in patterns:
            for m in pat.finditer(text):
                mask[m.start() : m.end()] = [True] * (m.end() - m.start())
        for w in re.finditer(r"[A-Za-z][A-Za-z\-]+", text):
            if w.group(0).lower() in words:
                mask[w.start() : w.end()] = [True] * (w.end() - w.start())
        return mask

    rows = []
    for group, terms in all_terms().items():
        phrases = sorted({p for t in terms for p in _expand(t)})
        masks = {p: covered(p) for p in phrases}
        whole = [
            p
            for p in phrases
            if p.lower() in words
            or sum(m for m, c in zip(masks[p], p, strict=True) if c != " ")
            >= 0.8 * len(p.replace(" ", ""))
        ]
        word = [
            p
            for p in phrases
            if p in whole
            or any(all(masks[p][w.start() : w.end()]) for w in re.finditer(r"[A-Za-z]{4,}", p))
        ]
        rows.append(
            {
                "group": group,
                "phrases": len(phrases),
                "shared": len(whole),
                "share": len(whole) / len(phrases) if phrases else float("nan"),
                "word_shared": len(word),
                "word_share": len(word) / len(phrases) if phrases else float("nan"),
                "examples_shared": whole[:6],
                "examples_own": [p for p in phrases if p not in word][:6],
            }
        )
    return rows, loaded


def overlap_markdown(rows: list[dict], loaded: list[str]) -> str:
    lines = [
        "| lexicon group | phrases | phrase shared | a word shared | e.g. phrase shared | e.g. no word shared |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['group']} | {r['phrases']} | {r['shared']} ({r['share']:.0%}) | "
            f"{r['word_shared']} ({r['word_share']:.0%}) | "
            f"{', '.join(r['examples_shared'][:4]) or '-'} | {', '.join(r['examples_own'][:4]) or '-'} |"
        )
    lines.append("")
    lines.append(
        "Modules compared at run time: "
        + ", ".join(f"`{m}`" for m in loaded)
        + " (every module-level "
        "compiled pattern and word list). *Phrase shared*: their patterns/word lists cover >= 80% of "
        "the lexicon phrase's letters; *a word shared*: at least one word of >= 4 letters of the phrase "
        "is matched whole. Phrases are the lexicon's regexes expanded to literal examples."
    )
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ results


def target_rows(result) -> list[tuple[str, str, float, str]]:
    from rexeval.tools.stress import CLINICAL, PRESERVING

    tab = result.table[result.table["output"] == TARGET_OUTPUT].set_index("category")
    summ = result.summary.set_index("output").loc[TARGET_OUTPUT]
    rows = []
    for cat in CLINICAL:
        rows.append(
            (
                f"sensitivity {cat}",
                f">= {SENSITIVITY_TARGET:.2f}",
                float(tab.loc[cat, "share"]),
                ">=",
            )
        )
    for cat in PRESERVING:
        rows.append(
            (f"invariance {cat}", f">= {INVARIANCE_TARGET:.2f}", float(tab.loc[cat, "share"]), ">=")
        )
    rows.append(
        ("discrimination", f">= {DISCRIMINATION_TARGET:.2f}", float(summ["discrimination"]), ">=")
    )
    rows.append(("tau(injected, counted)", f">= {TAU_TARGET:.2f}", float(summ["tau"]), ">="))
    out = []
    for name, target, value, _ in rows:
        threshold = float(target.split()[-1])
        out.append((name, target, value, "PASS" if value >= threshold else "FAIL"))
    return out


def _fmt(v: float) -> str:
    return "n/a" if v != v else f"{v:.2f}"


def results_markdown(result, seconds: float) -> str:
    from rexeval.tools.stress import CLINICAL

    info = result.info
    outputs = list(result.summary["output"])
    sig = info["signatures"].get("errors_struct", "")
    lines = [
        f"{info['n_references']} IU test references (findings track) and {info['n_derived_bases']} derived "
        f"abnormal bases, seed {info['seed']}, tolerance {info['tolerance']:g}, "
        f"{info['bootstrap']['resamples']} bootstrap resamples over references; "
        f"{seconds:.0f} s on this machine. Stress suite v{info['suite_version']}; errors_struct "
        f"signature: `{sig}`.",
        "",
        "**Ranked by discrimination** (95% bootstrap CI over references):",
        "",
        "| output | discrimination | tau (injected, movement) | sensitivity mean / min | invariance mean / min |",
        "|---|---|---|---|---|",
    ]
    for r in result.summary.itertuples(index=False):
        lines.append(
            f"| {r.output} | {r.discrimination:.3f} [{r.discrimination_ci_lo:.3f}, "
            f"{r.discrimination_ci_hi:.3f}] | {r.tau:.3f} [{r.tau_ci_lo:.3f}, {r.tau_ci_hi:.3f}] | "
            f"{_fmt(r.sensitivity_mean)} / {_fmt(r.sensitivity_min)} | "
            f"{_fmt(r.invariance_mean)} / {_fmt(r.invariance_min)} |"
        )
    lines += [
        "",
        "**Per category**: sensitivity (clinical) or invariance (meaning-preserving) [Wilson 95% CI]; "
        "applied = on the original + derived bases.",
        "",
        "| category | applied (orig + derived) / not applicable | " + " | ".join(outputs) + " |",
        "|---|---|" + "---|" * len(outputs),
    ]
    for cat in dict.fromkeys(result.table["category"]):
        part = result.table[result.table["category"] == cat].set_index("output")
        first = part.iloc[0]
        cells = [
            (
                "n/a"
                if part.loc[o, "n_scored"] == 0
                else f"{part.loc[o, 'share']:.2f} [{part.loc[o, 'ci_lo']:.2f}, {part.loc[o, 'ci_hi']:.2f}]"
            )
            for o in outputs
        ]
        label = f"{cat} ({'sens.' if cat in CLINICAL else 'inv.'})"
        lines.append(
            f"| {label} | {first['n_applicable']} ({first['n_applicable_original']} + "
            f"{first['n_applicable_derived']}) / {first['n_not_applicable']} | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        f"**Targets of issue 20 for `{TARGET_OUTPUT}`**:",
        "",
        "| target | wanted | measured | |",
        "|---|---|---|---|",
    ]
    lines += [f"| {n} | {t} | {v:.3f} | {p} |" for n, t, v, p in target_rows(result)]
    return "\n".join(lines)


def replace_between(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in text or end not in text:
        raise SystemExit(f"{DOCS}: markers {begin} / {end} not found")
    a, b = text.index(begin) + len(begin), text.index(end)
    return text[:a] + "\n" + body.strip() + "\n" + text[b:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refs", type=Path, default=DEFAULT_REFS)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--docs", action="store_true", help="rewrite the stress results in docs/metaeval.md"
    )
    args = ap.parse_args()
    if not args.refs.exists():
        sys.exit(f"error: {args.refs} not found (set REXEVAL_SHARED or --refs)")

    from rexeval.tools.stress import CLINICAL, print_table, read_references, run_stress

    ids, texts = read_references(args.refs, "findings")
    t0 = time.perf_counter()
    result = run_stress(
        ids, texts, keys=KEYS.split(","), seed=args.seed, n_resamples=args.bootstrap, progress=False
    )
    seconds = time.perf_counter() - t0
    print_table(result)
    first = result.table.drop_duplicates("category").set_index("category")
    print("\napplicable clinical edits (original + derived bases; need >= 100):")
    for cat in CLINICAL:
        n = int(first.loc[cat, "n_applicable"])
        print(
            f"  {cat:24s} {n:5d} ({int(first.loc[cat, 'n_applicable_original'])} + "
            f"{int(first.loc[cat, 'n_applicable_derived'])})  {'ok' if n >= MIN_APPLICABLE else 'TOO FEW'}"
        )
    print(f"\ntargets for {TARGET_OUTPUT} ({result.info['signatures'].get('errors_struct', '')}):")
    for name, target, value, verdict in target_rows(result):
        print(f"  {name:40s} {target:>8s}  measured {value:6.3f}  {verdict}")
    rows, loaded = vocabulary_overlap()
    print("\nlexicon vs counter/labeler vocabulary (" + ", ".join(loaded) + "):")
    for r in rows:
        print(
            f"  {r['group']:24s} {r['shared']:3d}/{r['phrases']:3d} phrases shared, {r['word_shared']:3d} with a "
            f"word shared; e.g. {r['examples_shared'][:3]}"
        )
    print(f"\n{seconds:.1f} s for the suite")
    if args.docs:
        text = DOCS.read_text()
        text = replace_between(text, "stress-table", results_markdown(result, seconds))
        text = replace_between(text, "stress-overlap", overlap_markdown(rows, loaded))
        DOCS.write_text(text)
        print(f"wrote {DOCS}")


if __name__ == "__main__":
    main()
