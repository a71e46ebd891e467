"""``srrbert``: the structured-radiology-report BERT classifier (SRR-BERT), as the RadEval package (2.x) scores it.

RadEval splits each report into sentences, labels every sentence with SRR-BERT (a multi-label
``BertForSequenceClassification``; a label is on when sigmoid(logit) > 0.5), ORs the sentence labels into
one report vector and compares prediction with reference. Its default model is
``StanfordAIMI/SRR-BERT-Leaves-with-Statuses`` (163 labels such as ``Edema (Present)``) with the
``microsoft/BiomedVLP-CXR-BERT-general`` tokenizer (512 tokens, truncation).

Sentence split, as the peer: list numbering (``1.``, ``word2.``, ``. 3.``) is removed, a space is added in
``.X``, a final period is added when missing, then NLTK's ``sent_tokenize`` (Punkt, ``punkt_tab``).

The label set (names and output indices) is the peer's own mapping file, read at run time from the
installed ``radeval`` package (nothing imported, nothing copied). Outputs: corpus F1 over the labels,
micro / macro / weighted (RadEval's headline ``srrbert_weighted_f1`` is sklearn's weighted average), and the
per-study F1 / precision / recall of RadEval (mean over the labels on in either report of the per-label
scores with its 1e-8 terms; 1 when neither report has a label). Per-label P/R/F1/support go to
summary.json under ``conditions.srrbert``.

Each sentence is classified on its own (padded only to its own length), so a study's labels never depend
on its batch; RadEval pads a batch of 4 sentences together (same values up to float rounding, which can
only matter for a logit within ~1e-6 of 0).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from rexeval.backends.models import ModelSpec, register_model
from rexeval.base.exceptions import ConfigError, MetricUnavailable, install_hint
from rexeval.metrics.base import (
    Aggregate,
    Batch,
    Columns,
    Metric,
    OnDevice,
    Output,
    installed_versions,
    mean_of,
)
from rexeval.metrics.conditions import confusion_stats, f1_from_sums, per_condition

VARIANTS = {  # model type -> (hub id, RadEval mapping file)
    "leaves": ("StanfordAIMI/SRR-BERT-Leaves", "leaves_mapping.json"),
    "upper": ("StanfordAIMI/SRR-BERT-Upper", "upper_mapping.json"),
    "leaves_with_statuses": ("StanfordAIMI/SRR-BERT-Leaves-with-Statuses", "leaves_with_statuses_mapping.json"),
    "upper_with_statuses": ("StanfordAIMI/SRRG-BERT-Upper-with-Statuses", "upper_with_statuses_mapping.json"),
}
MODELS = {
    variant: register_model(ModelSpec(
        name="srr-bert-" + variant.replace("_", "-"), hub_id=hub, env_var="REXEVAL_SRRBERT_" + variant.upper() + "_DIR",
        files=("config.json",), extra_hub_files=("model.safetensors", "pytorch_model.bin"), used_by=("srrbert",),
        licence="see the model card of " + hub, note=f"SRR-BERT ({variant}) sentence classifier",
    ))
    for variant, (hub, _) in VARIANTS.items()
}
TOKENIZER = register_model(ModelSpec(
    name="cxr-bert-general-tokenizer", hub_id="microsoft/BiomedVLP-CXR-BERT-general",
    env_var="REXEVAL_CXR_BERT_TOKENIZER_DIR", files=("vocab.txt",), extra_hub_files=("tokenizer_config.json",),
    used_by=("srrbert",), licence="MIT (microsoft/BiomedVLP-CXR-BERT-general)", note="SRR-BERT's tokenizer",
))
LABELS_FIX = ("pip install --no-deps 'radeval>=2.2,<3' (SRR-BERT's label set is read from the RadEval package's "
              "mapping file at run time)")
PUNKT_FIX = "python -m nltk.downloader punkt_tab (NLTK's Punkt sentence splitter data, as RadEval uses)"
MAX_LENGTH = 512
PAD_TO = 8
EPS = 1e-8
AVERAGES = ("micro", "macro", "weighted")


def load_labels(variant: str) -> list[str]:
    """Label names in output-index order, from RadEval's mapping file."""
    import importlib.util
    from pathlib import Path

    try:
        spec = importlib.util.find_spec("radeval")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise MetricUnavailable("srrbert needs the label set of the 'radeval' package", LABELS_FIX)
    path = Path(list(spec.submodule_search_locations)[0]) / "metrics" / "SRRBert" / VARIANTS[variant][1]
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MetricUnavailable(f"cannot read {path}: {exc}", LABELS_FIX) from None
    names = sorted(mapping, key=mapping.__getitem__)
    if [mapping[n] for n in names] != list(range(len(names))):
        raise MetricUnavailable(f"{path} does not map labels to 0..{len(names) - 1}", LABELS_FIX)
    return names


