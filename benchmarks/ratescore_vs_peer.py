"""rexeval's RaTEScore against the reference package (PyPI ``RaTEScore``) on the same texts and weights.

Run in an environment that has the reference package and medspacy (so both use PyRuSH), with the models
in the HF cache (the real ones, or the random-weight test checkpoints of ``tests/_rate_models.py``)::

    HF_HUB_CACHE=... PYTHONPATH=. python benchmarks/ratescore_vs_peer.py [N]

Texts: the MoERad-IU predictions against the ReXrank IU X-ray test references (../shared). Prints the
largest per-study difference, whether every entity list is identical, and both wall times (cold and
cached for rexeval).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared")) / "data"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 590
    d = SHARED / "conformance" / "moerad_iu_test"
    preds = pd.read_csv(d / "preds.csv")["report"].fillna("").astype(str).tolist()[:n]
    refs = pd.read_csv(d / "gts.csv")["report"].fillna("").astype(str).tolist()[:n]
    keep = [i for i in range(len(preds)) if preds[i].strip() and refs[i].strip()]  # the reference misaligns empties
    preds, refs = [preds[i] for i in keep], [refs[i] for i in keep]

    from loguru import logger

    logger.disable("PyRuSH")
    from RaTEScore import RaTEScore as Peer
    from RaTEScore.score import run_ner

    t = time.perf_counter()
    peer = Peer(use_gpu=False, batch_size=1)
    peer_scores = np.array(peer.compute_score(preds, refs))
    t_peer = time.perf_counter() - t
    peer_ents = run_ner(preds + refs, peer.idx2label, peer.tokenizer, peer.model, peer.device, 1)

    os.environ["REXEVAL_CACHE"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / f"rexeval-bench-{os.getpid()}")
    from rexeval.metrics.ratescore import RaTEScore

    ours = RaTEScore(splitter="pyrush", device="cpu")
    t = time.perf_counter()
    our_scores = ours.score_pairs(preds, refs)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    ours.score_pairs(preds, refs)
    t_cached = time.perf_counter() - t
    our_ents = ours.entities(preds + refs)
    same_ents = our_ents == [[tuple(e) for e in es] for es in peer_ents]
    print(f"pairs: {len(preds)}")
    print(f"max |rexeval - RaTEScore| per study: {np.max(np.abs(our_scores - peer_scores)):.2e}")
    print(f"mean: rexeval {our_scores.mean():.6f}  RaTEScore {peer_scores.mean():.6f}")
    diff = np.abs(our_scores - peer_scores)
    print(f"studies differing by > 1e-6: {int((diff > 1e-6).sum())} (indices {np.flatnonzero(diff > 1e-6)[:10].tolist()})")
    print(f"entity lists identical for all {2 * len(preds)} texts: {same_ents}")
    print(f"wall: RaTEScore {t_peer:.1f}s (incl. model load), rexeval {t_ours:.1f}s cold (incl. load), "
          f"{t_cached:.2f}s cached; ratio cold {t_peer / t_ours:.2f}x")


if __name__ == "__main__":
    main()
