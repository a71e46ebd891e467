"""trainers: config overrides, data loading (ReXrank JSON, images, prior report), a tiny VLM GRPO run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rexeval.base.exceptions import ConfigError, InputError

pytest.importorskip("trl")

ROOT = Path(__file__).resolve().parents[1]


def test_config_overrides_and_errors(tmp_path):
    from trainers.config import load_config

    p = tmp_path / "c.yaml"
    p.write_text("model: {name_or_path: m}\ndata: {path: d.json}\ngrpo: {max_steps: 5}\n")
    cfg = load_config(
        p, ["grpo.max_steps=7", "lora.r=8", "data.prior_column=prior", "reward.components=[bleu]"]
    )
    assert cfg.grpo["max_steps"] == 7 and cfg.data.prior_column == "prior"
    assert cfg.model.use_peft and cfg.model.lora_r == 8
    assert cfg.reward == {"components": ["bleu"]}
    with pytest.raises(ConfigError, match="nonsense"):
        load_config(p, ["model.nonsense=1"])
    with pytest.raises(ConfigError, match="nonsense"):
        load_config(p, ["lora.nonsense=1"])
    with pytest.raises(ConfigError, match="key=value"):
        load_config(p, ["grpo.max_steps"])


def test_model_and_lora_blocks_are_trls_model_config():
    """The shipped configs' nested model/lora blocks land in TRL's ModelConfig, and the LoRA adapter is
    TRL's mapping of it (trl.get_peft_config), not a hand-written copy."""
    from peft import LoraConfig
    from trl import ModelConfig, get_peft_config

    from trainers.config import load_config

    gpu = load_config(ROOT / "trainers" / "configs" / "gpu_qwen25vl_grpo.yaml", check_reward=False)
    assert isinstance(gpu.model, ModelConfig)
    m = gpu.model
    assert (m.model_name_or_path, m.dtype, m.attn_implementation) == (
        "Qwen/Qwen2.5-VL-3B-Instruct",
        "bfloat16",
        "sdpa",
    )
    assert (m.use_peft, m.lora_r, m.lora_alpha, m.lora_dropout) == (True, 64, 128, 0.05)
    peft = get_peft_config(m)
    assert isinstance(peft, LoraConfig) and peft.r == 64 and peft.lora_alpha == 128
    assert peft.target_modules == "all-linear"
    smoke = load_config(ROOT / "trainers" / "configs" / "cpu_smoke.yaml", ["model.revision=v2"])
    assert smoke.model.model_revision == "v2" and smoke.model.dtype == "float32"
    assert not smoke.model.use_peft and get_peft_config(smoke.model) is None
    # any other ModelConfig field is accepted by its own name; rexeval's kind sits beside it
    cfg = load_config(
        ROOT / "trainers" / "configs" / "cpu_smoke.yaml",
        ["model.use_rslora=true", "model.kind=text", "lora={r: 4, modules_to_save: [lm_head]}"],
    )
    assert cfg.model.use_rslora and cfg.policy.kind == "text"
    assert cfg.model.lora_r == 4 and cfg.model.lora_modules_to_save == ["lm_head"]


_BAD_CONFIGS = """
import json, sys
from rexeval.cli import app
cases = json.loads(sys.argv[1])
out = []
for args in cases:
    try:
        app(["train-rl", "--config", "trainers/configs/cpu_smoke.yaml", *args], standalone_mode=True)
    except SystemExit as exc:
        out.append({"code": exc.code, "torch": "torch" in sys.modules,
                    "trl": sorted(m for m in sys.modules if m == "trl" or m.startswith("trl.")),
                    "transformers": "transformers" in sys.modules})
print(json.dumps(out))
"""


