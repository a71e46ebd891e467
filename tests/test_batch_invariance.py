"""A study's score never depends on the other studies in the run."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rexeval.metrics import resolve_metrics
from rexeval.metrics.base import Batch

WORDS = ["lungs", "clear", "no", "effusion", "mild", "cardiomegaly", "left", "right", ".", "pneumothorax", "stable", ","]
report = st.lists(st.sampled_from(WORDS), min_size=0, max_size=15).map(" ".join)
LEXICAL = ["bleu", "bleu4", "rouge_l"]


def _scores(preds, refs, names=LEXICAL):
    cols: dict = {}
    for metric in resolve_metrics(names):
        batch = Batch([f"s{i}" for i in range(len(preds))], preds, refs, cols)
        cols.update(metric.compute(batch))
    return pd.DataFrame(cols)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(report, report), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_scores_alone_equal_scores_in_shuffled_batch(pairs, rnd):
    preds, refs = [p for p, _ in pairs], [r for _, r in pairs]
    together = _scores(preds, refs)
    order = list(range(len(pairs)))
    rnd.shuffle(order)
    shuffled = _scores([preds[i] for i in order], [refs[i] for i in order])
    for pos, i in enumerate(order):
        alone = _scores([preds[i]], [refs[i]])
        assert np.array_equal(alone.iloc[0].to_numpy(), together.iloc[i].to_numpy())
        assert np.array_equal(shuffled.iloc[pos].to_numpy(), together.iloc[i].to_numpy())


def test_grpo_group_one_reference_repeated():
    ref = "Mild cardiomegaly. No pleural effusion."
    preds = ["Mild cardiomegaly.", "No effusion.", "Mild cardiomegaly.", "", "Cardiomegaly, mild.",
             "Lungs clear.", "No pleural effusion. Mild cardiomegaly.", "Mild cardiomegaly."]
    group = _scores(preds, [ref] * 8)
    for i, p in enumerate(preds):
        assert np.array_equal(_scores([p], [ref]).iloc[0].to_numpy(), group.iloc[i].to_numpy())
