"""The human names of the reported numbers (rexeval/base/display.py): every registered output has one."""

from __future__ import annotations

from rexeval.base.display import display, display_name, grouped, select
from rexeval.metrics import REGISTRY, get_metric


def _all_outputs() -> list[str]:
    return [o.key for name in REGISTRY for o in get_metric(name).outputs()]


def test_every_registered_output_has_its_own_human_name():
    keys = _all_outputs()
    unnamed = [k for k in keys if display_name(k) == k]
    assert unnamed == [], f"add a name to rexeval/base/display.py for {unnamed}"
    names = [display_name(k) for k in keys]
    assert len(set(names)) == len(names), "two outputs share a name"


def test_groups_in_order_and_rexrank_columns_first():
    from rexeval.reports.rexrank_columns import REXRANK_COLUMNS

    keys = _all_outputs()
    titles = [title for title, _ in grouped(keys)]
    assert titles == ["ReXrank", "Clinical", "Other"]
    rexrank = dict(grouped(keys))["ReXrank"]
    # the leaderboard's own columns, in its order (RadCliQ-v1 beside its inverse)
    assert [k for k in rexrank if k != "radcliq_v1"] == [k for k, _ in REXRANK_COLUMNS]
    assert rexrank.index("radcliq_v1") == rexrank.index("inv_radcliq_v1") - 1


def test_default_selection_is_the_headline_numbers_and_all_keeps_everything():
    keys = _all_outputs()
    default = select(keys)
    assert set(default) < set(keys) and all(display(k).headline for k in default)
    assert sorted(select(keys, "all")) == sorted(keys)
    assert select(keys, "rouge_l,bleu") == ["rouge_l", "bleu"]


def test_error_counts_are_named_alike_under_either_prefix():
    # the structured counter's and the LLM judge's keys may be renamed to one scheme; names do not change
    assert display_name("struct_err_total_sig") == display_name("errors_struct_total_sig")
    assert display_name("llm_errors_total_sig") == display_name("errors_llm_total_sig")
    assert display_name("llm_errors_total_sig") != display_name("struct_err_total_sig")
    assert display_name("unknown_key") == "unknown_key" and display("unknown_key").group == "other"
