"""Test metrics for the reward tests and the GRPO CLI smoke run (registered by name, importable as a plugin).

``CountingOverlap`` follows the reference-side protocol and counts how often it does reference-side work;
``TinyEmbedSim`` is a *model* metric: cosine similarity of mean-pooled hidden states of a random-weight
BERT built from a config (its path in ``REXEVAL_TEST_ENCODER``), the same kind of work BERTScore does.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np

from rexeval.metrics.base import Batch, Metric, Output, mean_of


def _words(text: str) -> list[str]:
    return text.lower().replace(".", " ").split()


class CountingOverlap(Metric):
    """Share of reference words present in the prediction; counts reference-side calls (class-wide)."""

    name = "test_overlap"
    default = False
    reference_calls: Counter = Counter()
    compute_calls = 0

    def outputs(self):
        return [Output("test_overlap", True, (0.0, 1.0), mean_of("test_overlap"))]

    def reference_state(self, reference: str):
        type(self).reference_calls[reference] += 1
        return set(_words(reference))

    def compute_with_references(self, batch: Batch, states):
        type(self).compute_calls += 1
        out = []
        for pred, ref_words in zip(batch.predictions, states, strict=True):
            if "FAIL" in pred:
                raise RuntimeError("this sample cannot be scored")
            out.append(len(ref_words & set(_words(pred))) / max(1, len(ref_words)))
        return {"test_overlap": np.array(out)}

    def compute(self, batch: Batch):
        return self.compute_with_references(
            batch, [self.reference_state(r) for r in batch.references]
        )


class TestErrors(Metric):
    """Lower-is-better count: reference words missing from the prediction (a stand-in error counter)."""

    name = "test_errors"
    default = False

    def outputs(self):
        return [Output("test_missing", False, (0.0, float("inf")), mean_of("test_missing"))]

    def compute(self, batch: Batch):
        out = [
            len(set(_words(r)) - set(_words(p))) if "NAN" not in p else np.nan
            for p, r in zip(batch.predictions, batch.references, strict=True)
        ]
        return {"test_missing": np.array(out, dtype=float)}


class TinyEmbedSim(Metric):
    """Cosine similarity of mean-pooled hidden states of a local random-weight encoder."""

    name = "test_embed"
    default = False
    instances = 0

    def __init__(self, path: str | None = None):
        self.path = path or os.environ.get("REXEVAL_TEST_ENCODER", "")
        self._model = None
        type(self).instances += 1

    def outputs(self):
        return [Output("test_embed", True, (-1.0, 1.0), mean_of("test_embed"))]

    def options(self):
        return {"model": os.path.basename(self.path)}

    def _encode(self, texts):
        import torch
        from transformers import AutoModel, AutoTokenizer

        if self._model is None:
            self._tok = AutoTokenizer.from_pretrained(self.path)
            self._model = AutoModel.from_pretrained(self.path).eval()
        vecs = []
        with torch.no_grad():
            for (
                t
            ) in texts:  # one at a time: no padding, so a text's vector never depends on its batch
                enc = self._tok(t or ".", return_tensors="pt", truncation=True, max_length=128)
                vecs.append(self._model(**enc).last_hidden_state[0].mean(0))
        return torch.stack(vecs)

    def reference_state(self, reference: str):
        return self._encode([reference])[0]

    def compute_with_references(self, batch: Batch, states):
        import torch

        h = self._encode(batch.predictions)
        r = torch.stack(list(states))
        return {
            "test_embed": torch.nn.functional.cosine_similarity(h, r, dim=-1).numpy().astype(float)
        }

    def compute(self, batch: Batch):
        return self.compute_with_references(
            batch, [self.reference_state(r) for r in batch.references]
        )


def build_tiny_encoder(out_dir, texts) -> str:
    """A random-weight BERT with a locally trained word-level tokenizer."""
    import torch
    from transformers import BertConfig, BertModel

    from trainers.tiny import build_tokenizer

    torch.manual_seed(0)
    tok = build_tokenizer(texts, out_dir)
    BertModel(
        BertConfig(
            vocab_size=len(tok),
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=256,
            pad_token_id=tok.pad_token_id,
        )
    ).save_pretrained(out_dir)
    return str(out_dir)
