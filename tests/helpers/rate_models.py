"""Random-weight checkpoints in the real RaTEScore architectures, placed in a temporary HF cache.

* ``Angelakeke/RaTE-NER-Deberta``: ``DebertaV2ForTokenClassification`` with DeBERTa-v3's relative
  attention settings and the RaTE tag set (O plus B-/I- for the five types), and a DeBERTa-v2
  Unigram tokenizer ([PAD]/[CLS]/[SEP]/[UNK]/[MASK], ``▁`` word pieces) built from a small vocabulary.
* ``FremyCompany/BioLORD-2023-C``: ``MPNetModel`` (BioLORD-2023's architecture) with an MPNet
  WordPiece tokenizer over a small vocabulary.

Sizes are tiny (hidden 32, 2 layers) so the suite stays fast; layouts are the real ones, loaded by the
real code path (AutoTokenizer / AutoModel*.from_pretrained on the resolved snapshot folder).
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers.model_fixtures import hub_snapshot

REVISION = "0123456789abcdef0123456789abcdef01234567"

RATE_LABELS = [
    "O",
    "B-ABNORMALITY", "I-ABNORMALITY",
    "B-NON-ABNORMALITY", "I-NON-ABNORMALITY",
    "B-DISEASE", "I-DISEASE",
    "B-NON-DISEASE", "I-NON-DISEASE",
    "B-ANATOMY", "I-ANATOMY",
]

WORDS = (
    "the heart size is normal no pleural effusion or pneumothorax lungs are clear there mild "
    "cardiomegaly left right lower lobe opacity consolidation edema focal stable unchanged since prior "
    "small large of and with without evidence acute cardiopulmonary process atelectasis basilar "
    "mediastinal contour silhouette within limits bony structures intact pneumonia nodule cm "
    "degenerative changes spine thoracic"
).split()


def _snapshot(hub: Path, hub_id: str) -> Path:
    return hub_snapshot(hub, hub_id, REVISION)


def build_ner(hub: Path, seed: int = 0) -> Path:
    import torch
    from transformers import DebertaV2Config, DebertaV2ForTokenClassification, DebertaV2Tokenizer

    chars = sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:-()'"))
    vocab = [("[PAD]", 0.0), ("[CLS]", 0.0), ("[SEP]", 0.0), ("[UNK]", 0.0), ("[MASK]", 0.0), ("▁", -3.0)]
    vocab += [(f"▁{w}", -4.0) for w in WORDS]
    vocab += [(c, -8.0) for c in chars] + [(f"▁{c}", -9.0) for c in chars]
    tok = DebertaV2Tokenizer(vocab=vocab, do_lower_case=False, unk_id=3)
    config = DebertaV2Config(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        relative_attention=True,
        position_buckets=256,
        norm_rel_ebd="layer_norm",
        share_att_key=True,
        pos_att_type=["p2c", "c2p"],
        max_relative_positions=-1,
        position_biased_input=False,
        type_vocab_size=0,
        layer_norm_eps=1e-7,
        pad_token_id=0,
        id2label=dict(enumerate(RATE_LABELS)),
        label2id={v: k for k, v in enumerate(RATE_LABELS)},
    )
    torch.manual_seed(seed)
    model = DebertaV2ForTokenClassification(config).eval()
    with torch.no_grad():  # sharper logits so random tags vary from token to token
        model.classifier.weight.mul_(40.0)
    folder = _snapshot(hub, "Angelakeke/RaTE-NER-Deberta")
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def build_biolord(hub: Path, seed: int = 1) -> Path:
    import torch
    from transformers import MPNetConfig, MPNetModel, MPNetTokenizer

    specials = ["<s>", "<pad>", "</s>", "[UNK]", "<mask>"]
    pieces = sorted(set("abcdefghijklmnopqrstuvwxyz0123456789.,;:-()'"))
    vocab_list = specials + WORDS + pieces + [f"##{c}" for c in pieces]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(vocab_list))}
    tok = MPNetTokenizer(vocab=vocab, do_lower_case=True)
    config = MPNetConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=514,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        layer_norm_eps=1e-5,
        relative_attention_num_buckets=32,
        initializer_range=0.5,  # large random weights: entity vectors that differ (0.02 makes all cosines ~1)
    )
    torch.manual_seed(seed)
    model = MPNetModel(config).eval()
    folder = _snapshot(hub, "FremyCompany/BioLORD-2023-C")
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def build_all(hub: Path) -> tuple[Path, Path]:
    return build_ner(hub), build_biolord(hub)
