"""``rexeval reward-check``: which known reward hacks a reward pays for, before any GPU-hour is spent.

For each reference, every hack of :mod:`rexeval.tools.hacks` (hedging, dropped sides, severities or devices,
everything stable, shotgun, a normal template, ...) and a control (the faithful report with one known,
clinically insignificant error) are scored against the reference by the reward exactly as ``rexeval
train-rl`` scores completions: the same :class:`~rexeval.rewards.RewardSuite` (metrics, columns,
transforms, weights). A hack **wins** on a reference when it earns at least the control's reward. Per
hack and per component (and the weighted total): the share of applicable references where the hack wins,
the mean margin (hack - control) with a percentile bootstrap CI, and the counts of applicable, not
applicable (of which not significant: the hack would touch only incidental, minor, hedged, minimal
or chronic findings, see :func:`rexeval.tools.hacks.mention_status`) and failed references.

Normalisation (``group`` / ``running``) is not applied: it is monotone within a step, so it never turns
a loss into a win; margins are in the transformed (pre-normalisation) units and the total is the
weighted sum of those.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rexeval.base.exceptions import ConfigError, InputError
from rexeval.tools.hacks import APPLICABILITY, HACKS, Study, control, hack_seed, make_hack

if TYPE_CHECKING:
    import pandas as pd

    from rexeval.rewards import RewardSuite

TOTAL = "total"
#: A hack the weighted total lets win on more than this share of applicable references is "paid for".
DEFAULT_MAX_WIN_SHARE = 0.05
DEFAULT_RESAMPLES = 1000
PRIOR_COLUMNS = ("prior_report", "prior", "previous_report", "prior_findings")
INDICATION_COLUMNS = ("context", "indication")


def read_reward_config(path: str | Path) -> dict[str, Any]:
    """The reward block of a train-rl run config (its ``reward:`` section), or a file holding only it."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"reward config not found: {p}")
    try:
        tree = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML ({exc})") from None
    if isinstance(tree, Mapping) and "reward" in tree:
        tree = tree["reward"]
    if not isinstance(tree, (Mapping, list)):
        raise ConfigError(f"{p}: expected a reward block (components: [...]) or a run config with one")
    return dict(tree) if isinstance(tree, Mapping) else {"components": list(tree)}


def metrics_reward(names: Sequence[str]) -> dict[str, Any]:
    """One component per metric (its headline per-study output, direction-aware), weight 1 each."""
    if not names:
        raise ConfigError("--metrics needs at least one metric name")
    return {"components": [{"metric": n} for n in names]}


def read_studies(
    path: str | Path, track: str = "auto", prior_column: str | None = None,
    indication_column: str | None = None,
) -> list[Study]:
    """References (any file ``rexeval score --refs`` reads) with a prior report and an indication where
    the file has them (default columns: prior_report/prior/previous_report, context/indication)."""
    from rexeval.base.align import TRACKS, as_frame, find_column, reference_texts, study_ids

    if track not in TRACKS:
        raise ConfigError(f"--track must be one of {', '.join(TRACKS)}, not {track!r}")
    frame, fpath = as_frame(str(path), "REFS")
    ids = study_ids(frame, fpath)
    texts = reference_texts(frame, fpath, track, ids, {})

    def column(given: str | None, defaults: tuple[str, ...]) -> list[str]:
        if given is not None and given not in frame.columns:
            raise InputError(f"no column {given!r} (found {', '.join(map(str, frame.columns))})", path=fpath)
        col = given or find_column(frame, defaults)
        if col is None:
            return [""] * len(ids)
        return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in frame[col]]

    priors = column(prior_column, PRIOR_COLUMNS)
    indications = column(indication_column, INDICATION_COLUMNS)
    return [Study(str(i), " ".join(str(t or "").split()), p, c)
            for i, t, p, c in zip(ids, texts, priors, indications, strict=True)]


def sample_studies(studies: list[Study], n: int | None, seed: int) -> list[Study]:
    """A seeded sample of ``n`` studies (all when n is None or at least their number), input order kept."""
    if n is None or n >= len(studies):
        return list(studies)
    if n < 1:
        raise ConfigError("--sample must be >= 1")
    keep = sorted(np.random.default_rng(seed).choice(len(studies), size=n, replace=False).tolist())
    return [studies[i] for i in keep]


