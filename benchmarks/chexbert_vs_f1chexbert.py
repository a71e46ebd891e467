"""rexeval's CheXbert (labels, [CLS] embeddings, condition F1) against the f1chexbert package.

f1chexbert 0.0.2 needs transformers < 5 (it calls ``encode_plus``), so it runs in its own environment:

    python3 -m venv /work/venvs/f1chexbert
    /work/venvs/f1chexbert/bin/pip install torch==2.13.0 "transformers<5" "huggingface_hub<1" \
        "scikit-learn<1.6" appdirs pandas f1chexbert==0.0.2   # its forward() fails on sklearn >= 1.6
    python benchmarks/chexbert_vs_f1chexbert.py --peer-python /work/venvs/f1chexbert/bin/python [--n 64]

Both sides load the same random-weight ``chexbert.pth`` (bert-base-uncased shape, real vocabulary)
offline: rexeval from a temporary HF cache, f1chexbert from its appdirs cache (``$XDG_CACHE_HOME/
chexbert``) with ``bert-base-uncased`` config/vocab in the HF cache. Texts: f1chexbert's own test
reports plus the first N MoERad IU predictions and references. Printed: label agreement, max |Δ| of
the embeddings, and the F1/accuracy values both compute on the same precomputed random label matrices.
Timings are printed too (same machine, same texts): rexeval batched vs f1chexbert one text at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

F1CHEXBERT_TEST_TEXTS = [
    "No pleural effusion. Normal heart size.",
    "Normal heart size.",
    "Increased mild pulmonary edema and left basal atelectasis.",
    "Bilateral lower lobe bronchiectasis with improved right lower medial lung peribronchial consolidation.",
    "Elevated left hemidiaphragm and blunting of the left costophrenic angle although no definite evidence of "
    "pleural effusion seen on the lateral view.",
    "No pleural effusions.",
    "Enlarged heart.",
    "No evidence of pneumonia. Stable cardiomegaly.",
    "",
    "cardiomegaly " * 600,
]


def peer_worker(inp: Path, out: Path) -> None:
    """Runs inside the f1chexbert environment (no rexeval import)."""
    import numpy as np
    import pandas as pd
    import torch
    from f1chexbert import F1CheXbert
    from f1chexbert.f1chexbert import generate_attention_masks, tokenize

    job = json.loads(inp.read_text())
    texts = job["texts"]
    t0 = time.perf_counter()
    f1 = F1CheXbert(device="cpu")
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    labels = [f1.get_label(t, mode="classification") for t in texts]
    label_s = time.perf_counter() - t0
    embs = []
    with torch.no_grad():
        for t in texts:  # the CXR-Report-Metric encoder recipe, on the package's own model and tokenizer
            ids = tokenize(pd.Series([t]), f1.tokenizer)
            batch = torch.LongTensor(ids)
            mask = generate_attention_masks(batch, [batch.shape[1]], "cpu")
            embs.append(f1.model.bert(batch, attention_mask=mask)[0][:, 0, :][0].numpy().tolist())
    # F1 on precomputed labels: the package's forward() with get_label answering from the matrices
    f1_results = []
    for case in job["f1_cases"]:
        table = {f"h{i}": row for i, row in enumerate(case["hyps"])}
        table.update({f"r{i}": row for i, row in enumerate(case["refs"])})
        F1CheXbert.get_label = lambda self, report, mode="rrg", table=table: list(table[report])
        acc, pe_acc, cr, cr5 = f1([f"h{i}" for i in range(len(case["hyps"]))], [f"r{i}" for i in range(len(case["refs"]))])
        f1_results.append({"accuracy": float(acc), "pe_accuracy": np.asarray(pe_acc).tolist(), "cr": cr, "cr5": cr5})
    out.write_text(json.dumps({
        "labels": [[None if v == "" else v for v in row] for row in labels],
        "embeddings": embs, "f1": f1_results, "load_s": load_s, "label_s": label_s,
    }, default=float))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer-python", required=True)
    ap.add_argument("--n", type=int, default=64, help="IU texts (half predictions, half references)")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--peer-worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer_worker:
        peer_worker(Path(args.peer_worker[0]), Path(args.peer_worker[1]))
        return

    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the checkout's tests.helpers
    from tests.helpers.chexbert_fixtures import FAKE_REVISION, SHARED, build_chexbert, snapshot_dir

    work = Path(args.workdir or tempfile.mkdtemp(prefix="chexbert_peer_"))
    hub = work / "hub"
    ckpt = build_chexbert(hub, seed=5)
    # f1chexbert's places: appdirs cache for chexbert.pth, HF cache id "bert-base-uncased"
    (work / "xdg" / "chexbert").mkdir(parents=True, exist_ok=True)
    peer_ckpt = work / "xdg" / "chexbert" / "chexbert.pth"
    if not peer_ckpt.exists():
        os.link(ckpt, peer_ckpt)
    legacy = snapshot_dir(hub, "bert-base-uncased", FAKE_REVISION)
    shutil.copyfile(SHARED / "data" / "tokenizers" / "bert-base-uncased" / "vocab.txt", legacy / "vocab.txt")
    from transformers import BertConfig

    BertConfig().to_json_file(str(legacy / "config.json"))
    (legacy / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True, "model_max_length": 512}))

    iu = SHARED / "data" / "conformance" / "moerad_iu_test"
    preds = pd.read_csv(iu / "preds.csv")["report"].tolist()
    refs = pd.read_csv(iu / "gts.csv")["report"].tolist()
    texts = F1CHEXBERT_TEST_TEXTS + preds[: args.n // 2] + refs[: args.n // 2]

    rng = np.random.default_rng(0)
    cases = []
    for n in (5, 40, 200):
        hyps = rng.integers(0, 2, size=(n, 14))
        refs_m = rng.integers(0, 2, size=(n, 14)) * (rng.random((n, 14)) < 0.4)
        refs_m[:, 0] = 0  # a zero-support condition
        cases.append({"hyps": hyps.tolist(), "refs": refs_m.tolist()})
    (work / "job.json").write_text(json.dumps({"texts": texts, "f1_cases": cases}))

    env = dict(os.environ, HF_HUB_CACHE=str(hub), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               XDG_CACHE_HOME=str(work / "xdg"))
    env.pop("HF_HOME", None)
    t0 = time.perf_counter()
    subprocess.run([args.peer_python, __file__, "--peer-python", args.peer_python, "--peer-worker",
                    str(work / "job.json"), str(work / "peer.json")], check=True, env=env)
    peer_wall = time.perf_counter() - t0
    peer = json.loads((work / "peer.json").read_text())

    os.environ.update(HF_HUB_CACHE=str(hub), REXEVAL_CACHE="off")
    from rexeval.backends.labelers import CONDITIONS
    from rexeval.backends.models.chexbert import get_chexbert, heads_to_labels
    from rexeval.metrics.conditions import confusion_stats, exact_match, f1_from_sums, per_condition

    model = get_chexbert()
    t0 = time.perf_counter()
    model._load()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    emb, heads = model.encode(texts)
    enc_s = time.perf_counter() - t0
    ours = heads_to_labels(heads)
    theirs = np.array([[np.nan if v is None else float(v) for v in row] for row in peer["labels"]])
    same = (ours == theirs) | (np.isnan(ours) & np.isnan(theirs))
    peer_emb = np.array(peer["embeddings"])
    print(f"texts: {len(texts)} (f1chexbert's test reports, an empty one, a >512-token one, {args.n} MoERad IU texts)")
    print(f"labels equal: {int(same.all(axis=1).sum())}/{len(texts)} texts, {int(same.sum())}/{same.size} cells")
    print(f"label vectors distinct across texts: {len({tuple(np.nan_to_num(r, nan=9)) for r in ours})}")
    print(f"embeddings: max |delta| = {np.abs(emb - peer_emb).max():.3g}; "
          f"min cosine(ours, theirs) = {min(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) for a, b in zip(emb, peer_emb)):.9f}")
    worst = 0.0
    for case, res in zip(cases, peer["f1"]):
        hyps, refs_m = np.array(case["hyps"], float), np.array(case["refs"], float)
        five = [1, 4, 5, 7, 9]
        for idx, cr in ((list(range(14)), res["cr"]), (five, res["cr5"])):
            sums = confusion_stats(hyps[:, idx], refs_m[:, idx]).sum(0)
            for avg in ("micro", "macro", "weighted"):
                d = abs(float(f1_from_sums(sums, avg)) - cr[f"{avg} avg"]["f1-score"])
                worst = max(worst, d)
            pc = per_condition(hyps[:, idx], refs_m[:, idx], names=[CONDITIONS[i] for i in idx])
            for name, row in pc.items():
                worst = max(worst, abs(row["f1"] - cr[name]["f1-score"]), abs(row["precision"] - cr[name]["precision"]),
                            abs(row["recall"] - cr[name]["recall"]))
        acc = exact_match(hyps[:, five], refs_m[:, five]).mean()
        worst = max(worst, abs(acc - res["accuracy"]))
        worst = max(worst, float(np.abs(exact_match(hyps[:, five], refs_m[:, five]) - np.array(res["pe_accuracy"])).max()))
        print(f"F1 case n={len(hyps)}: f1chexbert 14 micro {res['cr']['micro avg']['f1-score']:.6f} "
              f"macro {res['cr']['macro avg']['f1-score']:.6f}, 5 micro {res['cr5']['micro avg']['f1-score']:.6f}; "
              f"accuracy {res['accuracy']:.4f}")
    print(f"F1/precision/recall/accuracy: max |rexeval - f1chexbert| = {worst:.3g} over {len(cases)} label matrices")
    print(f"time on this machine: rexeval load {load_s:.1f}s + encode {enc_s:.1f}s; "
          f"f1chexbert load {peer['load_s']:.1f}s + get_label {peer['label_s']:.1f}s (process wall {peer_wall:.1f}s); "
          f"label speed ratio {peer['label_s'] / enc_s:.2f}x")


if __name__ == "__main__":
    main()
