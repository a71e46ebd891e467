"""Nothing users rely on changes silently: every per-study value of the IU X-ray baseline leaderboard and
of the shipped example equals the one main produced before the issue-14 redesign (recorded by
tests/golden/per_study_values.py into tests/golden/per_study_before.csv.gz)."""

from __future__ import annotations

import numpy as np

from tests.golden.per_study_values import COMMITTED, all_values, read, write
from tests.helpers.paths import SHARED, shared_path


def test_every_per_study_value_is_identical_to_before(tmp_path):
    shared_path("rexrank", "iu_xray_test.json")
    shared_path("iu_reports", "NLMCXR_reports.tgz")
    before = read(COMMITTED)
    # Through the same text round trip as the recording, so that only the code can differ.
    write(all_values(SHARED), tmp_path / "now.csv.gz")
    now = read(tmp_path / "now.csv.gz")
    keys = ["source", "system", "study_id"]
    assert now[keys].equals(before[keys]), "the scored studies or their order changed"
    missing = [c for c in before.columns if c not in now.columns]
    assert not missing, f"per-study columns no longer produced: {missing}"
    changed = {}
    for col in before.columns[len(keys):]:
        a, b = before[col].to_numpy(dtype=float), now[col].to_numpy(dtype=float)
        differ = ~((a == b) | (np.isnan(a) & np.isnan(b)))
        if differ.any():
            i = int(np.argmax(differ))
            changed[col] = (int(differ.sum()), tuple(before.loc[i, keys]), a[i], b[i])
    assert not changed, f"per-study values changed (count, first row, before, now): {changed}"

