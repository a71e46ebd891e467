"""Integrity of the hand-written error-count pairs (tests/data/error_pairs): they parse, ids and pairs
are unique across the check and dev files, counts are non-negative ints, and the check set keeps the
coverage promised in docs/errors.md. These fail when the data is edited badly, not when the counter changes."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.helpers.error_pairs import (
    CHECK_PAIRS,
    COLUMNS,
    COUNT_COLUMNS,
    DEV_PAIRS,
    load_error_pairs,
)

# Coverage of the check set: group name -> (tags that count for it, minimum number of pairs).
TAG_COVERAGE = {
    "device": ({"device"}, 15),
    "negation list": ({"negation_list"}, 10),
    "no new X": ({"no_new"}, 10),
    "X has resolved": ({"resolved"}, 10),
    "measurement": ({"measurement"}, 10),
    "laterality": ({"laterality_swapped", "laterality_omitted"}, 10),
    "severity": ({"severity", "severity_omitted"}, 10),
    "temporal status": ({"temporal", "temporal_claimed", "temporal_omitted", "temporal_conflict"}, 10),
    "hedge / certainty": ({"hedge", "certainty_undercall", "certainty_overcall"}, 10),
    "empty or punctuation": ({"empty"}, 3),
    "XXXX placeholder": ({"xxxx"}, 3),
}


@pytest.fixture(scope="module")
def check() -> pd.DataFrame:
    return load_error_pairs(CHECK_PAIRS)


@pytest.fixture(scope="module")
def dev() -> pd.DataFrame:
    return load_error_pairs(DEV_PAIRS)


def _tags(frame: pd.DataFrame) -> pd.Series:
    return frame["tags"].str.split(";").apply(set)


def test_files_parse_with_the_documented_columns(check, dev):
    for frame in (check, dev):
        assert list(frame.columns) == COLUMNS
        assert all(pd.api.types.is_integer_dtype(frame[c]) for c in COUNT_COLUMNS)
        assert (frame[COUNT_COLUMNS] >= 0).all().all()
        assert (frame["reference"].str.strip() != "").all()
        assert (frame["why"].str.strip() != "").all()
        assert (frame["tags"].str.strip() != "").all()


def test_sizes(check, dev):
    assert len(check) >= 160
    assert 40 <= len(dev) <= 70


def test_ids_and_pairs_unique_across_files(check, dev):
    both = pd.concat([check, dev], ignore_index=True)
    assert not both["id"].duplicated().any(), both.loc[both["id"].duplicated(), "id"].tolist()
    pairs = both[["reference", "candidate"]].apply(tuple, axis=1)
    assert not pairs.duplicated().any(), pairs[pairs.duplicated()].tolist()


def test_loader_rejects_a_bad_count(tmp_path, check):
    bad = check.head(3).copy()
    bad["sig_C"] = bad["sig_C"].astype(str)
    bad.loc[bad.index[1], "sig_C"] = "-1"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ValueError, match="sig_C"):
        load_error_pairs(path)


def test_every_count_is_exercised(check):
    nonzero = (check[COUNT_COLUMNS] > 0).sum()
    assert (nonzero >= 8).all(), nonzero[nonzero < 8].to_dict()


def test_clean_and_multi_error_pairs(check):
    total = check[COUNT_COLUMNS].sum(axis=1)
    assert (total == 0).sum() >= 25
    assert total.between(2, 5).sum() >= 20


def test_clean_pairs_are_tagged_and_multi_error_pairs_count_several(check):
    total = check[COUNT_COLUMNS].sum(axis=1)
    tags = _tags(check)
    clean_tagged = tags.apply(lambda t: "clean_paraphrase" in t)
    assert (total[clean_tagged] == 0).all(), check.loc[clean_tagged & (total > 0), "id"].tolist()
    multi_tagged = tags.apply(lambda t: "multi_error" in t)
    assert (total[multi_tagged] >= 2).all(), check.loc[multi_tagged & (total < 2), "id"].tolist()


@pytest.mark.parametrize("group", sorted(TAG_COVERAGE))
def test_phrasing_coverage(check, group):
    wanted, minimum = TAG_COVERAGE[group]
    hits = _tags(check).apply(lambda t: bool(t & wanted)).sum()
    assert hits >= minimum, f"{group}: {hits} pairs, {minimum} promised"


def test_empty_candidates_survive_loading(check):
    empty = check[_tags(check).apply(lambda t: "empty" in t)]
    assert (empty["candidate"] == "").any()
    assert empty["sig_B"].eq(1).all()
