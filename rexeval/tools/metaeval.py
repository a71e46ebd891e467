"""Meta-evaluation: how well a metric (or a reward composition) agrees with human ratings.

For every metric output and human column: Kendall's tau-b, Spearman's rho and Pearson's r over the rated
pairs, signed so that agreement is positive (metric direction from the registry, human direction from the
rating set: an error count is lower-is-better), with percentile bootstrap CIs.

The bootstrap resamples the right unit. When a reference has several rated candidates (ReXVal: 50
studies x 4 candidates) the candidates of one reference are not independent, so the default ``unit="auto"``
resamples references (a cluster bootstrap: a drawn reference brings all its candidates); with one
candidate per reference it resamples pairs. A resample is a row of draw counts per pair (as in
:mod:`rexeval.stats.bootstrap`), so the correlations on a resample are the correlations of the expanded
sample, computed exactly from counts: tau-b = w'(Sx*Sy)w / sqrt(w'|Sx|w * w'|Sy|w) with S the pairwise
sign matrices, Spearman from tie-averaged ranks of the expanded sample, Pearson weighted by counts.
Every metric sees the same resamples, so the difference in tau between two metrics has a paired
bootstrap distribution: p = (1 + #{|d* - d| >= |d|}) / (B + 1) (the resampled differences centred on
the observed one as the null), Holm-corrected across the pairs tested.

With one column per rater, the human ceiling is each rater's agreement with the mean of the others,
averaged over raters (on the same resamples).

Honesty rule: nothing here fits or tunes anything on the ratings; a reward composition is scored with
the weights its config gives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rexeval.base.exceptions import ConfigError, InputError
from rexeval.stats.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, percentile_ci, resample_counts

if TYPE_CHECKING:
    import pandas as pd

    from rexeval.tools.ratings import Ratings

STATS = ("kendall_tau_b", "spearman", "pearson")
UNITS = ("auto", "reference", "pair")
#: Above this many pairs the n x n sign matrices get large; the bootstrap then loops over resamples.
_MATRIX_MAX = 3000


# ----------------------------------------------------------------------------------- correlations


def _unit_scale(v: np.ndarray) -> np.ndarray:
    """``v`` scaled by a power of two into [-1, 1]: exact (every correlation is unchanged bit for bit), and
    values like 1e300 no longer overflow the squared deviations (which made Pearson NaN on resamples, so
    its CI missed the estimate)."""
    v = np.asarray(v, dtype=float)
    top = np.nanmax(np.abs(v)) if v.size and not np.isnan(v).all() else 0.0
    return np.ldexp(v, -int(np.frexp(top)[1])) if np.isfinite(top) and top > 0 else v


def point_correlations(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """tau-b, Spearman and Pearson of the valid pairs (scipy)."""
    from scipy import stats

    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = _unit_scale(x[ok]), _unit_scale(y[ok])
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return dict.fromkeys(STATS, float("nan"))
    return {
        "kendall_tau_b": float(stats.kendalltau(x, y, variant="b").statistic),
        "spearman": float(stats.spearmanr(x, y).statistic),
        "pearson": float(stats.pearsonr(x, y).statistic),
    }


class _Pairwise:
    """Sign and comparison matrices of one variable, reused across resamples."""

    def __init__(self, v: np.ndarray) -> None:
        d = v[:, None] - v[None, :]
        self.sign = np.sign(d)
        self.abs_sign = np.abs(self.sign)
        self.less = (d > 0).astype(float)  # less[i, j] = v_j < v_i
        self.equal = (d == 0).astype(float)

    def ranks(self, w: np.ndarray) -> np.ndarray:
        """Tie-averaged ranks of each item in the expanded sample (rows of ``w`` = resamples)."""
        return w @ self.less.T + (w @ self.equal.T + 1.0) / 2.0


def _weighted_pearson(w: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    tot = w.sum(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma = (w * a).sum(1, keepdims=True) / tot
        mb = (w * b).sum(1, keepdims=True) / tot
        da, db = a - ma, b - mb
        cov = (w * da * db).sum(1)
        return cov / np.sqrt((w * da * da).sum(1) * (w * db * db).sum(1))


def weighted_correlations(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """The three correlations on each resample; ``w`` is (B, n) draw counts of the (valid) pairs."""
    x, y = _unit_scale(x), _unit_scale(y)
    if len(x) > _MATRIX_MAX:
        return _looped_correlations(x, y, w)
    px, py = _Pairwise(x), _Pairwise(y)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = ((w @ (px.sign * py.sign)) * w).sum(1) / np.sqrt(
            ((w @ px.abs_sign) * w).sum(1) * ((w @ py.abs_sign) * w).sum(1))
    rho = _weighted_pearson(w, px.ranks(w), py.ranks(w))
    r = _weighted_pearson(w, np.broadcast_to(x, w.shape), np.broadcast_to(y, w.shape))
    return {"kendall_tau_b": tau, "spearman": rho, "pearson": r}


def _looped_correlations(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    out = {k: np.empty(len(w)) for k in STATS}
    for b, counts in enumerate(w):
        idx = np.repeat(np.arange(len(x)), counts.astype(int))
        for k, v in point_correlations(x[idx], y[idx]).items():
            out[k][b] = v
    return out


# ------------------------------------------------------------------------------------ resampling


def cluster_ids(study_ids: Any) -> np.ndarray:
    """Integer cluster index per pair (pairs sharing a reference study share a cluster)."""
    _, inverse = np.unique(np.asarray(study_ids, dtype=str), return_inverse=True)
    return inverse


def resample_weights(clusters: np.ndarray, unit: str, n_resamples: int, seed: int) -> np.ndarray:
    """(B, n_pairs) draw counts: clusters drawn with replacement (unit="reference") or pairs ("pair")."""
    n = len(clusters)
    if n_resamples <= 0:
        return np.zeros((0, n))
    if unit == "pair":
        return np.concatenate(list(resample_counts(n, n_resamples, seed)))
    k = int(clusters.max()) + 1 if n else 0
    drawn = np.concatenate(list(resample_counts(k, n_resamples, seed)))
    return drawn[:, clusters]


def choose_unit(clusters: np.ndarray, unit: str = "auto") -> str:
    if unit not in UNITS:
        raise ConfigError(f"--unit must be one of {', '.join(UNITS)}, not {unit!r}")
    if unit != "auto":
        return unit
    return "reference" if len(np.unique(clusters)) < len(clusters) else "pair"


# ------------------------------------------------------------------------------------- the analysis


@dataclass
class Scores:
    """Per-pair values to correlate: name -> (values, higher_is_better, description)."""

    values: dict[str, np.ndarray] = field(default_factory=dict)
    higher_is_better: dict[str, bool] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    signatures: dict[str, Any] = field(default_factory=dict)
    #: Metrics of the default set that could not run here: name -> reason.
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass
class MetaEvalResult:
    table: pd.DataFrame  # one row per (score, human column)
    paired: pd.DataFrame  # one row per pair of scores compared on the primary human column
    ceiling: pd.DataFrame  # one row per rater + the mean ("all"), empty without rater columns
    info: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"correlations": records(self.table), "paired_tests": records(self.paired),
                "human_ceiling": records(self.ceiling), **self.info}

    def write(self, out_dir: str | Path) -> list[Path]:
        files: dict[str, Any] = {"correlations.csv": self.table, "paired_tests.csv": self.paired,
                                 "meta_eval.json": self.to_json()}
        if not self.ceiling.empty:
            files["human_ceiling.csv"] = self.ceiling
        return write_files(out_dir, files)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON records (NaN -> null, numpy scalars -> JSON numbers)."""
    return json.loads(df.to_json(orient="records"))


