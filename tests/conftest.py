"""Shared fixtures. Tests that read ../shared skip with a clear reason when it is absent."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Test helper modules (fixture builders, fake servers) import as `tests.x` or plainly as `x`.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))
SHARED = Path(os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared")).resolve()


def shared_path(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test when it is not there (a user's clone has none)."""
    path = SHARED.joinpath("data", *parts)
    if not path.exists():
        pytest.skip(f"needs ../shared/data/{'/'.join(parts)} (the project's shared data folder, absent here)")
    return path


@pytest.fixture
def shared():
    return shared_path
