"""Sharded runs: ``rexeval score --shard i/n`` scores one contiguous slice of the aligned studies;
``rexeval merge`` joins the shards' per-study values and recomputes every aggregate and CI from them,
so the merged summary equals what one unsharded run would report (metrics are per-study, so a study's
values never depend on the shard it ran in)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rexeval.exceptions import ConfigError, InputError


def parse_shard(spec: str) -> tuple[int, int]:
    """``"i/n"`` with 1 <= i <= n -> (i, n)."""
    try:
        i_text, n_text = spec.split("/")
        i, n = int(i_text), int(n_text)
    except ValueError:
        raise ConfigError(f"--shard must look like i/n (e.g. 2/8), not {spec!r}") from None
    if n < 1 or not 1 <= i <= n:
        raise ConfigError(f"--shard {spec}: shards are numbered 1..n with n >= 1")
    return i, n


def shard_indices(total: int, i: int, n: int) -> list[int]:
    """Indices of shard i of n: a contiguous block, sizes differing by at most one."""
    start, stop = (i - 1) * total // n, i * total // n
    return list(range(start, stop))


def apply_shard(pairs, spec: str):
    """The shard ``spec`` of aligned pairs, with its empty-text lists restricted to it."""
    i, n = parse_shard(spec)
    sub = pairs.subset(shard_indices(len(pairs), i, n))
    keep = set(sub.study_ids)
    for key in ("empty_predictions", "empty_references"):
        if key in sub.info:
            sub.info[key] = [s for s in sub.info[key] if s in keep]
    sub.info["shard"] = {"index": i, "count": n, "n_total": len(pairs)}
    return sub


def _read(run_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    from rexeval.scoring import PER_STUDY, SUMMARY

    for name in (SUMMARY, PER_STUDY):
        if not (run_dir / name).is_file():
            raise InputError(f"not a rexeval run directory (missing {name})", path=str(run_dir))
    try:
        summary = json.loads((run_dir / SUMMARY).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"invalid JSON ({exc})", path=str(run_dir / SUMMARY)) from None
    per_study = pd.read_csv(run_dir / PER_STUDY, dtype={"study_id": str}, keep_default_na=False, na_values=[""])
    return per_study, summary


def merge_runs(run_dirs: list[str | Path]):
    """Merge shard run directories into one :class:`~rexeval.scoring.ScoreResult`."""
    from rexeval.metrics import get_metric
    from rexeval.scoring import ScoreResult
    from rexeval.stats.bootstrap import bootstrap_ci

    if not run_dirs:
        raise ConfigError("rexeval merge needs at least one run directory")
    runs = [(Path(d), *_read(Path(d))) for d in run_dirs]
    counts = {r[2].get("shard", {}).get("count") for r in runs}
    if len(counts) != 1:
        raise InputError(f"the runs come from different shardings ({sorted(map(str, counts))})")
    count = counts.pop()
    if count is not None:
        seen = [r[2]["shard"]["index"] for r in runs]
        dup = sorted({i for i in seen if seen.count(i) > 1})
        if dup:
            raise InputError(f"shard(s) {dup} given more than once")
        missing = sorted(set(range(1, count + 1)) - set(seen))
        if missing:
            raise InputError(f"missing shard(s) {missing} of {count}; merge needs all of them")
        runs.sort(key=lambda r: r[2]["shard"]["index"])

    first = runs[0][2]
    for path, _, summary in runs[1:]:
        for key, entry in summary["metrics"].items():
            ref = first["metrics"].get(key)
            if ref is None or ref["signature"] != entry["signature"]:
                raise InputError(
                    f"metric {key} differs from the first run's ({entry['signature']} vs "
                    f"{ref['signature'] if ref else 'absent'}): shards must be scored with the same settings",
                    path=str(path),
                )
        if set(summary["metrics"]) != set(first["metrics"]):
            raise InputError("the runs report different metrics", path=str(path))

    per_study = pd.concat([r[1] for r in runs], ignore_index=True)
    dups = per_study["study_id"][per_study["study_id"].duplicated()].unique().tolist()
    if dups:
        raise InputError(f"study ids appear in more than one run: {dups[:5]}{' ...' if len(dups) > 5 else ''}")

    columns = {c: per_study[c].to_numpy(dtype=float) for c in per_study.columns if c != "study_id"}
    boot = first.get("bootstrap", {})
    n_resamples, seed = int(boot.get("n_resamples", 1000)), int(boot.get("seed", 12345))
    outputs = {}
    metrics_summary: dict[str, Any] = {}
    instances: dict[str, Any] = {}
    for key, entry in first["metrics"].items():
        name = entry["metric"]
        if name not in instances:
            instances[name] = get_metric(name)
        out = next((o for o in instances[name].outputs() if o.key == key), None)
        if out is None:
            raise InputError(f"metric {name} has no output {key} in this rexeval version")
        outputs[key] = out
        value = out.aggregate.value(columns)
        lo, hi = bootstrap_ci(out.aggregate, columns, n_resamples, seed)
        new = dict(entry)
        new["value"] = _f(value)
        new["ci95"] = [_f(lo), _f(hi)]
        if key in columns:
            new["n"] = int(np.sum(~np.isnan(columns[key])))
            new["n_failed"] = int(np.sum(np.isnan(columns[key])))
        metrics_summary[key] = new

    summary = dict(first)
    summary["n_studies"] = len(per_study)
    summary["metrics"] = metrics_summary
    skipped: dict[str, str] = {}
    empty_p: list = []
    empty_r: list = []
    for _, _, s in runs:
        skipped.update(s.get("skipped", {}))
        empty_p.extend(s.get("empty_predictions", {}).get("study_ids", []))
        empty_r.extend(s.get("empty_references", {}).get("study_ids", []))
    summary["skipped"] = skipped
    # Alignment (and so its dropped ids) happens before sharding: every shard records the same list.
    summary["empty_predictions"] = {"count": len(empty_p), "study_ids": empty_p}
    summary["empty_references"] = {"count": len(empty_r), "study_ids": empty_r}
    summary.pop("shard", None)
    summary["merged_from"] = [str(r[0]) for r in runs]
    return ScoreResult(per_study, summary, outputs)


def _f(x: float) -> float | None:
    return None if x is None or np.isnan(x) else float(x)
