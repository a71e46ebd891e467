"""Annotations of the radgraph package (0.1.18) for a list of texts: the peer that rexeval's native
RadGraph is checked against. Runs in a side environment (torch, transformers<5, radgraph==0.1.18); imports
nothing from rexeval.

    python radgraph_package_annotations.py --hub-cache DIR --model-type radgraph --texts in.json --out out.json

DIR is a Hugging Face hub cache holding ``StanfordAIMI/RRG_scorers/<model>.tar.gz`` and the encoder
named in its config.json (``rexeval models random NAME -o DIR --encoder-weights`` writes both). The output
is a JSON list, one annotation per text, null where the package raised on that text (the package parses a
whole list in one call, so a failing text is retried alone). Also prints the package's versions.
"""

import argparse
import contextlib
import glob
import json
import os
import resource
import sys
import tarfile
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hub-cache", required=True)
    ap.add_argument("--model-type", required=True)
    ap.add_argument("--texts", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--chunk", type=int, default=64)
    args = ap.parse_args()
    os.environ["HF_HUB_CACHE"] = args.hub_cache
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    archive = sorted(glob.glob(os.path.join(args.hub_cache, "models--StanfordAIMI--RRG_scorers", "snapshots", "*", args.model_type + ".tar.gz")))[0]
    cache = tempfile.mkdtemp(prefix="radgraph-peer-")
    target = os.path.join(cache, args.model_type)
    os.makedirs(target)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(target, filter="data")
    with contextlib.redirect_stdout(sys.stderr):
        import importlib.metadata as md

        import radgraph
        import torch

        t0 = time.process_time()
        module = radgraph.RadGraph(model_type=args.model_type, model_cache_dir=cache, cuda=-1)
        load = time.process_time() - t0
        texts = json.load(open(args.texts))
        out = []
        t0 = time.process_time()
        for i in range(0, len(texts), args.chunk):
            chunk = texts[i : i + args.chunk]
            try:
                with torch.no_grad():
                    res = module(chunk)
                out.extend(res.get(str(j)) for j in range(len(chunk)))
            except Exception:
                for t in chunk:
                    try:
                        with torch.no_grad():
                            out.append(module([t]).get("0"))
                    except Exception:
                        out.append(None)
        parse = time.process_time() - t0
    json.dump(out, open(args.out, "w"))
    print(json.dumps({"radgraph": md.version("radgraph"), "transformers": md.version("transformers"),
                      "torch": md.version("torch"), "load_cpu_s": load, "parse_cpu_s": parse,
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
