"""The executor protocol and its one failure policy (rexeval.engines): a metric that raises on a study
gives NaN and a recorded reason, in scoring (summary.json) and in the reward engine (RewardResult), and
the local and Ray executors report a failure in the same shape."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from rexeval.base.align import load_pairs
from rexeval.base.exceptions import ConfigError, RexevalError
from rexeval.engines.base import Executor, Failure
from rexeval.engines.local import LocalExecutor
from rexeval.metrics.base import Batch
from rexeval.metrics.bleu import Bleu2, sentence_bleu
from rexeval.rewards import RewardSuite
from rexeval.run.scoring import score_pairs
from tests.helpers.ray_doubles import BleuFailingOn

PREDS = ["The heart is normal.", "Small left effusion.", "No acute findings.", "Mild cardiomegaly.",
         "The lungs are clear."]
REFS = ["The heart is normal in size.", "Small left pleural effusion.", "No acute cardiopulmonary process.",
        "Mild cardiomegaly, no effusion.", "Lungs are clear bilaterally."]
IDS = ["s0", "s1", "s2", "s3", "s4"]


def _pairs(tmp_path):
    preds = pd.DataFrame({"study_id": IDS, "prediction": PREDS, "reference": REFS})
    return load_pairs(preds, None)


class BleuRaisingConfig(Bleu2):
    """A metric whose failure is about the run (a bad option found late), not about a study."""

    def compute(self, batch):
        raise ConfigError("bleu: this option cannot work")

    def compute_with_references(self, batch, states):
        raise ConfigError("bleu: this option cannot work")


def test_local_executor_is_an_executor_and_fails_only_the_raising_study():
    executor = LocalExecutor()
    assert isinstance(executor, Executor)
    batch = Batch(IDS, PREDS, REFS)
    got = executor.run(BleuFailingOn("s2"), batch)
    assert got.failures == [Failure("bleu", 2, "s2", "ValueError: injected failure on s2")]
    assert np.isnan(got.columns["bleu"][2])
    others = [0, 1, 3, 4]
    assert got.columns["bleu"][others].tolist() == [sentence_bleu(PREDS[i], REFS[i]) for i in others]


def test_local_executor_lets_errors_about_the_run_through():
    with pytest.raises(ConfigError, match="cannot work"):
        LocalExecutor().run(BleuRaisingConfig(), Batch(IDS, PREDS, REFS))


def test_scoring_records_a_failed_study_with_its_reason_and_counts_it(tmp_path):
    result = score_pairs(_pairs(tmp_path), [BleuFailingOn("s3")], n_resamples=0, progress=False)
    column = result.per_study.set_index("study_id")["bleu"]
    assert np.isnan(column["s3"])
    entry = result.summary["metrics"]["bleu"]
    assert entry["n_failed"] == 1 and entry["n"] == 4
    ok = [i for i in range(5) if i != 3]
    assert entry["value"] == pytest.approx(np.mean([sentence_bleu(PREDS[i], REFS[i]) for i in ok]), abs=1e-15)
    assert result.summary["metric_runs"]["bleu"]["engine"] == {
        "name": "local", "n_failed_studies": 1,
        "failed_studies": [{"study_id": "s3", "reason": "ValueError: injected failure on s3"}],
    }


def test_scoring_without_failures_has_no_engine_entry(tmp_path):
    result = score_pairs(_pairs(tmp_path), [Bleu2()], n_resamples=0, progress=False)
    assert "metric_runs" not in result.summary


def test_scoring_stops_when_a_metric_fails_on_every_study(tmp_path):
    pairs = load_pairs(pd.DataFrame({"study_id": ["only"], "prediction": ["x"], "reference": ["y"]}), None)
    with pytest.raises(RexevalError, match="failed on every study.*injected failure on only"):
        score_pairs(pairs, [BleuFailingOn("only")], n_resamples=0, progress=False)


def _failing_suite(fail_id, executor=None):
    return RewardSuite({"components": [{"metric": "bleu_fail", "output": "bleu", "name": "bleu_f"},
                                       {"metric": "rouge_l", "weight": 2.0}],
                        "plugins": {"bleu_fail": f"{__name__}:FailOn{fail_id.upper()}"}}, executor=executor)


class FailOnS1(BleuFailingOn):
    """BLEU-2 raising on study s1, also through the reference-side path the reward engine takes."""

    name = "bleu_fail"

    def __init__(self):
        super().__init__("s1")

    def compute_with_references(self, batch, states):
        if self.fail_id in batch.study_ids:
            raise ValueError(f"injected failure on {self.fail_id}")
        return super().compute_with_references(batch, states)


def test_reward_engine_reports_a_raising_metric_as_a_failure_with_its_reason(caplog):
    suite = _failing_suite("s1")
    extra_logs: dict[str, list] = {}
    with caplog.at_level(logging.WARNING, logger="rexeval.rewards.trl_adapter"):
        result = suite.score(PREDS, REFS, study_id=IDS, log_extra=extra_logs.__setitem__)
    bleu, rouge = result.components["bleu_f"], result.components["rouge_l"]
    assert np.isnan(bleu.raw[1]) and np.isnan(bleu.value[1])
    assert result.failed("bleu_f") == {1: "ValueError: injected failure on s1"}
    assert result.failed("rouge_l") == {}
    # the sample's reward is what the components that scored give (nansum), not a 0 for the failed one
    assert result.rewards[1] == pytest.approx(2.0 * rouge.value[1])
    assert result.rewards[0] == pytest.approx(bleu.value[0] + 2.0 * rouge.value[0])
    assert bleu.raw[0] == sentence_bleu(PREDS[0], REFS[0])
    assert suite.failures == {"bleu_f": 1, "rouge_l": 0}
    assert [f.reason for f in suite.recent_failures] == ["ValueError: injected failure on s1"]
    assert extra_logs["failed/bleu_f"] == ["", "ValueError: injected failure on s1", "", "", ""]
    assert "bleu_f: 1 of 5 samples failed" in caplog.text and "injected failure on s1" in caplog.text


def test_reward_is_none_when_every_component_failed_and_failures_are_retried():
    suite = RewardSuite({"components": [{"metric": "bleu_fail", "output": "bleu"}],
                         "plugins": {"bleu_fail": f"{__name__}:FailOnS1"}})
    first = suite.score(PREDS, REFS, study_id=IDS)
    assert first.rewards[1] is None and all(r is not None for i, r in enumerate(first.rewards) if i != 1)
    assert [(f.component, f.sample) for f in first.failures] == [("bleu_fail", 1)]
    # the next step: the pair that scored comes from the cache, the failed one is scored (and fails) again
    again = suite.score(PREDS[:2], REFS[:2], study_id=IDS[:2])
    assert suite.pairs_scored == {"bleu_fail": 6}
    assert [(f.sample, f.reason) for f in again.failures] == [(1, "ValueError: injected failure on s1")]
    assert again.rewards[0] == first.rewards[0]


def test_duplicates_of_a_failed_pair_fail_with_it():
    suite = RewardSuite({"components": [{"metric": "bleu_fail", "output": "bleu"}],
                         "plugins": {"bleu_fail": f"{__name__}:FailOnS1"}})
    result = suite.score([PREDS[1], PREDS[0], PREDS[1]], [REFS[1], REFS[0], REFS[1]], study_id=["s1", "s0", "s1"])
    assert suite.pairs_scored == {"bleu_fail": 2}  # the duplicate pair is scored once
    assert sorted(result.failed("bleu_fail")) == [0, 2]
    assert result.rewards[0] is None and result.rewards[2] is None and result.rewards[1] is not None


def test_reward_engine_lets_errors_about_the_run_through():
    suite = RewardSuite({"components": [{"metric": "bleu_cfg", "output": "bleu"}],
                         "plugins": {"bleu_cfg": f"{__name__}:BleuRaisingConfig"}})
    with pytest.raises(ConfigError, match="cannot work"):
        suite.score(PREDS, REFS)


@pytest.mark.slow
@pytest.mark.ray
def test_local_and_ray_record_a_failure_in_the_same_shape_in_runs_and_rewards(tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    from rexeval.engines.ray import RayEngine, RayOptions

    monkeypatch.setenv("RAY_worker_niceness", "0")
    monkeypatch.setenv("REXEVAL_CACHE", "off")
    pairs = _pairs(tmp_path)
    local = score_pairs(pairs, [BleuFailingOn("s2")], n_resamples=0, progress=False)
    started_here = not ray.is_initialized()
    options = RayOptions(workers=2, batch_size=2, ship_sys_path=True, num_cpus=2, max_retries=0)
    try:
        with RayEngine(options) as engine:
            remote = score_pairs(pairs, [BleuFailingOn("s2")], n_resamples=0, progress=False, engine=engine)
            with pytest.raises(ConfigError, match="cannot work"):  # about the run: stops it, as locally
                score_pairs(pairs, [BleuRaisingConfig()], n_resamples=0, progress=False, engine=engine)
            on_ray = _failing_suite("s1", executor=engine).score(PREDS, REFS, study_id=IDS)
    finally:
        if started_here and ray.is_initialized():
            ray.shutdown()
    here = _failing_suite("s1").score(PREDS, REFS, study_id=IDS)
    assert on_ray.rewards == here.rewards and on_ray.failures == here.failures
    pd.testing.assert_frame_equal(remote.per_study, local.per_study, check_exact=True)
    local_entry = local.summary["metric_runs"]["bleu"]["engine"]
    remote_entry = remote.summary["metric_runs"]["bleu"]["engine"]
    assert (local_entry["name"], remote_entry["name"]) == ("local", "ray")
    assert remote_entry["n_failed_studies"] == local_entry["n_failed_studies"] == 1
    (lf,), (rf,) = local_entry["failed_studies"], remote_entry["failed_studies"]
    assert lf["study_id"] == rf["study_id"] == "s2"
    assert "injected failure on s2" in lf["reason"] and "injected failure on s2" in rf["reason"]
    assert engine.failures["bleu"][0].row == 2


@pytest.mark.parametrize("dedupe", [True, False])
def test_failure_positions_with_and_without_dedupe(dedupe):
    suite = RewardSuite({"components": [{"metric": "bleu_fail", "output": "bleu"}], "dedupe": dedupe,
                         "plugins": {"bleu_fail": f"{__name__}:FailOnS1"}})
    ids = ["s0", "s1", "s2", "s1"]
    result = suite.score([PREDS[0], PREDS[1], PREDS[2], PREDS[1]], [REFS[0], REFS[1], REFS[2], REFS[1]],
                         study_id=ids)
    assert result.failed("bleu_fail") == {1: "ValueError: injected failure on s1",
                                          3: "ValueError: injected failure on s1"}
    assert [r is None for r in result.rewards] == [False, True, False, True]


def test_cli_warns_with_the_first_reason_and_writes_the_failure(tmp_path):
    from typer.testing import CliRunner

    from rexeval.cli import app
    from rexeval.metrics import register

    register("bleu_fail", f"{__name__}:FailOnS1")
    preds = tmp_path / "p.csv"
    pd.DataFrame({"study_id": IDS, "prediction": PREDS, "reference": REFS}).to_csv(preds, index=False)
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["score", str(preds), "-m", "bleu_fail", "--no-progress", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "bleu_fail: 1 studies failed (local engine)" in r.output
    assert "s1: ValueError: injected failure on s1" in r.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metric_runs"]["bleu_fail"]["engine"]["failed_studies"] == [
        {"study_id": "s1", "reason": "ValueError: injected failure on s1"}]
