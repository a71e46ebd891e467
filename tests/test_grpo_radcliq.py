"""A few GRPO steps whose reward is -RadCliQ-v1, in the same environment as `rexeval train-rl`
(transformers 5, no radgraph package): RadGraph, CheXbert and distilroberta are random-weight stand-ins
built by `rexeval models random`'s builders and found where the real ones would be."""

from __future__ import annotations

import json


def test_tiny_llava_grpo_with_negative_radcliq_reward(tmp_path, shared, monkeypatch):
    import numpy as np
    from PIL import Image

    from rexeval.backends.standins import build
    from trainers.config import load_config
    from trainers.grpo import train_rl
    from trainers.tiny import FALLBACK_REPORTS, build_tiny_llava

    shared("tokenizers", "bert-base-uncased", "vocab.txt")
    hub = tmp_path / "hub"
    for name in ("radgraph", "chexbert", "distilroberta-base"):
        build(name, hub, size="small")
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("REXEVAL_RADGRAPH_PYTHON", raising=False)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64), dtype=np.uint8)).save(tmp_path / "gen.png")
    rows = [{"study_id": f"s{i}", "findings": FALLBACK_REPORTS[i], "image_path": ["gen.png"]} for i in range(4)]
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
            "reward.components=[-radcliq_v1]",
            "grpo={max_steps: 2, per_device_train_batch_size: 4, num_generations: 4, max_completion_length: 8, "
            "use_cpu: true, gradient_checkpointing: false, save_strategy: 'no', beta: 0.0}",
            "eval_samples=2",
        ],
    )
    summary = train_rl(cfg)
    assert summary["steps"] == 2
    assert list(summary["reward_failures"].values()) == [0]
    assert json.dumps(summary).count("radcliq_v1") >= 1
