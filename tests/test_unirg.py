"""The UniRG recipe: the clinical-error reward falls back from the LLM judge to the offline counter when no
endpoint is configured (and says which ran), and the validation callback's curves are what rexeval.score
gives for the generations of each validation step."""

from __future__ import annotations

import json

import pandas as pd
import pytest

pytest.importorskip("trl")

from tests.helpers.paths import ROOT, shared_path  # noqa: E402

UNIRG = ROOT / "trainers" / "configs" / "unirg_cxr.yaml"
ERRORS = {
    "metric": "errors_llm_total_sig",
    "fallback": "errors_struct_total_sig",
    "name": "clinical_errors",
    "transform": "1/(1+x)",
}


@pytest.fixture
def no_llm_endpoint(monkeypatch):
    from rexeval.backends.llm.config import ENV

    for names in ENV.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)


def test_clinical_errors_use_the_offline_counter_without_an_endpoint(no_llm_endpoint):
    from rexeval.rewards import RewardSuite

    suite = RewardSuite({"components": ["bleu", ERRORS]})
    comp = {c.name: c for c in suite.components}["clinical_errors"]
    assert comp.metric.name == "errors_struct" and comp.column == "errors_struct_total_sig"
    choice = suite.signature()["fallbacks"]["clinical_errors"]
    assert (choice["wanted"], choice["used"]) == ("errors_llm_total_sig", "errors_struct_total_sig")
    assert "endpoint" in choice["reason"]
    # the fallback scores as the counter does on its own: 2 significant errors -> 1/(1+2)
    ref = "No pleural effusion. No pneumothorax."
    cand = "Large right pleural effusion. Small left pneumothorax."
    alone = RewardSuite({"components": [{"metric": "errors_struct_total_sig", "transform": "1/(1+x)"}]})
    expected = alone.component_values("errors_struct_total_sig", ["p"], [cand], {"reference": [ref]})
    got = suite.component_values("clinical_errors", ["p"], [cand], {"reference": [ref]})
    assert got == expected and got[0] is not None and got[0] < 1.0


def test_clinical_errors_use_the_llm_judge_when_an_endpoint_is_configured(no_llm_endpoint, monkeypatch):
    from rexeval.rewards import plan

    # a configured endpoint is enough to choose the judge; planning sends no request
    monkeypatch.setenv("REXEVAL_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("REXEVAL_LLM_MODEL", "judge")
    checked = plan({"components": [ERRORS]})
    assert checked.components[0].metric.name == "errors_llm"
    assert checked.fallbacks["clinical_errors"] == {
        "wanted": "errors_llm_total_sig", "used": "errors_llm_total_sig", "reason": None,
    }


def test_the_unirg_config_reads_and_its_validation_block_is_checked(no_llm_endpoint):
    from rexeval.base.exceptions import ConfigError
    from trainers.config import load_config

    cfg = load_config(UNIRG)  # reward planned in full: metrics, columns, transforms, the fallback
    assert cfg.validation.fallbacks == {"errors_llm": "errors_struct"}
    assert cfg.data.max_prior_images == 1
    with pytest.raises(ConfigError, match="validation.every"):
        load_config(UNIRG, ["validation.every=0"])
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(UNIRG, ["validation.evry=5"])


@pytest.fixture
def bertscore_standin(tmp_path, monkeypatch):
    """A random-weight distilroberta-base (`rexeval models random`'s builder) for BERTScore."""
    shared_path("tokenizers", "roberta-base", "vocab.json")
    from rexeval.backends.standins import build

    hub = tmp_path / "hub"
    build("distilroberta-base", hub, size="small")
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("REXEVAL_DISTILROBERTA_DIR", raising=False)


@pytest.mark.slow
def test_validation_curves_are_rexeval_scores_of_each_steps_generations(
    tmp_path, monkeypatch, no_llm_endpoint, bertscore_standin
):
    import rexeval
    from trainers.config import load_config
    from trainers.data import load_records
    from trainers.generate import generate, load_for_generation
    from trainers.grpo import train_rl
    from trainers.tiny import FALLBACK_REPORTS, build_tiny_text_model

    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    policy = build_tiny_text_model(tmp_path / "policy", FALLBACK_REPORTS, hidden=32, layers=1)
    held_out = tmp_path / "val.jsonl"  # not the training studies
    held_out.write_text("\n".join(json.dumps({"study_id": f"v{i}", "findings": FALLBACK_REPORTS[i]})
                                  for i in (6, 7, 8)))
    metrics = ["bleu", "rouge_l", "bertscore", "errors_llm"]
    run = tmp_path / "run"
    cfg = load_config(ROOT / "trainers" / "configs" / "cpu_smoke.yaml", [
        f"model.name_or_path={policy}", f"output_dir={run}",
        "grpo.max_steps=2", "grpo.max_completion_length=6", "grpo.save_strategy='no'",
        "eval_samples=0", "reward_check=0",
        f"validation={{data: {held_out}, every: 1, metrics: {metrics}, "
        "fallbacks: {errors_llm: errors_struct}, max_new_tokens: 6}",
    ])
    train_rl(cfg)

    folder = run / "validation"
    curves = pd.read_csv(folder / "curves.csv")
    assert curves["step"].tolist() == [0, 1, 2]  # before step 1, then every step
    assert curves["bertscore"].notna().all() and (curves["bertscore"] != 0).all()
    assert (folder / "curves.png").stat().st_size > 0
    ran = json.loads((folder / "metrics.json").read_text())
    assert ran["fallbacks"]["errors_llm"]["used"] == "errors_struct"
    scored = ["bleu", "rouge_l", "bertscore", "errors_struct_total", "errors_struct_total_sig"]
    for step in (0, 1, 2):
        texts = pd.read_csv(folder / f"step_{step:06d}" / "texts.csv", dtype=str, keep_default_na=False)
        assert texts["study_id"].tolist() == ["v6", "v7", "v8"]
        fresh = rexeval.score(predictions=texts["prediction"].tolist(), references=texts["reference"].tolist(),
                              study_ids=texts["study_id"].tolist(), metrics=["bleu", "rouge_l", "bertscore",
                                                                             "errors_struct"],
                              n_resamples=0, progress=False)
        row = curves.set_index("step").loc[step]
        for key in scored:
            assert row[key] == pytest.approx(fresh.value(key), rel=1e-9, abs=1e-12), (step, key)
    # the last point's generations are the trained policy's own greedy reports
    model, processor, vlm = load_for_generation(str(run))
    again = generate(model, processor, load_records(cfg.data, path=str(held_out)), cfg.data, vlm,
                     max_new_tokens=6)
    last = pd.read_csv(folder / "step_000002" / "texts.csv", dtype=str, keep_default_na=False)
    assert [" ".join(t.split()) for t in again] == last["prediction"].tolist()
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["validation"] == str(folder / "curves.csv")
