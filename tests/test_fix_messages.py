"""Every fix message in the code prints verbatim (square brackets survive the terminal's rich markup)
and names only extras that pyproject.toml defines."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("rexeval", "baselines", "trainers", "leaderboards")
EXTRA = re.compile(r"rexeval\[([^\]]*)\]")
FIX_HINT = re.compile(r"pip install|rexeval models download|Fix:")


def _strings(path: Path) -> list[str]:
    """String literals of a module; an f-string's placeholders become VALUE; a call of the one hint
    builder with literal arguments, ``install_hint("models")``, becomes the hint it returns."""
    from rexeval.base.exceptions import install_hint

    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            out.append("".join(v.value if isinstance(v, ast.Constant) else "VALUE" for v in node.values))
        elif (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "install_hint"
              and all(isinstance(a, ast.Constant) for a in node.args)):
            out.append(install_hint(*(a.value for a in node.args)))
    return out


def _fix_messages() -> list[tuple[str, str]]:
    found = []
    for folder in SHIPPED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for s in _strings(path):
                if FIX_HINT.search(s) and "\n" not in s.strip():
                    found.append((str(path.relative_to(ROOT)), s))
    return found


def _extras() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project.get("optional-dependencies", {}))


def test_the_scan_finds_the_fix_messages():
    messages = [m for _, m in _fix_messages()]
    assert any("pip install 'rexeval[models]'" in m for m in messages)
    assert any("rexeval models download" in m for m in messages)


def test_fix_messages_name_only_defined_extras():
    extras = _extras()
    bad = []
    for where, message in _fix_messages():
        for group in EXTRA.findall(message.replace("rexeval[VALUE]", "")):  # the builder's own template
            bad += [f"{where}: rexeval[{name}]" for name in group.split(",") if name.strip() not in extras]
    assert not bad, f"extras not in pyproject ({sorted(extras)}): {bad}"


@pytest.mark.parametrize("where,fix", [pytest.param(w, f, id=f"{w}#{i}") for i, (w, f) in enumerate(_fix_messages())])
def test_fix_message_prints_verbatim(where, fix, capsys):
    from rexeval.base.exceptions import MetricUnavailable
    from rexeval.reports.table import print_summary

    reason = str(MetricUnavailable("model x [a bracketed note] not found locally " + "y" * 120, fix))
    print_summary({"n_studies": 1, "run": {"name": "r"}, "metrics": {}, "skipped": {"some_metric": reason}})
    out = capsys.readouterr().out
    assert f"skipped some_metric: {reason}" in out, where  # one line, nothing eaten or wrapped


def test_hints_for_extras_that_pull_torch_say_how_to_get_the_cpu_wheel_first():
    # a bare torch requirement with no torch installed pulls a multi-GB CUDA build (issue 22, item 6)
    torch_extras = {"models", "green", "rl", "all"}
    hints = [(w, m) for w, m in _fix_messages() if set(EXTRA.findall(m)) & torch_extras]
    assert {w for w, _ in hints} >= {"rexeval/metrics/bertscore.py", "rexeval/metrics/sembscore.py", "rexeval/cli/train.py"}
    for where, message in hints:
        cpu = message.find("download.pytorch.org/whl/cpu")
        assert 0 <= cpu < message.find("rexeval["), f"{where}: {message}"
    light = [m for _, m in _fix_messages() if "rexeval[llm]" in m or "rexeval[ray]" in m]
    assert light and not any("torch" in m for m in light)  # extras without torch keep the short hint