def split_sentences(text: str) -> list[str]:
    """RadEval's SRR-BERT sentence split (numbering removed, final period, NLTK Punkt)."""
    import nltk

    text = re.sub(r"^\s*\d+\.(?!\d)\s*", "", text)
    text = re.sub(r"(\w)\.(\d+)\.(?!\d)\s*", r"\1. ", text)
    text = re.sub(r"(\w)(\d+)\.(?!\d)\s*", r"\1. ", text)
    text = re.sub(r"(\w)\s+\d+\.(?!\d)\s*", r"\1. ", text)
    text = re.sub(r"([.!?])\s*\d+\.(?!\d)\s*", r"\1 ", text)
    text = re.sub(r"\.([A-Z])", r". \1", text)
    if not text.strip().endswith((".", "!", "?")):
        text = text.strip() + "."
    return nltk.sent_tokenize(text)


def sample_prf(ref: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RadEval's per-study precision, recall, F1 (mean over the labels on in either vector)."""
    ref, pred = np.asarray(ref, dtype=int), np.asarray(pred, dtype=int)
    tp = ((ref == 1) & (pred == 1)).astype(int)
    fp = ((ref == 0) & (pred == 1)).astype(int)
    fn = ((ref == 1) & (pred == 0)).astype(int)
    p, r, f = tp / (tp + fp + EPS), tp / (tp + fn + EPS), (2 * tp) / (2 * tp + fp + fn + EPS)
    on = (ref == 1) | (pred == 1)
    out = np.ones((3, len(ref)))
    for i in range(len(ref)):
        if on[i].any():
            out[:, i] = float(p[i][on[i]].mean()), float(r[i][on[i]].mean()), float(f[i][on[i]].mean())
    return out[0], out[1], out[2]


class SRRBert(OnDevice, Metric):
    name = "srrbert"
    default = False
    #: pyproject extras it needs (listed by ``rexeval metrics``).
    extras = ("models",)
    description = "SRR-BERT label F1 (structured radiology report classes, sentence-level, as RadEval)"

    def __init__(self, variant: str = "leaves_with_statuses", model_path: str | None = None,
                 tokenizer_path: str | None = None, device: str = "auto", batch_size: int = 32) -> None:
        if variant not in VARIANTS:
            raise ConfigError(f"srrbert variant must be one of {', '.join(VARIANTS)}, not {variant!r}")
        self.variant, self.model_path, self.tokenizer_path = variant, model_path, tokenizer_path
        self.device_arg, self.batch_size = device, batch_size
        self._labels: list[str] | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._resolved: Any = None

    # -- protocol --------------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        if self._labels is None:
            self._labels = load_labels(self.variant)
        return self._labels

    def _pred_cols(self) -> list[str]:
        return [f"srrbert_pred.{n}" for n in self.labels]

    def _ref_cols(self) -> list[str]:
        return [f"srrbert_ref.{n}" for n in self.labels]

    def _f1(self, average: str) -> Aggregate:
        def stats(cols: Columns) -> np.ndarray:
            pred = np.stack([np.asarray(cols[c], dtype=float) for c in self._pred_cols()], axis=1)
            ref = np.stack([np.asarray(cols[c], dtype=float) for c in self._ref_cols()], axis=1)
            return confusion_stats(pred, ref, "negative")

        return Aggregate(f"f1-{average}", stats, lambda s: f1_from_sums(s, average))

    def outputs(self) -> list[Output]:
        outs = [Output(f"srrbert_{avg}_f1", True, (0.0, 1.0), self._f1(avg),
                       f"{avg} F1 over the SRR-BERT labels ({self.variant})", per_study=False) for avg in AVERAGES]
        for key, what in (("f1", "F1"), ("precision", "precision"), ("recall", "recall")):
            outs.append(Output(f"srrbert_sample_{key}", True, (0.0, 1.0), mean_of(f"srrbert_sample_{key}"),
                               f"RadEval's per-study {what} (labels on in either report; 1 when none)"))
        return outs

    def check_available(self) -> None:
        import importlib.util

        for mod in ("torch", "transformers", "nltk"):
            if importlib.util.find_spec(mod) is None:
                raise MetricUnavailable(f"srrbert needs {mod}", install_hint("models"))
        self.labels  # noqa: B018 - raises MetricUnavailable with the fix
        self._resolve()
        import nltk

        try:
            nltk.data.find("tokenizers/punkt_tab/english/")
        except LookupError:
            raise MetricUnavailable("srrbert needs NLTK's punkt_tab data (sentence splitting)", PUNKT_FIX) from None

    def _resolve(self) -> Any:
        if self._resolved is None:
            from rexeval.backends.models import resolve

            self._resolved = (resolve(MODELS[self.variant], self.model_path), resolve(TOKENIZER, self.tokenizer_path))
        return self._resolved

    def options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"variant": self.variant, "threshold": 0.5, "split": "radeval+punkt_tab"}
        if self._resolved is not None:
            from rexeval.base.fingerprint import file_sha256

            model, tok = self._resolved
            opts["model"] = model.tag + "#sha256:" + file_sha256(self._weights_file())[:12]
            opts["tokenizer"] = tok.tag
        return opts

    def versions(self) -> dict[str, str]:
        return installed_versions("torch", "transformers", "nltk", "radeval")

    def summary_extra(self, columns: Columns) -> dict[str, Any]:
        if self._pred_cols()[0] not in columns:
            return {}
        pred = np.stack([np.asarray(columns[c]) for c in self._pred_cols()], axis=1)
        ref = np.stack([np.asarray(columns[c]) for c in self._ref_cols()], axis=1)
        return {"conditions": {"srrbert": per_condition(pred, ref, "negative", names=self.labels)}}

    # -- model -----------------------------------------------------------------------------
    def _weights_file(self) -> Any:
        folder = self._resolve()[0].path
        for name in ("model.safetensors", "pytorch_model.bin"):
            if (folder / name).is_file():
                return folder / name
        raise MetricUnavailable(f"{folder} has no model.safetensors or pytorch_model.bin", MODELS[self.variant].fix)

    def _load(self) -> None:
        if self._model is not None:
            return
        from transformers import BertForSequenceClassification, BertTokenizer

        from rexeval.backends.models import quiet_loading

        model_res, tok_res = self._resolve()
        self._weights_file()
        self._tokenizer = BertTokenizer.from_pretrained(str(tok_res.path), local_files_only=True)
        with quiet_loading():
            model = BertForSequenceClassification.from_pretrained(str(model_res.path), num_labels=len(self.labels),
                                                                  local_files_only=True)
        self._model = model.eval().to(self.device)

    def classify(self, sentences: Sequence[str]) -> np.ndarray:
        """0/1 label matrix (len(sentences), n_labels); each sentence on its own, cached by content."""
        from rexeval.base.cache import TextCache
        from rexeval.base.fingerprint import file_sha256

        self._load()
        unique = list(dict.fromkeys(sentences))
        ns = f"srrbert|{self.variant}|{file_sha256(self._weights_file())[:16]}|{self._resolve()[1].tag}|pad{PAD_TO}|v1"
        rows = dict(zip(unique, TextCache(ns).compute(unique, self._run)))
        return np.array([rows[s] for s in sentences], dtype=np.int8).reshape(len(sentences), len(self.labels))

    def _run(self, sentences: list[str]) -> list[np.ndarray]:
        import torch

        from rexeval.backends.models.batching import padded_batch, padded_length_batches

        tok = self._tokenizer
        ids = [tok(s, add_special_tokens=True, max_length=MAX_LENGTH, truncation=True)["input_ids"] for s in sentences]

        out: list[np.ndarray | None] = [None] * len(ids)
        with torch.inference_mode():
            for width, idx in padded_length_batches([len(x) for x in ids], batch_size=self.batch_size, pad_to=PAD_TO,
                                                    max_length=MAX_LENGTH):
                x, mask = padded_batch(ids, idx, width, tok.pad_token_id)
                logits = self._model(input_ids=x.to(self.device), attention_mask=mask.to(self.device),
                                     token_type_ids=torch.zeros_like(x).to(self.device)).logits
                on = (torch.sigmoid(logits) > 0.5).cpu().numpy().astype(np.int8)
                for j, i in enumerate(idx):
                    out[i] = on[j]
        return out  # type: ignore[return-value]

    def report_labels(self, texts: Sequence[str]) -> np.ndarray:
        """Report-level 0/1 vectors: any sentence of the report has the label."""
        split = [split_sentences(t) for t in texts]
        flat = [s for ss in split for s in ss]
        lab = self.classify(flat) if flat else np.zeros((0, len(self.labels)), dtype=np.int8)
        out = np.zeros((len(texts), len(self.labels)), dtype=np.int8)
        pos = 0
        for i, ss in enumerate(split):
            if ss:
                out[i] = lab[pos:pos + len(ss)].any(axis=0)
            pos += len(ss)
        return out

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        self.check_available()
        n = len(batch)
        labels = self.report_labels(list(batch.predictions) + list(batch.references))
        pred, ref = labels[:n], labels[n:]
        out: dict[str, np.ndarray] = {}
        for j, (pc, rc) in enumerate(zip(self._pred_cols(), self._ref_cols(), strict=True)):
            out[pc], out[rc] = pred[:, j].astype(float), ref[:, j].astype(float)
        p, r, f = sample_prf(ref, pred)
        out["srrbert_sample_precision"], out["srrbert_sample_recall"], out["srrbert_sample_f1"] = p, r, f
        if batch.progress:
            batch.progress(n)
        return out
