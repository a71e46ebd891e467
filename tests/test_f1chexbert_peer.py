"""Opt-in: rexeval's CheXbert and condition F1 against the f1chexbert package itself.

f1chexbert 0.0.2 cannot run beside transformers 5 (it calls ``encode_plus``) nor scikit-learn >= 1.6, so
it lives in its own environment (see benchmarks/chexbert_vs_f1chexbert.py). Set
``REXEVAL_F1CHEXBERT_PYTHON=/path/to/that/venv/bin/python`` to run this test; CI without it skips.
The in-CI equivalents are tests/test_chexbert.py (an independent implementation of the same recipe)
and tests/test_condition_f1.py (scikit-learn's classification_report, which f1chexbert calls).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.helpers.paths import shared_path

PEER = os.environ.get("REXEVAL_F1CHEXBERT_PYTHON")
from tests.helpers.paths import ROOT  # noqa: E402


@pytest.mark.slow
@pytest.mark.skipif(not PEER, reason="set REXEVAL_F1CHEXBERT_PYTHON to an environment with f1chexbert==0.0.2")
def test_labels_embeddings_and_f1_equal_f1chexbert(tmp_path):
    shared_path("tokenizers", "bert-base-uncased", "vocab.txt")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "chexbert_vs_f1chexbert.py"), "--peer-python", PEER,
         "--n", "8", "--workdir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=1800,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    m = re.search(r"labels equal: (\d+)/(\d+) texts", out)
    assert m and m.group(1) == m.group(2), out
    assert float(re.search(r"max \|delta\| = ([0-9.e+-]+)", out).group(1)) < 1e-4, out
    assert float(re.search(r"max \|rexeval - f1chexbert\| = ([0-9.e+-]+)", out).group(1)) < 1e-12, out