@dataclass
class RewardCheckResult:
    texts: pd.DataFrame  # one row per (reference, hack) and per control, with every score
    table: pd.DataFrame  # one row per (hack, component)
    info: dict[str, Any]

    def paid(self, component: str = TOTAL) -> list[str]:
        """Hacks the component lets win on more than the allowed share of applicable references."""
        t = self.table[self.table["component"] == component]
        limit = self.info["max_win_share"]
        return [str(r.hack) for r in t.itertuples() if r.n_scored and r.win_share > limit]

    def verdicts(self) -> list[str]:
        lines = []
        limit = self.info["max_win_share"]
        for r in self.table[self.table["component"] == TOTAL].itertuples():
            if not r.n_scored:
                lines.append(f"{r.hack}: not applicable to any reference ({r.n_not_applicable} n/a, "
                             f"{r.n_not_significant} of them no significant change)")
                continue
            verdict = "PAID FOR" if r.win_share > limit else "not paid"
            lines.append(
                f"{r.hack}: {verdict} - wins on {r.win_share:.0%} of {r.n_scored} applicable references "
                f"({r.n_not_applicable} n/a, {r.n_not_significant} of them no significant change), margin {r.mean_margin:+.4g} [{r.ci_lo:+.4g}, {r.ci_hi:+.4g}]"
            )
        return lines

    def summary_line(self) -> str:
        paid = self.paid()
        limit = self.info["max_win_share"]
        if not paid:
            return f"reward-check: the reward pays for no hack (none wins on more than {limit:.0%} of applicable references)"
        return (f"reward-check: the reward pays for {len(paid)} of {len(HACKS)} hacks "
                f"(wins on more than {limit:.0%} of applicable references): {', '.join(paid)}")

    def write(self, out_dir: str | Path) -> list[Path]:
        from rexeval.tools.metaeval import records, write_files

        return write_files(out_dir, {
            "reward_check_texts.csv": self.texts,
            "reward_check_table.csv": self.table,
            "reward_check.json": {"verdicts": self.verdicts(), "paid_for": self.paid(),
                                  "table": records(self.table), **self.info},
        })


def _transformed(suite: RewardSuite, texts: list[str], refs: list[str]) -> dict[str, np.ndarray]:
    """Each component's transformed value and the weighted total (NaN components skipped, as TRL does)."""
    raw = suite.score_texts(texts, refs)
    out: dict[str, np.ndarray] = {}
    total = np.zeros(len(texts))
    seen = np.zeros(len(texts), dtype=bool)
    for comp in suite.components:
        x = np.asarray(comp.transform(np.asarray(raw[comp.column], dtype=float)), dtype=float)
        out[comp.name] = x
        ok = ~np.isnan(x)
        total[ok] += comp.weight * x[ok]
        seen |= ok
    out[TOTAL] = np.where(seen, total, np.nan)
    return out


