"""The metric registry: no silent overwrite, a public lookup, and third-party metrics through the
``rexeval.metrics`` entry-point group (the worked example in examples/metric_plugin).

An installed distribution is simulated by writing its ``*.dist-info`` (METADATA + entry_points.txt) into a
tmp folder on the path: that is all importlib.metadata reads. The example's entry point is taken from its
own pyproject.toml, so the test checks what the example declares.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import rexeval.metrics as registry
from rexeval.base.exceptions import ConfigError
from rexeval.metrics import available, lookup, plugin_errors, register
from tests import test_metric_contract as contract
from tests.helpers.cli import run_cli
from tests.helpers.paths import ROOT

EXAMPLE = ROOT / "examples" / "metric_plugin"


def _example_entry_points() -> dict[str, str]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    return project["entry-points"]["rexeval.metrics"]


def _install(site: Path, dist: str, entry_points: dict[str, str]) -> None:
    """What ``pip install`` leaves for importlib.metadata: a dist-info with the entry points."""
    info = site / f"{dist.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[rexeval.metrics]\n{lines}")


def _use(site: Path, monkeypatch) -> None:
    """Put ``site`` (and the example's module) on the path and let the registry read the group again."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.syspath_prepend(str(site))  # also invalidates importlib's caches
    registry._plugins_read = False  # tests/conftest.py restores the registry's state afterwards


def _cli(site: Path, *args: str):
    path = os.pathsep.join([str(ROOT), str(site), str(EXAMPLE)])
    return run_cli(*args, env={"PYTHONPATH": path, "REXEVAL_CACHE": "off"})


@pytest.fixture
def example(tmp_path, monkeypatch):
    site = tmp_path / "site"
    _install(site, "rexeval-length-ratio", _example_entry_points())
    _use(site, monkeypatch)
    monkeypatch.delitem(sys.modules, "rexeval_length_ratio", raising=False)
    return site


# -- (a) one target per name -----------------------------------------------------------------------------

def test_register_refuses_a_second_target_under_a_name_and_accepts_the_same_again():
    register("test_twice", "tests.helpers.rl:CountingOverlap")
    register("test_twice", "tests.helpers.rl:CountingOverlap")  # a re-read config: no-op
    with pytest.raises(ConfigError) as err:
        register("test_twice", "tests.helpers.rl:TestErrors")
    assert "tests.helpers.rl:CountingOverlap" in str(err.value) and "tests.helpers.rl:TestErrors" in str(err.value)
    assert registry.REGISTRY["test_twice"] == "tests.helpers.rl:CountingOverlap"
    with pytest.raises(ConfigError, match="rexeval.metrics.bleu:Bleu2"):
        register("bleu", "tests.helpers.rl:CountingOverlap")
    assert lookup("bleu").__name__ == "Bleu2"


def test_reward_config_plugins_go_through_register():
    from rexeval.rewards.config import plan

    config = {"components": [{"metric": "test_overlap"}], "plugins": {"test_overlap": "tests.helpers.rl:CountingOverlap"}}
    plan(config)
    plan(config)  # the same config read twice keeps working
    with pytest.raises(ConfigError, match="already registered"):
        plan({"components": [{"metric": "bleu"}], "plugins": {"bleu": "tests.helpers.rl:CountingOverlap"}})


# -- (b) public lookup -----------------------------------------------------------------------------------

def test_lookup_and_available():
    from rexeval.metrics.rouge import RougeL

    assert lookup("rouge_l") is RougeL
    names = available()
    assert names[:3] == ["bleu", "bleu4", "rouge_l"] and "report_length_ratio" not in names
    with pytest.raises(ConfigError, match="unknown metric 'no_such_metric'"):
        lookup("no_such_metric")
    register("test_not_a_metric", "tests.test_metric_plugin:_example_entry_points")
    with pytest.raises(ConfigError, match="not a rexeval.metrics.Metric subclass"):
        lookup("test_not_a_metric")


# -- (c) entry-point plugins -----------------------------------------------------------------------------

def test_example_plugin_is_registered_lazily_and_not_in_the_default_set(example):
    assert "report_length_ratio" in available()
    assert "rexeval_length_ratio" not in sys.modules  # reading the group imports nothing
    cls = lookup("report_length_ratio")
    assert cls.__module__ == "rexeval_length_ratio" and cls.__name__ == "ReportLengthRatio"
    assert plugin_errors() == {}
    assert "report_length_ratio" not in [m.name for m in registry.resolve_metrics()]
    assert [m.name for m in registry.resolve_metrics(["report_length_ratio"])] == ["report_length_ratio"]


def test_example_plugin_scores_by_hand_counted_lengths(example):
    import pandas as pd

    from rexeval.run.scoring import score

    frame = pd.DataFrame({"study_id": ["a", "b", "c"], "prediction": ["one two", "", "a b c d"],
                          "reference": ["one two three four", "", "x y"]})
    result = score(frame, metrics=["report_length_ratio"], n_resamples=10, progress=False)
    assert result.per_study["report_length_ratio"].tolist() == [0.5, 1.0, 0.5]  # 2/4, both empty, 2/4


@pytest.fixture
def _no_llm_standins():
    return {"url": "http://127.0.0.1:9", "built": []}  # the example needs neither models nor a judge


def test_example_plugin_passes_the_metric_contract(example, _no_llm_standins, monkeypatch):
    name = "report_length_ratio"
    contract.test_declares_direction_range_and_signature(name, _no_llm_standins)
    contract.test_values_in_range_and_batch_invariant(name, _no_llm_standins)
    contract.test_nan_is_a_counted_failure_left_out_of_the_aggregate(name, _no_llm_standins, monkeypatch)


def test_example_plugin_shows_up_in_rexeval_metrics(example):
    res = _cli(example, "metrics", "--json")
    assert res.returncode == 0, res.stderr
    rows = {row["key"]: row for row in json.loads(res.stdout)}
    row = rows["report_length_ratio"]
    assert row["available"] is True and row["default"] is False
    assert row["outputs"] == [{"key": "report_length_ratio", "direction": "higher", "range": ["0", "1"],
                               "aggregate": "mean", "per_study": True}]
    assert rows["bleu"]["available"] is True


def test_plugin_clashing_with_a_builtin_is_refused_and_reported(tmp_path, monkeypatch):
    site = tmp_path / "site"
    _install(site, "clashing-plugin", {"bleu": "rexeval_length_ratio:ReportLengthRatio"})
    _use(site, monkeypatch)
    assert lookup("bleu").__name__ == "Bleu2"
    assert "built-in metric 'bleu'" in plugin_errors()["bleu"] and "clashing-plugin" in plugin_errors()["bleu"]
    res = _cli(site, "metrics", "--json")
    assert res.returncode == 0, res.stderr
    assert [row["key"] for row in json.loads(res.stdout)].count("bleu") == 1
    assert "plugin metric 'bleu' not registered" in res.stderr and "built-in" in res.stderr


def test_broken_plugin_breaks_neither_help_nor_other_metrics(tmp_path, monkeypatch):
    site = tmp_path / "site"
    marker = tmp_path / "imported"
    site.mkdir()
    (site / "broken_metric_pkg.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nraise RuntimeError('plugin bug at import')\n")
    _install(site, "broken-plugin", {"broken_metric": "broken_metric_pkg:Broken"})
    res = _cli(site, "--help")
    assert res.returncode == 0 and "metrics" in res.stdout
    assert not marker.exists(), "rexeval --help imported a plugin"
    res = _cli(site, "metrics", "--json")
    assert res.returncode == 0, res.stderr
    rows = {row["key"]: row for row in json.loads(res.stdout)}
    assert rows["bleu"]["available"] is True
    broken = rows["broken_metric"]
    assert broken["available"] is False
    assert "RuntimeError: plugin bug at import" in broken["reason"] and "broken-plugin" in broken["reason"]
    _use(site, monkeypatch)
    with pytest.raises(ConfigError, match="cannot load 'broken_metric_pkg:Broken'"):
        lookup("broken_metric")
    assert lookup("rouge_l").__name__ == "RougeL"
