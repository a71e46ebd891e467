"""summary.json as typed, versioned dataclasses: the one place that knows its keys.

:class:`Summary` holds what a run reports (every aggregate as a :class:`MetricEntry`, the input's
fingerprints, the bootstrap settings, the options each metric ran with, ...). :meth:`Summary.from_json`
reads any summary rexeval wrote (runs written before ``schema_version`` existed included: a field they
lack reads as its default) and :meth:`Summary.to_json` writes today's layout, key for key and in the
same order, so other tools that read summary.json see no change. The objects are frozen; a change (a
merge, a subgroup table) is a new object made with :func:`dataclasses.replace`.

Sections that metrics and engines add (``conditions``, ``metric_runs``, ...) are kept as read under
:attr:`Summary.sections`; keys a later rexeval adds to a metric entry are kept under
:attr:`MetricEntry.extra`, so reading and writing a run never loses a field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from rexeval.backends.standins import RANDOM_MARKS

#: summary.json's ``schema_version``: what tells a rexeval run from any other folder with a summary.json
#: (``--overwrite`` replaces only runs). Runs written before it existed are recognised by their markers.
SCHEMA_VERSION = 1


def finite(x: float | None) -> float | None:
    """A float for JSON: NaN (a recorded failure, or an aggregate of no studies) becomes null."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def json_default(obj: Any) -> Any:
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def _drop_none(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {k: v for k, v in pairs if v is not None}


@dataclass(frozen=True)
class MetricEntry:
    """One reported number: its value and 95% CI, direction, range, how it aggregates, the signature
    (metric, options, version) that makes it traceable, and (for per-study outputs) how many studies
    it counts and how many failed (NaN)."""

    value: float | None
    ci95: tuple[float | None, float | None] | None = None
    higher_is_better: bool | None = None
    range: tuple[Any, ...] | None = None
    aggregate: str | None = None
    signature: str | None = None
    metric: str | None = None
    n: int | None = None
    n_failed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def metric_name(self) -> str | None:
        """The metric that produced it (None for an entry of a foreign summary)."""
        return self.metric

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> MetricEntry:
        known = {f.name for f in fields(cls)} - {"extra"}
        ci = doc.get("ci95")
        rng = doc.get("range")
        return cls(
            value=doc.get("value"), ci95=None if ci is None else (ci[0], ci[1]),
            higher_is_better=doc.get("higher_is_better"), range=None if rng is None else tuple(rng),
            aggregate=doc.get("aggregate"), signature=doc.get("signature"), metric=doc.get("metric"),
            n=doc.get("n"), n_failed=doc.get("n_failed"),
            extra={k: v for k, v in doc.items() if k not in known},
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value}
        out.update(_drop_none([
            ("ci95", None if self.ci95 is None else list(self.ci95)),
            ("higher_is_better", self.higher_is_better),
            ("range", None if self.range is None else list(self.range)),
            ("aggregate", self.aggregate), ("signature", self.signature), ("metric", self.metric),
            ("n", self.n), ("n_failed", self.n_failed)]))
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class StudyList:
    """Studies singled out by alignment (empty texts, literal "NaN" predictions): count and ids."""

    study_ids: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.study_ids)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> StudyList | None:
        return None if doc is None else cls(tuple(doc.get("study_ids", ())))

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "study_ids": list(self.study_ids)}


@dataclass(frozen=True)
class InputInfo:
    """What was scored: the files (and their sha256), the reference track, the text handling, and the
    fingerprints of the aligned references and study ids."""

    preds: str | None = None
    preds_sha256: str | None = None
    refs: str | None = None
    refs_sha256: str | None = None
    track: str | None = None
    prediction_source: str | None = None
    reference_source: str | None = None
    collapse_whitespace: bool | None = None
    references_sha256: str | None = None
    study_ids_sha256: str | None = None
    #: ReXrank's literal "None" sections, and studies without a findings section (set only when found)
    none_sections: Mapping[str, Any] | None = None
    missing_findings: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    _ALWAYS = ("preds", "preds_sha256", "refs", "refs_sha256", "track", "prediction_source", "reference_source",
               "collapse_whitespace", "references_sha256", "study_ids_sha256")

    @property
    def track_label(self) -> str:
        """The reference text in a few words (table titles, leaderboards)."""
        source = str(self.reference_source or "")
        for track in ("findings-impression", "findings"):
            if source.startswith(f"track {track}"):
                return f"track {track}"
        if source.startswith("column "):
            return f"reference {source}"
        return f"track {self.track or 'unknown'}"

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> InputInfo:
        doc = doc or {}
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in doc.items() if k in known},
                   extra={k: v for k, v in doc.items() if k not in known})

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self._ALWAYS}
        out.update(_drop_none([("none_sections", self.none_sections), ("missing_findings", self.missing_findings)]))
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class Bootstrap:
    method: str = "percentile"
    n_resamples: int = 1000
    seed: int = 12345

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> Bootstrap:
        doc = doc or {}
        default = cls()
        return cls(str(doc.get("method", default.method)), int(doc.get("n_resamples", default.n_resamples)),
                   int(doc.get("seed", default.seed)))

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "n_resamples": self.n_resamples, "seed": self.seed}