def test_bad_config_fails_before_torch_and_trl_are_imported():
    """Config mistakes are reported before the training stack loads (it takes ~13 s to import)."""
    import subprocess
    import sys

    cases = [
        ["reward.components=[{metric: bleu, transform: '9**9**9'}]"],
        ["reward.components=[{metric: bleu, transform: '1/x'}]"],  # BLEU can be 0
        ["reward.components=[{metric: bleu, transform: 'clip(x)'}]"],
        ["reward.components=[{metric: nope}]"],
        ["nonsense=1"],
        ["model.name_or_path="],
        ["data.path="],
        ["model.nonsense=1"],  # last: checking model keys reads TRL's ModelConfig dataclass
    ]
    proc = subprocess.run(
        [sys.executable, "-c", _BAD_CONFIGS, json.dumps(cases)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    errors = proc.stderr.strip().splitlines()
    assert len(results) == len(cases) and len(errors) == len(cases), proc.stderr
    assert all(r["code"] == 2 for r in results) and "Traceback" not in proc.stderr
    assert all(not r["torch"] and not r["transformers"] for r in results)
    assert all(r["trl"] == [] for r in results[:-1])
    assert set(results[-1]["trl"]) <= {
        "trl",
        "trl._compat",
        "trl._lazy_module",
        "trl.import_utils",
        "trl.trainer",
        "trl.trainer.model_config",
        "trl.trainer._lazy_module",
    }
    for line, needle in zip(
        errors,
        [
            "9 ** 9 ** 9",
            "x=0",
            "clip() takes 3",
            "nope",
            "nonsense",
            "name_or_path is required",
            "data.path",
            "nonsense",
        ],
        strict=True,
    ):
        assert needle in line


def _rexrank_json(tmp_path, images):
    data = {
        "CXR1_IM-1": {
            "section_findings": "The heart is normal.  The lungs are clear.",
            "section_impression": "Normal chest.",
            "context": "Indication: cough. Comparison: none.",
            "image_path": images,
            "key_image_path": images[0],
            "prior": "Mild cardiomegaly.",
        },
        "CXR2_IM-2": {
            "section_findings": "",
            "section_impression": "Clear.",
            "context": "",
            "image_path": images,
        },
    }
    p = tmp_path / "set.json"
    p.write_text(json.dumps(data))
    return p


def test_rexrank_json_prompts_and_references(tmp_path):
    from trainers.config import DataConfig
    from trainers.data import load_records, messages

    p = _rexrank_json(tmp_path, ["a.png"])
    recs = load_records(DataConfig(path=str(p), prior_column="prior"))
    assert [r["study_id"] for r in recs] == [
        "CXR1_IM-1"
    ]  # no findings -> nothing to reward against
    assert recs[0]["reference"] == "The heart is normal. The lungs are clear."
    assert (
        "Indication: cough" in recs[0]["text"]
        and "Prior report: Mild cardiomegaly." in recs[0]["text"]
    )
    fi = load_records(DataConfig(path=str(p), target="findings-impression"))
    assert fi[1]["reference"] == "Findings: None Impression: Clear."  # ReXrank's literal None
    with pytest.raises(InputError, match="image not found"):
        load_records(DataConfig(path=str(p), image_root=str(tmp_path)))
    msgs = messages({**recs[0], "image_paths": ["x.png"]}, DataConfig(path=str(p)), vlm=True)
    assert msgs[-1]["content"][0] == {"type": "image"}


@pytest.mark.slow
def test_tiny_llava_grpo_with_images(tmp_path, shared, monkeypatch):
    import numpy as np
    from PIL import Image

    from trainers.config import load_config
    from trainers.grpo import train_rl
    from trainers.tiny import FALLBACK_REPORTS, build_tiny_llava

    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    real = shared("images", "nih_cxr14__00000001_000.png")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64), dtype=np.uint8)).save(tmp_path / "gen.png")
    Image.open(real).save(tmp_path / "real.png")
    rows = [
        {
            "study_id": f"s{i}",
            "findings": FALLBACK_REPORTS[i],
            "image_path": ["real.png" if i % 2 else "gen.png"],
        }
        for i in range(4)
    ]
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    model = build_tiny_llava(tmp_path / "llava", FALLBACK_REPORTS)
    cfg = load_config(
        None,
        [
            f"model.name_or_path={model}",
            f"data.path={data}",
            f"data.image_root={tmp_path}",
            f"output_dir={tmp_path / 'run'}",
            "reward.components=[bleu, {metric: rouge_l, weight: 0.5}]",
            "grpo={max_steps: 2, per_device_train_batch_size: 4, num_generations: 4, max_completion_length: 8, "
            "use_cpu: true, gradient_checkpointing: false, save_strategy: 'no', beta: 0.0}",
            "eval_samples=2",
        ],
    )
    summary = train_rl(cfg)
    assert summary["steps"] == 2
    assert summary["reward_failures"] == {"bleu": 0, "rouge_l": 0}
    assert summary["eval"]["greedy"]["stats"]["n"] == 2.0


def test_qwen25vl_processor_loads_without_torchvision(tmp_path, shared):
    """With no torchvision, AutoProcessor fails on Qwen2.5-VL's video processor; ours leaves it out."""
    import json as _json

    from PIL import Image
    from transformers import Qwen2_5_VLConfig
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
    from trl import ModelConfig

    from trainers.policy import load_processor
    from trainers.tiny import FALLBACK_REPORTS, build_tokenizer

    tok = build_tokenizer(FALLBACK_REPORTS, tmp_path)
    Qwen2VLImageProcessorPil().save_pretrained(tmp_path)
    (tmp_path / "processor_config.json").write_text(
        _json.dumps({"processor_class": "Qwen2_5_VLProcessor"})
    )
    Qwen2_5_VLConfig(
        text_config={
            "vocab_size": len(tok),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
        },
        vision_config={
            "depth": 1,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 32,
        },
    ).save_pretrained(tmp_path)
    proc = load_processor(ModelConfig(model_name_or_path=str(tmp_path)), vlm=True)
    image = Image.open(shared("images", "nih_cxr14__00000001_000.png")).convert("RGB")
    enc = proc(text=[f"user: {proc.image_token} findings"], images=[image], return_tensors="pt")
    n_image_tokens = int((enc["input_ids"] == tok.convert_tokens_to_ids(proc.image_token)).sum())
    # one placeholder per merged 2x2 patch group of the 14-px patch grid
    assert n_image_tokens == int(enc["image_grid_thw"].prod()) // 4 > 0


def test_generation_stats_flag_repetition_and_length():
    from trainers.generate import generation_stats

    healthy = generation_stats(
        ["The heart is normal. The lungs are clear.", "No pleural effusion."]
    )
    assert healthy["repeated_3gram_share"] == 0.0 and healthy["empty_share"] == 0.0
    assert healthy["length_words_mean"] == 5.5
    collapsed = generation_stats(["the the the the the the", "." * 20, ""])
    # 6 words -> 4 trigrams, 3 repeats; 20 dots -> 18 trigrams, 17 repeats; the empty text has none
    assert collapsed["repeated_3gram_share"] == pytest.approx((3 / 4 + 17 / 18 + 0) / 3)
    assert collapsed["empty_share"] == pytest.approx(1 / 3)
    assert generation_stats(["a b. a b."])["duplicate_sentence_share"] == 0.5
