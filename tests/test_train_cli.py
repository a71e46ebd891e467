"""GRPO / SFT / generate through the CLI on tiny models built here (CPU, no downloads)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("peft")

from tests.helpers.paths import ROOT  # noqa: E402

TESTS = Path(__file__).resolve().parent


class _Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_cli(args, env, cwd, check=True):
    """Run the rexeval CLI in-process (typer's CliRunner): TRL is imported once per session, not per call."""
    from typer.testing import CliRunner

    from rexeval.cli import app

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    try:
        res = CliRunner().invoke(app, [str(a) for a in args])
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    out = _Result(res.exit_code, res.stdout, getattr(res, "stderr", "") or res.output)
    if check and res.exit_code != 0:
        import traceback

        tb = "".join(traceback.format_exception(res.exception)) if res.exception else ""
        raise AssertionError(
            f"rexeval {' '.join(map(str, args))} failed ({res.exit_code}):\n{res.output[-4000:]}\n{tb[-4000:]}"
        )
    return out


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from tests.helpers.rl import build_tiny_encoder
    from trainers.tiny import FALLBACK_REPORTS, build_tiny_text_model

    tmp = tmp_path_factory.mktemp("rl")
    policy = build_tiny_text_model(tmp / "policy", FALLBACK_REPORTS, hidden=32, layers=1)
    encoder = build_tiny_encoder(tmp / "encoder", FALLBACK_REPORTS)
    env = {
        "REXEVAL_CACHE": str(tmp / "cache"),
        "REXEVAL_TEST_ENCODER": encoder,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    return {"tmp": tmp, "policy": policy, "env": env}


def _config(tmp: Path, policy: Path) -> Path:
    import yaml

    from rexeval.metrics import REGISTRY

    components = [
        {"metric": "bleu", "weight": 1.0},
        {"metric": "test_missing", "transform": "1/(1+x)", "weight": 0.5, "name": "errors"},
        {"metric": "test_embed", "weight": 0.5, "normalize": "group"},
    ]
    if "errors_struct" in REGISTRY:  # the structured error counter, once merged
        components.append({"metric": "errors_struct", "transform": "1/(1+x)", "weight": 0.5})
    cfg = yaml.safe_load((ROOT / "trainers" / "configs" / "cpu_smoke.yaml").read_text())
    cfg["model"]["name_or_path"] = str(policy)
    cfg["data"]["path"] = str(ROOT / "trainers" / "configs" / "smoke_data.jsonl")
    cfg["reward"] = {
        "components": components,
        "plugins": {
            "test_errors": "tests.helpers.rl:TestErrors",
            "test_embed": "tests.helpers.rl:TinyEmbedSim",
        },
    }
    cfg["grpo"].update(max_steps=2, save_steps=1, max_completion_length=8)
    cfg["eval_samples"] = 2
    cfg["output_dir"] = str(tmp / "run")
    path = tmp / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow
def test_grpo_checkpoint_resume_generate_score(workspace):
    tmp, env = workspace["tmp"], workspace["env"]
    cfg = _config(tmp, workspace["policy"])
    run_cli(["train-rl", "--config", str(cfg)], env, ROOT)
    run = tmp / "run"
    assert (run / "checkpoint-1").is_dir() and (run / "checkpoint-2").is_dir()
    curves = (run / "reward_curves.csv").read_text().splitlines()
    header = curves[0].split(",")
    for name in ("bleu", "errors", "test_embed"):  # one curve per component
        assert f"rewards/{name}/mean" in header
    assert len(curves) == 3  # two logged steps
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["reward_failures"] == {"bleu": 0, "errors": 0, "test_embed": 0} | (
        {"errors_struct": 0} if "errors_struct" in summary["reward_failures"] else {}
    )
    assert set(summary["eval"]) == {"greedy", "sampled"}
    assert "repeated_3gram_share" in summary["eval"]["sampled"]["stats"]
    signals = summary["eval"]["greedy"]["reference_hack_signals"]
    assert signals["hedged_share"] < 0.5 and "laterality_share" in summary["eval"]["greedy"]["hack_signals"]
    assert summary["reward_check"]["n_references"] == 10  # the pre-check saw every smoke study

    # resume from the last checkpoint and train one more step
    run_cli(["train-rl", "--config", str(cfg), "grpo.max_steps=3", "resume=true"], env, ROOT)
    state = json.loads((run / "checkpoint-3" / "trainer_state.json").read_text())
    assert state["global_step"] == 3
    assert [h["step"] for h in state["log_history"] if "reward" in h] == [1, 2, 3]

    data = ROOT / "trainers" / "configs" / "smoke_data.jsonl"
    for decoding in ("greedy", "sampled"):
        preds = tmp / f"preds_{decoding}.csv"
        run_cli(
            [
                "generate",
                "--model",
                str(run),
                "--data",
                str(data),
                "-o",
                str(preds),
                "--decoding",
                decoding,
                "--max-new-tokens",
                "12",
                "--config",
                str(cfg),
            ],
            env,
            ROOT,
        )
        meta = json.loads(Path(str(preds) + ".meta.json").read_text())
        assert meta["decoding"] == decoding and "repeated_3gram_share" in meta["generation_stats"]
        out = tmp / f"score_{decoding}"
        run_cli(
            [
                "score",
                str(preds),
                "--refs",
                str(data),
                "--track",
                "findings",
                "-m",
                "bleu,rouge_l",
                "--bootstrap",
                "0",
                "-o",
                str(out),
            ],
            env,
            ROOT,
        )
        result = json.loads((out / "summary.json").read_text())
        assert result["n_studies"] == 10 and "bleu" in result["metrics"]


def test_bad_override_is_one_line_exit_2(workspace):
    tmp, env = workspace["tmp"], workspace["env"]
    cfg = _config(tmp, workspace["policy"])
    proc = run_cli(
        ["train-rl", "--config", str(cfg), "grpo.no_such_option=1", f"output_dir={tmp / 'fresh'}"],
        env, ROOT, check=False,
    )
    assert (
        proc.returncode == 2 and "no_such_option" in proc.stderr and "Traceback" not in proc.stderr
    )
    proc = run_cli(
        ["train-rl", "--config", str(cfg), "reward.components=[{metric: nope}]", f"output_dir={tmp / 'fresh'}"],
        env,
        ROOT,
        check=False,
    )
    assert proc.returncode == 2 and "nope" in proc.stderr


@pytest.mark.slow
def test_sft_warm_start_then_generate(workspace):
    tmp, env = workspace["tmp"], workspace["env"]
    cfg = _config(tmp, workspace["policy"])
    out = tmp / "sft"
    proc = run_cli(
        [
            "train-sft",
            "--config",
            str(cfg),
            f"output_dir={out}",
            "sft.max_steps=3",
            "sft.per_device_train_batch_size=4",
            "sft.learning_rate=1e-3",
            "sft.use_cpu=true",
            "lora={r: 4, alpha: 8, dropout: 0.0}",
        ],
        env,
        ROOT,
    )
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["loss_first"] is not None
    assert (out / "adapter_config.json").exists()  # LoRA adapter saved
    preds = tmp / "sft_preds.jsonl"
    run_cli(
        [
            "generate",
            "--model",
            str(out),
            "--data",
            str(ROOT / "trainers" / "configs" / "smoke_data.jsonl"),
            "-o",
            str(preds),
            "--max-new-tokens",
            "6",
            "--limit",
            "3",
        ],
        env,
        ROOT,
    )
    assert len(preds.read_text().splitlines()) == 3


@pytest.mark.slow
def test_smoke_config_runs_as_shipped_on_the_tiny_policy(workspace, tmp_path):
    """The README's first training command: no model to name; rexeval builds its tiny policy once,
    says so, caches it and reuses it."""
    env = {**workspace["env"], "REXEVAL_CACHE": str(tmp_path / "cache")}
    run = tmp_path / "run"
    args = ["train-rl", "--config", "trainers/configs/cpu_smoke.yaml"]
    # shorter than the shipped 4 steps and 4 guard samples, to keep the suite fast
    proc = run_cli([*args, f"output_dir={run}", "grpo.max_steps=1", "eval_samples=1"], env, ROOT)
    said = proc.stderr
    built = tmp_path / "cache" / "policies" / "tiny-v1"
    assert "rexeval:tiny" in said and "building it once" in said and str(built) in said
    assert (built / "config.json").is_file() and (built / "tokenizer.json").is_file()
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["steps"] == 1 and summary["reward_failures"] == {"bleu": 0, "rouge_l": 0}
    saved = (run / "rexeval_train_config.yaml").read_text()  # train-rl saves the prompt settings too
    assert "prior_column: prior_report" in saved
    from trainers.tiny import tiny_policy

    messages = []
    os.environ["REXEVAL_CACHE"] = env["REXEVAL_CACHE"]
    try:
        assert tiny_policy("rexeval:tiny", say=messages.append) == built
    finally:
        os.environ.pop("REXEVAL_CACHE")
    assert "cached at" in messages[0]


def test_sft_runs_on_cpu_with_the_smoke_config_as_shipped(workspace, tmp_path):
    """`rexeval train-sft --config trainers/configs/cpu_smoke.yaml` on a CPU-only machine: the grpo block's
    use_cpu / bf16 reach SFTConfig (without them TRL stops with "doesn't support bf16/gpu")."""
    env = {**workspace["env"], "REXEVAL_CACHE": str(tmp_path / "cache")}
    run = tmp_path / "run"
    args = ["train-sft", "--config", "trainers/configs/cpu_smoke.yaml", f"output_dir={run}"]
    proc = run_cli([*args, "sft.max_steps=2"], env, ROOT)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["loss_first"] is not None and (run / "model.safetensors").is_file()
    state = json.loads((run / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2


def test_sft_args_take_device_choices_from_grpo_unless_sft_sets_them(workspace):
    from trainers.config import load_config
    from trainers.sft import sft_args

    smoke = ROOT / "trainers" / "configs" / "cpu_smoke.yaml"
    args = sft_args(load_config(smoke, check_reward=False))
    assert args["use_cpu"] is True and args["bf16"] is False
    args = sft_args(load_config(smoke, ["sft.use_cpu=false"], check_reward=False))
    assert args["use_cpu"] is False


def _record_system_prompts(monkeypatch):
    """The system prompts of the chat messages `rexeval generate` builds."""
    from trainers import generate as gen

    seen = []

    def recording(record, cfg, vlm):
        msgs = gen_messages(record, cfg, vlm)
        seen.append(next((m["content"] for m in msgs if m["role"] == "system"), None))
        return msgs

    gen_messages = gen.messages
    monkeypatch.setattr(gen, "messages", recording)
    return seen


def test_generate_prompts_as_the_policy_was_trained_without_config(workspace, tmp_path, monkeypatch):
    tmp, env = workspace["tmp"], workspace["env"]
    cfg = _config(tmp, workspace["policy"])
    run = tmp_path / "sft"
    trained_prompt = "You are a careful chest radiologist, test prompt 7."
    run_cli(["train-sft", "--config", cfg, f"output_dir={run}", "sft.max_steps=1",
             "sft.per_device_train_batch_size=2", f"data.system_prompt={trained_prompt}"], env, ROOT)
    assert (run / "rexeval_train_config.yaml").is_file()
    data = ROOT / "trainers" / "configs" / "smoke_data.jsonl"
    gen = ["generate", "--data", data, "--max-new-tokens", "2", "--limit", "2"]

    seen = _record_system_prompts(monkeypatch)
    preds = tmp_path / "preds.jsonl"
    run_cli([*gen, "--model", run, "-o", preds], env, ROOT)
    meta = json.loads(Path(f"{preds}.meta.json").read_text())
    assert seen == [trained_prompt, trained_prompt]
    assert meta["prompt"]["system_prompt"] == trained_prompt
    assert meta["prompt"]["source"] == str(run / "rexeval_train_config.yaml")
    assert meta["prompt"]["prior_column"] == "prior_report"  # from cpu_smoke.yaml's data block

    seen.clear()  # an intermediate checkpoint finds the run folder's settings
    run_cli([*gen, "--model", run / "checkpoint-1", "-o", preds], env, ROOT)
    assert seen == [trained_prompt, trained_prompt]

    seen.clear()  # an explicit --config wins (cpu_smoke.yaml's system prompt is empty: no system turn)
    smoke = ROOT / "trainers" / "configs" / "cpu_smoke.yaml"
    run_cli([*gen, "--model", run, "-o", preds, "--config", smoke], env, ROOT)
    meta = json.loads(Path(f"{preds}.meta.json").read_text())
    assert seen == [None, None]
    assert meta["prompt"]["source"] == f"--config {smoke}" and meta["prompt"]["system_prompt"] == ""


def test_reward_precheck_strict_reward_exits_2_before_the_policy_loads(workspace, tmp_path):
    """BLEU + ROUGE-L (the smoke config's reward) pay for dropped sides: --strict-reward stops the run."""
    env = {**workspace["env"], "REXEVAL_CACHE": str(tmp_path / "cache")}
    run = tmp_path / "run"
    args = ["train-rl", "--config", "trainers/configs/cpu_smoke.yaml", "--strict-reward"]
    proc = run_cli([*args, f"output_dir={run}"], env, ROOT, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "pays for" in proc.stderr and "drop_laterality" in proc.stderr
    assert not (tmp_path / "cache" / "policies").exists() and not run.exists()  # stopped before step 1


def test_reward_precheck_warns_with_the_hacks_that_win(capsys):
    from rexeval.rewards import RewardSuite
    from trainers.config import load_config
    from trainers.data import load_records
    from trainers.grpo import reward_precheck

    cfg = load_config(ROOT / "trainers" / "configs" / "cpu_smoke.yaml",
                      [f"data.path={ROOT / 'trainers' / 'configs' / 'smoke_data.jsonl'}"])
    suite = RewardSuite(cfg.reward)
    got = reward_precheck(cfg, suite, load_records(cfg.data))
    assert suite.pairs_scored == {"bleu": 0, "rouge_l": 0}  # the probe is not counted as training
    err = capsys.readouterr().err
    assert err.startswith("warning: reward-check: the reward pays for")
    assert "drop_laterality" in got["paid_for"] and "drop_laterality: PAID FOR" in err
    cfg.reward_check = 0
    assert reward_precheck(cfg, suite, load_records(cfg.data), strict=True) is None  # switched off


# -- issue 21 item 4: bad weights and values fail when the config is read; a user's folder is never overwritten

def _one_line(proc) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _refused_before_loading(workspace, overrides, monkeypatch, *options):
    """train-rl with ``overrides`` exits 2 with one line, and neither the policy nor the rewards loaded."""
    import trainers.grpo as grpo

    def never(*a, **k):
        raise AssertionError("train_rl ran: the config was not refused when read")

    monkeypatch.setattr(grpo, "train_rl", never)
    cfg = _config(workspace["tmp"], workspace["policy"])
    return _one_line(run_cli(["train-rl", "--config", cfg, *options, *overrides], workspace["env"], ROOT, check=False))


@pytest.mark.parametrize("weight", [".nan", ".inf", "-.inf", "1e308", "nan", "true"])
def test_reward_weights_must_be_finite_and_bounded(workspace, monkeypatch, tmp_path, weight):
    line = _refused_before_loading(
        workspace, [f"reward.components=[{{metric: bleu, weight: {weight}}}]", f"output_dir={tmp_path / 'run'}"],
        monkeypatch)
    assert "weight" in line and "bleu" in line, line
    if weight == "1e308":
        assert "at most 1e+06" in line and "float32" in line, line


def test_a_non_empty_output_dir_is_refused_and_kept(workspace, monkeypatch, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "README.md").write_text("my notes\n")
    (out / "config.json").write_text('{"mine": true}\n')
    for extra in ([], ["resume=true"]):  # resume needs a checkpoint of an earlier run there
        line = _refused_before_loading(workspace, [f"output_dir={out}", *extra], monkeypatch)
        assert "output_dir" in line and "--overwrite" in line, line
    assert (out / "README.md").read_text() == "my notes\n" and (out / "config.json").read_text() == '{"mine": true}\n'


def test_resume_into_the_runs_own_folder_and_overwrite_are_allowed(workspace, tmp_path):
    from trainers.config import check_output_dir, load_config

    out = tmp_path / "run"
    (out / "checkpoint-2").mkdir(parents=True)
    (out / "checkpoint-2" / "trainer_state.json").write_text("{}")
    cfg = _config(workspace["tmp"], workspace["policy"])
    check_output_dir(load_config(cfg, [f"output_dir={out}", "resume=true"]))  # this run's own folder
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "README.md").write_text("x")
    check_output_dir(load_config(cfg, [f"output_dir={tmp_path / 'mine'}"]), overwrite=True)


@pytest.mark.parametrize("override,expected", [
    ("model.name_or_path=/etc", "no model"),
    ("model.name_or_path=/no/such/folder", "no such folder"),
    ("grpo.max_steps=abc", "grpo.max_steps = 'abc': expected a whole number"),
    ("grpo.learning_rate=fast", "grpo.learning_rate"),
    ("grpo.learning_rate=.nan", "grpo.learning_rate"),
    ("seed=abc", "seed must be a whole number"),
])
def test_bad_values_are_one_line_before_anything_loads(workspace, monkeypatch, tmp_path, override, expected):
    line = _refused_before_loading(workspace, [override, f"output_dir={tmp_path / 'run'}"], monkeypatch)
    assert expected in line, line
