"""Shared fixtures. Helpers live in tests/helpers/; tests that read ../shared skip when it is absent."""

from __future__ import annotations

import pytest

from tests.helpers.paths import shared_path


@pytest.fixture
def shared():
    return shared_path
