"""Standalone RadGraph parse worker, run by rexeval in a separate Python environment.

The radgraph package (0.1.18) calls tokenizer APIs that transformers 5 removed, so where rexeval runs
under transformers 5 it starts this script with ``$REXEVAL_RADGRAPH_PYTHON`` (a venv holding torch,
transformers<5 and radgraph). It imports nothing from rexeval. Protocol, one JSON document per line:
stdin gets a list of texts, stdout answers a list of annotations (null where the package failed).
The package's own prints go to stderr so they never corrupt the protocol.
"""

import argparse
import json
import os
import sys

# Run as a script, this file's folder (rexeval/metrics/radgraph, rexeval's own radgraph
# metric) is sys.path[0]; drop it so that `import radgraph` finds only the package.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--model-cache-dir", required=True)
    ap.add_argument("--cuda", type=int, default=-1)
    args = ap.parse_args()
    out = sys.stdout
    sys.stdout = sys.stderr
    import radgraph
    import torch

    module = radgraph.RadGraph(model_type=args.model, model_cache_dir=args.model_cache_dir, cuda=args.cuda)
    out.write(json.dumps({"ready": True, "radgraph": getattr(radgraph, "__version__", None)}) + "\n")
    out.flush()
    for line in sys.stdin:
        texts = json.loads(line)
        with torch.no_grad():
            result = module(list(texts)) if texts else {}
        out.write(json.dumps([result.get(str(i)) for i in range(len(texts))]) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
