"""Text normalisation shared by all metrics (ReXrank conventions, docs/metrics.md §1)."""

from __future__ import annotations

import re

_WS = re.compile(r"\s+")

#: Recorded in every signature when whitespace collapsing is on (the default).
WS_COLLAPSE_TAG = "ws:collapse"


def collapse_whitespace(text: str) -> str:
    """Collapse every whitespace run (spaces, tabs, newlines) to one space and strip."""
    return _WS.sub(" ", text).strip()
