"""The documentation site builds with no warning (mkdocs --strict: broken links, missing API objects)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.paths import ROOT

README_LIMIT = 15 * 1024


def test_docs_build_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install -e '.[dev]')")
    pytest.importorskip("mkdocstrings", reason="mkdocstrings is not installed (pip install -e '.[dev]')")
    pytest.importorskip("material", reason="mkdocs-material is not installed (pip install -e '.[dev]')")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    res = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "site")],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert (tmp_path / "site" / "api" / "index.html").read_text().count("bootstrap_ci") > 0


def test_readme_is_the_front_door():
    """At most 15 KB, with the two commands CI parses (.ci/run reads the line after each marker's fence)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.encode()) <= README_LIMIT, f"README.md is {len(text.encode())} bytes; move detail to docs/"
    lines = text.splitlines()
    for marker in ("<!-- main-command -->", "<!-- test-command -->"):
        i = lines.index(marker)
        assert lines[i + 1].startswith("```") and lines[i + 2].startswith("python3 -m venv .venv"), marker


def test_docs_figures_are_small_shown_and_present():
    """docs/img holds what docs/make_figures.py draws: each PNG at most 150 KB, shown by a page, none missing."""
    import re

    pages = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")}
    shown = {m for text in pages.values() for m in re.findall(r"\]\(img/([^)]+\.png)\)", text)}
    images = {p.name: p for p in (ROOT / "docs" / "img").glob("*.png")}
    assert shown and shown == set(images), "every figure is on a page and every page's figure exists"
    for name, path in images.items():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size <= 150 * 1024, f"{name} is over 150 KB"
    for page in ("scoring.md", "leaderboards.md", "metaeval.md", "training.md"):
        assert "](img/" in pages[page], f"{page} shows no figure"
