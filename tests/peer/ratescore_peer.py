"""Run the reference RaTEScore package (PyPI ``RaTEScore``) on a JSON job; used by the equality test.

Usage: python ratescore_peer.py job.json out.json   (HF_HUB_CACHE must point at the checkpoints)
job = {"predictions": [...], "references": [...]}; out = {"scores": [...], "sentences": [[...], ...],
"entities_pred": [...], "entities_ref": [...]}. Runs in the peer's own environment (medspacy, transformers 4.x).
"""

import json
import sys

from loguru import logger

logger.disable("PyRuSH")

from RaTEScore import RaTEScore  # noqa: E402
from RaTEScore.score import run_ner  # noqa: E402
from RaTEScore.utils import sentence_split  # noqa: E402

job = json.load(open(sys.argv[1]))
scorer = RaTEScore(use_gpu=False, batch_size=1)
preds, refs = job["predictions"], job["references"]
out = {
    "scores": [float(x) for x in scorer.compute_score(preds, refs)],
    "sentences": [sentence_split([t])[0] for t in preds + refs],
    "entities_pred": run_ner(preds, scorer.idx2label, scorer.tokenizer, scorer.model, scorer.device, 1),
    "entities_ref": run_ner(refs, scorer.idx2label, scorer.tokenizer, scorer.model, scorer.device, 1),
}
json.dump(out, open(sys.argv[2], "w"))
