"""The tiny VLM on the two shared films: the image smoke config (SFT, GRPO, generate) as shipped, and prior
studies' films reaching the VLM after the current ones. Skips without ../shared (read in place)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("peft")

from tests.helpers.paths import ROOT, shared_path  # noqa: E402
from tests.test_train_cli import run_cli  # noqa: E402

SMOKE_VLM = ROOT / "trainers" / "configs" / "cpu_smoke_vlm.yaml"
FILM_A, FILM_B = "nih_cxr14__00000001_000.png", "nih_cxr14__00027426_000.png"


@pytest.fixture
def films(monkeypatch):
    """The shared films folder; REXEVAL_SHARED set to the folder the tests found, so `shared:` resolves."""
    folder = shared_path("images", FILM_A).parent
    monkeypatch.setenv("REXEVAL_SHARED", str(folder.parents[1]))
    return folder


def _smoke_data(overrides=()):
    from trainers.config import load_config

    return load_config(SMOKE_VLM, list(overrides), check_reward=False).data


def test_prior_films_follow_the_current_ones_up_to_the_configured_number(films):
    from trainers.data import load_records, messages

    recs = {r["study_id"]: r for r in load_records(_smoke_data())}
    # tiny1: current film B, prior film A; tiny0 has no prior study
    assert recs["tiny1"]["image_paths"] == [str(films / FILM_B), str(films / FILM_A)]
    assert recs["tiny1"]["n_prior_images"] == 1
    assert "The last film is from the prior study." in recs["tiny1"]["text"]
    assert recs["tiny0"]["image_paths"] == [str(films / FILM_A)]
    assert "prior study" not in recs["tiny0"]["text"]
    parts = messages(recs["tiny1"], _smoke_data(), vlm=True)[-1]["content"]
    assert [p["type"] for p in parts] == ["image", "image", "text"]

    current_only = {r["study_id"]: r for r in load_records(_smoke_data(["data.max_prior_images=0"]))}
    assert current_only["tiny1"]["image_paths"] == [str(films / FILM_B)]
    assert current_only["tiny1"]["n_prior_images"] == 0
    assert "prior study" not in current_only["tiny1"]["text"]


def test_the_tiny_vlm_encodes_current_and_prior_films(films, tmp_path, monkeypatch):
    """Both films become image features: one block of image tokens per film in the prompt."""
    import torch
    from PIL import Image

    from trainers.config import load_config
    from trainers.data import load_records, messages
    from trainers.policy import load_policy

    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    cfg = load_config(SMOKE_VLM, [f"output_dir={tmp_path}"], check_reward=False)
    model, processor, vlm = load_policy(cfg)
    assert vlm
    record = next(r for r in load_records(cfg.data) if r["study_id"] == "tiny1")
    text = processor.apply_chat_template(messages(record, cfg.data, vlm), tokenize=False,
                                         add_generation_prompt=True)
    images = [Image.open(p).convert("RGB") for p in record["image_paths"]]
    enc = processor(text=[text], images=[images], return_tensors="pt")
    image_token = model.config.image_token_index
    assert enc["pixel_values"].shape[0] == 2
    assert int((enc["input_ids"] == image_token).sum()) == 2 * model.config.image_seq_length
    # the prior film changes what the model sees: dropping it changes the logits
    with torch.no_grad():
        both = model(**enc).logits[0, -1]
        one = processor(text=[text.replace("<image>", "", 1)], images=[images[:1]], return_tensors="pt")
        alone = model(**one).logits[0, -1]
    assert not torch.allclose(both, alone)


def test_image_root_shared_prefix_reads_the_shared_folder_in_place(films, monkeypatch, tmp_path):
    from rexeval.base.exceptions import InputError
    from trainers.data import resolve_image_root

    assert resolve_image_root("shared:images") == films
    assert resolve_image_root(str(tmp_path)) == tmp_path  # an ordinary folder is left as given
    monkeypatch.setenv("REXEVAL_SHARED", str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="REXEVAL_SHARED"):
        resolve_image_root("shared:images")


def test_tiny_vlm_image_smoke_config_sft_grpo_generate(films, tmp_path, monkeypatch):
    """The CI smoke run: `train-sft` then `train-rl` with trainers/configs/cpu_smoke_vlm.yaml as shipped
    (the tiny VLM, built once), then `generate` from the checkpoint with the films the policy was trained
    with (current + prior), taken from the checkpoint's saved prompt settings."""
    from trainers import generate as gen

    env = {"REXEVAL_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "REXEVAL_SHARED": str(films.parents[1])}
    sft, rl = tmp_path / "sft", tmp_path / "rl"
    res = run_cli(["train-sft", "--config", SMOKE_VLM, f"output_dir={sft}"], env, ROOT)
    assert json.loads(res.stdout.strip().splitlines()[-1])["loss_first"] is not None
    assert "max_prior_images: 1" in (sft / "rexeval_train_config.yaml").read_text()
    run_cli(["train-rl", "--config", SMOKE_VLM, f"model.name_or_path={sft}", f"output_dir={rl}"], env, ROOT)
    summary = json.loads((rl / "train_summary.json").read_text())
    assert summary["steps"] == 2 and summary["reward_failures"] == {"bleu": 0, "rouge_l": 0}
    assert summary["eval"]["greedy"]["stats"]["n"] == 2.0

    seen = []
    real = gen.messages

    def recording(record, cfg, vlm):
        seen.append((record["study_id"], len(record["image_paths"])))
        return real(record, cfg, vlm)

    monkeypatch.setattr(gen, "messages", recording)
    preds = tmp_path / "preds.csv"
    data = ROOT / "trainers" / "configs" / "tiny_images.json"
    run_cli(["generate", "--model", rl, "--data", data, "--image-root", "shared:images",
             "--max-new-tokens", "3", "-o", preds], env, ROOT)
    assert dict(seen) == {"tiny0": 1, "tiny1": 2, "tiny2": 2, "tiny3": 1}
    meta = json.loads(Path(f"{preds}.meta.json").read_text())
    assert meta["prompt"]["max_prior_images"] == 1
    assert len(preds.read_text().splitlines()) == 5
