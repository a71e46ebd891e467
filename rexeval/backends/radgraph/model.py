"""Native DyGIE++ inference for the radgraph package's model archives.

What the package computes, per report (one sentence):

1. Words: :func:`rexeval.backends.radgraph.text.report_words`.
2. Word pieces: every word is tokenised on its own (no special tokens); the concatenated pieces are cut into
   segments of ``max_length - specials`` pieces, each wrapped in the tokenizer's start/end tokens and encoded
   independently (allennlp's long-sequence folding). A word's vector is the mean of its pieces' last-layer
   vectors (0 for a word without pieces).
3. Spans: every (start, end) with width <= max_span_width, in (start, end) order; a span's vector is
   [start word, end word, width embedding].
4. NER: feed-forward + linear per span, a fixed 0 score for the null label prepended; argmax != null is an
   entity.
5. Relations: a mention scorer keeps the top ceil(words * spans_per_word) spans (in span order); every
   ordered pair (i, j) of kept spans, i == j included, scores [e_i, e_j, e_i * e_j] with feed-forward + linear
   plus both mention scores, null 0 prepended; argmax != null is a relation.
6. Decoding: entities in span order numbered from "1"; an entity's relations in pair order, kept only when
   the target span is an entity.

Steps 1-2 run once per distinct text; the encoder runs on segments of many reports at once (sorted by
length, packed up to a token budget, padded under an attention mask), and steps 3-6 run per report, so a
report's annotation does not depend on the other reports of its batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rexeval.backends.radgraph.archive import Archive
from rexeval.backends.radgraph.text import model_word, report_words
from rexeval.base.exceptions import ConfigError, MetricUnavailable

ENCODER_PREFIX = "_embedder.token_embedder_bert._matched_embedder.transformer_model."
WIDTH_KEY = "_endpoint_span_extractor._span_width_embedding.weight"
DTYPES = ("float32", "bfloat16", "float16")


def _feedforward(state: dict, prefix: str) -> list[tuple[Any, Any]]:
    layers: list[tuple[Any, Any]] = []
    while f"{prefix}._linear_layers.{len(layers)}.weight" in state:
        i = len(layers)
        layers.append((state[f"{prefix}._linear_layers.{i}.weight"], state[f"{prefix}._linear_layers.{i}.bias"]))
    if not layers:
        raise ConfigError(f"radgraph weights lack the feed-forward {prefix}")
    return layers


def _run_ff(x, layers):
    import torch.nn.functional as F

    for w, b in layers:  # allennlp FeedForward: linear, ReLU on every layer (dropout is off at inference)
        x = F.relu(F.linear(x, w, b))
    return x


class NativeRadGraph:
    """A radgraph archive's DyGIE model in plain torch + transformers: ``parse(texts)`` -> annotations."""

    def __init__(
        self,
        folder: str | Path,
        model_type: str,
        device: str = "cpu",
        dtype: str = "float32",
        max_tokens: int = 8192,
    ) -> None:
        import torch

        if dtype not in DTYPES:
            raise ConfigError(f"radgraph dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        self.archive = archive = Archive.load(Path(folder))
        self.model_type, self.device, self.dtype, self.max_tokens = model_type, torch.device(device), dtype, max_tokens
        cfg = archive.config["model"]
        modules = cfg.get("modules", {})
        if float(modules.get("coref", {}).get("coref_prop", 0) or 0) > 0:
            raise ConfigError("radgraph archive uses coreference propagation (coref_prop > 0): not supported")
        weights = cfg.get("loss_weights", {})
        if not (weights.get("ner", 0) > 0 and weights.get("relation", 0) > 0):
            raise ConfigError("radgraph archive must predict entities and relations (loss_weights ner/relation > 0)")
        self.max_span_width = int(cfg["max_span_width"])
        self.spans_per_word = float(modules["relation"]["spans_per_word"])
        ner_ns, rel_ns = f"{model_type}__ner_labels", f"{model_type}__relation_labels"
        for ns in (ner_ns, rel_ns):
            if ns not in archive.vocabulary:
                raise ConfigError(f"radgraph archive for {model_type} has no vocabulary namespace {ns}")
        self.ner_labels, self.relation_labels = archive.vocabulary[ner_ns], archive.vocabulary[rel_ns]
        if not self.ner_labels or self.ner_labels[0] != "":
            raise ConfigError(f"radgraph archive: namespace {ner_ns} must start with the null label ''")
        st = {k: v.float().to(self.device) for k, v in archive.state.items() if not k.startswith(ENCODER_PREFIX)}
        self.width_embedding = st[WIDTH_KEY]
        self.ner_ff = _feedforward(st, f"_ner._ner_scorers.{ner_ns}.0._module")
        self.ner_out = (st[f"_ner._ner_scorers.{ner_ns}.1._module.weight"], st[f"_ner._ner_scorers.{ner_ns}.1._module.bias"])
        pre = f"_relation._mention_pruners.{rel_ns}._scorer"
        self.prune_ff = _feedforward(st, f"{pre}.0._module")
        self.prune_out = (st[f"{pre}.1._module.weight"], st[f"{pre}.1._module.bias"])
        self.rel_ff = _feedforward(st, f"_relation._relation_feedforwards.{rel_ns}")
        self.rel_out = (st[f"_relation._relation_scorers.{rel_ns}.weight"], st[f"_relation._relation_scorers.{rel_ns}.bias"])
        if self.ner_out[0].shape[0] != len(self.ner_labels) - 1 or self.rel_out[0].shape[0] != len(self.relation_labels):
            raise ConfigError("radgraph archive: head sizes do not match the label vocabularies")
        self._load_encoder()
        self._pieces: dict[str, list[int]] = {}
        self._spans: dict[int, tuple[Any, Any]] = {}

    # -- encoder ------------------------------------------------------------------------------

    def _load_encoder(self) -> None:
        import torch
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        from rexeval.backends.models import hf_cache_dir

        name = self.archive.encoder_name
        try:
            # The cache folder is passed explicitly: huggingface_hub fixes its default at import time.
            where = {"cache_dir": str(hf_cache_dir()), "local_files_only": True}
            config = AutoConfig.from_pretrained(name, **where)
            self.tokenizer = AutoTokenizer.from_pretrained(name, **where)
        except OSError as exc:
            raise MetricUnavailable(
                f"radgraph encoder {name} (named in the archive's config.json): configuration or tokenizer not found locally ({exc.__class__.__name__})",
                f"run `huggingface-cli download {name} config.json` plus its tokenizer files on a machine with internet "
                "(only the configuration and tokenizer are needed: the weights come from the archive)",
            ) from None
        encoder = AutoModel.from_config(config)
        state = {k[len(ENCODER_PREFIX):]: v for k, v in self.archive.state.items() if k.startswith(ENCODER_PREFIX)}
        own = encoder.state_dict()
        # Older transformers saved buffers (position_ids) that current classes do not keep; nothing else differs.
        state = {k: v for k, v in state.items() if k in own or not k.endswith("position_ids")}
        missing = [k for k in own if k not in state and not k.endswith(("position_ids", "token_type_ids"))]
        unexpected = [k for k in state if k not in own]
        if missing or unexpected:
            raise ConfigError(
                f"radgraph archive: encoder weights do not fit {type(encoder).__name__} "
                f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
            )
        encoder.load_state_dict(state, strict=False)
        encoder.eval()
        if self.dtype != "float32":
            encoder.to(getattr(torch, self.dtype))
        self.encoder = encoder.to(self.device)
        # Special tokens, found as allennlp finds them: encode "a" with and without them.
        with_specials = self.tokenizer("a", add_special_tokens=True)["input_ids"]
        a = self.tokenizer("a", add_special_tokens=False)["input_ids"][0]
        at = with_specials.index(a)
        self.start_ids, self.end_ids = list(with_specials[:at]), list(with_specials[at + 1:])
        self.max_length: int = self.archive.max_length or getattr(config, "max_position_embeddings", 512)  # type: ignore[assignment]
        self.segment = self.max_length - len(self.start_ids) - len(self.end_ids)
        # allennlp re-wraps every folded segment with tokenizer.build_inputs_with_special_tokens, which in
        # transformers 4 adds nothing for a generic fast tokenizer (ModernBERT's): that model then runs on
        # bare pieces, with word offsets still counted as if a start token were there. Reproduced as is.
        self.wrap_segments = type(self.tokenizer).__name__ not in ("TokenizersBackend", "PreTrainedTokenizerFast")
        self.pad_id = self.tokenizer.pad_token_id or 0

    def _word_pieces(self, words: Sequence[str]) -> list[list[int]]:
        todo = sorted({w for w in words if w not in self._pieces})
        if todo:
            ids = self.tokenizer(todo, add_special_tokens=False)["input_ids"]
            self._pieces.update(zip(todo, ids))
        return [self._pieces[w] for w in words]

    def _rows(self, pieces: list[int]) -> tuple[int, list[list[int]]]:
        """The encoder inputs of one report: (length of allennlp's token_ids, rows of at most max_length)."""
        ids: list[int] = []
        for s in range(0, len(pieces), self.segment):
            chunk = pieces[s : s + self.segment]
            ids += self.start_ids + chunk + self.end_ids if self.wrap_segments else chunk
        if len(ids) <= self.max_length:
            return len(ids), [ids]
        return len(ids), [ids[i : i + self.max_length] for i in range(0, len(ids), self.max_length)]

    def _unfold(self, total: int, rows: list[Any]):
        """allennlp's PretrainedTransformerEmbedder._unfold_long_sequences on the rows' outputs."""
        import torch

        ns, ne, width = len(self.start_ids), len(self.end_ids), self.max_length
        hid = rows[0].shape[-1]
        padded = rows[0].new_zeros((len(rows), width, hid))
        for r, h in enumerate(rows):
            padded[r, : h.shape[0]] = h
        flat = padded.reshape(-1, hid)
        end_at = [total - i - 1 for i in range(ne)]
        start_emb, end_emb = flat[:ns], flat[end_at]
        body = padded[:, ns : width - ne].reshape(-1, hid)
        removed = len(rows) * (ns + ne) - ne
        body = torch.cat([body, body.new_zeros((ne, hid))], 0)
        body[[e - removed for e in end_at]] = end_emb
        return torch.cat([start_emb, body], 0)[: total - (len(rows) - 1) * (ns + ne)]

    def _encode(self, docs: list[list[int]]) -> list[Any]:
        """Per report, the embedder's word-piece sequence (as allennlp lays it out); rows of all reports
        are encoded together, shortest first, packed up to ``max_tokens`` padded tokens."""
        import torch

        layout = [self._rows(p) for p in docs]
        rows = [(d, r, ids) for d, (_, rs) in enumerate(layout) for r, ids in enumerate(rs) if ids]
        order = sorted(range(len(rows)), key=lambda i: len(rows[i][2]))
        got: dict[tuple[int, int], Any] = {}
        i = 0
        while i < len(order):
            j = i + 1
            while j < len(order) and (j - i + 1) * len(rows[order[j]][2]) <= self.max_tokens:
                j += 1
            batch = [rows[k] for k in order[i:j]]
            longest = len(batch[-1][2])
            ids = torch.full((len(batch), longest), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), longest), dtype=torch.long)
            for r, (_, _, seq) in enumerate(batch):
                ids[r, : len(seq)] = torch.tensor(seq)
                mask[r, : len(seq)] = 1
            with torch.inference_mode():
                hidden = self.encoder(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).last_hidden_state
            hidden = hidden.float()
            for r, (d, k, seq) in enumerate(batch):
                got[(d, k)] = hidden[r, : len(seq)]
            i = j
        hid = self.encoder.config.hidden_size
        out = []
        for d, (total, rs) in enumerate(layout):
            if total == 0:
                out.append(torch.zeros((0, hid), device=self.device))
            elif len(rs) == 1:
                out.append(got[(d, 0)])
            else:
                out.append(self._unfold(total, [got[(d, r)] for r in range(len(rs))]))
        return out

    def _pool(self, pieces_per_word: list[list[int]], hidden):
        """Each word's mean piece vector, summed and divided as allennlp's mismatched embedder does; a
        piece position outside the sequence counts as absent, a word without pieces gets 0."""
        import torch

        offsets, pos = [], len(self.start_ids)
        for p in pieces_per_word:
            offsets.append((pos, pos + len(p) - 1) if p else (-1, -1))
            pos += len(p)
        widest = max(b - a + 1 for a, b in offsets)
        rng = torch.arange(widest)
        starts = torch.tensor([a for a, _ in offsets]).unsqueeze(1)
        widths = torch.tensor([b - a for a, b in offsets]).unsqueeze(1)
        raw = starts + rng
        valid = (rng <= widths) & (raw < hidden.shape[0]) & (raw >= 0)
        idx = (raw * valid).to(self.device)
        valid = valid.to(self.device).unsqueeze(-1)
        if hidden.shape[0] == 0:
            hidden = hidden.new_zeros((1, self.encoder.config.hidden_size))
        total = (hidden[idx] * valid).sum(1)
        count = valid.sum(1)
        pooled = total / torch.clamp_min(count, 1)
        pooled[(count == 0).expand(pooled.shape)] = 0
        return pooled

    # -- span heads (per report) ----------------------------------------------------------------

    def _span_index(self, n: int):
        if n not in self._spans:
            import torch

            pairs = [(s, e) for s in range(n) for e in range(s, min(s + self.max_span_width, n))]
            t = torch.tensor(pairs, dtype=torch.long, device=self.device)
            self._spans[n] = (t[:, 0], t[:, 1])
        return self._spans[n]

    def _heads(self, words: list[str], x) -> dict[str, Any]:
        import torch
        import torch.nn.functional as F

        n = len(words)
        starts, ends = self._span_index(n)
        spans = torch.cat([x[starts], x[ends], self.width_embedding[ends - starts]], -1)
        ner = F.linear(_run_ff(spans, self.ner_ff), *self.ner_out)
        ner = torch.cat([ner.new_zeros(ner.shape[0], 1), ner], -1)
        ner_label = ner.max(-1).indices
        # Relation module: keep the best-scoring spans (original order), score every ordered pair.
        mention = F.linear(_run_ff(spans, self.prune_ff), *self.prune_out).unsqueeze(0)  # (1, S, 1)
        keep = max(int(torch.ceil(torch.tensor([n]).float() * self.spans_per_word).long().item()), 1)
        top = mention.topk(keep, 1).indices.squeeze(-1)
        top = torch.sort(top, 1).values[0]
        top_emb = spans[top].unsqueeze(0)  # (1, k, D)
        top_score = mention[0, top].unsqueeze(0)  # (1, k, 1)
        k = top_emb.shape[1]
        first = top_emb.unsqueeze(2)
        second = top_emb.unsqueeze(1)
        pairs = torch.cat([first.repeat(1, 1, k, 1), second.repeat(1, k, 1, 1), first * second], 3)
        rel = F.linear(_run_ff(pairs.view(-1, pairs.shape[-1]), self.rel_ff), *self.rel_out).view(1, k, k, -1)
        rel += top_score.unsqueeze(-1) + top_score.transpose(1, 2).unsqueeze(-1)
        rel = torch.cat([rel.new_zeros(1, k, k, 1), rel], -1)
        rel_label = rel[0].max(-1).indices - 1
        return self._decode(words, starts.tolist(), ends.tolist(), ner_label.tolist(), top.tolist(), rel_label)

    def _decode(self, words, starts, ends, ner_label, top, rel_label) -> dict[str, Any]:
        entities_spans = [(s, e, self.ner_labels[lab]) for s, e, lab in zip(starts, ends, ner_label) if lab != 0]
        number = {(s, e): str(i + 1) for i, (s, e, _) in enumerate(entities_spans)}
        rels: dict[tuple[int, int], list[list[str]]] = {}
        for i, j in (rel_label >= 0).nonzero().tolist():
            src = (starts[top[i]], ends[top[i]])
            tgt = (starts[top[j]], ends[top[j]])
            if tgt in number:  # a relation to a span that is not an entity is dropped
                rels.setdefault(src, []).append([self.relation_labels[int(rel_label[i, j])], number[tgt]])
        entities = {
            number[(s, e)]: {
                "tokens": " ".join(words[s : e + 1]), "label": label, "start_ix": s, "end_ix": e,
                "relations": rels.get((s, e), []),
            }
            for s, e, label in entities_spans
        }
        return {"text": " ".join(words), "entities": entities, "data_source": None, "data_split": "inference"}

    # -- public --------------------------------------------------------------------------------

    def parse(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> list[dict[str, Any] | None]:
        """Annotations in the radgraph package's JSON, one per text (None where a text cannot be parsed:
        no words, or no word pieces at all, on which the package itself raises)."""
        import torch

        words = [report_words(t, self.model_type) for t in texts]
        pieces = [self._word_pieces([model_word(w) for w in ws]) for ws in words]
        flat = [[i for p in ps for i in p] for ps in pieces]
        hidden = self._encode(flat)
        out: list[dict[str, Any] | None] = []
        with torch.inference_mode():
            for ws, ps, h in zip(words, pieces, hidden):
                out.append(self._heads(ws, self._pool(ps, h)) if ws else None)
                if progress:
                    progress(1)
        return out

