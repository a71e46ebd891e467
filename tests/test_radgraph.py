"""RadGraph F1: radgraph_combined (CXR-Report-Metric) and the radgraph package's reward levels."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from rexeval.base.exceptions import MetricUnavailable
from rexeval.metrics.base import Batch
from rexeval.metrics.radgraph import RadGraph, radgraph_combined, reward_levels, set_f1
from tests.helpers.paths import ROOT, shared_path


def ann(*entities):
    """Annotation from (tokens, label, [(rel_type, target_index_1based), ...]) tuples."""
    return {
        "text": " ".join(e[0] for e in entities),
        "entities": {
            str(i): {"tokens": e[0], "label": e[1], "relations": [[r, str(t)] for r, t in (e[2] if len(e) > 2 else [])]}
            for i, e in enumerate(entities, start=1)
        },
    }


EMPTY = {"text": "", "entities": {}}


# -- reward levels on the package's own example (no model needed) -----------------------------

def test_xl_example_pairs_exact():
    d = json.loads(shared_path("conformance", "radgraph", "radgraph_xl_example_pairs.json").read_text())
    got = [reward_levels(h, r) for h, r in zip(d["hyp_annotations"], d["ref_annotations"])]
    lists = [[g[k] for g in got] for k in range(3)]
    assert lists == d["expected_reward_lists_simple_partial_complete"]
    means = [float(np.mean(x)) for x in lists]
    assert means == d["expected_mean_reward_simple_partial_complete"]


def test_levels_equal_the_package_on_random_annotations():
    rewards = pytest.importorskip("radgraph.rewards")
    rng = random.Random(7)
    words = ["Effusion", "effusion", "lung", "Lung", "left", "base", "opacity"]
    labels = ["OBS-DP", "ANAT-DP", "OBS-DA", "OBS-U"]
    for _ in range(300):
        def rand():
            n = rng.randint(0, 5)
            ents = []
            for _i in range(n):
                rels = [(rng.choice(["modify", "located_at", "suggestive_of"]), rng.randint(1, n)) for _ in range(rng.randint(0, 2))]
                ents.append((rng.choice(words), rng.choice(labels), rels))
            return ann(*ents)
        h, r = rand(), rand()
        assert reward_levels(h, r) == tuple(rewards.compute_reward(h, r, "all"))


def test_levels_case_rule_of_0_1_18_and_lowercase_option():
    h = ann(("Effusion", "OBS-DP", [("located_at", 2)]), ("Left", "ANAT-DP"))
    r = ann(("effusion", "OBS-DP", [("located_at", 2)]), ("left", "ANAT-DP"))
    s, p, c = reward_levels(h, r)
    assert (s, p) == (0.0, 0.0)  # simple/partial keep case in radgraph 0.1.18
    # complete: the lower-cased relation tuple matches, "Left" (no relation) keeps its case: 1 of 2
    assert c == pytest.approx(0.5)
    h2 = ann(("Effusion", "OBS-DP", [("located_at", 2)]), ("left", "ANAT-DP"))
    assert reward_levels(h2, r)[2] == 1.0
    assert reward_levels(h, r, lowercase=True) == (1.0, 1.0, 1.0)


def test_the_two_case_rules_on_hand_made_annotations():
    # Stanford-AIMI/radgraph 87f11a1 lower-cases entity tokens at every level; PyPI 0.1.18 only in the
    # complete level's relation tuples. Hypothesis: 3 entities, reference: 2; "Effusion"/"effusion" and
    # "Left"/"left" differ in case only, "Base" has no counterpart.
    h = ann(("Effusion", "OBS-DP", [("located_at", 2)]), ("Left", "ANAT-DP"), ("Base", "ANAT-DP"))
    r = ann(("effusion", "OBS-DP", [("located_at", 2)]), ("left", "ANAT-DP"))
    # 0.1.18: simple and partial match nothing; complete items are {(effusion, OBS-DP, located_at, left),
    # (Left, ANAT-DP), (Base, ANAT-DP)} vs {(effusion, ..., left), (left, ANAT-DP)}: P 1/3, R 1/2, F1 0.4
    assert reward_levels(h, r) == (0.0, 0.0, pytest.approx(0.4))
    # 87f11a1: 2 of 3 hypothesis items match both reference items at every level: P 2/3, R 1, F1 0.8
    assert reward_levels(h, r, lowercase=True) == (pytest.approx(0.8), pytest.approx(0.8), pytest.approx(0.8))
    # the label keeps its case under both rules
    h_label = ann(("effusion", "obs-dp"))
    assert reward_levels(h_label, ann(("effusion", "OBS-DP")), lowercase=True) == (0.0, 0.0, 0.0)


def test_case_rules_on_the_package_example_with_the_hypothesis_case_changed():
    d = json.loads(shared_path("conformance", "radgraph", "radgraph_xl_example_pairs.json").read_text())

    def capitalised(a):
        return {**a, "entities": {k: {**e, "tokens": e["tokens"].capitalize()} for k, e in a["entities"].items()}}

    hyps = [capitalised(h) for h in d["hyp_annotations"]]
    assert hyps != d["hyp_annotations"]
    expected = d["expected_reward_lists_simple_partial_complete"]  # the package's values on the lower-case texts
    upstream = [reward_levels(h, r, lowercase=True) for h, r in zip(hyps, d["ref_annotations"])]
    assert [[g[k] for g in upstream] for k in range(3)] == expected  # case no longer matters
    pypi = [reward_levels(h, r) for h, r in zip(hyps, d["ref_annotations"])]
    assert all(g[0] < e for g, e in zip(pypi, expected[0]))  # 0.1.18: every simple score drops


def test_signature_records_the_case_rule():
    assert RadGraph().options()["levels_case"] == "rg0.1.18(complete-relations-lower)"
    assert "87f11a1" in RadGraph(lowercase=True).options()["levels_case"]


def test_levels_zero_when_either_side_has_no_entity():
    r = ann(("effusion", "OBS-DP"))
    assert reward_levels(EMPTY, r) == (0.0, 0.0, 0.0)
    assert reward_levels(r, EMPTY) == (0.0, 0.0, 0.0)
    assert reward_levels(EMPTY, EMPTY) == (0.0, 0.0, 0.0)


# -- radgraph_combined on hand-built annotations ---------------------------------------------

def test_set_f1_definition():
    assert set_f1(set(), set()) == 0.0  # undefined terms are 0: two empty sets score 0
    assert set_f1({1}, set()) == 0.0 and set_f1(set(), {1}) == 0.0
    assert set_f1({1, 2}, {2, 3, 4}) == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))


def test_combined_empty_sets():
    assert radgraph_combined(EMPTY, EMPTY) == 0.0
    g = ann(("effusion", "OBS-DP"))
    assert radgraph_combined(g, EMPTY) == 0.0
    assert radgraph_combined(EMPTY, g) == 0.0
    # Verbatim copy with entities but no relations: entity F1 1, relation F1 0 -> 0.5 (spec 5a).
    assert radgraph_combined(g, g) == 0.5


def test_combined_duplicates_and_case():
    g = ann(("effusion", "OBS-DP", [("located_at", 2)]), ("pleural", "ANAT-DP"))
    dup = ann(("effusion", "OBS-DP", [("located_at", 2)]), ("pleural", "ANAT-DP"), ("effusion", "OBS-DP", [("located_at", 2)]))
    assert radgraph_combined(g, dup) == 1.0  # sets: a repeated entity/relation counts once
    upper = ann(("Effusion", "OBS-DP", [("located_at", 2)]), ("pleural", "ANAT-DP"))
    # case-sensitive: entities 1/2 match (F1 .5), the one relation differs (F1 0)
    assert radgraph_combined(g, upper) == pytest.approx(0.25)
    other_label = ann(("effusion", "OBS-U", [("located_at", 2)]), ("pleural", "ANAT-DP"))
    assert radgraph_combined(g, other_label) == pytest.approx(0.25)


def test_combined_relation_needs_target_entity_and_type():
    g = ann(("effusion", "OBS-DP", [("located_at", 2)]), ("pleural", "ANAT-DP"))
    dangling = ann(("effusion", "OBS-DP", [("located_at", 9)]), ("pleural", "ANAT-DP"))
    assert radgraph_combined(g, dangling) == pytest.approx(0.5)  # dangling relation dropped
    wrong_type = ann(("effusion", "OBS-DP", [("modify", 2)]), ("pleural", "ANAT-DP"))
    assert radgraph_combined(g, wrong_type) == pytest.approx(0.5)
    partial = ann(("effusion", "OBS-DP", [("located_at", 2)]), ("pleural", "ANAT-DP"), ("heart", "ANAT-DP"))
    # entities: P 2/3, R 1 -> .8; relations: 1/1 -> 1
    assert radgraph_combined(g, partial) == pytest.approx((0.8 + 1.0) / 2)


# -- the metric, with the radgraph package replaced only at its model boundary -----------------

class FakeParser:
    """Stands in for the parser (the DyGIE model): text -> annotation from a table."""

    calls: list[list[str]] = []

    def __init__(self, model, archive, device="cpu", python=None, dtype="float32", max_tokens=8192):
        self.model = model

    def __call__(self, texts, progress=None):
        FakeParser.calls.append(list(texts))
        return [TABLE.get(t) for t in texts]


TABLE = {
    "Small left effusion.": ann(("left", "ANAT-DP"), ("effusion", "OBS-DP", [("located_at", 1)])),
    "Left effusion.": ann(("Left", "ANAT-DP"), ("effusion", "OBS-DP", [("located_at", 1)])),
    "No pneumothorax.": ann(("pneumothorax", "OBS-DA")),
    "Lungs clear.": ann(("Lungs", "ANAT-DP"), ("clear", "OBS-DP", [("located_at", 1)])),
    # "Garbled." is missing: the parser fails on it -> NaN
}


@pytest.fixture
def fake_radgraph(monkeypatch, tmp_path):
    import rexeval.metrics.radgraph as rg

    archive = tmp_path / "radgraph.tar.gz"
    archive.write_bytes(b"not a real archive; the parser is replaced")
    monkeypatch.setenv("REXEVAL_RADGRAPH_DIR", str(tmp_path))
    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(rg, "RadGraphParser", FakeParser)
    monkeypatch.setattr(rg, "check_archive", lambda *args: None)  # no archive to unpack: the parser is replaced
    monkeypatch.setattr(rg, "parser_mode", lambda python=None: ("inprocess", None))
    FakeParser.calls = []
    return rg


def _score(metric, preds, refs):
    return metric.compute(Batch([str(i) for i in range(len(preds))], preds, refs))


def test_metric_columns_via_parse_boundary(fake_radgraph):
    m = RadGraph()
    m.check_available()
    preds = ["Left effusion.", "", "No pneumothorax.", "Garbled."]
    refs = ["Small left effusion.", "Lungs clear.", "No pneumothorax.", "Lungs clear."]
    out = _score(m, preds, refs)
    assert out["radgraph"][0] == pytest.approx(radgraph_combined(TABLE[refs[0]], TABLE[preds[0]]))
    assert out["radgraph"][1] == 0.0 and out["radgraph_simple"][1] == 0.0  # empty prediction
    assert out["radgraph"][2] == 0.5 and out["radgraph_simple"][2] == 1.0
    assert np.isnan(out["radgraph"][3])  # parser failure recorded as NaN, never 0
    assert out["radgraph_complete"][0] == reward_levels(TABLE[preds[0]], TABLE[refs[0]])[2]
    assert "" not in [t for call in FakeParser.calls for t in call]  # empty text never reaches the model
    sig = m.signature()
    assert "model:radgraph" in sig and "case-sensitive" in sig and "rg0.1.18" in sig and "#sha256:" in sig


def test_parses_cached_by_content_hash(fake_radgraph):
    m = RadGraph()
    preds, refs = ["Left effusion."] * 3, ["Small left effusion."] * 3
    _score(m, preds, refs)
    assert sorted(t for c in FakeParser.calls for t in c) == ["Left effusion.", "Small left effusion."]
    FakeParser.calls = []
    _score(RadGraph(), ["No pneumothorax."], ["Small left effusion."])  # fresh metric, same disk cache
    assert [t for c in FakeParser.calls for t in c] == ["No pneumothorax."]


def test_batch_invariance(fake_radgraph):
    preds = ["Left effusion.", "No pneumothorax.", "Lungs clear.", "Small left effusion."]
    refs = ["Small left effusion.", "No pneumothorax.", "Small left effusion.", "Lungs clear."]
    full = _score(RadGraph(), preds, refs)
    perm = [2, 0, 3, 1]
    shuffled = _score(RadGraph(), [preds[i] for i in perm], [refs[i] for i in perm])
    for i in range(4):
        alone = _score(RadGraph(), [preds[i]], [refs[i]])
        group = _score(RadGraph(), preds, [refs[i]] * 4)  # GRPO: one reference, many candidates
        group8 = _score(RadGraph(), [preds[i]] * 8, [refs[i]] * 8)
        for key in full:
            assert alone[key][0] == full[key][i]
            assert shuffled[key][perm.index(i)] == full[key][i]
            assert np.all(group8[key] == full[key][i])
            assert group[key][i] == full[key][i]


def test_missing_archive_is_unavailable_with_fix(monkeypatch, tmp_path):
    monkeypatch.delenv("REXEVAL_RADGRAPH_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(MetricUnavailable) as exc:
        RadGraph().check_available()
    assert "rexeval models download radgraph" in str(exc.value)


def test_unknown_model_is_config_error():
    from rexeval.base.exceptions import ConfigError

    with pytest.raises(ConfigError):
        RadGraph(model="radgraph-xxl")


# -- the real path: the radgraph package on a random-weight archive ---------------------------

PEER = r"""
import json, sys
args = json.loads(sys.stdin.read())
out = sys.stdout; sys.stdout = sys.stderr
from radgraph import F1RadGraph
f1 = F1RadGraph(reward_level="all", model_type="radgraph", model_cache_dir=args["cache"], cuda=-1)
mean, lists, _, _ = f1(hyps=args["hyps"], refs=args["refs"])
out.write(json.dumps(lists))
"""


@pytest.fixture(scope="module")
def side_python(tmp_path_factory):
    """A Python where the radgraph package runs ($REXEVAL_RADGRAPH_PYTHON; transformers<5)."""
    import os
    import subprocess
    import sys

    from rexeval.metrics.radgraph import PYTHON_ENV

    exe = os.environ.get(PYTHON_ENV)
    if not exe:
        pytest.skip(f"set {PYTHON_ENV} to a Python with torch, transformers<5 and radgraph==0.1.18 to run the real radgraph path")
    shared_path("tokenizers", "bert-base-uncased", "vocab.txt")
    folder = tmp_path_factory.mktemp("rgarchive")
    code = "import sys; from pathlib import Path; from tests.helpers.model_fixtures import build_radgraph_archive; build_radgraph_archive(Path(sys.argv[1]))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([exe, "-c", code, str(folder)], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    return exe, folder, sys


def test_real_radgraph_path_equals_f1radgraph(side_python, monkeypatch, tmp_path):
    import subprocess

    from rexeval.metrics.radgraph import _unpacked

    exe, folder, _ = side_python
    monkeypatch.setenv("REXEVAL_RADGRAPH_DIR", str(folder))
    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    hyps = ["Small left pleural effusion. No pneumothorax.", "Heart size normal.", "", "Left effusion, small."]
    refs = ["Left effusion, small.", "Heart size is normal. Lungs clear.", "No acute process.", "Left effusion, small."]
    m = RadGraph(device="cpu")
    m.check_available()
    assert "side env" in m.versions()["radgraph"]
    ours = _score(m, hyps, refs)
    payload = json.dumps({"cache": str(_unpacked(folder / "radgraph.tar.gz", "radgraph").parent), "hyps": hyps, "refs": refs})
    res = subprocess.run([exe, "-c", PEER], input=payload, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    simple, partial, complete = json.loads(res.stdout)
    assert ours["radgraph_simple"].tolist() == simple
    assert ours["radgraph_partial"].tolist() == partial
    assert ours["radgraph_complete"].tolist() == complete
    anns = m.parse(hyps + refs)
    assert any(a["entities"] for a in anns)  # the random model does label spans: a real comparison
    for i in range(4):
        assert ours["radgraph"][i] == radgraph_combined(anns[4 + i], anns[i])
    assert ours["radgraph"][2] == 0.0  # empty hypothesis
