"""rexeval: ReXrank-exact metrics, statistics, rewards and leaderboards for chest X-ray reports.

Importing this package is cheap: the scoring API and the metrics load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rexeval._version import __version__

if TYPE_CHECKING:
    from rexeval.reports.compare import compare
    from rexeval.run.runs import Run, ScoreResult, load_run
    from rexeval.run.scoring import ScoreOptions, score

__all__ = ["__version__", "score", "ScoreOptions", "compare", "load_run", "Run", "ScoreResult"]

_LAZY = {
    "score": "rexeval.run.scoring",
    "ScoreOptions": "rexeval.run.scoring",
    "Run": "rexeval.run.runs",
    "ScoreResult": "rexeval.run.runs",
    "compare": "rexeval.reports.compare",
    "load_run": "rexeval.run.runs",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rexeval' has no attribute {name!r}")
