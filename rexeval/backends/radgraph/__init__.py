"""RadGraph inference in rexeval's own PyTorch (transformers 5; no radgraph package needed).

The radgraph package (0.1.18) runs a DyGIE++ model under a vendored allennlp. This package reimplements
the inference path of its three model types (``radgraph``, ``radgraph-xl``, ``modern-radgraph-xl``) on the
published archives (config.json + vocabulary/ + weights.th):

* :mod:`rexeval.backends.radgraph.text`: the package's text preprocessing (one sentence per report).
* :mod:`rexeval.backends.radgraph.archive`: safe unpacking, vocabulary files, ``torch.load(weights_only=True)``.
* :mod:`rexeval.backends.radgraph.model`: the encoder through transformers' auto classes, word-piece pooling,
  span enumeration, span heads, relation pruning and scoring, decoding into the annotation JSON;
  batched across reports with a token budget so that no annotation depends on its batch.
"""

from rexeval.backends.radgraph.model import NativeRadGraph

__all__ = ["NativeRadGraph"]
