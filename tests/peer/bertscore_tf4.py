"""Run under transformers<5 (a side venv with bert-score): bert_score with the genuine slow
RobertaTokenizer, whose encode() honours add_prefix_space=True, against rexeval's BertScore on the
same random weights; the snapshot carries no add_prefix_space flag, as the real hub repo.
Prints one JSON line. Run with the checkout on PYTHONPATH. Used by tests/test_bertscore.py::test_equals_bert_score_under_transformers4."""

import json
import os
import sys
from pathlib import Path

from tests.helpers.model_fixtures import build_distilroberta  # noqa: E402

hub = Path(sys.argv[1])
snap = build_distilroberta(hub)
(snap / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 512}))
os.environ.update(HF_HUB_CACHE=str(hub), HF_HUB_OFFLINE="1", REXEVAL_CACHE="off")

import bert_score  # noqa: E402
import transformers  # noqa: E402

from rexeval.metrics.bertscore import BertScore  # noqa: E402

pairs = json.loads(Path(sys.argv[2]).read_text())
p, g = pairs["preds"], pairs["refs"]
base = Path(bert_score.__file__).parent / "rescale_baseline" / "en" / "distilroberta-base.tsv"
s = bert_score.BERTScorer(model_type=str(snap), num_layers=5, rescale_with_baseline=True, idf=False, lang="en",
                          baseline_path=str(base), device="cpu")
P, R, F = s.score(p, g)
m = BertScore(device="cpu")
ours = m.score_pairs(p, g)
print(json.dumps({
    "transformers": transformers.__version__,
    "ids_equal": all(m.encode(t) == bert_score.utils.sent_encode(s._tokenizer, t) for t in p + g),
    "ours": ours["bertscore"].tolist(), "peer": F.tolist(),
    "ours_p": ours["bertscore_p"].tolist(), "peer_p": P.tolist(),
}))
