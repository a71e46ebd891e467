"""CheXbert backbone, SembScore and CheXbert labels on random-weight checkpoints in the real layout.

The expected values come from an independent implementation of the f1chexbert / CXR-Report-Metric
recipe written here (one text at a time, no padding, the package's tokenize -> [CLS] ids [SEP] path),
never from rexeval's code. ``benchmarks/chexbert_vs_f1chexbert.py`` runs the f1chexbert package itself
on the same kind of checkpoint (it needs transformers < 5, so a separate environment).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.paths import shared_path

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from rexeval.backends.labelers import CONDITIONS, get_labeler  # noqa: E402
from rexeval.base.exceptions import MetricUnavailable  # noqa: E402
from rexeval.metrics.base import Batch  # noqa: E402
from tests.helpers.chexbert_fixtures import build_chexbert, tiny_config  # noqa: E402

TEXTS = [
    "No pleural effusion. Normal heart size.",
    "Normal heart size.",
    "Increased mild pulmonary edema and left basal atelectasis.",
    "Bilateral lower lobe bronchiectasis with improved right lower medial lung peribronchial consolidation.",
    "",
    "   Elevated left hemidiaphragm\n\nand blunting of the left costophrenic angle.  ",
    "Café-au-lait  ÄÖÜ naïve 1.5 cm nodule (RUL) — see prior; ?pneumothorax",
    "cardiomegaly " * 300,  # > 512 word pieces: truncated to ids[:511] + [SEP]
]


def _clear_shared():
    from rexeval.backends.models.chexbert import _shared_keyed

    _shared_keyed.cache_clear()


def _env(mp, hub, cache):
    mp.setenv("HF_HUB_CACHE", str(hub))
    mp.delenv("HF_HOME", raising=False)
    mp.delenv("REXEVAL_CHEXBERT", raising=False)
    mp.delenv("REXEVAL_BERT_BASE_UNCASED", raising=False)
    mp.setenv("REXEVAL_CACHE", cache)
    _clear_shared()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    shared_path("tokenizers", "bert-base-uncased", "vocab.txt")
    hub = tmp_path_factory.mktemp("hub_tiny")
    ckpt = build_chexbert(hub, seed=1, config=tiny_config())
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, hub, "off")
        yield ckpt
    _clear_shared()


def recipe(ckpt, vocab_dir, texts, config):
    """f1chexbert's get_label / CXR-Report-Metric's encoder, one unpadded text at a time."""
    import pandas as pd
    from transformers import BertModel, BertTokenizer

    state = torch.load(str(ckpt), map_location="cpu", weights_only=True)["model_state_dict"]
    state = {k.replace("module.", ""): v for k, v in state.items()}
    with torch.device("meta"):  # skip the random init: every weight is assigned from the file
        bert = BertModel(config, add_pooling_layer=True)
    missing, _ = bert.load_state_dict(
        {k[len("bert."):]: v for k, v in state.items() if k.startswith("bert.")}, strict=False, assign=True
    )
    assert all(k.endswith(("position_ids", "token_type_ids")) for k in missing), missing
    emb = bert.embeddings
    for name in ("position_ids", "token_type_ids"):  # non-persistent buffers: rebuild them
        if isinstance(getattr(emb, name, None), torch.Tensor) and emb.get_buffer(name).is_meta:
            size = emb.get_buffer(name).shape
            value = torch.arange(size[-1]).expand(size) if name == "position_ids" else torch.zeros(size, dtype=torch.long)
            emb.register_buffer(name, value.clone(), persistent=False)
    bert.eval()
    heads = [torch.nn.Linear(config.hidden_size, 4 if i < 13 else 2) for i in range(14)]
    for i, h in enumerate(heads):
        h.weight.data = state[f"linear_heads.{i}.weight"]
        h.bias.data = state[f"linear_heads.{i}.bias"]
    tok = BertTokenizer.from_pretrained(str(vocab_dir))
    imp = pd.Series(texts).str.strip().replace("\n", " ", regex=True).replace(r"\s+", " ", regex=True).str.strip()
    embs, labels = [], []
    with torch.no_grad():
        for text in imp:
            tokens = tok.tokenize(text)
            if tokens:
                ids = [tok.cls_token_id] + tok.convert_tokens_to_ids(tokens) + [tok.sep_token_id]
                if len(ids) > 512:
                    ids = ids[:511] + [tok.sep_token_id]
            else:
                ids = [tok.cls_token_id, tok.sep_token_id]
            x = torch.tensor([ids])
            cls = bert(x, attention_mask=torch.ones_like(x, dtype=torch.float))[0][:, 0, :]
            embs.append(cls[0].numpy())
            labels.append([int(h(cls).argmax(dim=1)) for h in heads])
    return np.stack(embs), np.array(labels)


def _vocab_dir(ckpt):
    hub = ckpt.parents[3]
    return next((hub / "models--google-bert--bert-base-uncased" / "snapshots").iterdir())


def test_embeddings_and_heads_equal_the_recipe(tiny):
    from rexeval.backends.models.chexbert import get_chexbert

    model = get_chexbert()
    emb, heads = model.encode(TEXTS)
    want_emb, want_heads = recipe(tiny, _vocab_dir(tiny), TEXTS, tiny_config())
    np.testing.assert_allclose(emb, want_emb, atol=2e-5, rtol=0)
    np.testing.assert_array_equal(heads, want_heads)
    assert len({tuple(h) for h in heads}) > 1, "random heads should not give one label vector for every text"


def test_labeler_maps_heads_like_chexbert(tiny):
    labels = get_labeler("chexbert").label(TEXTS)
    _, want_heads = recipe(tiny, _vocab_dir(tiny), TEXTS, tiny_config())
    table = {0: np.nan, 1: 1.0, 2: 0.0, 3: -1.0}  # CheXbert label.py: blank, positive, negative, uncertain
    want = np.array([[table[h] for h in row] for row in want_heads])
    np.testing.assert_array_equal(labels, want)
    assert labels.shape == (len(TEXTS), 14)
    assert set(np.unique(labels[:, -1][~np.isnan(labels[:, -1])])) <= {1.0}  # No Finding head: blank or 1


def test_token_ids_follow_the_spec(tiny):
    from rexeval.backends.models.chexbert import get_chexbert

    model = get_chexbert()
    ids = model.token_ids(["", "   ", "cardiomegaly " * 300, "a\n\nb", "a b"])
    assert ids[0] == ids[1] == [101, 102]
    assert len(ids[2]) == 512 and ids[2][0] == 101 and ids[2][-1] == 102
    assert ids[3] == ids[4]


def test_semb_score_values(tiny):
    from rexeval.metrics.sembscore import SembScore

    preds = TEXTS
    refs = list(reversed(TEXTS))
    want_p, _ = recipe(tiny, _vocab_dir(tiny), preds, tiny_config())
    want_r, _ = recipe(tiny, _vocab_dir(tiny), refs, tiny_config())
    want = (want_p * want_r).sum(1) / (np.linalg.norm(want_p, axis=1) * np.linalg.norm(want_r, axis=1))
    metric = SembScore(batch_size=3)
    ids = [str(i) for i in range(len(preds))]
    together = metric.compute(Batch(ids, preds, refs))["semb_score"]
    np.testing.assert_allclose(together, want, atol=1e-5)
    same = metric.compute(Batch(["s"], [TEXTS[2]], [TEXTS[2]]))["semb_score"]
    assert same[0] == pytest.approx(1.0, abs=1e-6)


def test_one_forward_pass_serves_semb_score_and_labels(tiny, tmp_path, monkeypatch):
    import pandas as pd

    from rexeval.backends.models.chexbert import get_chexbert
    from rexeval.run.scoring import score

    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    _clear_shared()
    preds = pd.DataFrame({"study_id": ["a", "b", "c"], "prediction": [TEXTS[0], TEXTS[1], TEXTS[2]]})
    refs = pd.DataFrame({"study_id": ["a", "b", "c"], "reference": [TEXTS[1], TEXTS[1], TEXTS[3]]})
    res = score(preds, refs, metrics=["semb_score", "chexbert_f1"], n_resamples=20, progress=False)
    model = get_chexbert()
    assert model.forward_texts == 4  # 4 distinct texts, each run once for both metrics
    assert "semb_score" in res.summary["metrics"] and "chexbert_f1_5_micro" in res.summary["metrics"]
    assert res.summary["metrics"]["chexbert_f1_14_micro"]["signature"].startswith("chexbert_f1|labeler:chexbert|")
    assert "StanfordAIMI/RRG_scorers@" in res.summary["metrics"]["semb_score"]["signature"]
    assert "chexbert" in res.summary["conditions"]
    # a new process (fresh instance) re-scoring the same texts reads the disk cache: no forward pass
    _clear_shared()
    res2 = score(preds, refs, metrics=["semb_score", "chexbert_f1"], n_resamples=20, progress=False)
    assert get_chexbert().forward_texts == 0
    pd.testing.assert_frame_equal(res.per_study, res2.per_study)
    _clear_shared()


def test_missing_model_is_skipped_with_the_fix(tmp_path, monkeypatch):
    import pandas as pd

    from rexeval.base.exceptions import RexevalError
    from rexeval.run.scoring import score

    _env(monkeypatch, tmp_path / "empty_hub", "off")
    df = pd.DataFrame({"study_id": ["a"], "prediction": ["No effusion."], "reference": ["Small effusion."]})
    res = score(df, metrics=["semb_score", "chexbert_f1", "rules_f1"], n_resamples=10, progress=False)
    for name in ("semb_score", "chexbert_f1"):
        assert "rexeval models download chexbert" in res.summary["skipped"][name]
    assert "rules_f1_5_micro" in res.summary["metrics"]
    with pytest.raises(RexevalError, match="--strict"):
        score(df, metrics=["semb_score"], strict=True, n_resamples=10, progress=False)


def test_missing_tokenizer_names_its_fix(tmp_path, monkeypatch, tiny):
    import shutil

    hub = tmp_path / "hub"
    shutil.copytree(tiny.parents[3] / "models--StanfordAIMI--RRG_scorers", hub / "models--StanfordAIMI--RRG_scorers")
    _env(monkeypatch, hub, "off")
    from rexeval.backends.models.chexbert import CheXbert

    with pytest.raises(MetricUnavailable, match="bert-base-uncased"):
        CheXbert()
    _clear_shared()


def test_bad_checkpoint_layout(tmp_path, monkeypatch, tiny):
    folder = tmp_path / "bad"
    folder.mkdir()
    torch.save({"model_state_dict": {"module.encoder.weight": torch.zeros(2, 2)}}, str(folder / "chexbert.pth"))
    (folder / "vocab.txt").write_bytes(_vocab_dir(tiny).joinpath("vocab.txt").read_bytes())
    monkeypatch.setenv("REXEVAL_CHEXBERT", str(folder))
    _clear_shared()
    from rexeval.backends.models.chexbert import get_chexbert

    with pytest.raises(MetricUnavailable, match="not a CheXbert checkpoint|CheXbert layout"):
        get_chexbert().encode(["x"])
    _clear_shared()


def test_bad_input(tiny):
    from rexeval.backends.models.chexbert import get_chexbert

    model = get_chexbert()
    with pytest.raises(TypeError, match="string"):
        model.encode(["ok", None])
    emb, heads = model.encode(["No effusion. " * 200_000])  # 2.6 MB: capped before tokenizing
    assert emb.shape == (1, 64) and heads.shape == (1, 14)
    emb0, _ = model.encode([])
    assert emb0.shape == (0, 64)


def test_cosine_rules():
    from rexeval.backends.models.chexbert import cosine

    a = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    b = np.array([[-1.0, 0.0], [1.0, 2.0], [2.0, 2.0]])
    np.testing.assert_allclose(cosine(a, b), [-1.0, 0.0, 1.0])  # unclipped; 0 for a zero norm


def test_labels_cli_with_chexbert(tiny, tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from rexeval.cli import app

    src = tmp_path / "reports.csv"
    pd.DataFrame({"study_id": ["s1", "s2", "s3"], "report": TEXTS[:3]}).to_csv(src, index=False)
    out = tmp_path / "labels.csv"
    r = CliRunner().invoke(app, ["labels", str(src), "--labeler", "chexbert", "-o", str(out)])
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out, dtype={"study_id": str})
    assert list(got.columns) == ["study_id", *CONDITIONS]
    want = get_labeler("chexbert").label(TEXTS[:3])
    np.testing.assert_array_equal(got[list(CONDITIONS)].to_numpy(float), want)


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    shared_path("tokenizers", "bert-base-uncased", "vocab.txt")
    hub = tmp_path_factory.mktemp("hub_full")
    ckpt = build_chexbert(hub, seed=2)
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, hub, "off")
        yield ckpt
    _clear_shared()


@pytest.mark.slow
def test_full_size_checkpoint_equals_the_recipe(full):
    """bert-base-uncased shape (BertConfig() defaults), the real CheXbert's, through the real path."""
    from transformers import BertConfig

    from rexeval.backends.models.chexbert import get_chexbert

    texts = TEXTS[:3]
    emb, heads = get_chexbert().encode(texts)
    want_emb, want_heads = recipe(full, _vocab_dir(full), texts, BertConfig())
    assert emb.shape == (3, 768)
    np.testing.assert_allclose(emb, want_emb, atol=1e-4, rtol=0)
    np.testing.assert_array_equal(heads, want_heads)