@dataclass(frozen=True)
class RunInfo:
    """The system's name and the metadata its predictions file carried (e.g. a baseline's settings)."""

    name: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> RunInfo:
        doc = dict(doc or {})
        name = doc.pop("name", None)
        return cls(name, doc)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, **self.meta}


@dataclass(frozen=True)
class ShardInfo:
    """``--shard index/count`` of ``n_total`` aligned studies."""

    index: int
    count: int
    n_total: int

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> ShardInfo | None:
        return None if doc is None else cls(int(doc["index"]), int(doc["count"]), int(doc["n_total"]))

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "count": self.count, "n_total": self.n_total}


@dataclass(frozen=True)
class SubgroupsInfo:
    """``--by``: the grouping, where each label came from, how raw values were cleaned, the ``--meta``
    join, and each group's scores (``results[by][group]``)."""

    by: tuple[str, ...]
    min_group_size: int
    sources: Mapping[str, Any] = field(default_factory=dict)
    cleaning: Mapping[str, Any] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    results: Mapping[str, Any] = field(default_factory=dict)
    age_bins: tuple[Any, ...] | None = None

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> SubgroupsInfo | None:
        if doc is None:
            return None
        bins = doc.get("age_bins")
        return cls(tuple(doc.get("by", ())), int(doc.get("min_group_size", 0)), doc.get("sources") or {},
                   doc.get("cleaning") or {}, doc.get("meta") or {}, doc.get("results") or {},
                   None if bins is None else tuple(bins))

    def to_json(self) -> dict[str, Any]:
        out = {"by": list(self.by), "min_group_size": self.min_group_size, "sources": self.sources,
               "cleaning": self.cleaning, "meta": self.meta, "results": self.results}
        if self.age_bins is not None:
            out["age_bins"] = list(self.age_bins)
        return out


#: top-level keys with a typed field (everything else is a section a metric or engine added)
_TYPED = ("schema_version", "n_studies", "metrics", "skipped", "dropped", "n_dropped", "empty_predictions",
          "empty_references", "literal_missing_predictions", "input", "study_ids_sha256", "bootstrap",
          "metric_options", "run", "versions", "random_weights", "shard", "subgroups", "merged_from",
          "mismatch_allowed")


