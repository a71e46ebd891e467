"""The metric protocol.

A :class:`Metric` turns aligned texts into per-study columns (``compute``) and declares the numbers it
reports (``outputs``). Each reported number is an :class:`Output`: a key, a direction, a range and an
aggregate. Every aggregate in this project — a mean, 1/mean, corpus F1 from a label matrix, the share
of reports with at most k errors — is a function of per-study *additive statistics*: ``stats`` maps the
per-study columns to an (n, k) matrix, and ``finalize`` maps column sums to the value. That one shape
lets the bootstrap (weighted sums over resamples) and the paired permutation test (sums over
swapped studies) run vectorised for every metric, including ones added later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rexeval._version import __version__
from rexeval.base.aggregates import (  # re-exported: metrics take their aggregate vocabulary from here
    Aggregate,
    Columns,
    inverse_mean_of,
    mean_of,
    share_of,
)

__all__ = [
    "Aggregate", "Batch", "Columns", "Metric", "Output", "installed_versions", "inverse_mean_of", "mean_of",
    "share_of", "text_progress",
]


@dataclass(frozen=True)
class Output:
    """One reported number: the key in summary.json, its direction, range and aggregate."""

    key: str
    higher_is_better: bool
    value_range: tuple[float, float]
    aggregate: Aggregate
    description: str = ""
    #: Written to per_study.csv? (False for corpus-level outputs such as F1 over a label matrix.)
    per_study: bool = True


@dataclass
class Batch:
    """What a metric sees: aligned texts and the columns earlier metrics produced."""

    study_ids: Sequence[str]
    predictions: Sequence[str]
    references: Sequence[str]
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    #: Reference-file columns (context, demographics, prior report, ...) by name.
    extra: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    progress: Callable[[int], None] | None = None

    def __len__(self) -> int:
        return len(self.study_ids)


class OnDevice:
    """For metrics that run a model: ``device_arg`` is the ``device`` option as given ("auto", "cpu",
    "cuda:1"), ``device`` where the model runs (``auto``: CUDA when torch sees a GPU, else CPU)."""

    device_arg: str = "auto"

    @property
    def device(self) -> str:
        from rexeval.backends.models import auto_device

        return auto_device(self.device_arg)


class Metric:
    """Base class. Subclasses set the class attributes and implement ``compute``.

    Contract: the value for a study depends only on that study's texts (never on which other
    studies share the batch) and on the metric's options.
    """

    #: Registry name (what ``--metrics`` takes).
    name: str = ""
    #: Names of metrics whose columns this one reads (e.g. RadCliQ reads BLEU, BERTScore, ...).
    requires: tuple[str, ...] = ()
    #: Part of the default set when it can run.
    default: bool = True
    #: Short human description.
    description: str = ""

    def outputs(self) -> list[Output]:
        raise NotImplementedError

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        """Per-study columns for the batch, each an array of len(batch)."""
        raise NotImplementedError

    def check_available(self) -> None:
        """Raise :class:`rexeval.base.exceptions.MetricUnavailable` with the exact fix if it cannot run."""

    def options(self) -> dict[str, Any]:
        """Options that change the numbers; they go into the signature."""
        return {}

    def signature(self, **run_options: Any) -> str:
        """sacreBLEU-style reproducibility signature: ``name|opt:value|...|rexeval:VERSION``."""
        parts = [self.name]
        for key, value in {**self.options(), **run_options}.items():
            parts.append(f"{key}:{_fmt(value)}")
        parts.append(f"rexeval:{__version__}")
        return "|".join(parts)

    def versions(self) -> dict[str, str]:
        """Versions of the packages this metric's numbers depend on."""
        return {}

    # -- optional hooks: every metric has them; override the ones that apply ------------------------

    #: True for metrics that call a remote service (LLM judges): reward functions then run ``acompute``
    #: concurrently instead of ``compute``.
    remote: bool = False

    @property
    def reuses_reference_state(self) -> bool:
        """True when the metric overrides ``compute_with_references``: a reward engine then computes
        ``reference_state`` once per distinct reference and caches it (BLEU's reference n-gram counts)."""
        return type(self).compute_with_references is not Metric.compute_with_references

    async def acompute(self, batch: Batch) -> dict[str, np.ndarray]:
        """``compute`` as a coroutine; remote metrics override it to send their requests concurrently."""
        return self.compute(batch)

    def reference_state(self, reference: str) -> Any:
        """What ``compute_with_references`` needs of one reference (by default the text itself)."""
        return reference

    def compute_with_references(self, batch: Batch, states: Sequence[Any]) -> dict[str, np.ndarray]:
        """``compute`` given ``reference_state`` of each reference; equal to ``compute(batch)``."""
        return self.compute(batch)

    def summary_extra(self, columns: Columns) -> dict[str, dict[str, Any]]:
        """Sections merged into summary.json after a run (per-condition tables, request accounting)."""
        return {}

    def run_info(self) -> dict[str, Any]:
        """Accounting of the last ``compute`` (requests, tokens, failures); empty for local metrics."""
        return {}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({opts})"


def text_progress(progress: Callable[[int], None] | None, n_studies: int, n_texts: int) -> Callable[[int], None] | None:
    """Turn 'k texts done' into whole-study advances of a progress bar counting studies (a model metric
    reports each batch of texts it runs, so the bar and its ETA move while it works)."""
    if progress is None or n_texts == 0:
        return None
    state = {"texts": 0, "sent": 0}

    def advance(k: int) -> None:
        state["texts"] += k
        due = min(n_studies, int(state["texts"] * n_studies / n_texts))
        if due > state["sent"]:
            progress(due - state["sent"])
            state["sent"] = due

    return advance


def installed_versions(*packages: str) -> dict[str, str]:
    """Installed versions of ``packages`` from their metadata (nothing is imported: torch is slow)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in packages:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(_fmt(v) for v in value)
    return str(value)
