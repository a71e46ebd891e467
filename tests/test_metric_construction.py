"""``get_metric`` calls only a signature mismatch "bad options", and loading a model changes nothing
process-wide (no Hub offline flags in ``os.environ``: the loaders pass ``local_files_only`` instead)."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from rexeval.base.exceptions import ConfigError
from rexeval.metrics import REGISTRY, Metric, Output, get_metric, mean_of

HUB_FLAGS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


class BrokenInside(Metric):
    """A metric whose constructor fails with a TypeError of its own (a bug, not a bad option)."""

    name = "broken_inside"

    def __init__(self, size: int = 3) -> None:
        self.size = len(size)  # TypeError: object of type 'int' has no len()

    def outputs(self):
        return [Output("broken_inside", True, (0.0, 1.0), mean_of("broken_inside"))]

    def compute(self, batch):
        raise AssertionError


@pytest.fixture
def broken(monkeypatch):
    monkeypatch.setitem(REGISTRY, "broken_inside", f"{__name__}:BrokenInside")


def test_a_type_error_inside_the_constructor_is_not_reported_as_bad_options(broken):
    with pytest.raises(TypeError, match="has no len") as info:
        get_metric("broken_inside")
    assert not isinstance(info.value, ConfigError)


def test_an_unknown_option_is_bad_options(broken):
    with pytest.raises(ConfigError, match="bad options for metric 'broken_inside'.*colour"):
        get_metric("broken_inside", colour="red")
    with pytest.raises(ConfigError, match="bad options for metric 'bleu'"):
        get_metric("bleu", nonsense=1)
    # metrics that forward **options to the shared CheXbert settings check them too
    for name in ("semb_score", "chexbert_f1"):
        with pytest.raises(ConfigError, match=f"bad options for metric '{name}'.*batchsize"):
            get_metric(name, batchsize=8)


def test_loading_a_model_sets_no_process_wide_hub_flags(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from rexeval.run.scoring import score
    from tests.helpers.rate_models import build_all

    build_all(tmp_path / "hub")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("REXEVAL_CACHE", "off")
    for var in (*HUB_FLAGS, "REXEVAL_RATE_NER", "REXEVAL_BIOLORD"):
        monkeypatch.delenv(var, raising=False)
    pairs = pd.DataFrame({"study_id": ["a", "b"], "prediction": ["mild cardiomegaly", "no pleural effusion"],
                          "reference": ["the heart size is normal", "small left pleural effusion"]})
    res = score(pairs, metrics=["ratescore"], metric_options={"ratescore": {"device": "cpu"}}, n_resamples=0,
                progress=False)
    assert res.summary["metrics"]["ratescore"]["n"] == 2  # the models loaded from the local snapshots
    changed = [v for v in HUB_FLAGS if v in os.environ]
    assert not changed, f"loading a model set {changed} for the whole process"
