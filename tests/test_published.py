"""Published ReXrank tables: transcription provenance, RadCliQ recomputation and the exclusions of docs/metrics.md §6."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from leaderboards import published
from rexeval.cli import app


def test_iu_findings_reranked_by_recomputed_radcliq_gives_published_order():
    t = published.load_table("rexrank:iu_xray:findings")
    assert len(t) == 25 and t.attrs["source"]["commit"] == "b7efa9f"
    by_published = t.sort_values("inv_radcliq_v1", ascending=False, kind="stable")["system"].tolist()
    by_ours = t.sort_values("inv_radcliq_v1_ours", ascending=False, kind="stable")["system"].tolist()
    assert by_ours == by_published
    # The site's top and bottom (sorted by 1/RadCliQ-v1, not by the Rank column; docs/metrics.md §11.7).
    assert by_ours[:3] == ["UniRG-CXR", "MoERad-IU", "MedVersa"] and by_ours[-1] == "LLM-CXR"
    assert t["reproduces"].all()


def test_findings_impression_rows_that_do_not_reproduce_are_flagged():
    # docs/metrics.md §6: computed/published for the gh-pages F+I rows that do not reproduce
    expected = {
        "iu_xray": {"CheXpertPlus-MIMIC": 1.1297, "CheXpertPlus-CheX": 1.0103, "CheXpertPlus-CheX-MIMIC": 1.2811,
                    "MedVersa": 1.4423, "RadFM": 1.2271},
        "gradienthealth": {"CheXpertPlus-MIMIC": 0.8017, "CheXpertPlus-CheX": 0.7558,
                           "CheXpertPlus-CheX-MIMIC": 0.8514, "GPT4V": 0.6593},
        "chexpert_plus": {"CheXpertPlus_MIMIC": 0.4832, "RadFM": 0.4442},  # marginal
        "mimic_cxr": {"RadFM": 0.6233},  # marginal
    }
    for ds, rows in expected.items():
        t = published.load_table(f"rexrank:{ds}:findings-impression").set_index("system")
        flagged = set(t.index[~t["reproduces"]])
        assert flagged == set(rows), ds
        for system, ours in rows.items():
            assert t.loc[system, "inv_radcliq_v1_ours"] == pytest.approx(ours, abs=5e-5)
            assert "1/RadCliQ-v1" in t.loc[system, "flag"]


@pytest.mark.parametrize("table_id", [t for t in published.table_ids() if ":findings" in t and "impression" not in t]
                         + [t for t in published.table_ids() if t.startswith("rexrank-2024")])
def test_other_tables_reproduce(table_id):
    t = published.load_table(table_id)
    assert t["reproduces"].all(), t.loc[~t["reproduces"], ["system", "flag"]]


def test_local_formula_matches_spec_raw_form():
    # docs/metrics.md §6 raw-space form of v1 and the perfect-report values
    rg, bs, se, bl = 0.3, 0.5, 0.6, 0.2
    raw = 2.4501430833 - 1.2452163302 * rg - 1.6508453287 * bs - 0.9947717072 * se
    assert float(published.radcliq(rg, bs, se, bl, "v1")) == pytest.approx(raw, abs=1e-8)
    assert float(published.radcliq(1, 1, 1, 1, "v1")) == pytest.approx(-1.4407, abs=1e-4)
    assert float(published.radcliq(1, 1, 1, 1, "v0")) == pytest.approx(-0.2421, abs=1e-4)


def test_committed_transcription_matches_shared_tables(shared):
    from leaderboards.transcribe_rexrank import transcribe

    src = shared("rexrank", "leaderboard")
    committed = json.loads((published.DATA / "rexrank.json").read_text(encoding="utf-8"))
    assert transcribe(src) == committed


def test_cli_published():
    res = CliRunner().invoke(app, ["leaderboard", "--published", "rexrank:iu_xray:findings-impression"])
    assert res.exit_code == 0, res.output
    assert "not reproducible MedVersa" in res.output
    res = CliRunner().invoke(app, ["leaderboard", "--published", "rexrank:nope:findings"])
    assert res.exit_code == 2 and "known" in res.output
