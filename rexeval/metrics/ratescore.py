"""RaTEScore (docs/metrics.md §9): entity-aware similarity of two radiology reports.

Pipeline per report: split into sentences; tag each sentence with the RaTE NER model
(``Angelakeke/RaTE-NER-Deberta``, a DeBERTa-v3 token classifier with B-/I- tags for ABNORMALITY,
NON-ABNORMALITY, DISEASE, NON-DISEASE and ANATOMY); turn the tags into entity strings with the scorer's
span rules; embed each entity with the [CLS] state of ``FremyCompany/BioLORD-2023-C`` (≤ 30 tokens).
Each entity of one report is matched to its most similar (cosine) entity of the other; the directional
score is Σ sim·W[t, t_match]·ν / Σ W[t, t_match], with W the scorer's 5×5 "long" type-affinity
matrix and ν = 0.8716... when the pair crosses polarity (e.g. DISEASE vs NON-DISEASE). The study score
is the harmonic mean of both directions, 0.5 when either report has no entity.

Written from the definition and the facts of the reference scorer (MAGIC-AI4Med/RaTEScore @ a970406;
PyPI ``RaTEScore`` 0.6.0, read for its constants and its span rules; no code copied). Differences:

* Sentence splitting: the reference uses medspacy's PyRuSH. When medspacy is importable
  (``pip install medspacy``) and ``splitter="auto"``, the same PyRuSH splitter is used; otherwise
  :func:`split_sentences_rules`, a rule splitter for report prose. The signature records which.
* A report with no sentence gets no entities (score 0.5). The reference silently drops such a report
  from its entity list, which shifts every later report's entities onto the wrong study.
* Batching: sentences are bucketed by length and entities de-duplicated and cached by content, so a
  report's score does not depend on its batch (the reference's values with batch_size=1 are the target).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rexeval.backends.models import ModelSpec, register_model
from rexeval.base.exceptions import MetricUnavailable, install_hint
from rexeval.metrics.base import Batch, Metric, Output, installed_versions, mean_of

NER_MODEL = register_model(
    ModelSpec(
        name="rate-ner-deberta",
        hub_id="Angelakeke/RaTE-NER-Deberta",
        env_var="REXEVAL_RATE_NER",
        files=("config.json", "model.safetensors", "tokenizer.json"),
        extra_hub_files=("tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "spm.model"),
        used_by=("ratescore",),
        licence="MIT",
        note="RaTE NER (DeBERTa-v3 token classifier), ~735 MB",
    )
)
EMBED_MODEL = register_model(
    ModelSpec(
        name="biolord-2023-c",
        hub_id="FremyCompany/BioLORD-2023-C",
        env_var="REXEVAL_BIOLORD",
        files=("config.json", "model.safetensors", "tokenizer.json"),
        extra_hub_files=("tokenizer_config.json", "special_tokens_map.json", "vocab.txt"),
        used_by=("ratescore",),
        licence="ihtsdo-and-nlm-licences (see the model card)",
        note="BioLORD-2023-C entity encoder (MPNet), ~438 MB",
    )
)

TYPES = ("ABNORMALITY", "NON-ABNORMALITY", "DISEASE", "NON-DISEASE", "ANATOMY")

#: The reference scorer's DEFAULT_MATRIX_LONG (RaTEScore 0.6.0 ``scorer.py``), W[(matched type, match type)].
AFFINITY_LONG: dict[tuple[str, str], float] = {
    ("ABNORMALITY", "ABNORMALITY"): 0.4276119164393705,
    ("ABNORMALITY", "ANATOMY"): 0.6240929990607657,
    ("ABNORMALITY", "DISEASE"): 0.0034478181112993847,
    ("ABNORMALITY", "NON-ABNORMALITY"): 0.5431049700217344,
    ("ABNORMALITY", "NON-DISEASE"): 0.27005425386213877,
    ("ANATOMY", "ABNORMALITY"): 0.7487824274337533,
    ("ANATOMY", "ANATOMY"): 0.2856134859160784,
    ("ANATOMY", "DISEASE"): 0.4592143222158069,
    ("ANATOMY", "NON-ABNORMALITY"): 0.02097055139911715,
    ("ANATOMY", "NON-DISEASE"): 0.00013736314126696204,
    ("DISEASE", "ABNORMALITY"): 0.8396510075734789,
    ("DISEASE", "ANATOMY"): 0.9950209388542061,
    ("DISEASE", "DISEASE"): 0.8460555030578727,
    ("DISEASE", "NON-ABNORMALITY"): 0.9820689020512646,
    ("DISEASE", "NON-DISEASE"): 0.3789136708096537,
    ("NON-ABNORMALITY", "ABNORMALITY"): 0.16546764653692908,
    ("NON-ABNORMALITY", "ANATOMY"): 0.018670610691852826,
    ("NON-ABNORMALITY", "DISEASE"): 0.719397354576018,
    ("NON-ABNORMALITY", "NON-ABNORMALITY"): 0.0009357166071730684,
    ("NON-ABNORMALITY", "NON-DISEASE"): 0.0927333564267591,
    ("NON-DISEASE", "ABNORMALITY"): 0.7759420231214385,
    ("NON-DISEASE", "ANATOMY"): 0.1839139293714062,
    ("NON-DISEASE", "DISEASE"): 0.10073046076318157,
    ("NON-DISEASE", "NON-ABNORMALITY"): 0.03860183811876373,
    ("NON-DISEASE", "NON-DISEASE"): 0.34065681486566446,
}
#: ν, the penalty on a match that crosses polarity (the "long" matrix's neg_weight).
POLARITY_PENALTY = 0.8716553966489615
#: The 8 (matched type, match type) pairs that cross polarity: a finding matched to its negation.
POLARITY_MISMATCH = frozenset(
    {
        ("NON-DISEASE", "DISEASE"),
        ("NON-ABNORMALITY", "ABNORMALITY"),
        ("DISEASE", "NON-DISEASE"),
        ("ABNORMALITY", "NON-ABNORMALITY"),
        ("NON-DISEASE", "ABNORMALITY"),
        ("NON-ABNORMALITY", "DISEASE"),
        ("DISEASE", "NON-ABNORMALITY"),
        ("ABNORMALITY", "NON-DISEASE"),
    }
)
#: Score of a study where either report has no entity.
EMPTY_SCORE = 0.5
NER_MAX_TOKENS = 512
EMBED_MAX_TOKENS = 30
MIN_SENTENCE_CHARS = 3

Entity = tuple[str, str]  # (text, TYPE)


# --------------------------------------------------------------------------------------------------
# Sentence splitting


_ABBREVIATIONS = frozenset(
    "dr mr mrs ms vs e.g i.e etc approx fig figs no nos cf al st incl esp resp mm cm ca".split()
)
# A candidate boundary: sentence-final punctuation (plus closing quotes/brackets), then whitespace.
_BOUNDARY = re.compile(r"([.!?]+[\"')\]]*)(\s+)")


def split_sentences_rules(text: str) -> list[str]:
    """Split report prose into sentences without medspacy.

    Breaks at newlines and after ``.``/``!``/``?`` followed by whitespace, except after a known
    abbreviation (``Dr.``, ``e.g.``, ``vs.``), a single letter (initials, ``a.``) or a list number
    opening the sentence (``1. Stable.``), a doubled period (``effusion.. Heart``) or a point followed
    by a stray ``.`` inside the text. Like PyRuSH it breaks before a lower-case word too, and not at a
    point without a following space (``clear.The``, ``2.5 cm``). Agreement with PyRuSH on real reports
    is measured by ``benchmarks/ratescore_splitter_agreement.py`` (see docs/models.md); it is not exact.
    PyRuSH (the reference) follows similar rules with a larger rule set; on collapsed report text the
    two agree on ordinary sentences but may differ on lists, headings and unusual punctuation.
    """
    pieces: list[str] = []
    for line in re.split(r"[\r\n]+", text):
        start = 0
        for m in _BOUNDARY.finditer(line):
            end = m.end(1)
            word = line[start:m.start(1)].rsplit(None, 1)[-1] if line[start:m.start(1)].strip() else ""
            if word.lower().rstrip(".") in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
            if word.isdigit() and not line[start:m.start(1)].strip()[: -len(word)].strip():
                continue  # "1." opening a list item ("1. Stable.")
            rest = line[m.end():]
            if m.group(1).startswith("..") or (not rest[:1].isalnum() and any(ch.isalnum() for ch in rest)):
                continue  # PyRuSH runs on after a doubled period, and over a stray ". ." inside a text
            pieces.append(line[start:end])
            start = m.end()
        pieces.append(line[start:])
    return _clean_sentences(pieces)


def _clean_sentences(pieces: Sequence[str]) -> list[str]:
    """The reference's filter: strip; drop sentences without a word or shorter than 3 characters."""
    out = []
    for s in pieces:
        s = s.strip()
        if not s.split() or len(s) < MIN_SENTENCE_CHARS:
            continue
        out.append(s)
    return out


