"""Half-precision RadGraph against float32 on the same random-weight archive.

    python benchmarks/radgraph_precision.py [--size full] [--n 300]

Prints, per dtype (bfloat16, float16): the largest absolute difference of the pooled word vectors, and
how many annotations / entities / relations equal float32's, on MoERad IU references.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="small", choices=("small", "full"))
    ap.add_argument("--model", default="radgraph")
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    import radgraph_equality as eq
    import torch

    from rexeval.backends.radgraph.archive import unpack
    from rexeval.backends.radgraph.model import NativeRadGraph
    from rexeval.backends.radgraph.text import model_word, report_words
    from rexeval.backends.standins import build_radgraph

    texts = eq.iu_texts()[590 : 590 + args.n]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HF_HUB_CACHE"] = str(Path(tmp) / "hub")
        folder = unpack(build_radgraph(Path(tmp) / "hub", args.model, args.size), Path(tmp) / "m")
        models = {d: NativeRadGraph(folder, args.model, dtype=d) for d in ("float32", "bfloat16", "float16")}

        def vectors(m):
            words = [report_words(t, args.model) for t in texts]
            pieces = [m._word_pieces([model_word(w) for w in ws]) for ws in words]
            hidden = m._encode([[i for p in ps for i in p] for ps in pieces])
            return [m._pool(ps, h) for ps, h in zip(pieces, hidden)]

        ref_vec, ref_ann = vectors(models["float32"]), models["float32"].parse(texts)
        for d in ("bfloat16", "float16"):
            vec = vectors(models[d])
            diff = max(float((a - b).abs().max()) for a, b in zip(vec, ref_vec))
            scale = max(float(b.abs().max()) for b in ref_vec)
            print(f"{args.model} {args.size} {d}: max |word vector - float32| = {diff:.3g} (max |float32| {scale:.3g});",
                  "agreement with float32:", eq.compare(models[d].parse(texts), ref_ann))
        del torch


if __name__ == "__main__":
    main()