def write_files(out_dir: str | Path, files: dict[str, Any]) -> list[Path]:
    """Write each ``name: content`` into ``out_dir`` (created), in order: a DataFrame as CSV without the
    index, anything else as indented JSON; the paths written."""
    import pandas as pd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in files.items():
        path = out / name
        if isinstance(content, pd.DataFrame):
            content.to_csv(path, index=False)
        else:
            path.write_text(json.dumps(content, indent=2, default=str) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _sign(metric_hib: bool, human_hib: bool) -> float:
    return 1.0 if metric_hib == human_hib else -1.0


def _boot(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    ok = ~(np.isnan(x) | np.isnan(y))
    return weighted_correlations(x[ok], y[ok], w[:, ok])


def meta_evaluate(
    ratings: Ratings,
    scores: Scores,
    *,
    unit: str = "auto",
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    compare: list[tuple[str, str]] | None = None,
    level: float = 0.95,
) -> MetaEvalResult:
    import pandas as pd

    frame = ratings.frame
    clusters = cluster_ids(frame["study_id"])
    unit = choose_unit(clusters, unit)
    w = resample_weights(clusters, unit, n_resamples, seed)
    if not ratings.human:
        raise InputError("the ratings have no human column to compare with")
    rows: list[dict[str, Any]] = []
    dists: dict[tuple[str, str], np.ndarray] = {}
    for human in ratings.human:
        y = frame[human].to_numpy(dtype=float)
        hib_h = ratings.higher_is_better.get(human, True)
        for name, x in scores.values.items():
            s = _sign(scores.higher_is_better[name], hib_h)
            point = point_correlations(x, y)
            ok = ~(np.isnan(x) | np.isnan(y))
            row: dict[str, Any] = {"score": name, "human": human, "n_pairs": int(ok.sum()),
                                   "n_references": int(len(np.unique(clusters[ok]))), "sign": s,
                                   "score_higher_is_better": scores.higher_is_better[name],
                                   "human_higher_is_better": hib_h, "source": scores.source.get(name, "")}
            boot = _boot(x, y, w) if len(w) else {}
            for stat in STATS:
                row[stat] = s * point[stat]
                lo, hi = percentile_ci(s * boot[stat], level) if len(w) else (float("nan"),) * 2
                row[f"{stat}_lo"], row[f"{stat}_hi"] = lo, hi
            if len(w):
                dists[(name, human)] = s * boot["kendall_tau_b"]
            rows.append(row)
    table = pd.DataFrame(rows)
    ceiling = human_ceiling(ratings, w, level) if ratings.raters else pd.DataFrame()
    paired = paired_tau_tests(ratings, scores, w, compare, level)
    info = {
        "n_pairs": ratings.n_pairs, "n_references": ratings.n_studies,
        "bootstrap": {"method": "percentile", "unit": unit, "n_resamples": n_resamples, "seed": seed,
                      "level": level},
        "paired_test": "paired bootstrap of the tau-b difference on shared resamples; "
                       "p = (1 + #{|d*-d| >= |d|}) / (B + 1); Holm across the pairs",
        "human_columns": {h: {"higher_is_better": ratings.higher_is_better.get(h, True)} for h in ratings.human},
        "raters": ratings.raters, "ratings": ratings.source, "signatures": scores.signatures,
        "skipped_metrics": scores.skipped,
        "sign_convention": "correlations are multiplied by +1/-1 so that agreement with the humans is positive",
    }
    return MetaEvalResult(table, paired, ceiling, info)


def paired_tau_tests(ratings: Ratings, scores: Scores, w: np.ndarray, compare: list[tuple[str, str]] | None,
                     level: float = 0.95) -> pd.DataFrame:
    """Paired bootstrap test of tau-b(A) - tau-b(B) against the primary human column, on the pairs both rate."""
    import pandas as pd

    from rexeval.stats.paired import holm

    human = ratings.human[0]
    y = ratings.frame[human].to_numpy(dtype=float)
    hib_h = ratings.higher_is_better.get(human, True)
    names = list(scores.values)
    pairs = compare if compare is not None else [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    rows = []
    for a, b in pairs:
        for n in (a, b):
            if n not in scores.values:
                raise ConfigError(f"--compare: no score {n!r}; scores: {', '.join(names)}")
        xa, xb = scores.values[a], scores.values[b]
        ok = ~(np.isnan(xa) | np.isnan(xb) | np.isnan(y))
        sa, sb = _sign(scores.higher_is_better[a], hib_h), _sign(scores.higher_is_better[b], hib_h)
        ta = sa * point_correlations(xa[ok], y[ok])["kendall_tau_b"]
        tb = sb * point_correlations(xb[ok], y[ok])["kendall_tau_b"]
        delta = ta - tb
        row = {"a": a, "b": b, "human": human, "n_pairs": int(ok.sum()), "tau_a": ta, "tau_b": tb, "delta": delta,
               "delta_lo": float("nan"), "delta_hi": float("nan"), "p_value": float("nan")}
        if len(w) and not np.isnan(delta):
            da = sa * weighted_correlations(xa[ok], y[ok], w[:, ok])["kendall_tau_b"]
            db = sb * weighted_correlations(xb[ok], y[ok], w[:, ok])["kendall_tau_b"]
            d_star = da - db
            row["delta_lo"], row["delta_hi"] = percentile_ci(d_star, level)
            valid = d_star[~np.isnan(d_star)]
            tol = 1e-12 * max(1.0, abs(delta))
            hits = int(np.sum(np.abs(valid - delta) >= abs(delta) - tol))
            row["p_value"] = (1 + hits) / (valid.size + 1)
        rows.append(row)
    table = pd.DataFrame(rows, columns=["a", "b", "human", "n_pairs", "tau_a", "tau_b", "delta", "delta_lo",
                                        "delta_hi", "p_value"])
    table["p_holm"] = holm(table["p_value"].tolist()) if len(table) else []
    return table


def human_ceiling(ratings: Ratings, w: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    """Each rater against the mean of the other raters (tau-b, Spearman, Pearson), and their mean."""
    import pandas as pd

    mat = ratings.frame[ratings.raters].to_numpy(dtype=float)
    rows, boots = [], []
    for i, rater in enumerate(ratings.raters):
        others = np.delete(mat, i, axis=1)
        with np.errstate(invalid="ignore"):
            count = (~np.isnan(others)).sum(1)
            rest = np.where(count > 0, np.nansum(others, 1) / np.maximum(count, 1), np.nan)
        x = mat[:, i]
        point = point_correlations(x, rest)
        boot = _boot(x, rest, w) if len(w) else None
        boots.append(boot)
        row: dict[str, Any] = {"rater": rater, "n_pairs": int((~(np.isnan(x) | np.isnan(rest))).sum())}
        for stat in STATS:
            row[stat] = point[stat]
            lo, hi = percentile_ci(boot[stat], level) if boot is not None else (float("nan"),) * 2
            row[f"{stat}_lo"], row[f"{stat}_hi"] = lo, hi
        rows.append(row)
    mean_row: dict[str, Any] = {"rater": "mean", "n_pairs": int(min(r["n_pairs"] for r in rows))}
    for stat in STATS:
        mean_row[stat] = float(np.mean([r[stat] for r in rows]))
        if len(w):
            dist = np.mean(np.stack([b[stat] for b in boots if b is not None]), axis=0)  # all set when w
            mean_row[f"{stat}_lo"], mean_row[f"{stat}_hi"] = percentile_ci(dist, level)
        else:
            mean_row[f"{stat}_lo"] = mean_row[f"{stat}_hi"] = float("nan")
    return pd.DataFrame(rows + [mean_row])


# ------------------------------------------------------------------------------ scores of the pairs


def per_pair_values(outputs: list, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each output's value on every pair alone: the per-study column, or for a corpus-level output (a
    condition F1, a share) the output's aggregate finalised on that pair's own statistics."""
    values = {}
    for out in outputs:
        if out.per_study and out.key in columns:
            values[out.key] = np.asarray(columns[out.key], dtype=float)
            continue
        try:
            stats = out.aggregate.stats(columns)
        except KeyError:
            continue
        values[out.key] = np.asarray(out.aggregate.finalize(stats), dtype=float)
    return values


def select_outputs(metrics: list, keys: list[str] | None) -> list:
    """The outputs to correlate: the named keys, else every per-study output and, for a metric with
    none, its first (headline) output."""
    from rexeval.metrics.error_schema import current_key

    keys = [current_key(k) for k in keys] if keys else keys
    chosen = []
    for metric in metrics:
        outs = metric.outputs()
        if keys:
            chosen += [o for o in outs if o.key in keys]
            continue
        per = [o for o in outs if o.per_study]
        chosen += per or outs[:1]
    if keys:
        missing = set(keys) - {o.key for o in chosen}
        if missing:
            raise ConfigError(f"--keys: no output {', '.join(sorted(missing))} among the metrics' outputs")
    return chosen


def score_ratings(ratings: Ratings, metrics: list[str] | None, *, keys: list[str] | None = None,
                  run_dir: str | Path | None = None, progress: bool = True) -> Scores:
    """Score every rated pair with rexeval's metrics, or read a run directory scored on the pair ids."""
    import pandas as pd

    from rexeval.metrics import resolve_metrics

    scores = Scores()
    frame = ratings.frame
    if run_dir is not None:
        from rexeval.run.runs import PER_STUDY, SUMMARY, Summary, read_summary

        run = Path(run_dir)
        if not (run / PER_STUDY).is_file():
            raise InputError(f"not a run directory (no {PER_STUDY})", path=str(run))
        per = pd.read_csv(run / PER_STUDY, dtype={"study_id": str})
        summary = Summary.from_json(read_summary(run / SUMMARY) if (run / SUMMARY).is_file() else {})
        ran = summary.metric_names()
        names = metrics or ran
        if not names:
            raise InputError("the run lists no metrics; pass --metrics", path=str(run))
        missing = set(frame["pair_id"]) - set(per["study_id"])
        if missing:
            raise InputError(f"{len(missing)} rated pairs are not in the run, e.g. {sorted(missing)[0]!r} "
                             "(the run must be scored with study_id = the ratings' pair_id)", path=str(run / PER_STUDY))
        per = per.set_index("study_id").loc[frame["pair_id"]]
        columns = {c: per[c].to_numpy(dtype=float) for c in per.columns}
        for c, v in columns.items():  # NaN is a recorded failure; an infinity is not a score
            if np.isinf(v).any():
                sid = str(per.index[int(np.isinf(v).nonzero()[0][0])])
                raise InputError("not a finite number", path=str(run / PER_STUDY), column=c, study_id=sid)
        chosen = resolve_metrics(names)
        for metric in chosen:
            recorded = summary.metrics.get(next((o.key for o in metric.outputs()), ""))
            scores.signatures[metric.name] = (recorded.signature if recorded and recorded.signature is not None
                                              else metric.signature())
        source = f"run {run}"
    else:
        from rexeval.base.align import load_pairs
        from rexeval.run.scoring import score_pairs

        pairs = load_pairs(frame[["pair_id", "prediction", "reference"]].rename(columns={"pair_id": "study_id"}))
        chosen = resolve_metrics(metrics)
        result = score_pairs(pairs, chosen, n_resamples=0, progress=progress)
        skipped = dict(result.summary.skipped)
        if skipped and metrics:  # named metrics must run; the default set keeps what can run
            from rexeval.base.exceptions import MetricUnavailable

            name, reason = next(iter(skipped.items()))
            raise MetricUnavailable(f"metric {name!r} cannot run", reason)
        scores.skipped.update(skipped)
        runnable = {m.name for m in chosen} - set(skipped)
        chosen = [m for m in chosen if m.name in runnable]
        per_study = result.per_study
        assert per_study is not None  # score_pairs always returns per-study values
        columns = {c: per_study[c].to_numpy(dtype=float) for c in per_study.columns if c != "study_id"}
        for metric in chosen:
            scores.signatures[metric.name] = metric.signature()
        source = "scored"
    outputs = select_outputs(chosen, keys)
    direction = {o.key: o.higher_is_better for o in outputs}
    for key, values in per_pair_values(outputs, columns).items():
        scores.values[key] = values
        scores.higher_is_better[key] = direction[key]
        scores.source[key] = source
    return scores


def add_reward(scores: Scores, ratings: Ratings, config_path: str | Path) -> None:
    """A reward composition (a RewardSuite config, YAML or JSON) as one more score: the weighted sum of its
    components, higher is better by construction."""
    from rexeval.rewards import RewardSuite

    path = Path(config_path)
    if not path.is_file():
        raise InputError("reward config not found", path=str(path))
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            config = json.loads(text)
        else:
            import yaml

            config = yaml.safe_load(text)
    except Exception as exc:  # yaml.YAMLError / json.JSONDecodeError
        raise InputError(f"cannot parse the reward config: {str(exc).splitlines()[0]}", path=str(path)) from None
    if isinstance(config, dict) and "reward" in config and "components" not in config:
        config = config["reward"]
    if not config:
        raise InputError("empty reward config", path=str(path))
    suite = RewardSuite(config)
    frame = ratings.frame
    refs = frame["reference"].tolist()
    values = suite.composite(refs, frame["prediction"].tolist(), reference=refs, study_id=frame["pair_id"].tolist())
    name = f"reward:{path.stem}"
    scores.values[name] = np.array([np.nan if v is None else v for v in values], dtype=float)
    scores.higher_is_better[name] = True
    scores.source[name] = f"reward config {path}"
    scores.signatures[name] = suite.signature()


# ------------------------------------------------------------------------------------- presentation


def print_result(result: MetaEvalResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.width = max(console.width, 180)
    b = result.info["bootstrap"]
    boot = b["n_resamples"] > 0
    what = f"{b['n_resamples']} {b['unit']}-level bootstrap resamples, 95% CI" if boot else "no bootstrap: no CIs or tests"
    t = Table(title=f"agreement with humans ({result.info['n_pairs']} pairs, {result.info['n_references']} "
                    f"references; {what}; signed so agreement > 0)")
    for col in ("score", "human", "n", "Kendall tau-b", "Spearman", "Pearson"):
        t.add_column(col, justify="left" if col in ("score", "human") else "right")

    def fmt(row, stat):
        v, lo, hi = row[stat], row[f"{stat}_lo"], row[f"{stat}_hi"]
        if v != v:
            return "n/a (constant)"
        if not boot:
            return f"{v:.3f}"
        return f"{v:.3f} [{lo:.3f}, {hi:.3f}]" if np.isfinite(lo) and np.isfinite(hi) else f"{v:.3f} [CI n/a]"

    for _, row in result.table.iterrows():
        t.add_row(row["score"], row["human"], str(row["n_pairs"]), *(fmt(row, s) for s in STATS))
    for _, row in result.ceiling.iterrows():
        if row["rater"] == "mean":
            t.add_row("human ceiling", "rater vs mean of others", str(row["n_pairs"]), *(fmt(row, s) for s in STATS))
    console.print(t)
    if not boot and len(result.paired):
        console.print("paired tests of tau-b differences need bootstrap resamples (--bootstrap N > 0).")
    if boot and result.paired["delta"].notna().any():
        p = Table(title=f"paired bootstrap test of tau-b differences (vs {result.paired['human'].iloc[0]})")
        for col in ("A", "B", "tau A", "tau B", "A - B [95% CI]", "p", "p (Holm)"):
            p.add_column(col)
        shown = result.paired.dropna(subset=["delta"])
        for _, r in shown.iterrows():
            ci = (f" [{r['delta_lo']:+.3f}, {r['delta_hi']:+.3f}]"
                  if np.isfinite(r["delta_lo"]) and np.isfinite(r["delta_hi"]) else " [CI n/a]")
            p.add_row(r["a"], r["b"], f"{r['tau_a']:.3f}", f"{r['tau_b']:.3f}", f"{r['delta']:+.3f}{ci}",
                      *(f"{r[k]:.4f}" if np.isfinite(r[k]) else "n/a" for k in ("p_value", "p_holm")))
        console.print(p)
        if len(shown) < len(result.paired):
            console.print(f"{len(result.paired) - len(shown)} pairs with a constant score are left out (n/a).")


def plot_result(result: MetaEvalResult, out_dir: str | Path, human: str | None = None) -> list[Path]:
    """Tau-b with its CI per score (against one human column) and the human ceiling as a band."""
    from rexeval.base.display import display_name
    from rexeval.reports.plots import PALETTE, save, styled_pyplot

    plt = styled_pyplot()
    human = human or result.table["human"].iloc[0]
    part = result.table[result.table["human"] == human].sort_values("kendall_tau_b", na_position="first")
    fig, ax = plt.subplots(figsize=(7.5, 1.0 + 0.45 * len(part)))
    ys = np.arange(len(part))
    tau = part["kendall_tau_b"].to_numpy()
    lo, hi = part["kendall_tau_b_lo"].to_numpy(), part["kendall_tau_b_hi"].to_numpy()
    ax.errorbar(tau, ys, xerr=[np.nan_to_num(tau - lo), np.nan_to_num(hi - tau)], fmt="o", color=PALETTE[0],
                capsize=3, label="metric: tau-b, 95% CI")
    ceil = result.ceiling[result.ceiling["rater"] == "mean"] if not result.ceiling.empty else result.ceiling
    if not ceil.empty:
        c = ceil.iloc[0]
        ax.axvspan(c["kendall_tau_b_lo"], c["kendall_tau_b_hi"], color=PALETTE[1], alpha=0.25,
                   label="human ceiling (rater vs mean of others), 95% CI")
        ax.axvline(c["kendall_tau_b"], color=PALETTE[1], lw=1.5)
    ax.axvline(0, color="grey", lw=0.8, ls=":")
    ax.set_yticks(ys, [f"{display_name(s)} (n={n})" + (" n/a: constant" if t != t else "")
                       for s, n, t in zip(part["score"], part["n_pairs"], tau, strict=True)])
    ax.set_ylim(-0.6, len(part) - 0.4)
    ax.set_xlabel(f"Kendall tau-b with {human} (signed: agreement > 0)")
    ax.set_title(f"Agreement with human ratings ({result.info['bootstrap']['unit']}-level bootstrap)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    return save(fig, out_dir, "meta_eval_tau")
