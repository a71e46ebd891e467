"""Every package folder is installed: rexeval and the three applications beside it, as top-level packages."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.helpers.paths import ROOT

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

TOP_LEVEL = {"rexeval", "baselines", "trainers", "leaderboards"}


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_folders() -> dict[str, str]:
    """Every package in the tree (a folder with __init__.py) under the name it installs as."""
    out = {}
    for init in ROOT.glob("*/**/__init__.py"):
        rel = init.parent.relative_to(ROOT)
        if rel.parts[0] in TOP_LEVEL:
            out[".".join(rel.parts)] = str(rel)
    return out


def test_every_package_folder_is_installed():
    listed = set(_setuptools()["packages"])
    missing = {name: folder for name, folder in _package_folders().items() if name not in listed}
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"
    assert {name.split(".")[0] for name in listed} == TOP_LEVEL


def test_no_import_hook():
    """The applications are found as ordinary packages: importing rexeval installs no finder."""
    code = "import sys; n = len(sys.meta_path); import rexeval; print(len(sys.meta_path) - n)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "0"


@pytest.mark.slow
def test_wheel_has_the_library_and_the_applications(tmp_path):
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
    assert tops == TOP_LEVEL
    for path in ("baselines/core.py", "trainers/configs/cpu_smoke.yaml", "leaderboards/tables/rexrank.json",
                 "rexeval/metrics/errors_llm/prompt_examples.json"):
        assert path in names
