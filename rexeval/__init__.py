"""rexeval: ReXrank-exact metrics, statistics, rewards and leaderboards for chest X-ray reports.

Importing this package is cheap: the scoring API and the metrics load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rexeval._version import __version__

if TYPE_CHECKING:
    from rexeval.compare import compare
    from rexeval.runs import Run, ScoreResult, load_run
    from rexeval.scoring import ScoreOptions, score

__all__ = ["__version__", "score", "ScoreOptions", "compare", "load_run", "Run", "ScoreResult"]

_LAZY = {
    "score": "rexeval.scoring",
    "ScoreOptions": "rexeval.scoring",
    "Run": "rexeval.runs",
    "ScoreResult": "rexeval.runs",
    "compare": "rexeval.compare",
    "load_run": "rexeval.runs",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rexeval' has no attribute {name!r}")


def _import_applications_from_checkout() -> None:
    """Make ``rexeval.baselines``, ``rexeval.trainers`` and ``rexeval.leaderboards`` importable in a checkout.

    The applications' folders sit beside this package in the source tree and are installed inside it
    (pyproject's ``package-dir``), so that ``pip install rexeval`` adds no generic top-level names. In a
    checkout used without installing it (``PYTHONPATH=.``), this finder maps the three names to the folders.
    """
    import sys
    from importlib.util import spec_from_file_location
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():  # an installed copy: the applications are inside
        return
    folders = {f"rexeval.{name}": root / name for name in ("baselines", "trainers", "leaderboards")}
    if not all((folder / "__init__.py").is_file() for folder in folders.values()):
        return

    class CheckoutApplications:
        @staticmethod
        def find_spec(fullname: str, path: Any = None, target: Any = None) -> Any:
            folder = folders.get(fullname)
            if folder is None:
                return None
            return spec_from_file_location(fullname, folder / "__init__.py", submodule_search_locations=[str(folder)])

    sys.meta_path.insert(0, CheckoutApplications())


_import_applications_from_checkout()
