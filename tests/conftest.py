"""Shared fixtures. Helpers live in tests/helpers/; tests that read ../shared skip when it is absent."""

from __future__ import annotations

import pytest

from tests.helpers.paths import shared_path


@pytest.fixture
def shared():
    return shared_path


@pytest.fixture(autouse=True)
def _restore_metric_registry():
    """A reward config's ``plugins`` and entry-point plugins register metrics process-wide: give every test
    the registry it found (names, whether the entry points were read, refused plugins)."""
    import rexeval.metrics as registry

    before = dict(registry.REGISTRY)
    plugins = (registry._plugins_read, dict(registry._PLUGIN_ERRORS), dict(registry._PLUGIN_SOURCE))
    yield
    registry.REGISTRY.clear()
    registry.REGISTRY.update(before)
    registry._plugins_read = plugins[0]
    for now, then in ((registry._PLUGIN_ERRORS, plugins[1]), (registry._PLUGIN_SOURCE, plugins[2])):
        now.clear()
        now.update(then)
