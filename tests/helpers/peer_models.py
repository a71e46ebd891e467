"""Random-weight stand-ins for the RadEval models (tests and the peer comparison script build them).

* ``IAMJB/RadEvalModernBERT``: ModernBertModel with transformers' ModernBERT-base configuration
  (22 layers, 768 hidden, 12 heads, 1152 intermediate, vocab 50368; CLS 50281, SEP 50282, PAD 50283,
  MASK 50284). The real tokenizer is not available here: the stand-in tokenizer is a byte-level BPE
  built from the RoBERTa vocabulary and merges in ../shared with ModernBERT's special tokens and its
  ``[CLS] text [SEP]`` template, saved as ``tokenizer.json`` (both rexeval and RadEval load it with
  ``AutoTokenizer``).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.model_fixtures import ROBERTA_TOKENIZER, SHARED, hub_snapshot

MODERNBERT_HUB_ID = "IAMJB/RadEvalModernBERT"
SPECIALS = {"[UNK]": 50280, "[CLS]": 50281, "[SEP]": 50282, "[PAD]": 50283, "[MASK]": 50284}


def _modernbert_tokenizer(folder: Path, tokenizer_dir: Path = ROBERTA_TOKENIZER) -> None:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    vocab = json.loads((tokenizer_dir / "vocab.json").read_text(encoding="utf-8"))
    vocab = {k: v for k, v in vocab.items() if v < 50265}
    for i in range(len(vocab), 50280):  # fill the gap so the special ids are ModernBERT's
        vocab[f"<|unused{i}|>"] = i
    vocab.update(SPECIALS)
    merges = [tuple(line.split()) for line in (tokenizer_dir / "merges.txt").read_text(encoding="utf-8").splitlines()[1:] if line]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True) for t in SPECIALS])
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", SPECIALS["[CLS]"]), ("[SEP]", SPECIALS["[SEP]"])],
    )
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 8192, "cls_token": "[CLS]",
        "sep_token": "[SEP]", "pad_token": "[PAD]", "mask_token": "[MASK]", "unk_token": "[UNK]",
        "clean_up_tokenization_spaces": True,
    }))


def build_radeval_modernbert(hub_cache: Path, seed: int = 0, num_hidden_layers: int = 22) -> Path:
    """Random-weight RadEvalModernBERT in the HF cache layout; returns the snapshot folder."""
    import torch
    from transformers import ModernBertConfig, ModernBertModel

    snap = hub_snapshot(hub_cache, MODERNBERT_HUB_ID)
    if (snap / "model.safetensors").is_file():
        return snap
    torch.manual_seed(seed)
    config = ModernBertConfig(num_hidden_layers=num_hidden_layers)
    ModernBertModel(config).eval().save_pretrained(str(snap))
    _modernbert_tokenizer(snap)
    return snap


SRR_HUB_ID = "StanfordAIMI/SRR-BERT-Leaves-with-Statuses"
CXR_BERT_HUB_ID = "microsoft/BiomedVLP-CXR-BERT-general"


def build_srrbert(hub_cache: Path, n_labels: int, seed: int = 0) -> Path:
    """Random-weight SRR-BERT (BERT-base BertForSequenceClassification, ``n_labels`` outputs) and a stand-in
    CXR-BERT tokenizer (the bert-base-uncased vocabulary in ../shared, lower-casing) in the HF cache layout."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    snap = hub_snapshot(hub_cache, SRR_HUB_ID)
    tok = hub_snapshot(hub_cache, CXR_BERT_HUB_ID)
    if not (tok / "vocab.txt").is_file():
        (tok / "vocab.txt").write_bytes((SHARED / "data" / "tokenizers" / "bert-base-uncased" / "vocab.txt").read_bytes())
        (tok / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True, "model_max_length": 512}))
    if not (snap / "model.safetensors").is_file():
        torch.manual_seed(seed)
        config = BertConfig(num_labels=n_labels, problem_type="multi_label_classification")
        BertForSequenceClassification(config).eval().save_pretrained(str(snap))
    return snap


def punkt_tab_standin(nltk_data: Path) -> Path:
    """NLTK ``punkt_tab/english`` with empty parameters (no abbreviations, collocations or sentence starters):
    the real data cannot be downloaded here; rexeval and RadEval both load this one through NLTK."""
    folder = nltk_data / "tokenizers" / "punkt_tab" / "english"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
        (folder / name).write_text("")
    return nltk_data
