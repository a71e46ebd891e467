"""Where the checkout and the project's shared data folder are; tests needing shared data skip without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared")).resolve()


def shared_path(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test when it is not there (a user's clone has none)."""
    path = SHARED.joinpath("data", *parts)
    if not path.exists():
        pytest.skip(
            f"needs ../shared/data/{'/'.join(parts)} (the project's shared data folder, absent here)"
        )
    return path
