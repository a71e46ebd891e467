"""``rexeval stress``: which clinical errors a metric sees, which harmless edits it ignores, and whether it
ranks a clinical error above a rewording of the same report.

Every reference (and a derived abnormal version of it, see :mod:`.abnormal`) is perturbed by seeded,
deterministic, rule-based edits located with the suite's own lexicon (:mod:`.lexicon`; never with the
labeler or error counter under test). Each edit is a clinically significant error of one category or a
meaning-preserving rewording. A metric scores each edited report against its base; the base against itself
is the baseline.

- **Sensitivity** (clinical category): the share of applied edits scored worse than the baseline.
- **Invariance** (meaning-preserving category): the share scored within ``tolerance`` of the baseline (a
  fraction of the output's range; absolute for unbounded outputs such as error counts).
- **Discrimination**: P(a clinical edit of a report moves the metric worse than a meaning-preserving edit of
  the same report), ties 1/2 -- an AUC over same-report pairs, CI by bootstrap over references.
- **Kendall tau** on multi-edit reports: 0-4 clinical edits (each one significant error) plus one rewording
  per report; tau-b between the number injected and the metric's movement (counted errors for an error
  count, the drop for a similarity), CI by bootstrap over references.

A perturbation that does not apply to a base is recorded as not applicable and counted; nothing is invented
to fill the cell. Each perturbation is reproducible: ``perturb(base_text, category, seed)``.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rexeval.base.exceptions import ConfigError, InputError
from rexeval.tools.stress.abnormal import abnormal_base
from rexeval.tools.stress.edits import CLINICAL_EDITS, EDITS, PRESERVING_EDITS, split_sentences
from rexeval.tools.stress.measures import discrimination, kendall_tau

if TYPE_CHECKING:
    import pandas as pd

CLINICAL = tuple(CLINICAL_EDITS)
PRESERVING = tuple(PRESERVING_EDITS)
CATEGORIES = CLINICAL + PRESERVING
DEFAULT_METRICS = ("bleu", "rouge_l", "errors_struct", "rules_f1")
DEFAULT_TOLERANCE = 0.05
#: Version of the edit rules, lexicon and generator: a change of what any edit writes bumps it.
STRESS_VERSION = "2"
MAX_INJECTED = 4
#: CheXprompt error category (docs/errors.md) each clinical edit is an instance of.
CHEXPROMPT = {
    "negation_flip": "A false finding / B omission (presence flipped)",
    "laterality_swap": "C location (side)",
    "omission": "B omission of finding",
    "false_finding": "A false prediction of finding",
    "severity_change": "D severity (>= 2 grades)",
    "measurement_change": "D severity (size >= 1.5x)",
    "temporal_change": "E false comparison",
    "device_inserted": "A false finding (device)",
    "device_removed": "B omission (device)",
    "device_malpositioned": "C position (device tip)",
}

__all__ = [
    "CATEGORIES",
    "CLINICAL",
    "PRESERVING",
    "Perturbation",
    "StressResult",
    "bases",
    "check_tolerance",
    "heatmap",
    "multi_edit",
    "multi_edits",
    "perturb",
    "perturb_all",
    "perturbation_seed",
    "print_table",
    "read_references",
    "run_stress",
    "split_sentences",
    "wilson",
]


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


def perturbation_seed(seed: int, ref_id: str, category: str) -> int:
    """The seed of one perturbation: a stable hash of the run seed, the base id and the category."""
    return zlib.crc32(f"{seed}|{ref_id}|{category}".encode())


def perturb(text: str, category: str, seed: int) -> Perturbation:
    """One perturbation of ``text`` (whitespace-collapsed first), reproducible from ``seed``."""
    if category not in EDITS:
        raise ConfigError(f"unknown perturbation {category!r}; known: {', '.join(CATEGORIES)}")
    original = " ".join(str(text).split())
    if not original:
        return Perturbation(category, seed, original, None, "empty reference")
    got = EDITS[category](original, random.Random(seed), frozenset())
    if got is None or got.text == original:
        return Perturbation(category, seed, original, None, "not applicable")
    return Perturbation(category, seed, original, got.text, got.detail)


def multi_edit(text: str, n_target: int, seed: int) -> tuple[str, int, str]:
    """``text`` with up to ``n_target`` clinical edits (each on a different finding or device, so each is one
    significant error) and one meaning-preserving edit: (edited text, edits injected, detail)."""
    rng = random.Random(seed)
    out = " ".join(str(text).split())
    touched: set[str] = set()
    done: list[str] = []
    cats = list(CLINICAL)
    rng.shuffle(cats)
    for cat in cats:
        if len(done) >= n_target:
            break
        got = CLINICAL_EDITS[cat](out, rng, frozenset(touched))
        if got is None or got.text == out or not got.kinds or touched & set(got.kinds):
            continue
        out = got.text
        touched |= set(got.kinds)
        done.append(f"{cat} ({got.detail})")
    pres = list(PRESERVING)
    rng.shuffle(pres)
    for cat in pres:
        got = PRESERVING_EDITS[cat](out, rng, frozenset())
        if got is not None and got.text != out:
            out = got.text
            done.append(f"{cat} [preserving]")
            break
    return out, sum(1 for d in done if not d.endswith("[preserving]")), "; ".join(done)


def bases(
    ref_ids: list[str], texts: list[str], seed: int = 0, derived: bool = True
) -> pd.DataFrame:
    """The reports edited: each reference as it is, and (``derived``) an abnormal version of it."""
    import pandas as pd

    rows = []
    for rid, text in zip(ref_ids, texts, strict=True):
        original = " ".join(str(text).split())
        rows.append(
            {
                "ref_id": rid,
                "base_id": rid,
                "base": "original",
                "base_text": original,
                "base_detail": "",
            }
        )
        if derived and original:
            got = abnormal_base(
                original, random.Random(perturbation_seed(seed, rid, "abnormal_base"))
            )
            if got is not None:
                rows.append(
                    {
                        "ref_id": rid,
                        "base_id": f"{rid}+abn",
                        "base": "derived",
                        "base_text": got[0],
                        "base_detail": got[1],
                    }
                )
    return pd.DataFrame(rows)


def perturb_all(
    ref_ids: list[str],
    texts: list[str],
    categories: tuple[str, ...] = CATEGORIES,
    seed: int = 0,
    derived: bool = False,
) -> pd.DataFrame:
    """Every (base, category) perturbation, applicable or not, as a table."""
    import pandas as pd

    table = bases(ref_ids, texts, seed, derived)
    rows = []
    for b in table.itertuples(index=False):
        for cat in categories:
            s = perturbation_seed(seed, b.base_id, cat)
            p = perturb(b.base_text, cat, s)
            rows.append(
                {
                    "ref_id": b.ref_id,
                    "base_id": b.base_id,
                    "base": b.base,
                    "category": cat,
                    "kind": "clinical" if cat in CLINICAL else "preserving",
                    "seed": s,
                    "applicable": p.applicable,
                    "detail": p.detail,
                    "original": p.original,
                    "perturbed": p.perturbed if p.applicable else "",
                }
            )
    return pd.DataFrame(rows)


def multi_edits(table: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """One multi-edit report per base, the target number of errors cycling 0..MAX_INJECTED over bases."""
    import pandas as pd

    rows = []
    for i, b in enumerate(table.itertuples(index=False)):
        s = perturbation_seed(seed, b.base_id, "multi_edit")
        target = i % (MAX_INJECTED + 1)
        text, injected, detail = (
            multi_edit(b.base_text, target, s) if b.base_text else ("", 0, "empty")
        )
        rows.append(
            {
                "ref_id": b.ref_id,
                "base_id": b.base_id,
                "base": b.base,
                "seed": s,
                "target": target,
                "injected": injected,
                "detail": detail,
                "original": b.base_text,
                "perturbed": text,
            }
        )
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
    perturbations: pd.DataFrame  # one row per (base, category), with scores per output
    table: pd.DataFrame  # one row per (output, category)
    summary: (
        pd.DataFrame
    )  # one row per output: discrimination, tau, sensitivity and invariance, ranked
    multi: pd.DataFrame  # one row per multi-edit report
    info: dict[str, Any]

    def write(self, out_dir: str | Path) -> list[Path]:
        from rexeval.tools.metaeval import records, write_files

        return write_files(
            out_dir,
            {
                "perturbations.csv": self.perturbations,
                "stress_table.csv": self.table,
                "stress_summary.csv": self.summary,
                "multi_edit.csv": self.multi,
                "stress.json": {
                    "summary": records(self.summary),
                    "table": records(self.table),
                    **self.info,
                },
            },
        )


def _headline_outputs(metrics: list, keys: list[str] | None) -> list:
    from rexeval.tools.metaeval import select_outputs

    if keys:
        return select_outputs(metrics, keys)
    out = []
    for m in metrics:
        outs = m.outputs()
        per = [o for o in outs if o.per_study]
        out.append((per or outs)[0])
    return out


def check_tolerance(tolerance: float) -> float:
    tolerance = float(tolerance)
    if not math.isfinite(tolerance) or tolerance < 0:
        raise ConfigError(f"--tolerance must be a finite number >= 0, not {tolerance!r}")
    return tolerance


def run_stress(
    ref_ids: list[str],
    texts: list[str],
    metrics: list[str] | None = None,
    *,
    keys: list[str] | None = None,
    categories: tuple[str, ...] = CATEGORIES,
    seed: int = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    derived: bool = True,
    multi: bool = True,
    n_resamples: int = 1000,
    progress: bool = True,
) -> StressResult:
    import pandas as pd

    from rexeval.base.align import load_pairs
    from rexeval.metrics import resolve_metrics
    from rexeval.run.scoring import score_pairs
    from rexeval.tools.metaeval import per_pair_values

    tolerance = check_tolerance(tolerance)
    if len(set(ref_ids)) != len(ref_ids):
        raise InputError("reference ids are not unique")
    base_table = bases(ref_ids, texts, seed, derived)
    table = perturb_all(ref_ids, texts, categories, seed, derived)
    multi_table = (
        multi_edits(base_table, seed)
        if multi
        else pd.DataFrame(
            columns=[
                "ref_id",
                "base_id",
                "base",
                "seed",
                "target",
                "injected",
                "detail",
                "original",
                "perturbed",
            ]
        )
    )
    applied = table[table["applicable"]]
    pair_ids = (
        [f"{b}|identity" for b in base_table["base_id"]]
        + [f"{b}|{c}" for b, c in zip(applied["base_id"], applied["category"], strict=True)]
        + [f"{b}|multi" for b in multi_table["base_id"]]
    )
    preds = (
        base_table["base_text"].tolist()
        + applied["perturbed"].tolist()
        + multi_table["perturbed"].tolist()
    )
    refs = (
        base_table["base_text"].tolist()
        + applied["original"].tolist()
        + multi_table["original"].tolist()
    )
    keep = [i for i, r in enumerate(refs) if r]
    frame = pd.DataFrame(
        {
            "study_id": [pair_ids[i] for i in keep],
            "prediction": [preds[i] for i in keep],
            "reference": [refs[i] for i in keep],
        }
    )
    chosen = resolve_metrics(list(metrics or DEFAULT_METRICS))
    result = score_pairs(load_pairs(frame), chosen, n_resamples=0, progress=progress)
    if result.summary.skipped:
        from rexeval.base.exceptions import MetricUnavailable

        name, reason = next(iter(result.summary.skipped.items()))
        raise MetricUnavailable(f"metric {name!r} cannot run", reason)
    per_study = result.per_study
    assert per_study is not None  # score_pairs always returns per-study values
    columns = {
        c: per_study[c].to_numpy(dtype=float)
        for c in per_study.columns
        if c != "study_id"
    }
    outputs = _headline_outputs(chosen, keys)
    values = per_pair_values(outputs, columns)
    index = {pid: i for i, pid in enumerate(frame["study_id"])}

    def lookup(v: np.ndarray, ids) -> np.ndarray:
        return np.array([v[index[i]] if i in index else np.nan for i in ids], dtype=float)

    rows, summary = [], []
    for out in outputs:
        v = values[out.key]
        lo, hi = out.value_range
        scale = (hi - lo) if np.isfinite(hi - lo) else 1.0
        sign = 1.0 if out.higher_is_better else -1.0
        base = lookup(v, [f"{b}|identity" for b in table["base_id"]])
        pert = lookup(
            v, [f"{b}|{c}" for b, c in zip(table["base_id"], table["category"], strict=True)]
        )
        table[f"{out.key}.baseline"] = base
        table[f"{out.key}.perturbed"] = pert
        delta = pert - base
        table[f"{out.key}.delta"] = delta
        worse = -sign * delta  # > 0: the edit made the score worse
        for cat in categories:
            mask = (table["category"] == cat).to_numpy()
            app = mask & table["applicable"].to_numpy()
            ok = app & ~np.isnan(delta)
            d = delta[ok]
            beyond = int(np.sum(worse[ok] > tolerance * scale + 1e-12))
            if cat in CLINICAL:
                hits = int(np.sum(worse[ok] > 1e-9 * scale))
                measure = "sensitivity"
            else:
                hits = int(np.sum(np.abs(d) <= tolerance * scale + 1e-12))
                measure = "invariance"
            n = int(ok.sum())
            ci = wilson(hits, n)
            derived_mask = (table["base"] == "derived").to_numpy()
            rows.append(
                {
                    "output": out.key,
                    "metric": _metric_of(chosen, out.key),
                    "category": cat,
                    "kind": "clinical" if cat in CLINICAL else "preserving",
                    "measure": measure,
                    "share": hits / n if n else float("nan"),
                    "ci_lo": ci[0],
                    "ci_hi": ci[1],
                    "hits": hits,
                    "n_scored": n,
                    "n_applicable": int(app.sum()),
                    "n_applicable_original": int((app & ~derived_mask).sum()),
                    "n_applicable_derived": int((app & derived_mask).sum()),
                    "n_not_applicable": int((mask & ~app).sum()),
                    "n_failed": int(app.sum()) - n,
                    "mean_delta": float(np.mean(d)) if n else float("nan"),
                    "share_worse_beyond_tolerance": beyond / n if n else float("nan"),
                }
            )
        app = table["applicable"].to_numpy()
        auc = discrimination(
            table["ref_id"].to_numpy()[app],
            table["base_id"].to_numpy()[app],
            (table["kind"] == "clinical").to_numpy()[app],
            worse[app],
            n_resamples=n_resamples,
            seed=seed,
        )
        tau = None
        if len(multi_table):
            mbase = lookup(v, [f"{b}|identity" for b in multi_table["base_id"]])
            mpert = lookup(v, [f"{b}|multi" for b in multi_table["base_id"]])
            mworse = -sign * (mpert - mbase)
            multi_table[f"{out.key}.baseline"] = mbase
            multi_table[f"{out.key}.perturbed"] = mpert
            multi_table[f"{out.key}.worse"] = mworse
            tau = kendall_tau(
                multi_table["injected"].to_numpy(),
                mworse,
                multi_table["ref_id"].to_numpy(),
                n_resamples=n_resamples,
                seed=seed,
            )
        mine = [r for r in rows if r["output"] == out.key]
        sens = [r["share"] for r in mine if r["kind"] == "clinical" and r["n_scored"]]
        inv = [r["share"] for r in mine if r["kind"] == "preserving" and r["n_scored"]]
        summary.append(
            {
                "output": out.key,
                "metric": _metric_of(chosen, out.key),
                "higher_is_better": out.higher_is_better,
                "discrimination": auc.value,
                "discrimination_ci_lo": auc.ci_lo,
                "discrimination_ci_hi": auc.ci_hi,
                "discrimination_pairs": auc.n,
                "tau": tau.value if tau else float("nan"),
                "tau_ci_lo": tau.ci_lo if tau else float("nan"),
                "tau_ci_hi": tau.ci_hi if tau else float("nan"),
                "tau_reports": tau.n if tau else 0,
                "sensitivity_mean": float(np.mean(sens)) if sens else float("nan"),
                "sensitivity_min": float(np.min(sens)) if sens else float("nan"),
                "invariance_mean": float(np.mean(inv)) if inv else float("nan"),
                "invariance_min": float(np.min(inv)) if inv else float("nan"),
            }
        )
    summary_frame = pd.DataFrame(summary).sort_values(
        "discrimination", ascending=False, kind="stable"
    )
    info = {
        "suite_version": STRESS_VERSION,
        "n_references": len(ref_ids),
        "n_bases": len(base_table),
        "n_derived_bases": int((base_table["base"] == "derived").sum()),
        "seed": seed,
        "tolerance": tolerance,
        "bootstrap": {"resamples": n_resamples, "unit": "reference", "seed": seed},
        "tolerance_meaning": "fraction of the output's range (absolute for unbounded outputs)",
        "sensitivity": "share of applied clinical edits scored worse than the base against itself",
        "invariance": "share of applied meaning-preserving edits scored within the tolerance of the baseline",
        "discrimination": "P(clinical edit moves the score worse than a preserving edit of the same base), "
        "ties 1/2, over all same-base pairs",
        "tau": "Kendall tau-b between clinical edits injected (0-4, one significant error each) and the "
        "movement worse (counted errors / drop) on multi-edit reports",
        "ci": "Wilson 95% (shares); percentile bootstrap 95% over references (discrimination, tau)",
        "signatures": {m.name: m.signature() for m in chosen},
        "categories": {c: CHEXPROMPT.get(c, "meaning-preserving") for c in categories},
    }
    return StressResult(
        table, pd.DataFrame(rows), summary_frame.reset_index(drop=True), multi_table, info
    )


def _metric_of(metrics: list, key: str) -> str:
    return next((m.name for m in metrics if any(o.key == key for o in m.outputs())), key)


def read_references(path: str | Path, track: str = "auto") -> tuple[list[str], list[str]]:
    """Reference ids and texts from any file ``rexeval score --refs`` reads (ReXrank JSON with --track)."""
    from rexeval.base.align import TRACKS, as_frame, reference_texts, study_ids

    if track not in TRACKS:
        raise ConfigError(f"--track must be one of {', '.join(TRACKS)}, not {track!r}")
    frame, fpath = as_frame(path if isinstance(path, str) else str(path), "REFS")
    ids = study_ids(frame, fpath)
    texts = [t or "" for t in reference_texts(frame, fpath, track, ids, {})]
    return [str(i) for i in ids], [str(t) for t in texts]


def print_table(result: StressResult) -> None:
    from rich.console import Console
    from rich.table import Table

    info = result.info
    t = Table(
        title=f"stress: {info['n_references']} references + {info['n_derived_bases']} derived abnormal bases, "
        f"seed {info['seed']}; share [Wilson 95% CI] (sensitivity: scored worse; invariance: within "
        f"{info['tolerance']:g} of the range)"
    )
    t.add_column("category")
    t.add_column("applied (orig+derived)/not")
    outputs = list(result.summary["output"])
    for o in outputs:
        t.add_column(o, justify="right")
    for cat in dict.fromkeys(result.table["category"]):
        part = result.table[result.table["category"] == cat].set_index("output")
        first = part.iloc[0]
        cells = []
        for o in outputs:
            r = part.loc[o]
            cells.append(
                "n/a"
                if r["n_scored"] == 0
                else f"{r['share']:.2f} [{r['ci_lo']:.2f}, {r['ci_hi']:.2f}]"
            )
        label = f"{cat} ({'sens.' if first['kind'] == 'clinical' else 'inv.'})"
        t.add_row(
            label,
            f"{first['n_applicable']} ({first['n_applicable_original']}+"
            f"{first['n_applicable_derived']})/{first['n_not_applicable']}",
            *cells,
        )
    console = Console()
    console.width = max(console.width, 180)  # a table this wide should not wrap when piped
    console.print(t)
    s = Table(title="ranked by discrimination (95% bootstrap CI over references)")
    for col in (
        "output",
        "discrimination",
        "tau (multi-edit)",
        "sensitivity mean / min",
        "invariance mean / min",
    ):
        s.add_column(col, justify="left" if col == "output" else "right")
    for r in result.summary.itertuples(index=False):
        s.add_row(
            r.output,
            f"{r.discrimination:.3f} [{r.discrimination_ci_lo:.3f}, {r.discrimination_ci_hi:.3f}]",
            f"{r.tau:.3f} [{r.tau_ci_lo:.3f}, {r.tau_ci_hi:.3f}]",
            f"{r.sensitivity_mean:.2f} / {r.sensitivity_min:.2f}",
            f"{r.invariance_mean:.2f} / {r.invariance_min:.2f}",
        )
    console.print(s)


def heatmap(result: StressResult, out_dir: str | Path) -> list[Path]:
    """Outputs (ranked by discrimination) x categories: sensitivity for clinical edits, invariance for
    meaning-preserving ones, then discrimination and tau."""
    from rexeval.reports.plots import save, styled_pyplot

    plt = styled_pyplot()
    tab = result.table
    outputs = list(result.summary["output"])
    cats = list(dict.fromkeys(tab["category"]))
    cols = cats + ["discrimination", "tau"]
    grid = np.full((len(outputs), len(cols)), np.nan)
    for _, r in tab.iterrows():
        grid[outputs.index(r["output"]), cats.index(r["category"])] = r["share"]
    for _, r in result.summary.iterrows():
        grid[outputs.index(r["output"]), len(cats)] = r["discrimination"]
        grid[outputs.index(r["output"]), len(cats) + 1] = r["tau"]
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(cols), 1.6 + 0.55 * len(outputs)))
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="cividis", vmin=0, vmax=1, aspect="auto")
    for i in range(len(outputs)):
        for j in range(len(cols)):
            v = grid[i, j]
            ax.text(
                j,
                i,
                "n/a" if np.isnan(v) else f"{v:.2f}",
                ha="center",
                va="center",
                fontsize=9,
                color="black" if (not np.isnan(v) and v > 0.6) else "white",
            )
    n_clin = sum(1 for c in cats if c in CLINICAL)
    if 0 < n_clin < len(cats):
        ax.axvline(n_clin - 0.5, color="white", lw=3)
    ax.axvline(len(cats) - 0.5, color="white", lw=3)
    ax.set_xticks(range(len(cols)), [c.replace("_", " ") for c in cols], rotation=45, ha="right")
    from rexeval.base.display import display_name

    ax.set_yticks(range(len(outputs)), [display_name(o) for o in outputs])
    ax.set_title(
        "Sensitivity (clinical) | invariance (preserving) | discrimination, tau; rows ranked by "
        "discrimination"
    )
    fig.colorbar(im, ax=ax, fraction=0.03, label="share / AUC / tau")
    return save(fig, out_dir, "stress_heatmap")
