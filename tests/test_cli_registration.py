"""Every sub-command module is registered the one way (``register(app)``, listed in COMMAND_MODULES)."""

from __future__ import annotations

import importlib
from pathlib import Path

from typer.testing import CliRunner

import rexeval.cli as cli


def test_every_command_module_is_listed_and_defines_register():
    folder = Path(cli.__file__).parent
    modules = {f"rexeval.cli.{p.stem}" for p in folder.glob("*.py") if not p.stem.startswith("_")}
    assert modules == set(cli.COMMAND_MODULES), "a module in rexeval/cli/ is not in COMMAND_MODULES (or the reverse)"
    for name in cli.COMMAND_MODULES:
        assert callable(getattr(importlib.import_module(name), "register", None)), f"{name} has no register(app)"


def test_help_lists_every_command():
    out = CliRunner().invoke(cli.app, ["--help"], terminal_width=200).output
    for command in ("score", "compare", "baseline", "longitudinal", "leaderboard", "plot", "report", "train-rl",
                    "train-sft", "generate", "labels", "radcliq", "models", "merge", "meta-eval", "stress",
                    "reward-check", "metrics"):
        assert f" {command} " in out, command
