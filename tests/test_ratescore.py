"""RaTEScore: hand-computed arithmetic, the span rules, the splitter, and the real model code path on
random-weight checkpoints in the real architectures (and, where the reference package's environment
exists, equality with it on the same weights)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rexeval.base.exceptions import MetricUnavailable
from rexeval.metrics.ratescore import (
    AFFINITY_LONG,
    POLARITY_MISMATCH,
    pair_score,
    spans_from_tags,
    split_sentences_rules,
)

NU = 0.8716553966489615
HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------ arithmetic (no models)


def _v(*xs):
    return np.array([xs], dtype=float)


def test_affinity_matrix_is_the_published_long_matrix():
    assert len(AFFINITY_LONG) == 25
    # spot values transcribed from RaTEScore 0.6.0 DEFAULT_MATRIX_LONG
    assert AFFINITY_LONG[("DISEASE", "ANATOMY")] == 0.9950209388542061
    assert AFFINITY_LONG[("ANATOMY", "NON-DISEASE")] == 0.00013736314126696204
    assert len(POLARITY_MISMATCH) == 8
    assert ("ANATOMY", "ANATOMY") not in POLARITY_MISMATCH


def test_identical_entities_score_one():
    e = _v(1, 0, 0)
    assert pair_score(e, ["DISEASE"], e, ["DISEASE"]) == pytest.approx(1.0, abs=1e-6)


def test_polarity_mismatch_is_penalised_by_nu():
    e = _v(0.3, 0.4, 0.0)  # same vector, opposite polarity: both directions score ν
    assert pair_score(e, ["ABNORMALITY"], e, ["NON-ABNORMALITY"]) == pytest.approx(NU, abs=1e-6)
    assert pair_score(e, ["NON-DISEASE"], e, ["ABNORMALITY"]) == pytest.approx(NU, abs=1e-6)
    # not a polarity pair: no penalty even across types
    assert pair_score(e, ["ANATOMY"], e, ["DISEASE"]) == pytest.approx(1.0, abs=1e-6)


def test_type_weighted_directions_hand_computed():
    # reference: DISEASE at e1, ANATOMY at e2; prediction: one DISEASE at 60° from e1 (cos 0.5), 90° from e2
    ref = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    pred = np.array([[0.5, 0.0, np.sqrt(0.75)]])
    w_dd, w_ad = 0.8460555030578727, 0.4592143222158069
    p = (0.5 * w_dd + 0.0 * w_ad) / (w_dd + w_ad)  # each reference entity -> its best prediction
    r = 0.5  # the prediction's best reference match is e1 (cos 0.5), W cancels
    expected = 2 * p * r / (p + r)
    assert pair_score(ref, ["DISEASE", "ANATOMY"], pred, ["DISEASE"]) == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(0.3933, abs=1e-4)  # 0.32409 and 0.5 by hand


def test_empty_side_scores_half():
    e = _v(1, 0)
    empty = np.zeros((0, 2))
    assert pair_score(empty, [], e, ["DISEASE"]) == 0.5
    assert pair_score(e, ["DISEASE"], empty, []) == 0.5
    assert pair_score(empty, [], empty, []) == 0.5


# ------------------------------------------------------------------ span rules

CLS, SEP = "[CLS]", "[SEP]"


@pytest.mark.parametrize(
    "tags, expected",
    [
        (["O", "B-DISEASE", "I-DISEASE", "O", "O"], [(1, 2, "DISEASE")]),
        (["O", "B-ANATOMY", "B-DISEASE", "O", "O"], [(1, 1, "ANATOMY"), (2, 2, "DISEASE")]),
        (["O", "I-DISEASE", "O", "O", "O"], []),  # an I with no open span is dropped
        # the last word's decision reads the tag predicted on [SEP]; an open span runs to the end
        (["O", "O", "O", "B-DISEASE", "I-DISEASE"], [(3, 3, "DISEASE")]),
        (["O", "O", "O", "B-DISEASE", "O"], [(3, 3, "DISEASE")]),
        # I before B closes the span and opens one at the I, with the I's type
        (["O", "B-ANATOMY", "I-ANATOMY", "B-DISEASE", "O"], [(1, 2, "ANATOMY"), (3, 3, "DISEASE")]),
        # quirk: after B->B the span end stays set, so a span still open at the end is dropped
        (["O", "B-ANATOMY", "B-DISEASE", "I-DISEASE", "I-DISEASE"], [(1, 1, "ANATOMY")]),
    ],
)
def test_spans_from_tags(tags, expected):
    tokens = [CLS, "▁a", "▁b", "▁c", SEP]
    assert spans_from_tags(tokens, tags) == expected


# ------------------------------------------------------------------ sentence splitting


def test_rule_splitter_matches_pyrush_on_report_prose():
    # expected splits are what medspacy's PyRuSH (the reference) returned for these texts
    assert split_sentences_rules(
        "Heart size is normal. No pleural effusion or pneumothorax.  Dr. Smith reviewed 2.5 cm nodule. 1. Stable. 2. No change."
    ) == ["Heart size is normal.", "No pleural effusion or pneumothorax.", "Dr. Smith reviewed 2.5 cm nodule.", "1. Stable.", "2. No change."]
    assert split_sentences_rules("The lungs are clear.The heart is normal. there is no effusion. Mild cardiomegaly; no edema") == [
        "The lungs are clear.The heart is normal.", "there is no effusion.", "Mild cardiomegaly; no edema"
    ]
    assert split_sentences_rules("ok") == []  # shorter than 3 characters
    assert split_sentences_rules("") == []


# ------------------------------------------------------------------ real code path, random weights


@pytest.fixture(scope="module")
def rate_hub(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.helpers.rate_models import build_all

    hub = tmp_path_factory.mktemp("hub")
    build_all(hub)
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_CACHE", str(hub))
    for var in ("REXEVAL_RATE_NER", "REXEVAL_BIOLORD"):
        mp.delenv(var, raising=False)
    yield hub
    mp.undo()


PREDS = [
    "The heart size is normal. No pleural effusion.",
    "Mild cardiomegaly.",
    "the lungs are clear. no focal consolidation or edema",
    "Small left pleural effusion with basilar atelectasis. The mediastinal contour is within normal limits.",
    "",
]
REFS = [
    "Heart normal. No effusion or pneumothorax.",
    "Mild cardiomegaly.",
    "no focal consolidation",
    "Large right pleural effusion. Heart size is normal. No pneumothorax.",
    "Lungs are clear.",
]


def test_models_resolve_from_hf_cache(rate_hub):
    from rexeval.metrics.ratescore import RaTEScore

    m = RaTEScore(splitter="rules")
    m.check_available()
    sig = m.signature()
    assert "Angelakeke/RaTE-NER-Deberta@0123456789ab" in sig
    assert "FremyCompany/BioLORD-2023-C@0123456789ab" in sig
    assert "split:rules" in sig


def test_scores_through_rexeval_score(rate_hub, monkeypatch, tmp_path):
    from rexeval.run.scoring import score

    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    ids = [f"s{i}" for i in range(len(PREDS))]
    preds = pd.DataFrame({"study_id": ids, "report": PREDS})
    refs = pd.DataFrame({"study_id": ids, "report": REFS})
    res = score(preds, refs, metrics=["ratescore"], metric_options={"ratescore": {"splitter": "rules"}}, n_resamples=50, progress=False)
    col = res.per_study["ratescore"].to_numpy()
    # identical report: every entity matches itself; cosines are float32 like the reference package's,
    # so a self-match may land a few float32 ulps above 1 depending on the CPU's reduction order
    assert col[1] == pytest.approx(1.0, abs=1e-6)
    assert col[4] == 0.5  # empty prediction: no entities
    assert np.all((col > 0) & (col <= 1 + 1e-6))
    assert res.summary["metrics"]["ratescore"]["higher_is_better"] is True
    assert res.value("ratescore") == pytest.approx(col.mean())
    # same input, same score: each study alone equals its value in the batch
    from rexeval.metrics.ratescore import RaTEScore

    monkeypatch.setenv("REXEVAL_CACHE", "off")
    m = RaTEScore(splitter="rules", batch_size=3)
    alone = [m.score_pairs([p], [r])[0] for p, r in zip(PREDS, REFS, strict=False)]
    np.testing.assert_allclose(alone, col, atol=1e-6)


def test_entity_cache_is_used(rate_hub, monkeypatch, tmp_path):
    from rexeval.metrics.ratescore import RaTEScore

    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    m = RaTEScore(splitter="rules")
    first = m.score_pairs(PREDS, REFS)
    calls = []
    orig = RaTEScore._run_ner

    def counting(self, ner, texts):
        calls.append(list(texts))
        return orig(self, ner, texts)

    monkeypatch.setattr(RaTEScore, "_run_ner", counting)
    second = m.score_pairs(PREDS + ["Mild cardiomegaly with edema."], REFS + ["Mild cardiomegaly."])
    np.testing.assert_array_equal(first, second[:-1])
    assert calls == [["Mild cardiomegaly with edema."]]  # only the new text ran through the NER model


def test_missing_models_are_unavailable_with_fix(tmp_path, monkeypatch):
    from rexeval.metrics.ratescore import RaTEScore

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.delenv("REXEVAL_RATE_NER", raising=False)
    with pytest.raises(MetricUnavailable) as exc:
        RaTEScore().check_available()
    assert "rexeval models download rate-ner-deberta" in exc.value.fix


def _peer_python() -> str | None:
    exe = os.environ.get("REXEVAL_RATESCORE_PYTHON")
    if exe:
        return exe
    default = Path("/work/venvs/ratescore/bin/python")
    return str(default) if default.exists() else None


def test_equals_reference_package_on_same_weights(rate_hub, tmp_path, monkeypatch):
    """The PyPI RaTEScore package (medspacy, transformers 4.x) in its own venv, same checkpoints."""
    exe = _peer_python()
    if exe is None:
        pytest.skip("set REXEVAL_RATESCORE_PYTHON to a python with RaTEScore + medspacy installed")
    from rexeval.metrics.ratescore import RaTEScore

    job = tmp_path / "job.json"
    out = tmp_path / "out.json"
    texts = PREDS[:4], REFS[:4]  # the reference misaligns reports that have no sentence
    job.write_text(json.dumps({"predictions": texts[0], "references": texts[1]}))
    env = {**os.environ, "HF_HUB_CACHE": str(rate_hub), "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([exe, str(HERE / "peer" / "ratescore_peer.py"), str(job), str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    peer = json.loads(out.read_text())
    monkeypatch.setenv("REXEVAL_CACHE", "off")
    m = RaTEScore(splitter="rules")
    assert [split_sentences_rules(t) for t in texts[0] + texts[1]] == peer["sentences"]
    assert m.entities(texts[0]) == [[tuple(e) for e in es] for es in peer["entities_pred"]]
    assert m.entities(texts[1]) == [[tuple(e) for e in es] for es in peer["entities_ref"]]
    np.testing.assert_allclose(m.score_pairs(*texts), peer["scores"], atol=1e-6)
    assert len(set(np.round(peer["scores"], 4))) >= 3  # the case is not degenerate


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
