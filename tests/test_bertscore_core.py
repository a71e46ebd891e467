"""The shared BERTScore layer and the padded-length batcher, on hand-worked inputs (no model)."""

from __future__ import annotations

import numpy as np
import pytest

from rexeval.backends.models.batching import padded_length_batches, padded_width
from rexeval.metrics.bertscore_core import (
    greedy_prf,
    idf_table,
    rescale,
    score_aligned,
    token_weights,
)

pytest.importorskip("torch")


def test_padded_width_rounds_up_and_caps():
    assert [padded_width(n, 8) for n in (1, 8, 9, 16, 17)] == [8, 8, 16, 16, 24]
    assert padded_width(509, 8, max_length=512) == 512
    assert padded_width(600, 8, max_length=512) == 512


def test_batches_hold_one_width_each_index_once_shortest_first():
    lengths = [3, 30, 9, 4, 12, 8, 1, 17, 16, 2, 40]
    batches = list(padded_length_batches(lengths, batch_size=3, pad_to=8))
    seen = [i for _, idx in batches for i in idx]
    assert sorted(seen) == list(range(len(lengths)))
    assert [lengths[i] for i in seen] == sorted(lengths)
    for width, idx in batches:
        assert 1 <= len(idx) <= 3
        assert {-(-lengths[i] // 8) * 8 for i in idx} == {width}
    # widths 8: 1,2,3,4,8 (two batches of <= 3), 16: 9,12,16, 24: 17, 32: 30, 40: 40
    assert [(w, len(idx)) for w, idx in batches] == [(8, 3), (8, 2), (16, 3), (24, 1), (32, 1), (40, 1)]


def test_greedy_on_hand_worked_vectors():
    e1, e2 = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    diag = np.array([0.6, 0.8], np.float32)
    # candidate: [s] e1 e2 [/s]; reference: [s] e1 diag [/s]; specials are weighted 0
    hyp = np.stack([e1, e1, e2, e1])
    ref = np.stack([e1, e1, diag, e1])
    w = np.array([0.0, 1.0, 1.0, 0.0])
    p, r, f = greedy_prf(hyp, w, ref, w)
    # best cosines: candidate e1 -> 1, e2 -> 0.8; reference e1 -> 1, diag -> 0.8
    assert p == pytest.approx(0.9, abs=1e-7) and r == pytest.approx(0.9, abs=1e-7)
    assert f == pytest.approx(0.9, abs=1e-7)


def test_greedy_normalises_only_when_asked():
    hyp = np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 0.0]], np.float32)
    w = np.array([0.0, 1.0, 0.0])
    assert greedy_prf(hyp, w, hyp, w, normalise=True)[0] == pytest.approx(1.0, abs=1e-7)
    assert greedy_prf(hyp, w, hyp, w)[0] == pytest.approx(9.0, abs=1e-6)


def test_a_side_with_only_its_two_specials_scores_zero():
    two = np.ones((2, 4), np.float32)
    three = np.ones((3, 4), np.float32)
    assert greedy_prf(two, np.zeros(2), three, np.array([0.0, 1.0, 0.0])).tolist() == [0.0, 0.0, 0.0]
    assert greedy_prf(three, np.array([0.0, 1.0, 0.0]), two, np.zeros(2)).tolist() == [0.0, 0.0, 0.0]


def test_idf_is_bert_scores_formula_over_the_corpus():
    table, unseen = idf_table([[0, 5, 5, 2], [0, 6, 2]])
    assert table[5] == pytest.approx(np.log(3 / 2)) and table[0] == pytest.approx(np.log(3 / 3))
    assert unseen == pytest.approx(np.log(3))
    assert token_weights([0, 5, 9, 2], {0, 2}, (table, unseen)).tolist() == pytest.approx(
        [0.0, np.log(1.5), np.log(3), 0.0])
    assert token_weights([0, 5, 9, 2], {0, 2}).tolist() == [0.0, 1.0, 1.0, 0.0]


def test_rescale_maps_the_baseline_to_zero_and_one_to_one():
    out = rescale(np.array([0.5, 1.0]), 0.5)
    assert out.tolist() == [0.0, 1.0]


def test_each_distinct_pair_is_matched_once_and_references_go_through_the_cache():
    vec = {"a": np.array([[1, 0], [1, 0], [1, 0]], np.float32), "b": np.array([[1, 0], [0, 1], [1, 0]], np.float32),
           "": np.array([[1, 0], [1, 0]], np.float32)}
    asked: list[tuple[tuple[str, ...], bool]] = []

    def embed(texts, cache, progress):
        asked.append((tuple(texts), cache))
        return {t: vec[t] for t in dict.fromkeys(texts)}

    def weights(text):
        return np.array([0.0] + [1.0] * (len(vec[text]) - 2) + [0.0])

    out = score_aligned(["a", "b", "a", ""], ["b", "b", "b", "a"], embed=embed, weights=weights)
    assert asked == [(("b", "b", "b", "a"), True), (("",), False)]  # "a" and "b" reuse the reference side
    assert out[0].tolist() == out[2].tolist()
    assert out[1].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert out[3].tolist() == [0.0, 0.0, 0.0]