@dataclass(frozen=True)
class Summary(Mapping[str, Any]):
    """A run's summary.json, typed. Read its fields; ``summary["metrics"]`` (a read-only view of
    :meth:`to_json`) remains for scripts written against the JSON, but rexeval itself reads fields."""

    n_studies: int
    metrics: Mapping[str, MetricEntry]
    schema_version: int = SCHEMA_VERSION
    skipped: Mapping[str, str] = field(default_factory=dict)
    dropped: Mapping[str, list[str]] = field(default_factory=dict)
    empty_predictions: StudyList = field(default_factory=StudyList)
    empty_references: StudyList = field(default_factory=StudyList)
    #: None in runs written before it was recorded
    literal_missing_predictions: StudyList | None = field(default_factory=StudyList)
    input: InputInfo = field(default_factory=InputInfo)
    study_ids_sha256: str | None = None
    bootstrap: Bootstrap = field(default_factory=Bootstrap)
    #: the constructor options each metric ran with ({} for runs written before they were recorded)
    metric_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    run: RunInfo = field(default_factory=RunInfo)
    versions: Mapping[str, str] = field(default_factory=dict)
    #: the metrics that ran on random-weight stand-ins (None: not recorded, see :meth:`random_weight_metrics`)
    random_weights: tuple[str, ...] | None = None
    #: what metrics and engines add (conditions, metric_runs, ...), written after the fields above
    sections: Mapping[str, Any] = field(default_factory=dict)
    shard: ShardInfo | None = None
    subgroups: SubgroupsInfo | None = None
    merged_from: tuple[str, ...] | None = None
    mismatch_allowed: tuple[str, ...] | None = None

    # ----- derived -----------------------------------------------------------------------------------

    @property
    def n_dropped(self) -> int:
        """The studies alignment dropped (``--allow-missing``), all reasons together."""
        return sum(len(v) for v in self.dropped.values())

    @property
    def name(self) -> str | None:
        return self.run.name

    def value(self, key: str) -> float | None:
        return self.metrics[key].value

    def metric_names(self) -> list[str]:
        """The metrics behind the entries, in order of first appearance."""
        return list(dict.fromkeys(e.metric for e in self.metrics.values() if e.metric))

    def random_weight_metrics(self) -> list[str]:
        """The metrics that ran on random-weight stand-ins: ``random_weights``, or (runs written before that
        field) the metrics whose signature carries a stand-in mark."""
        if self.random_weights is not None:
            return [str(m) for m in self.random_weights]
        return stand_in_metrics(self.metrics)

    @property
    def metric_runs(self) -> Mapping[str, Mapping[str, Any]]:
        """Run accounts the metrics and engines added (LLM requests and costs, studies failed on Ray)."""
        return self.sections.get("metric_runs") or {}

    @property
    def conditions(self) -> Mapping[str, Mapping[str, Any]]:
        """Per-condition precision/recall/F1 by labeler (``conditions[labeler][condition]``)."""
        return self.sections.get("conditions") or {}

    def input_notes(self, meta: str | Path | None = None) -> list[str]:
        """What a reader of the numbers should know about the input, one line each (the CLI warns them)."""
        notes = []
        if self.n_dropped:
            notes.append(f"--allow-missing dropped {self.n_dropped} studies (listed in summary.json under 'dropped')")
        if self.empty_predictions.count:
            notes.append(f"{self.empty_predictions.count} empty predictions were scored as empty text")
        if self.empty_references.count:
            notes.append(f"{self.empty_references.count} references are empty")
        literal = self.literal_missing_predictions
        if literal is not None and literal.count:
            notes.append(f"{literal.count} predictions are literally 'NaN', 'None' or 'null' (a missing generation "
                         f"written out as text?), scored as that text; e.g. {list(literal.study_ids[:3])} "
                         "(summary.json: literal_missing_predictions)")
        none_sections = self.input.none_sections
        if none_sections and any(none_sections.values()):
            counts = ", ".join(f"{k}: {len(v)}" for k, v in none_sections.items() if v)
            notes.append(f"references contain the literal 'None' for missing sections ({counts}), as ReXrank writes them")
        joined = self.subgroups.meta if self.subgroups else {}
        if lacking := joined.get("studies_without_meta"):
            notes.append(f"{lacking} studies are not in {meta or joined.get('path')}; their --meta "
                         "attributes are grouped as 'missing'")
        return notes

    def failure_notes(self) -> list[str]:
        """One line per metric with studies an executor could not score (NaN; every one is listed, with its
        reason, under ``metric_runs.<metric>.engine``)."""
        lines = []
        for key, run in self.metric_runs.items():
            failed = run.get("engine", {})
            if failed.get("n_failed_studies"):
                first = failed["failed_studies"][0]
                lines.append(f"{key}: {failed['n_failed_studies']} studies failed ({failed['name']} engine) and are NaN, "
                             f"e.g. {first['study_id']}: {first['reason']} (all listed in summary.json under "
                             f"metric_runs.{key}.engine)")
        return lines

    def judge_accounts(self) -> list[str]:
        """One line per LLM judge: requests sent, answers from cache, failures, tokens and cost."""
        lines = []
        for key, run in self.metric_runs.items():
            if "http_requests" in run:
                lines.append(f"{key}: {run['http_requests']} requests sent, {run['cache_hits']} answers from cache, "
                             f"{run['failed']} failed {run['failures'] or ''}, {run['prompt_tokens']}+"
                             f"{run['completion_tokens']} tokens" + (f", cost {run['cost']:.4f}" if run.get("cost") else ""))
        return lines

    # ----- JSON ----------------------------------------------------------------------------------------

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Summary:
        """Any summary.json rexeval wrote (checked by :func:`rexeval.run.runs.run.read_summary` first)."""
        recorded = doc.get("random_weights")
        merged, mismatch = doc.get("merged_from"), doc.get("mismatch_allowed")
        return cls(
            n_studies=int(doc.get("n_studies") or 0),
            metrics={k: MetricEntry.from_json(v) for k, v in (doc.get("metrics") or {}).items()},
            schema_version=doc.get("schema_version") or SCHEMA_VERSION,
            skipped=dict(doc.get("skipped") or {}),
            dropped={k: list(v) for k, v in (doc.get("dropped") or {}).items()},
            empty_predictions=StudyList.from_json(doc.get("empty_predictions")) or StudyList(),
            empty_references=StudyList.from_json(doc.get("empty_references")) or StudyList(),
            literal_missing_predictions=StudyList.from_json(doc.get("literal_missing_predictions")),
            input=InputInfo.from_json(doc.get("input")),
            study_ids_sha256=doc.get("study_ids_sha256"),
            bootstrap=Bootstrap.from_json(doc.get("bootstrap")),
            metric_options={k: dict(v) for k, v in (doc.get("metric_options") or {}).items()},
            run=RunInfo.from_json(doc.get("run")),
            versions=dict(doc.get("versions") or {}),
            random_weights=tuple(str(m) for m in recorded) if isinstance(recorded, list) else None,
            sections={k: v for k, v in doc.items() if k not in _TYPED},
            shard=ShardInfo.from_json(doc.get("shard")),
            subgroups=SubgroupsInfo.from_json(doc.get("subgroups")),
            merged_from=None if merged is None else tuple(merged),
            mismatch_allowed=None if mismatch is None else tuple(mismatch),
        )

    def to_json(self) -> dict[str, Any]:
        """summary.json as rexeval writes it (the layout other tools read)."""
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "n_studies": self.n_studies,
            "metrics": {k: e.to_json() for k, e in self.metrics.items()},
            "skipped": dict(self.skipped),
            "dropped": {k: list(v) for k, v in self.dropped.items()},
            "n_dropped": self.n_dropped,
            "empty_predictions": self.empty_predictions.to_json(),
            "empty_references": self.empty_references.to_json(),
        }
        if self.literal_missing_predictions is not None:
            out["literal_missing_predictions"] = self.literal_missing_predictions.to_json()
        out.update({
            "input": self.input.to_json(),
            "study_ids_sha256": self.study_ids_sha256,
            "bootstrap": self.bootstrap.to_json(),
            "metric_options": {k: dict(v) for k, v in self.metric_options.items()},
            "run": self.run.to_json(),
            "versions": dict(self.versions),
            "random_weights": self.random_weight_metrics(),
        })
        out.update(self.sections)
        out.update(_drop_none([
            ("shard", None if self.shard is None else self.shard.to_json()),
            ("subgroups", None if self.subgroups is None else self.subgroups.to_json()),
            ("merged_from", None if self.merged_from is None else list(self.merged_from)),
            ("mismatch_allowed", None if self.mismatch_allowed is None else list(self.mismatch_allowed)),
        ]))
        return out

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, default=json_default) + "\n"

    def __str__(self) -> str:
        return self.dumps()

    # ----- the read-only mapping view (for scripts that index the JSON) ------------------------------

    def __getitem__(self, key: str) -> Any:
        return self.to_json()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_json())

    def __len__(self) -> int:
        return len(self.to_json())

    __hash__ = None  # type: ignore[assignment]  # holds dicts


def stand_in_metrics(metrics: Mapping[str, MetricEntry]) -> list[str]:
    """The metrics whose signature carries a stand-in mark (what :data:`Summary.random_weights` records)."""
    names: dict[str, None] = {}
    for key, entry in metrics.items():
        if any(mark in str(entry.signature or "") for mark in RANDOM_MARKS):
            names[str(entry.metric or key)] = None
    return list(names)


def as_summary(summary: Summary | Mapping[str, Any]) -> Summary:
    """A :class:`Summary` from itself or from summary.json's dict (public functions take either)."""
    return summary if isinstance(summary, Summary) else Summary.from_json(summary)


def random_weights_line(summaries: list[Summary | Mapping[str, Any]] | Summary | Mapping[str, Any]) -> str | None:
    """One line for every renderer (table, leaderboard, report) naming the metrics whose scores come from
    random weights, or None when every metric ran on real weights."""
    names: dict[str, None] = {}
    for summary in [summaries] if isinstance(summaries, Mapping) else summaries:
        names.update(dict.fromkeys(as_summary(summary).random_weight_metrics()))
    if not names:
        return None
    return (f"RANDOM WEIGHTS: {', '.join(names)} ran on random-weight stand-ins (rexeval models random); "
            "their scores mean nothing")