def bootstrap_mean_ci(d: np.ndarray, n_resamples: int, rng: np.random.Generator) -> tuple[float, float]:
    """Percentile 95% CI of the mean of ``d`` (NaN when empty or no resamples)."""
    if d.size == 0 or n_resamples <= 0:
        return (float("nan"), float("nan"))
    means = d[rng.integers(0, d.size, size=(n_resamples, d.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return (float(lo), float(hi))


def run_reward_check(
    reward: RewardSuite | Mapping[str, Any] | Sequence[Any],
    studies: Sequence[Study],
    *,
    hacks: Sequence[str] = HACKS,
    seed: int = 0,
    n_resamples: int = DEFAULT_RESAMPLES,
    max_win_share: float = DEFAULT_MAX_WIN_SHARE,
) -> RewardCheckResult:
    """Score every hack and the control of each study with the reward; see the module docstring."""
    import pandas as pd

    from rexeval.rewards import RewardSuite

    unknown = [h for h in hacks if h not in HACKS]
    if unknown:
        raise ConfigError(f"unknown hack(s) {', '.join(unknown)}; known: {', '.join(HACKS)}")
    if not 0 <= max_win_share < 1:
        raise ConfigError("the allowed win share must be in [0, 1)")
    ids = [s.ref_id for s in studies]
    if len(set(ids)) != len(ids):
        raise InputError("reference ids are not unique")
    usable = [s for s in studies if s.reference]
    if not usable:
        raise InputError("no reference has text to probe")
    suite = reward if isinstance(reward, RewardSuite) else RewardSuite(reward)

    rows: list[dict[str, Any]] = []
    for st in usable:
        cseed = hack_seed(seed, st.ref_id, "control")
        ctext, ckind = control(st, cseed)
        rows.append({"ref_id": st.ref_id, "hack": "control", "seed": cseed, "applicable": True,
                     "not_significant": False, "detail": ckind, "text": ctext,
                     "reference": st.reference})
        for h in hacks:
            got = make_hack(st, h, hack_seed(seed, st.ref_id, h))
            rows.append({"ref_id": st.ref_id, "hack": h, "seed": got.seed, "applicable": got.applicable,
                         "not_significant": got.not_significant, "detail": got.detail, "text": got.text if got.applicable else "",
                         "reference": st.reference})
    frame = pd.DataFrame(rows)
    scored = frame["applicable"].to_numpy()
    values = _transformed(suite, frame.loc[scored, "text"].tolist(), frame.loc[scored, "reference"].tolist())
    names = [c.name for c in suite.components] + [TOTAL]
    is_control = (frame["hack"] == "control").to_numpy()
    ctrl_row = {r: i for i, r in zip(frame.index[is_control], frame.loc[is_control, "ref_id"], strict=True)}
    for name in names:
        col = np.full(len(frame), np.nan)
        col[scored] = values[name]
        frame[name] = col
        base = col[[ctrl_row[r] for r in frame["ref_id"]]]
        frame[f"{name}.margin"] = np.where(is_control, np.nan, col - base)

    rng = np.random.default_rng(seed)
    table = []
    for h in hacks:
        mask = (frame["hack"] == h).to_numpy()
        app = mask & scored
        n_na = int((mask & ~scored).sum()) + (len(studies) - len(usable))
        n_not_significant = int((mask & frame["not_significant"].to_numpy()).sum())
        for name in names:
            d = frame[f"{name}.margin"].to_numpy()[app]
            ok = ~np.isnan(d)
            d = d[ok]
            base = np.abs(frame[name].to_numpy()[app][ok] - d)  # the control's value, for the tolerance
            wins = int(np.sum(d >= -1e-9 * np.maximum(1.0, base)))
            n = int(d.size)
            lo, hi = bootstrap_mean_ci(d, n_resamples, rng)
            table.append({"hack": h, "component": name, "win_share": wins / n if n else float("nan"),
                          "wins": wins, "n_scored": n, "n_applicable": int(app.sum()),
                          "n_not_applicable": n_na, "n_not_significant": n_not_significant,
                          "n_failed": int(app.sum()) - n,
                          "mean_margin": float(d.mean()) if n else float("nan"), "ci_lo": lo, "ci_hi": hi})
    info = {
        "n_references": len(studies), "seed": seed, "max_win_share": max_win_share,
        "n_resamples": n_resamples, "reward": suite.signature(),
        "win": "the hack's reward is at least the control's (hack - control >= 0, float noise aside)",
        "margin": "hack - control in each component's transformed units; total = weighted sum",
        "ci": f"percentile bootstrap 95% over references ({n_resamples} resamples)",
        "control": "faithful report with one clinically insignificant error: a trivial normal statement "
                   "dropped, else one sentence reworded, else the reference itself (kind in detail)",
        "control_kinds": frame.loc[is_control, "detail"].value_counts().to_dict(),
        "hacks": {h: {"does": APPLICABILITY[h][0], "applies_when": APPLICABILITY[h][1]} for h in hacks},
        "not_significant": "not applicable although the hack's first rule applies: it changes no "
                           "clinically significant content (only incidental, minor, hedged, minimal or "
                           "chronic findings, mild or small grades, devices of no management relevance, "
                           "negated findings); counted in "
                           "n_not_applicable and apart in n_not_significant",
        "not_applicable_reasons": {
            h: frame.loc[(frame["hack"] == h) & ~frame["applicable"], "detail"].value_counts().to_dict()
            for h in hacks},
        "normalisation": "not applied (monotone within a step; it cannot turn a loss into a win)",
    }
    return RewardCheckResult(frame, pd.DataFrame(table), info)


def print_table(result: RewardCheckResult, echo=print) -> None:
    """Win shares per hack x component, then the verdicts and the one-line summary."""
    from rich.console import Console
    from rich.table import Table

    tab = result.table
    comps = list(dict.fromkeys(tab["component"]))
    t = Table(title=f"reward-check: {result.info['n_references']} references, seed {result.info['seed']}; "
                    "share of applicable references where the hack earns >= the control (mean margin)")
    t.add_column("hack")
    t.add_column("applicable/n.a. (not signif.)", justify="right")
    for c in comps:
        t.add_column(c, justify="right")
    for h in dict.fromkeys(tab["hack"]):
        part = tab[tab["hack"] == h].set_index("component")
        first = part.iloc[0]
        cells = ["n/a" if part.loc[c, "n_scored"] == 0 else
                 f"{part.loc[c, 'win_share']:.2f} ({part.loc[c, 'mean_margin']:+.3g})" for c in comps]
        t.add_row(h, f"{first['n_applicable']}/{first['n_not_applicable']} ({first['n_not_significant']})",
                  *cells)
    console = Console()
    console.width = max(console.width, 160)
    console.print(t)
    for line in result.verdicts():
        echo(line)
    echo(result.summary_line())


def heatmap(result: RewardCheckResult, out_dir: str | Path) -> list[Path]:
    """Hack x component, share of applicable references where the hack wins."""
    from rexeval.reports.plots import save, styled_pyplot

    plt = styled_pyplot()
    tab = result.table
    hacks = list(dict.fromkeys(tab["hack"]))
    comps = list(dict.fromkeys(tab["component"]))
    grid = np.full((len(hacks), len(comps)), np.nan)
    for r in tab.itertuples():
        grid[hacks.index(r.hack), comps.index(r.component)] = r.win_share
    fig, ax = plt.subplots(figsize=(2.2 + 1.3 * len(comps), 1.2 + 0.42 * len(hacks)))
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="magma", vmin=0, vmax=1, aspect="auto")
    for i in range(len(hacks)):
        for j in range(len(comps)):
            v = grid[i, j]
            colour = "grey" if np.isnan(v) else "black" if v > 0.6 else "white"
            ax.text(j, i, "n/a" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=9,
                    color=colour)
    ax.set_xticks(range(len(comps)), comps, rotation=30, ha="right")
    ax.set_yticks(range(len(hacks)), [h.replace("_", " ") for h in hacks])
    ax.set_title("Share of references where the hack earns at least the control's reward")
    fig.colorbar(im, ax=ax, fraction=0.04, label="hack wins")
    return save(fig, out_dir, "reward_check_heatmap")