_MEDSPACY: list[Any] = []


def _pyrush_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("medspacy") is not None


def split_sentences_pyrush(text: str) -> list[str]:
    """medspacy's PyRuSH sentence splitter, configured as the reference scorer loads it."""
    if not _MEDSPACY:
        import medspacy

        try:  # PyRuSH logs every token at DEBUG through loguru
            from loguru import logger

            logger.disable("PyRuSH")
        except ImportError:
            pass

        _MEDSPACY.append(medspacy.load(medspacy_enable=["medspacy_pyrush"]))
    doc = _MEDSPACY[0](text)
    return _clean_sentences([str(s) for s in doc.sents])


# --------------------------------------------------------------------------------------------------
# NER tags -> entities (the reference's span rules, reproduced from their behaviour)


def spans_from_tags(tokens: Sequence[str], tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Entity spans (first token, last token, TYPE) from per-token B-/I-/O tags.

    The reference's rules, quirks included (its values are what ReXrank publishes):
    a tag's span decision looks only at the next position's tag, which for the last word is the tag
    predicted on [SEP]; ``B`` before ``I`` opens a span; ``B`` before ``B``/``O`` is a one-token
    entity (before ``B`` it also re-opens a span at itself that a later ``I``→``O`` may close); ``I``
    before ``B`` closes the open span and opens a new one at the ``I`` with the ``I``'s type; ``I``
    before ``O`` closes the open span; an ``I`` with no open span is dropped; a span still open at the
    end (and only if no span end was ever left set) runs to the token before [SEP].
    [CLS]/[SEP] tokens are skipped.
    """
    spans: list[tuple[int, int, Any]] = []  # the type is set whenever start is
    start: int | None = None
    end: int | None = None
    etype: str | None = None
    n = len(tags)
    for i, (token, tag) in enumerate(zip(tokens, tags, strict=False)):
        if token in ("[CLS]", "[SEP]"):
            continue
        if tag == "O" or i >= n - 1:
            continue
        nxt = tags[i + 1]
        if tag.startswith("B-"):
            if nxt.startswith("I-"):
                start, etype = i, tag[2:]
            elif nxt.startswith("B-"):
                spans.append((i, i, tag[2:]))
                start, end, etype = i, i, tag[2:]
            elif nxt.startswith("O"):
                spans.append((i, i, tag[2:]))
                start = end = etype = None
        elif tag.startswith("I-"):
            if nxt.startswith("B-"):
                end = i
                if start is not None:
                    spans.append((start, end, etype))
                start, etype = i, tag[2:]
            elif nxt.startswith("O"):
                end = i
                if start is not None:
                    spans.append((start, end, etype))
                start = end = etype = None
    if start is not None and end is None:
        spans.append((start, len(tokens) - 2, etype))
    return spans


# --------------------------------------------------------------------------------------------------
# Scoring arithmetic


def directional_score(
    emb: np.ndarray, types: Sequence[str], other_emb: np.ndarray, other_types: Sequence[str]
) -> float:
    """Σ sim_i·W[t_i, t_match(i)]·ν_i / Σ W[t_i, t_match(i)] over the entities of one report."""
    # float32 like the reference (torch), so near-ties between matches break the same way
    a = _normalize(emb)
    b = _normalize(other_emb)
    sims = np.stack([b @ row for row in a]) if len(a) else np.zeros((0, len(b)), dtype=np.float32)
    best = np.argmax(sims, axis=1)
    num = 0.0
    den = 0.0
    for i, j in enumerate(best):
        pair = (types[i], other_types[j])
        w = AFFINITY_LONG[pair]
        nu = POLARITY_PENALTY if pair in POLARITY_MISMATCH else 1.0
        num += float(sims[i, j]) * w * nu
        den += w
    return num / den if den != 0 else 0.0


def pair_score(
    ref_emb: np.ndarray, ref_types: Sequence[str], pred_emb: np.ndarray, pred_types: Sequence[str]
) -> float:
    """RaTEScore of one study: harmonic mean of both directions; 0.5 when a side has no entity."""
    if len(ref_types) == 0 or len(pred_types) == 0:
        return EMPTY_SCORE
    p = directional_score(ref_emb, ref_types, pred_emb, pred_types)
    r = directional_score(pred_emb, pred_types, ref_emb, ref_types)
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, np.float32(1e-12))  # torch.nn.functional.normalize's eps


# --------------------------------------------------------------------------------------------------
# Models (loaded once per process and device)


@dataclass
class _Loaded:
    tokenizer: Any
    model: Any
    tag: str
    id2label: dict[int, str] | None = None


_MODELS: dict[tuple[str, str, str], _Loaded] = {}


def _device(choice: str) -> str:
    from rexeval.backends.models import auto_device

    return auto_device(choice)


def _load(spec: ModelSpec, explicit: str | None, device: str, token_classifier: bool) -> _Loaded:
    from rexeval.backends.models import resolve

    found = resolve(spec, explicit)
    key = (spec.name, str(found.path), device)
    if key not in _MODELS:
        from transformers import AutoModel, AutoModelForTokenClassification, AutoTokenizer

        from rexeval.backends.models import quiet_loading

        cls = AutoModelForTokenClassification if token_classifier else AutoModel
        # local_files_only: the resolved folder is all there is; no process-wide offline flag is set
        tok = AutoTokenizer.from_pretrained(str(found.path), local_files_only=True)
        with quiet_loading():
            model = cls.from_pretrained(str(found.path), local_files_only=True, use_safetensors=True).eval().to(device)
        id2label = None
        if token_classifier:
            id2label = {int(k): v for k, v in model.config.id2label.items()}
            unknown = {v[2:].upper() for v in id2label.values() if v != "O"} - set(TYPES)
            if unknown:
                raise MetricUnavailable(
                    f"model {spec.hub_id} at {found.path} has labels {sorted(unknown)} outside the RaTE types",
                    spec.fix,
                )
        _MODELS[key] = _Loaded(tok, model, found.tag, id2label)
    return _MODELS[key]


def _length_batches(loaded: _Loaded, texts: list[str], batch_size: int, max_length: int):
    """Yield ``(indices, encoding, model output)`` per batch, texts of similar length batched together
    (little padding); the forward pass runs without gradients on the model's device."""
    import torch

    device = next(loaded.model.parameters()).device
    order = sorted(range(len(texts)), key=lambda k: len(texts[k]))
    for b in range(0, len(order), batch_size):
        idx = order[b : b + batch_size]
        enc = loaded.tokenizer(
            [texts[k] for k in idx], max_length=max_length, padding=True, truncation=True, return_tensors="pt"
        )
        with torch.no_grad():
            output = loaded.model(**{k: v.to(device) for k, v in enc.items()})
        yield idx, enc, output


# --------------------------------------------------------------------------------------------------
# The metric


class RaTEScore(Metric):
    name = "ratescore"
    description = "RaTEScore: entity-aware similarity (RaTE NER + BioLORD embeddings), as on ReXrank"

    def __init__(
        self,
        ner_model: str | None = None,
        embed_model: str | None = None,
        splitter: str = "auto",
        device: str = "auto",
        batch_size: int = 64,
    ) -> None:
        if splitter not in {"auto", "pyrush", "rules"}:
            from rexeval.base.exceptions import ConfigError

            raise ConfigError(f"ratescore splitter must be auto, pyrush or rules, not {splitter!r}")
        self.ner_model = ner_model
        self.embed_model = embed_model
        self.splitter = splitter
        self.device = device
        self.batch_size = int(batch_size)

    # -- declared numbers
    def outputs(self) -> list[Output]:
        return [
            Output(
                "ratescore",
                True,
                (0.0, 1.0),
                mean_of("ratescore"),
                "RaTEScore per study (harmonic mean of both directions; 0.5 if a side has no entity)",
            )
        ]

    def _splitter_name(self) -> str:
        if self.splitter == "auto":
            return "pyrush" if _pyrush_available() else "rules"
        return self.splitter

    def options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"split": self._splitter_name(), "W": "long", "nu": POLARITY_PENALTY}
        for label, spec, explicit in (("ner", NER_MODEL, self.ner_model), ("emb", EMBED_MODEL, self.embed_model)):
            try:
                from rexeval.backends.models import resolve

                opts[label] = resolve(spec, explicit).tag
            except MetricUnavailable:
                opts[label] = spec.hub_id
        return opts

    def versions(self) -> dict[str, str]:
        return installed_versions("torch", "transformers", "medspacy")

    def check_available(self) -> None:
        import importlib.util

        for mod in ("torch", "transformers"):
            if importlib.util.find_spec(mod) is None:
                raise MetricUnavailable(f"ratescore needs {mod}", install_hint("models"))
        if self.splitter == "pyrush" and not _pyrush_available():
            raise MetricUnavailable("splitter 'pyrush' needs medspacy", "pip install medspacy")
        from rexeval.backends.models import check_files, resolve

        check_files(resolve(NER_MODEL, self.ner_model))  # missing or corrupt: skipped here with the fix
        check_files(resolve(EMBED_MODEL, self.embed_model))

    # -- pipeline
    def split(self, text: str) -> list[str]:
        if self._splitter_name() == "pyrush":
            return split_sentences_pyrush(text)
        return split_sentences_rules(text)

    def entities(self, texts: Sequence[str]) -> list[list[Entity]]:
        """Entities of each text (cached by content under the NER model's tag and the splitter)."""
        from rexeval.base.cache import TextCache

        ner = _load(NER_MODEL, self.ner_model, _device(self.device), True)
        cache = TextCache(f"ratescore-ner|{ner.tag}|split:{self._splitter_name()}|max{NER_MAX_TOKENS}")
        return cache.compute(list(texts), lambda todo: self._run_ner(ner, todo))

    def _run_ner(self, ner: _Loaded, texts: list[str]) -> list[list[Entity]]:
        sentences: list[str] = []
        owner: list[int] = []
        for t, text in enumerate(texts):
            for s in self.split(text):
                sentences.append(s)
                owner.append(t)
        result: list[list[Entity]] = [[] for _ in texts]
        per_sentence: list[list[Entity]] = [[] for _ in sentences]
        for idx, enc, output in _length_batches(ner, sentences, self.batch_size, NER_MAX_TOKENS):
            pred = output.logits.argmax(dim=-1).cpu().tolist()
            for row, k in enumerate(idx):
                n = int(enc["attention_mask"][row].sum())
                ids = enc["input_ids"][row][:n].tolist()
                tokens = ner.tokenizer.convert_ids_to_tokens(ids)
                tags = [ner.id2label[c] for c in pred[row][:n]]  # type: ignore[index]  # a token classifier's
                per_sentence[k] = [
                    (ner.tokenizer.convert_tokens_to_string(tokens[s : e + 1]), typ.upper())
                    for s, e, typ in spans_from_tags(tokens, tags)
                ]
        for k, t in enumerate(owner):
            result[t].extend(per_sentence[k])
        return result

    def embed(self, strings: Sequence[str]) -> list[np.ndarray]:
        """BioLORD [CLS] vectors (≤ 30 tokens) of entity strings, cached by content."""
        from rexeval.base.cache import TextCache

        enc_model = _load(EMBED_MODEL, self.embed_model, _device(self.device), False)
        cache = TextCache(f"ratescore-emb|{enc_model.tag}|cls|max{EMBED_MAX_TOKENS}")
        return cache.compute(list(strings), lambda todo: self._run_embed(enc_model, todo))

    def _run_embed(self, enc_model: _Loaded, strings: list[str]) -> list[np.ndarray]:
        out: list[np.ndarray | None] = [None] * len(strings)
        for idx, _, output in _length_batches(enc_model, strings, self.batch_size, EMBED_MAX_TOKENS):
            cls = output.last_hidden_state[:, 0, :].float().cpu().numpy()
            for row, k in enumerate(idx):
                out[k] = cls[row].copy()
        return out  # type: ignore[return-value]

    def score_pairs(self, predictions: Sequence[str], references: Sequence[str]) -> np.ndarray:
        ents = self.entities(list(predictions) + list(references))
        pred_ents, ref_ents = ents[: len(predictions)], ents[len(predictions) :]
        strings = list(dict.fromkeys(e[0] for es in ents for e in es))
        vectors = dict(zip(strings, self.embed(strings), strict=False)) if strings else {}

        def mat(es: list[Entity]) -> np.ndarray:
            return np.stack([vectors[e[0]] for e in es]) if es else np.zeros((0, 1))

        out = np.empty(len(predictions))
        for i, (pe, re_) in enumerate(zip(pred_ents, ref_ents, strict=False)):
            out[i] = pair_score(mat(re_), [e[1] for e in re_], mat(pe), [e[1] for e in pe])
        return out

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        values = self.score_pairs(batch.predictions, batch.references)
        if batch.progress:
            batch.progress(len(batch))
        return {"ratescore": values}
