"""Native RadGraph against the radgraph package (0.1.18) on the same random-weight archive.

    python benchmarks/radgraph_equality.py --side-python /path/to/sidevenv/bin/python --size small

For each model type it builds a seeded random archive (``rexeval models random``'s builder, encoder
weights included because the package loads the encoder before the archive), parses the 590 MoERad IU
predictions, their 590 references and the edge cases below natively and with the package (side
environment, subprocess), and prints how many annotations are equal as a whole and entity for entity
(tokens, label, span) and relation for relation. ``--record FILE`` stores the package's annotations of the
edge cases on the small archives (gzip JSON): the committed CI reference of
tests/test_radgraph_native.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared"))
PEER = ROOT / "tests" / "peer" / "radgraph_package_annotations.py"
MODEL_TYPES = ("radgraph", "radgraph-xl", "modern-radgraph-xl")

LONG = " ".join(["The cardiomediastinal silhouette is within normal limits for size and contour."] * 60)
EDGE_CASES = [
    "",  # read as "None" by the package
    "   ",
    "\n\n",
    ".",
    "...!?",
    "( ) / , : .",
    "No",
    "1.5 cm nodule in the right upper lobe.",
    "Nodule measures 1.5 x 2.0 cm (previously 1.2 cm).",
    "Effusion increased by 25%. Opacity (50%), stable.",
    "Lungs clear.\nNo effusion.\n\nHeart normal.",
    "Lungs clear.\\nNo effusion.\\fStable.",
    'He said \\"stable\\" findings.',
    "Ménétrier-like café-au-lait opacité; naïve façade.",
    "肺野清晰。无胸腔积液。",
    "Pleural effusion \u2122 and ™ mark, emoji 🫁 lungs.",
    "\u200b",
    "Zero\u200bwidth joiner inside a word.",
    "T12/L1 level; C-spine; s/p CABG; AP/PA views.",
    "left-sided PICC line tip at the cavoatrial junction; ET tube 4.5 cm above carina.",
    "NO ACUTE CARDIOPULMONARY PROCESS. HEART SIZE NORMAL.",
    "a " * 300,
    LONG,  # far more than 512 word pieces: folded into segments
    " ".join(f"word{i}" for i in range(700)),
    "Stable appearance of the chest with no focal airspace consolidation pleural effusion or pneumothorax and the cardiomediastinal silhouette is normal in size and contour with intact osseous structures and no free air under the diaphragm " * 3,
    "/. /? /./?",
]


def iu_texts(n: int = 590) -> list[str]:
    """The first ``n`` MoERad IU predictions, then the first ``n`` references."""
    import pandas as pd

    folder = SHARED / "data" / "conformance" / "moerad_iu_test"
    preds = pd.read_csv(folder / "preds.csv", keep_default_na=False)
    gts = pd.read_csv(folder / "gts.csv", keep_default_na=False)
    return list(preds["report"])[:n] + list(gts["report"])[:n]


def compare(native: list, package: list) -> dict[str, int]:
    counts = {"texts": len(native), "equal": 0, "both_failed": 0, "entities": 0, "entities_equal": 0,
              "relations": 0, "relations_equal": 0}
    for a, b in zip(native, package):
        counts["equal"] += a == b
        if a is None or b is None:
            counts["both_failed"] += a is None and b is None
            continue
        ents_b = {k: (e["tokens"], e["label"], e["start_ix"], e["end_ix"]) for k, e in b["entities"].items()}
        ents_a = {k: (e["tokens"], e["label"], e["start_ix"], e["end_ix"]) for k, e in a["entities"].items()}
        counts["entities"] += len(ents_b)
        counts["entities_equal"] += sum(ents_a.get(k) == v for k, v in ents_b.items())
        rel_b = [(k, tuple(r)) for k, e in b["entities"].items() for r in e["relations"]]
        rel_a = {(k, tuple(r)) for k, e in a["entities"].items() for r in e["relations"]}
        counts["relations"] += len(rel_b)
        counts["relations_equal"] += sum(r in rel_a for r in rel_b)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--side-python", required=True)
    ap.add_argument("--size", default="small", choices=("small", "full"))
    ap.add_argument("--models", default=",".join(MODEL_TYPES))
    ap.add_argument("--edge-only", action="store_true")
    ap.add_argument("--iu", type=int, default=590, help="first N IU predictions and references (590: all)")
    ap.add_argument("--record", help="write the package's edge-case annotations (per model type) to this JSON")
    args = ap.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    from rexeval.backends.radgraph.archive import unpack
    from rexeval.backends.radgraph.model import NativeRadGraph
    from rexeval.backends.standins import build_radgraph

    texts = list(EDGE_CASES) + ([] if args.edge_only else iu_texts(args.iu))
    recorded = {}
    with tempfile.TemporaryDirectory() as tmp:
        hub = Path(tmp) / "hub"
        os.environ["HF_HUB_CACHE"] = str(hub)
        (Path(tmp) / "texts.json").write_text(json.dumps(texts))
        for model_type in args.models.split(","):
            archive = build_radgraph(hub, model_type, args.size, seed=0, encoder_weights=True)
            native = NativeRadGraph(unpack(archive, Path(tmp) / "unpacked" / model_type), model_type).parse(texts)
            out = Path(tmp) / f"{model_type}.json"
            res = subprocess.run([args.side_python, str(PEER), "--hub-cache", str(hub), "--model-type", model_type,
                                  "--texts", str(Path(tmp) / "texts.json"), "--out", str(out)],
                                 capture_output=True, text=True)
            if res.returncode:
                sys.exit(res.stderr[-3000:])
            package = json.loads(out.read_text())
            n_edge = len(EDGE_CASES)
            print(model_type, args.size, "edge cases:", json.dumps(compare(native[:n_edge], package[:n_edge])))
            if not args.edge_only:
                print(model_type, args.size, "IU preds+refs:", json.dumps(compare(native[n_edge:], package[n_edge:])))
            print("  package:", res.stdout.strip().splitlines()[-1])
            recorded[model_type] = package[:n_edge]
    if args.record:  # gzip: the random xl heads relate many span pairs of the long edge cases
        import gzip

        payload = json.dumps({"texts": EDGE_CASES, "size": args.size, "seed": 0, "annotations": recorded},
                             separators=(",", ":"), sort_keys=True).encode()
        Path(args.record).write_bytes(gzip.compress(payload, mtime=0))


if __name__ == "__main__":
    main()
