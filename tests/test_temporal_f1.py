"""temporal_f1 against RadEval's own F1Temporal (recorded in tests/data/temporal_f1_peer_recorded.json by
tests/helpers/temporal_cases.py; re-run live when REXEVAL_RADEVAL_PATH points at an install of the RadEval package)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rexeval.base.exceptions import ConfigError, MetricUnavailable
from rexeval.metrics import get_metric
from rexeval.metrics.base import Batch
from rexeval.metrics.temporal_f1 import KEYWORDS, TemporalF1, keyword_words, tem_f1
from tests.helpers.paths import shared_path
from tests.helpers.temporal_cases import CASES, peer_entities

ROOT = Path(__file__).resolve().parents[1]
RECORDED = json.loads((ROOT / "tests" / "data" / "temporal_f1_peer_recorded.json").read_text(encoding="utf-8"))


class _HandBuiltParser:
    """Stands in for RadGraph(...).parse: returns the hand-built annotation of each text."""

    def __init__(self, table: dict) -> None:
        self.table, self.calls = table, 0

    def parse(self, texts):
        self.calls += 1
        return [self.table.get(t, {"text": t, "entities": {}}) for t in texts]

    def check_available(self):
        pass


def _with_annotations() -> TemporalF1:
    table = {}
    for p, r, pa, ra in CASES:
        table[p], table[r] = pa, ra
    m = TemporalF1(ner="radgraph")
    m._radgraph = _HandBuiltParser(table)
    return m


def _score(metric, preds, refs):
    return metric.compute(Batch([f"s{i}" for i in range(len(preds))], preds, refs))["temporal_f1"]


def test_keyword_set_is_the_peers_44_words():
    assert len(KEYWORDS) == 44 and {"new", "resolved", "unchanged", "increased", "unaltered"} <= KEYWORDS


def test_hand_built_annotations_equal_the_peers_function():
    ours = _score(_with_annotations(), [c[0] for c in CASES], [c[1] for c in CASES])
    peer = RECORDED["cases"]
    assert ours.tolist() == peer["scores"]  # same formula, same float operations: exact
    m = _with_annotations()
    words = m.words([c[0] for c in CASES])
    assert [sorted(w) for w in words] == peer["pred_entities"]


def test_ner_adds_what_the_regex_cannot_see():
    # "Stable/unchanged": the peer's cleaning glues the two words, only the NER side finds them
    assert keyword_words("Stable/unchanged cardiomegaly.") == set()
    assert _score(_with_annotations(), [CASES[0][0]], [CASES[0][1]])[0] == pytest.approx(2 / 3)
    assert _score(TemporalF1(ner="none"), [CASES[0][0]], [CASES[0][1]])[0] < 1e-9  # {} vs {stable}


def test_epsilon_rules():
    assert tem_f1(set(), set()) == 1.0
    assert tem_f1({"new"}, set()) == 1e-10
    assert 0 < tem_f1(set(), {"new"}) < 1e-9


@pytest.fixture(scope="module")
def iu_pairs():
    folder = shared_path("conformance", "moerad_iu_test")
    p = pd.read_csv(folder / "preds.csv", dtype=str, keep_default_na=False).report.tolist()
    g = pd.read_csv(folder / "gts.csv", dtype=str, keep_default_na=False).report.tolist()
    return p, g


def test_590_iu_pairs_equal_the_peer_regex_side(iu_pairs):
    p, g = iu_pairs
    ours = _score(TemporalF1(ner="none"), p, g)
    assert len(ours) == RECORDED["iu_n"] == 590
    assert ours.tolist() == RECORDED["iu_regex_only_scores"]


def test_live_peer(tmp_path, iu_pairs):
    if not os.environ.get("REXEVAL_RADEVAL_PATH"):
        pytest.skip("set REXEVAL_RADEVAL_PATH to an install of the RadEval package to re-run the peer")
    ents = {}
    for p, r, pa, ra in CASES:
        ents[p], ents[r] = peer_entities(pa), peer_entities(ra)
    data = tmp_path / "in.json"
    data.write_text(json.dumps({"preds": [c[0] for c in CASES], "refs": [c[1] for c in CASES], "entities": ents}))
    res = subprocess.run([sys.executable, str(ROOT / "tests" / "helpers" / "peer_radeval.py"), "temporal", str(data)],
                         capture_output=True, text=True, env=os.environ, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout.strip().splitlines()[-1]) == RECORDED["cases"]


def test_batch_invariance_alone_shuffled_and_repeated_reference(iu_pairs):
    p, g = iu_pairs
    p, g = p[:40] + [c[0] for c in CASES], g[:40] + [c[1] for c in CASES]
    for metric in (TemporalF1(ner="none"), _with_annotations()):
        together = _score(metric, p, g)
        order = np.random.default_rng(0).permutation(len(p))
        shuffled = _score(metric, [p[i] for i in order], [g[i] for i in order])
        assert np.array_equal(shuffled, together[order])
        for i in range(0, len(p), 5):
            assert _score(metric, [p[i]], [g[i]])[0] == together[i]
        group = _score(metric, p[:8], [g[1]] * 8)
        assert [_score(metric, [p[i]], [g[1]])[0] for i in range(8)] == group.tolist()


def test_parser_failure_is_nan_and_missing_weights_skip_with_the_fix(tmp_path, monkeypatch):
    m = _with_annotations()
    m._radgraph.table["broken"] = None
    out = _score(m, ["broken", CASES[1][0]], [CASES[1][1], CASES[1][1]])
    assert np.isnan(out[0]) and out[1] == RECORDED["cases"]["scores"][1]
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.delenv("REXEVAL_TEMPORAL_F1_NER", raising=False)
    with pytest.raises(MetricUnavailable) as err:
        get_metric("temporal_f1").check_available()
    assert "REXEVAL_TEMPORAL_F1_NER=none" in err.value.fix and "rexeval models download" in err.value.fix
    with pytest.raises(ConfigError):
        TemporalF1(ner="stanza")


def test_longitudinal_reports_it_per_change_category(tmp_path):
    from typer.testing import CliRunner

    from rexeval.cli import app

    refs = pd.DataFrame([
        ("a1", "p1", "2020-01-01", "Small left pleural effusion."),
        ("a2", "p1", "2020-02-01", "Small left pleural effusion, unchanged."),
        ("a3", "p1", "2020-03-01", "Left pleural effusion has increased."),
        ("b1", "p2", "2021-01-01", "Right lower lobe consolidation."),
        ("b2", "p2", "2021-01-05", "New right upper lobe opacity."),
    ], columns=["study_id", "subject_id", "study_date", "section_findings"])
    preds = pd.DataFrame({"study_id": ["a1", "a2", "a3", "b1", "b2"],
                          "report": ["Effusion.", "Effusion unchanged.", "Effusion is stable.", "Consolidation.",
                                     "New opacity."]})
    refs.to_csv(tmp_path / "refs.csv", index=False)
    preds.to_csv(tmp_path / "model.csv", index=False)
    os.environ["REXEVAL_TEMPORAL_F1_NER"] = "none"
    try:
        res = CliRunner().invoke(app, ["longitudinal", str(tmp_path / "model.csv"), "--refs", str(tmp_path / "refs.csv"),
                                       "-m", "temporal_f1", "--bootstrap", "0", "-o", str(tmp_path / "out")])
    finally:
        del os.environ["REXEVAL_TEMPORAL_F1_NER"]
    assert res.exit_code == 0, res.output
    long = pd.read_csv(tmp_path / "out" / "longitudinal.csv")
    model = long[(long.system == "model") & (long.metric == "temporal_f1")].set_index("category")["value"]
    assert model["no change"] == 2 / (2 + 1e-10)  # {unchanged} vs {unchanged}: the peer's epsilon in F
    e = 1e-10  # {stable} vs {increased}: no overlap, P = R = e / (1 + e)
    assert model["progression"] == pytest.approx(2 * (e / (1 + e)) ** 2 / (2 * e / (1 + e) + e), rel=1e-12)
    assert model["new"] == 2 / (2 + 1e-10)
