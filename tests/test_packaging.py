"""`pip install rexeval` installs one top-level name: the applications go inside it (rexeval.baselines, ...)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.helpers.paths import ROOT

tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_folders() -> dict[str, str]:
    """Every package in the tree (a folder with __init__.py) under the name it installs as."""
    mapped = {folder: name for name, folder in _setuptools()["package-dir"].items()}
    out = {}
    for init in ROOT.glob("*/**/__init__.py"):
        rel = init.parent.relative_to(ROOT)
        top = rel.parts[0]
        if top == "rexeval":
            out[".".join(rel.parts)] = str(rel)
        elif top in mapped:
            out[".".join((mapped[top], *rel.parts[1:]))] = str(rel)
    return out


def test_every_package_folder_is_installed():
    listed = set(_setuptools()["packages"])
    missing = {name: folder for name, folder in _package_folders().items() if name not in listed}
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"
    assert all(name == "rexeval" or name.startswith("rexeval.") for name in listed)


@pytest.mark.slow
def test_wheel_has_only_the_rexeval_top_level(tmp_path):
    pytest.importorskip("setuptools")
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    if res.returncode != 0 and "No module named pip" in res.stderr:
        pytest.skip("pip is not installed in this environment")
    assert res.returncode == 0, res.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"rexeval"}
    for app in ("baselines/core.py", "trainers/configs/cpu_smoke.yaml", "leaderboards/tables/rexrank.json"):
        assert f"rexeval/{app}" in names
