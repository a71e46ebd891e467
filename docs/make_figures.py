"""Generate the figures that the documentation shows, into docs/img/ (committed; each at most 150 KB).

    python docs/make_figures.py [--shared ../shared]        (or: nox -s docs_figures)

Everything is computed here, with offline metrics only and fixed seeds, from files in the repository (and
the IU X-ray test references when the shared data folder is present), so a rerun draws the same pictures:

- ``scoring_overview.png``, ``scoring_errors.png``, ``scoring_comparison.png`` (docs/scoring.md):
  ``examples/example_preds.csv`` scored with bleu, bleu4, rouge_l, errors_struct and rules_f1, beside a
  template system (one normal report for every study) scored alike;
- ``leaderboard_iu.png`` (docs/leaderboards.md): the baseline rows of ``leaderboards/iu_xray/leaderboard.csv``;
- ``stress_heatmap.png`` (docs/metaeval.md): ``rexeval stress`` on the 590 IU X-ray test references
  (findings track, seed 0), or on the example's references when the shared folder is absent;
- ``reward_curves.png`` (docs/training.md): ``benchmarks/results/grpo_iu_learnability_curve.csv``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
EXAMPLE = ROOT / "examples" / "example_preds.csv"
OFFLINE_METRICS = ["bleu", "bleu4", "rouge_l", "errors_struct", "rules_f1"]
TEMPLATE_REPORT = "The heart is normal in size. The lungs are clear. No pleural effusion or pneumothorax."
#: the outputs of the stress command documented in docs/metaeval.md
STRESS_KEYS = ["bleu", "rouge_l", "errors_struct_total_sig", "errors_struct_total", "rules_f1_14_micro"]
MAX_BYTES = 150 * 1024
DPI = 100
SEED = 12345


def save_png(fig, name: str) -> Path:
    """Write ``name`` at a screen resolution; a figure over the size limit is stored with a 256-colour palette."""
    import matplotlib.pyplot as plt

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return fit(path)


def fit(path: Path) -> Path:
    if path.stat().st_size > MAX_BYTES:
        from PIL import Image

        with Image.open(path) as img:
            img.convert("RGB").quantize(colors=256).save(path, optimize=True)
    if path.stat().st_size > MAX_BYTES:
        raise SystemExit(f"error: {path} is {path.stat().st_size // 1024} KB, over the {MAX_BYTES // 1024} KB limit")
    return path


def scored_example(work: Path) -> list:
    """The example and a template system, scored with offline metrics, as loaded runs."""
    import pandas as pd

    from rexeval.run.runs import load_run
    from rexeval.run.scoring import score

    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    template = work / "template.csv"
    frame.assign(prediction=TEMPLATE_REPORT).to_csv(template, index=False)
    runs = []
    for path, name in ((EXAMPLE, "example_preds"), (template, "template (one normal report)")):
        result = score(path, metrics=OFFLINE_METRICS, name=name, seed=SEED, progress=False)
        runs.append(load_run(result.write(work / name.split()[0])))
    return runs


def scoring_figures(runs: list) -> list[Path]:
    from rexeval.reports import plots
    from rexeval.reports.compare import compare

    keys = ["bleu", "errors_struct_total_sig", "errors_struct_total", "rules_f1_14_micro", "rules_f1_5_micro", "rouge_l"]
    out = [save_png(plots.overview_plot(runs, keys, title="Example run beside a template: value and 95% bootstrap CI "
                                                          "(24 studies)"), "scoring_overview.png")]
    out.append(save_png(plots.error_plot(plots.error_distribution(runs)), "scoring_errors.png"))
    table = compare(runs[0], runs[1], n_permutations=5000, seed=SEED)
    out.append(save_png(plots.comparison_plot(table, keys), "scoring_comparison.png"))
    return out


def leaderboard_figure() -> Path:
    import pandas as pd

    from rexeval.metrics import REGISTRY, get_metric
    from rexeval.reports import plots
    from rexeval.reports.leaderboard import Leaderboard

    table = pd.read_csv(ROOT / "leaderboards" / "iu_xray" / "leaderboard.csv")
    table = table[table["kind"] != "published"].reset_index(drop=True)  # the published rows have no CIs
    keys = ["bleu", "errors_struct_total_sig", "rules_f1_14_micro"]
    directions = {o.key: o.higher_is_better for name in REGISTRY for o in get_metric(name).outputs()}
    board = Leaderboard(table, keys, {k: directions[k] for k in keys}, "bleu",
                        title="IU X-ray baselines (590 test studies, findings)")
    return save_png(plots.leaderboard_chart(board, keys), "leaderboard_iu.png")


def stress_figure(shared: Path | None, work: Path) -> Path:
    from rexeval.tools.stress import heatmap, read_references, run_stress

    refs = shared / "data" / "rexrank" / "iu_xray_test.json" if shared else None
    if refs is not None and refs.exists():
        ids, texts = read_references(refs, "findings")
    else:
        print("note: the shared data folder is absent; the stress heat map uses the example's references", file=sys.stderr)
        ids, texts = read_references(EXAMPLE, "auto")
    result = run_stress(ids, texts, keys=STRESS_KEYS, seed=0, progress=False)
    png = next(p for p in heatmap(result, work) if p.suffix == ".png")
    shutil.copyfile(png, OUT / "stress_heatmap.png")
    return fit(OUT / "stress_heatmap.png")


def reward_figure() -> Path:
    import pandas as pd

    from trainers.grpo import plot_curves

    frame = pd.read_csv(ROOT / "benchmarks" / "results" / "grpo_iu_learnability_curve.csv")
    OUT.mkdir(parents=True, exist_ok=True)
    plot_curves(frame, OUT / "reward_curves.png", ["bleu", "rouge_l"])
    return fit(OUT / "reward_curves.png")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", help="folder holding data/ (default: $REXEVAL_SHARED or ../shared)")
    args = ap.parse_args(argv)
    shared = Path(args.shared or os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        written = scoring_figures(scored_example(work))
        written += [leaderboard_figure(), stress_figure(shared, work), reward_figure()]
    for path in written:
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
