"""``temporal_f1``: temporal-entity F1 (TEM score) as the RadEval package (2.x) computes it.

RadEval (after Libra's ``temporal_f1``) takes, per report, the set of *change words* it mentions:
the 44 temporal keywords of Bannur et al. (CVPR 2023: new, resolved, unchanged, increased, worsening,
stable, ...) found (a) as whole words by a regex in the cleaned, lower-cased text and (b) as
observation entities of a radiology NER model whose text is exactly a keyword. The per-study value is
an F1 over the two sets with the peer's epsilon terms:
P = (tp + e) / (|pred| + e), R = (tp + e) / (|ref| + e), F = 2PR / (P + R + e), e = 1e-10;
1 when neither report has a change word, e (not 0) when only the prediction has some.

Cleaning (before the regex): newlines -> space, ``_``/``-`` runs -> space, every character other than
word characters, whitespace and ``.,:;()-`` removed, whitespace runs collapsed.

The peer's NER is Stanza's radiology model (OBSERVATION and OBSERVATION_MODIFIER entities). rexeval
uses the RadGraph parser instead (``ner="radgraph"``, the default: observation entities, i.e. labels
``OBS-*`` / ``Observation::*``), through :meth:`rexeval.metrics.radgraph.RadGraph.parse`; ``ner="none"``
(or ``REXEVAL_TEMPORAL_F1_NER=none``) uses the keyword regex alone and needs no model. The NER side only adds a keyword the regex cannot see
in the cleaned text (e.g. ``stable/unchanged`` becomes one word there), so the choice rarely matters;
it is recorded in the signature.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from rexeval.base.exceptions import ConfigError
from rexeval.metrics.base import Batch, Metric, Output, mean_of

#: Bannur et al. 2023's temporal keywords, as RadEval lists them (44 words).
KEYWORDS = frozenset("""
bigger change cleared constant decrease decreased decreasing elevated elevation enlarged enlargement
enlarging expanded greater growing improved improvement improving increase increased increasing larger new
persistence persistent persisting progression progressive reduced removal resolution resolved resolving
smaller stability stable stably unchanged unfolded worse worsen worsened worsening unaltered
""".split())
EPSILON = 1e-10
# The peer joins its keyword set in Python's set order; alternation order cannot change which whole
# words match here (no keyword is a prefix of another followed by a word boundary), so sort for stability.
_KEYWORD_RE = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(KEYWORDS)) + r")\b")


def clean(text: str) -> str:
    """The peer's text cleaning before its keyword regex."""
    text = re.sub(r"\n+", " ", text)
    text = re.sub(r"[_-]+", " ", text)
    text = re.sub(r"[^\w\s.,:;()-]", "", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def keyword_words(text: str) -> set[str]:
    return {m.group().lower() for m in _KEYWORD_RE.finditer(clean(text).lower())}


def observation_words(annotation: Mapping[str, Any] | None) -> set[str]:
    """Change words that RadGraph tagged as observations (the NER side of the union)."""
    if not annotation:
        return set()
    words = set()
    for ent in annotation.get("entities", {}).values():
        label = str(ent.get("label", ""))
        if label.startswith(("OBS", "Observation")):
            token = str(ent.get("tokens", "")).lower()
            if token in KEYWORDS:
                words.add(token)
    return words


def tem_f1(pred: Iterable[str], ref: Iterable[str], epsilon: float = EPSILON) -> float:
    pred, ref = set(pred), set(ref)
    if not ref:
        return 1.0 if not pred else epsilon
    tp = len(pred & ref)
    p = (tp + epsilon) / (len(pred) + epsilon)
    r = (tp + epsilon) / (len(ref) + epsilon)
    return (2 * p * r) / (p + r + epsilon)


class TemporalF1(Metric):
    name = "temporal_f1"
    default = False
    #: Models of other metrics it needs (for ``rexeval metrics``): the RadGraph parser for the NER side.
    uses_models = ("radgraph",)
    description = "temporal-entity F1 over change words (new, resolved, unchanged, ...), as RadEval computes it"

    def __init__(self, ner: str | None = None, radgraph_model: str = "radgraph", **radgraph_options: Any) -> None:
        import os

        ner = ner or os.environ.get("REXEVAL_TEMPORAL_F1_NER") or "radgraph"
        if ner not in ("radgraph", "none"):
            raise ConfigError(f"temporal_f1 ner must be 'radgraph' or 'none', not {ner!r}")
        self.ner, self.radgraph_model, self.radgraph_options = ner, radgraph_model, radgraph_options
        self._radgraph: Any = None

    def outputs(self) -> list[Output]:
        return [Output("temporal_f1", True, (0.0, 1.0), mean_of("temporal_f1"),
                       "temporal-entity F1 (1 when neither report states a change)")]

    def radgraph(self) -> Any:
        if self._radgraph is None:
            from rexeval.metrics.radgraph import RadGraph

            self._radgraph = RadGraph(model=self.radgraph_model, **self.radgraph_options)
        return self._radgraph

    def check_available(self) -> None:
        if self.ner == "radgraph":
            from rexeval.base.exceptions import MetricUnavailable

            try:
                self.radgraph().check_available()
            except MetricUnavailable as exc:
                raise MetricUnavailable(f"temporal_f1 (ner=radgraph): {exc.reason}",
                                        f"{exc.fix}; or score with the keyword regex alone: REXEVAL_TEMPORAL_F1_NER=none"
                                        ) from None

    def options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"ner": self.ner, "keywords": "bannur2023-44", "eps": EPSILON}
        if self.ner == "radgraph":
            opts["radgraph"] = self.radgraph_model
        return opts

    def words(self, texts: Sequence[str]) -> list[set[str] | None]:
        """Each text's change words (None when the parser failed on it)."""
        if self.ner == "none":
            return [keyword_words(t) for t in texts]
        anns = self.radgraph().parse(list(texts))
        return [None if a is None else keyword_words(t) | observation_words(a) for t, a in zip(texts, anns)]

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        n = len(batch)
        words = self.words(list(batch.predictions) + list(batch.references))
        out = np.full(n, np.nan)
        for i in range(n):
            pred, ref = words[i], words[n + i]
            if pred is not None and ref is not None:
                out[i] = tem_f1(pred, ref)
        if batch.progress:
            batch.progress(n)
        return {"temporal_f1": out}
