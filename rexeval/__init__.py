"""rexeval: ReXrank-exact metrics, statistics, rewards and leaderboards for chest X-ray reports.

Importing this package is cheap: the scoring API and the metrics load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rexeval._version import __version__

if TYPE_CHECKING:
    from rexeval.compare import compare
    from rexeval.runs import ScoreResult, load_run
    from rexeval.scoring import score

__all__ = ["__version__", "score", "compare", "load_run", "ScoreResult"]

_LAZY = {
    "score": "rexeval.scoring",
    "ScoreResult": "rexeval.runs",
    "compare": "rexeval.compare",
    "load_run": "rexeval.runs",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rexeval' has no attribute {name!r}")
