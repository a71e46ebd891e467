"""Shared fixtures. Helpers live in tests/helpers/; tests that read ../shared skip when it is absent."""

from __future__ import annotations

import pytest

from tests.helpers.paths import shared_path


@pytest.fixture
def shared():
    return shared_path


@pytest.fixture(autouse=True)
def _restore_metric_registry():
    """A reward config's ``plugins`` register metrics process-wide: give every test the registry it found."""
    from rexeval.metrics import REGISTRY

    before = dict(REGISTRY)
    yield
    REGISTRY.clear()
    REGISTRY.update(before)
