"""Sharded runs: ``rexeval score --shard i/n`` scores one contiguous slice of the aligned studies;
``rexeval merge`` joins the shards' per-study values and recomputes every aggregate and CI from them,
so the merged summary equals what one unsharded run would report (metrics are per-study, so a study's
values never depend on the shard it ran in)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rexeval.base.exceptions import ConfigError, InputError
from rexeval.base.fingerprint import study_ids_sha256
from rexeval.run.runs import (
    SCHEMA_VERSION,
    MetricEntry,
    Run,
    ScoreResult,
    StudyList,
    Summary,
    finite,
    load_run,
    refuse_differences,
    scoring_differences,
)
from rexeval.run.runs.summary import stand_in_metrics
from rexeval.stats.bootstrap import bootstrap_ci


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
    for key in ("empty_predictions", "empty_references", "literal_missing_predictions"):
        if key in sub.info:
            sub.info[key] = [s for s in sub.info[key] if s in keep]
    sub.info["shard"] = {"index": i, "count": n, "n_total": len(pairs)}
    return sub


def merge_runs(run_dirs: Sequence[str | Path], *, allow_mismatch: bool = False) -> ScoreResult:
    """Merge shard run directories into one :class:`~rexeval.run.runs.ScoreResult` that equals the run of all
    their studies in one process: every aggregate and CI, the per-condition tables and the subgroup table
    are recomputed from the joined per-study values with the options the shards recorded; run accounts
    (``metric_runs``) are added up."""
    if not run_dirs:
        raise ConfigError("rexeval merge needs at least one run directory")
    runs = [load_run(d, need_per_study=True) for d in run_dirs]
    counts = {r.summary.shard.count if r.summary.shard else None for r in runs}
    if len(counts) != 1:
        raise InputError(f"the runs come from different shardings ({sorted(map(str, counts))})")
    count = counts.pop()
    if count is not None:
        seen = [r.summary.shard.index for r in runs if r.summary.shard]
        dup = sorted({i for i in seen if seen.count(i) > 1})
        if dup:
            raise InputError(f"shard(s) {dup} given more than once")
        missing = sorted(set(range(1, count + 1)) - set(seen))
        if missing:
            raise InputError(f"missing shard(s) {missing} of {count}; merge needs all of them")
        runs.sort(key=lambda r: r.summary.shard.index if r.summary.shard else 0)

    first = runs[0].summary
    labelled = [(str(r.path), r.summary) for r in runs]
    differences = refuse_differences(
        scoring_differences(labelled, same_input=True, same_studies=False), "rexeval merge", allow_mismatch)
    for run in runs[1:]:
        if set(run.metrics) != set(first.metrics) and not allow_mismatch:
            raise InputError("the runs report different metrics", path=str(run.path))
        if run.metric_options != runs[0].metric_options and not allow_mismatch:
            raise InputError(f"metric options differ from {runs[0].path}'s ({run.metric_options} vs "
                             f"{runs[0].metric_options}): shards must be scored with the same settings", path=str(run.path))

    per_study = pd.concat([r.per_study for r in runs], ignore_index=True)
    dups = per_study["study_id"][per_study["study_id"].duplicated()].unique().tolist()
    if dups:
        raise InputError(f"study ids appear in more than one run: {dups[:5]}{' ...' if len(dups) > 5 else ''}")

    columns = {c: per_study[c].to_numpy(dtype=float) for c in per_study.columns if c != "study_id"}
    n_resamples, seed = first.bootstrap.n_resamples, first.bootstrap.seed
    outputs = {}
    metrics_summary: dict[str, MetricEntry] = {}
    instances: dict[str, Any] = {}
    for key, entry in first.metrics.items():
        name = entry.metric or ""
        if name not in instances:
            instances[name] = runs[0].metric(name)
            if instances[name] is None:
                raise InputError(f"metric {name!r} (options {runs[0].metric_options.get(name, {})}) cannot be built "
                                 "by this rexeval; merge with the version that scored the shards", path=str(runs[0].path))
        out = next((o for o in instances[name].outputs() if o.key == key), None)
        if out is None:
            raise InputError(f"metric {name} with options {runs[0].metric_options.get(name, {})} has no output {key} "
                             "in this rexeval version", path=str(runs[0].path))
        outputs[key] = out
        value = out.aggregate.value(columns)
        lo, hi = bootstrap_ci(out.aggregate, columns, n_resamples, seed)
        new = replace(entry, value=finite(value), ci95=(finite(lo), finite(hi)))
        if key in columns:
            new = replace(new, n=int(np.sum(~np.isnan(columns[key]))), n_failed=int(np.sum(np.isnan(columns[key]))))
        metrics_summary[key] = new

    skipped: dict[str, str] = {}
    for run in runs:
        skipped.update(run.summary.skipped)

    # Alignment (and so its dropped ids) happens before sharding: every shard records the same list;
    # the empty / literal-missing texts are restricted to each shard, so they are joined.
    def joined(get: Callable[[Summary], StudyList | None]) -> StudyList | None:
        lists = [get(run.summary) for run in runs]
        return None if lists[0] is None else StudyList(tuple(s for part in lists if part for s in part.study_ids))

    # Sections the metrics add (conditions, metric_runs, ...): recomputed from the joined columns where
    # the metric can (its summary hook reads columns only), otherwise the shards' accounts are added up.
    recomputed: dict[str, Any] = {}
    for metric in instances.values():
        for section, content in metric.summary_extra(columns).items():
            recomputed.setdefault(section, {}).update(content)
    sections: dict[str, Any] = {}
    for section in dict.fromkeys(k for run in runs for k in run.summary.sections):
        sections[section] = add_up([run.summary.sections[section] for run in runs if section in run.summary.sections])
        if section in recomputed:
            sections[section] = {**sections[section], **recomputed[section]}

    summary = replace(
        first,
        schema_version=SCHEMA_VERSION,
        n_studies=len(per_study),
        study_ids_sha256=study_ids_sha256(per_study["study_id"].astype(str)),
        metrics=metrics_summary,
        random_weights=tuple(stand_in_metrics(metrics_summary)),
        skipped=skipped,
        empty_predictions=joined(lambda s: s.empty_predictions) or StudyList(),
        empty_references=joined(lambda s: s.empty_references) or StudyList(),
        literal_missing_predictions=joined(lambda s: s.literal_missing_predictions),
        sections=sections,
        shard=None,
        subgroups=None,
        merged_from=tuple(str(r.path) for r in runs),
        mismatch_allowed=tuple(differences) if differences else None,
    )
    texts = pd.concat([r.texts for r in runs], ignore_index=True) if all(r.texts is not None for r in runs) else None
    result = Run(summary, per_study, texts=texts, known_outputs=outputs)
    if all(r.summary.subgroups is not None for r in runs):
        return _merge_subgroups(result, runs, columns, n_resamples, seed)
    if any(r.summary.subgroups is not None for r in runs):
        raise InputError("only some shards were scored with --by; score every shard with the same --by")
    return result


#: Run-account entries that are settings, not counts: kept when the shards agree (else listed).
_SETTINGS = {"config", "backend", "model", "prompt"}


def add_up(parts: list[Any], key: str = "") -> Any:
    """Join the shards' run accounts (``metric_runs``): counts add, ``max_*`` take the maximum, lists
    concatenate, objects merge key by key; settings (``config``, ``backend``, texts) are kept when the
    shards agree and become the list of their distinct values when they do not."""
    if key in _SETTINGS or not all(isinstance(p, (dict, list, int, float)) and not isinstance(p, bool) for p in parts):
        distinct = list(dict.fromkeys(json.dumps(p, sort_keys=True, default=str) for p in parts))
        return parts[0] if len(distinct) == 1 else [json.loads(d) for d in distinct]
    if all(isinstance(p, dict) for p in parts):
        keys = dict.fromkeys(k for p in parts for k in p)
        return {k: add_up([p[k] for p in parts if k in p], str(k)) for k in keys}
    if all(isinstance(p, (int, float)) for p in parts):
        return max(parts) if key.startswith("max_") else sum(parts)
    if all(isinstance(p, list) for p in parts):
        return [x for p in parts for x in p]
    return [json.loads(d) for d in dict.fromkeys(json.dumps(p, sort_keys=True, default=str) for p in parts)]


def _merge_subgroups(result: Run, runs: list[Run], columns: dict, n_resamples: int, seed: int) -> Run:
    """The merged run with the subgroup table of all its studies, from the shards' per-study group labels
    (groups.csv)."""
    from rexeval.run.subgroups import Groups, subgroup_scores, summary_block

    blocks = [r.summary.subgroups for r in runs if r.summary.subgroups is not None]
    first = blocks[0]
    for run, block in zip(runs, blocks, strict=True):
        if run.group_labels is None:
            raise InputError("scored with --by but has no groups.csv (an older rexeval): score the shards again "
                             "to merge their subgroups", path=str(run.path))
        for key in ("by", "min_group_size", "age_bins"):
            if getattr(block, key) != getattr(first, key):
                raise InputError(f"the shards were grouped differently (--by / --min-group-size / --age-bins: "
                                 f"{key} {getattr(block, key)} vs {getattr(first, key)})", path=str(run.path))
    labels = pd.concat([r.group_labels for r in runs], ignore_index=True)
    assert result.per_study is not None  # the merged run is built from the shards' per_study.csv
    if labels["study_id"].astype(str).tolist() != result.per_study["study_id"].astype(str).tolist():
        raise InputError("groups.csv rows do not follow per_study.csv in some shard; score the shards again")
    by = list(first.by)
    labels = labels.astype({b: str for b in by})
    cleaning: dict[str, list[dict[str, Any]]] = {}
    for b in by:
        counted: dict[tuple, int] = {}
        for block in blocks:
            for item in block.cleaning.get(b, []):
                k = (item["raw"], item["group"], item["source"])
                counted[k] = counted.get(k, 0) + item["count"]
        # the order derive_groups writes: most frequent first, then by the (raw, group, source) text
        cleaning[b] = [{"raw": r, "group": g, "source": s, "count": c}
                       for (r, g, s), c in sorted(counted.items(), key=lambda kv: (-kv[1], str(kv[0])))]
    groups = Groups(labels[by], cleaning, add_up([blk.sources for blk in blocks]))
    meta = add_up([dict(blk.meta) for blk in blocks]) if first.meta else {}
    if meta:
        meta["path"], meta["columns"] = first.meta.get("path"), first.meta.get("columns")
        meta["example_ids"] = meta.get("example_ids", [])[:5]
    outputs = {k: o for k, o in result.outputs.items() if k in result.summary.metrics}
    table = subgroup_scores(columns, outputs, groups.labels, n_resamples=n_resamples, seed=seed,
                            min_group_size=first.min_group_size)
    block = replace(summary_block(table, groups, first.min_group_size, meta), age_bins=first.age_bins)
    return replace(result, summary=replace(result.summary, subgroups=block), subgroup_table=table,
                   group_labels=labels)
