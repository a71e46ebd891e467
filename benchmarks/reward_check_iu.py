"""The reward-check table of docs/reward_check.md: the offline rewards on the ReXrank IU X-ray test
references (findings track), their time, and the error counter's target check.

    PYTHONPATH=. python benchmarks/reward_check_iu.py [--docs] [--limit N]

One RewardSuite with four components (BLEU-2, ROUGE-L, -errors_struct_total_sig, per-study rules F1, weight 1
each) is the UniRG-like composite; each single-metric reward is the composite's component of the same
name (with one component of weight 1 the total is that component). ``--docs`` writes the tables between
the marker comments of docs/reward_check.md; results go to benchmarks/results/reward_check_iu.*.
Rerun after the error counter changes (the errors_struct_total_sig column and the PASS/FAIL check move).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared")) / "data"
REFS = SHARED / "rexrank" / "iu_xray_test.json"
DOC = ROOT / "docs" / "reward_check.md"
RESULTS = ROOT / "benchmarks" / "results"
START, END = "<!-- reward-check-iu:start -->", "<!-- reward-check-iu:end -->"
HACKS_START, HACKS_END = "<!-- reward-check-hacks:start -->", "<!-- reward-check-hacks:end -->"

COMPOSITE = {
    "components": [
        {"metric": "bleu", "weight": 1.0},
        {"metric": "rouge_l", "weight": 1.0},
        {"metric": "errors_struct", "weight": 1.0},  # auto: -errors_struct_total_sig
        {"metric": "rules_f1_study", "weight": 1.0},
    ]
}
LABELS = {"bleu": "BLEU-2", "rouge_l": "ROUGE-L", "errors_struct": "−errors_struct_total_sig",
          "rules_f1_study": "rules F1 (per study)", "total": "UniRG-like composite"}
#: The issue's target for the error counter: no hack wins on more than this share.
TARGET = 0.05


def markdown(result, seconds: float, n_cores: int, load: float) -> str:
    tab = result.table
    comps = list(LABELS)
    lines = ["| hack | applicable / n.a. (not significant) | " + " | ".join(LABELS[c] for c in comps) + " |",
             "|---|---|" + "---|" * len(comps)]
    for hack in dict.fromkeys(tab["hack"]):
        part = tab[tab["hack"] == hack].set_index("component")
        first = part.iloc[0]
        cells = []
        for c in comps:
            r = part.loc[c]
            cells.append("n/a" if r["n_scored"] == 0 else f"{r['win_share']:.0%} ({r['mean_margin']:+.3g})")
        counts = f"{first['n_applicable']} / {first['n_not_applicable']} ({first['n_not_significant']})"
        lines.append(f"| {hack} | {counts} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Share of applicable references where the hack earns at least the control's reward; in "
                 "brackets the mean margin (hack − control, in the reward's units). *Not significant*: "
                 "references where the hack's first rule applied but it would change no significant "
                 "finding, only incidental, minor, hedged, minimal or chronic ones (counted in n.a.; "
                 "applicable + not significant = the first rule's count).")
    lines.append("")
    for c in comps:
        paid = result.paid(c)
        lines.append(f"- **{LABELS[c]}** pays for (wins on more than {result.info['max_win_share']:.0%}): "
                     + (", ".join(paid) if paid else "no hack"))
    lines.append("")
    kinds = ", ".join(f"{k} {v}" for k, v in result.info["control_kinds"].items())
    lines.append(f"{result.info['n_references']} references, seed {result.info['seed']}; controls: {kinds}. "
                 f"Wall time {seconds:.1f} s for the whole check (suite built, {len(result.texts)} texts "
                 f"scored by the four metrics, {result.info['n_resamples']} bootstrap resamples) on "
                 f"{n_cores} cores, load average {load:.1f}.")
    sig = {c["name"]: c["metric"] for c in result.info["reward"]["components"]}
    lines.append("")
    lines.append("Signatures: " + "; ".join(f"`{v}`" for v in sig.values()))
    return "\n".join(lines)


def hacks_markdown() -> str:
    from rexeval.tools.hacks import APPLICABILITY

    lines = ["| hack | the hacked report | applies when (so it is clinically worse than the control) |",
             "|---|---|---|"]
    lines += [f"| `{h}` | {does} | {when} |" for h, (does, when) in APPLICABILITY.items()]
    return "\n".join(lines)


def replace_between(doc: str, start: str, end: str, text: str) -> str:
    head, rest = doc.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{text}\n{end}{tail}"


def target_check(result) -> list[str]:
    tab = result.table[result.table["component"] == "errors_struct"]
    out = []
    for r in tab.itertuples():
        if not r.n_scored:
            out.append(f"  {r.hack}: n/a")
            continue
        verdict = "PASS" if r.win_share <= TARGET else "FAIL"
        out.append(f"  {verdict} {r.hack}: wins on {r.win_share:.1%} ({r.wins}) of {r.n_scored} applicable references "
                   f"({r.n_not_significant} more not significant)")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", action="store_true", help="write the tables into docs/reward_check.md")
    ap.add_argument("--limit", type=int, default=None, help="only the first N references (a quick look)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.environ.setdefault("REXEVAL_CACHE", "off")  # time the scoring itself, not a warm disk cache
    from rexeval.tools.reward_check import heatmap, read_studies, run_reward_check

    studies = read_studies(REFS, "findings")[: args.limit]
    t0 = time.perf_counter()
    result = run_reward_check(COMPOSITE, studies, seed=args.seed)
    seconds = time.perf_counter() - t0
    n_cores = len(os.sched_getaffinity(0))
    load = os.getloadavg()[0]
    text = markdown(result, seconds, n_cores, load)
    print(text)
    print("\nerrors_struct_total_sig target (no hack wins on more than 5% of applicable references):")
    check = target_check(result)
    print("\n".join(check))
    RESULTS.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(RESULTS / "reward_check_iu_table.csv", index=False)
    (RESULTS / "reward_check_iu.json").write_text(json.dumps(
        {"seconds": seconds, "cores": n_cores, "load_average": load, "verdicts": result.verdicts(),
         "paid_for": {c: result.paid(c) for c in LABELS}, "target_check": check, **result.info},
        indent=2, default=str) + "\n")
    for p in heatmap(result, RESULTS):
        p.rename(p.with_name(p.name.replace("reward_check_heatmap", "reward_check_iu_heatmap")))
    if args.docs:
        if args.limit:
            raise SystemExit("--docs needs every reference (no --limit)")
        doc = replace_between(DOC.read_text(), START, END, text)
        DOC.write_text(replace_between(doc, HACKS_START, HACKS_END, hacks_markdown()))
        print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
