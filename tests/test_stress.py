"""rexeval stress: each edit does what its category says on hand-written reports (expected texts written by
hand), is reproducible from its seed, a perturbation that does not apply is counted, never faked, and the
discrimination AUC and Kendall tau give the answers known for constructed cases."""

from __future__ import annotations

import pandas as pd
import pytest

from rexeval.tools.stress import (
    CATEGORIES,
    CLINICAL,
    bases,
    multi_edit,
    perturb,
    perturb_all,
    perturbation_seed,
    run_stress,
    split_sentences,
    wilson,
)
from rexeval.tools.stress.measures import discrimination, kendall_tau
from tests.helpers.cli import run_cli
from tests.helpers.paths import shared_path

SEEDS = range(12)


def _outputs(text: str, category: str) -> set[str | None]:
    return {perturb(text, category, s).perturbed for s in SEEDS}


@pytest.mark.parametrize(
    ("category", "text", "expected"),
    [
        (
            "negation_flip",
            "No pleural effusion or pneumothorax.",
            {
                "No pneumothorax. There is a pleural effusion.",
                "No pleural effusion. There is a pneumothorax.",
            },
        ),
        (
            "negation_flip",
            "The lungs are clear of focal consolidation, pneumothorax, or pleural effusion.",
            {
                "The lungs are clear of pneumothorax or pleural effusion. There is focal consolidation.",
                "The lungs are clear of focal consolidation or pleural effusion. There is a pneumothorax.",
                "The lungs are clear of focal consolidation or pneumothorax. There is a pleural effusion.",
            },
        ),
        ("negation_flip", "There is no pneumothorax.", {"There is a pneumothorax."}),
        ("negation_flip", "Large right pleural effusion.", {"No pleural effusion."}),
        (
            "laterality_swap",
            "Small left pleural effusion. No pneumothorax.",
            {"Small right pleural effusion. No pneumothorax."},
        ),
        (
            "omission",
            "Moderate right pleural effusion. Heart size is normal.",
            {"Heart size is normal."},
        ),
        (
            "severity_change",
            "There is a small left pleural effusion.",
            {"There is a large left pleural effusion."},
        ),
        ("severity_change", "Moderate cardiomegaly.", {"Minimal cardiomegaly."}),
        (
            "measurement_change",
            "There is a 10 mm nodule in the right upper lobe.",
            {
                "There is a 20 mm nodule in the right upper lobe.",
                "There is a 30 mm nodule in the right upper lobe.",
                "There is a 5 mm nodule in the right upper lobe.",
            },
        ),
        (
            "temporal_change",
            "There is a new left pleural effusion.",
            {"There is an unchanged left pleural effusion."},
        ),
        (
            "temporal_change",
            "Small right pleural effusion.",
            {
                "Small right pleural effusion. The pleural effusion is new since the prior examination.",
                "Small right pleural effusion. The pleural effusion has increased since the prior examination.",
                "Small right pleural effusion. The pleural effusion has decreased since the prior examination.",
            },
        ),
        (
            "device_removed",
            "A right internal jugular central venous catheter terminates in the superior vena cava. "
            "The lungs are clear.",
            {"The lungs are clear."},
        ),
        (
            "device_malpositioned",
            "An endotracheal tube terminates 4 cm above the carina.",
            {
                "An endotracheal tube terminates in the right mainstem bronchus.",
                "An endotracheal tube terminates in the esophagus.",
            },
        ),
        (
            "device_malpositioned",
            "A nasogastric tube terminates in the stomach. No pneumothorax.",
            {
                "A nasogastric tube terminates in the distal esophagus. No pneumothorax.",
                "A nasogastric tube terminates coiled in the esophagus. No pneumothorax.",
                "A nasogastric tube terminates in the right lower lobe bronchus. No pneumothorax.",
            },
        ),
        ("synonym_swap", "The osseous structures are intact.", {"The bony structures are intact."}),
        (
            "normal_phrasing",
            "No pneumothorax.",
            {
                "There is no pneumothorax.",
                "No evidence of pneumothorax.",
                "Pneumothorax is not seen.",
            },
        ),
        (
            "unit_rewrite",
            "There is a 15 mm nodule in the left upper lobe.",
            {"There is a 1.5 cm nodule in the left upper lobe."},
        ),
        (
            "unit_rewrite",
            "There is a 2 cm mass in the left upper lobe.",
            {"There is a 20 mm mass in the left upper lobe."},
        ),
        (
            "negation_list_rewording",
            "No pleural effusion or pneumothorax is seen.",
            {"No pleural effusion is seen. No pneumothorax is seen."},
        ),
        (
            "negation_list_rewording",
            "No pneumothorax. No pleural effusion.",
            {"No pneumothorax or pleural effusion."},
        ),
        (
            "sentence_reorder",
            "Right lower lobe consolidation. This was not present previously. No pneumothorax.",
            {"No pneumothorax. Right lower lobe consolidation. This was not present previously."},
        ),
    ],
)
def test_edit_gives_the_hand_written_text(category, text, expected):
    got = _outputs(text, category)
    assert got <= expected, got - expected
    assert got  # applies


def test_insertions_add_one_sentence_of_the_right_kind():
    text = "Heart size is normal. No pneumothorax."
    for seed in SEEDS:
        for cat, words in (
            (
                "false_finding",
                (
                    "effusion",
                    "consolidation",
                    "pneumonia",
                    "edema",
                    "nodule",
                    "mass",
                    "collapse",
                    "fracture",
                ),
            ),
            ("device_inserted", ("tube", "catheter", "PICC", "port", "pacemaker")),
        ):
            out = split_sentences(perturb(text, cat, seed).perturbed)
            extra = [s for s in out if s not in split_sentences(text)]
            assert len(out) == 3 and len(extra) == 1, (cat, out)
            assert any(w in extra[0] for w in words), extra
            assert "cardiomegaly" not in extra[0]  # the report already speaks of the heart
            assert (
                "pneumothorax" not in extra[0].lower()
            )  # already negated there: that is a flip, not this


def test_case_whitespace_keeps_the_words():
    text = "Small left pleural effusion. No pneumothorax."
    for seed in SEEDS:
        out = perturb(text, "case_whitespace", seed).perturbed
        assert " ".join(out.split()).lower() == text.lower() and out != text


@pytest.mark.parametrize(
    ("category", "text"),
    [
        ("negation_flip", "No large pleural effusion."),  # does not deny a small one
        ("negation_flip", "No new consolidation."),  # about change, not presence
        ("laterality_swap", "Calcified granuloma in the right upper lobe."),  # a minor finding
        ("laterality_swap", "Small bilateral pleural effusions."),
        ("omission", "Mild bibasilar atelectasis. No pneumothorax."),  # minor atelectasis
        (
            "omission",
            "Possible right lower lobe pneumonia.",
        ),  # hedged: its omission is not significant
        ("omission", "There is a XXXX posterior effusion."),  # "XXXX" may hide a grade or hedge
        ("severity_change", "Heart size is normal."),
        (
            "measurement_change",
            "An endotracheal tube terminates 4 cm above the carina.",
        ),  # a distance, not a size
        ("temporal_change", "No new pleural effusion."),
        (
            "device_removed",
            "Median sternotomy wires are intact. The lungs are clear.",
        ),  # minor hardware
        ("device_malpositioned", "A left chest wall pacemaker is present."),  # no tip stated
        ("unit_rewrite", "The lungs are clear."),
        ("sentence_reorder", "The lungs are clear."),
    ],
)
def test_not_applicable_where_nothing_fits(category, text):
    assert _outputs(text, category) == {None}


def test_not_applicable_is_counted_not_faked():
    table = perturb_all(["n1", "n2"], ["The lungs are clear.", ""], seed=3)
    assert len(table) == 2 * len(CATEGORIES)
    na = table[~table["applicable"]]
    assert (na["perturbed"] == "").all() and (na["detail"] != "").all()
    assert {
        "laterality_swap",
        "measurement_change",
        "omission",
        "severity_change",
        "temporal_change",
        "device_removed",
        "device_malpositioned",
    } <= set(na[na["ref_id"] == "n1"]["category"])
    assert not table[table["ref_id"] == "n2"][
        "applicable"
    ].any()  # an empty reference: nothing applies


def test_derived_bases_are_marked_and_reproducible():
    ids, texts = (
        ["a", "b"],
        [
            "Heart size is normal. No pleural effusion or pneumothorax. The lungs are clear.",
            "No acute cardiopulmonary abnormality.",
        ],
    )
    one, two = bases(ids, texts, seed=5), bases(ids, texts, seed=5)
    pd.testing.assert_frame_equal(one, two)
    derived = one[one["base"] == "derived"]
    assert set(derived["base_id"]) == {"a+abn", "b+abn"}
    assert derived["base_detail"].str.startswith("derived: added").all()
    assert one[one["base"] == "original"]["base_text"].tolist() == texts
    a = derived.set_index("base_id").loc["a+abn", "base_text"]
    assert "acute cardiopulmonary" not in derived.set_index("base_id").loc["b+abn", "base_text"]
    assert len(split_sentences(a)) > 1 and a != texts[0]


def test_every_category_reproduces_from_its_seed():
    text = (
        "There is a new small left pleural effusion. A right internal jugular central venous catheter "
        "terminates in the superior vena cava. There is a 12 mm nodule in the right upper lobe. "
        "No pneumothorax or consolidation. The osseous structures are unremarkable. Heart size is normal."
    )
    for cat in CATEGORIES:
        p = perturb(text, cat, perturbation_seed(0, "r", cat))
        assert p.applicable, cat
        assert perturb(text, cat, p.seed) == p
    a, b = multi_edit(text, 3, 7), multi_edit(text, 3, 7)
    assert a == b and a[1] == 3 and a[2].count("[preserving]") == 1


def test_multi_edit_counts_what_it_injected():
    # Only three clinical edits fit this normal report, each on its own finding/device: a negation flip, a false
    # finding and a device insertion (every other edit would need a positive finding or device, and the ones
    # just inserted are not edited again).
    text = "Heart size is normal. No pleural effusion or pneumothorax. The lungs are clear."
    for k in range(5):
        for seed in (11, 12):
            out, injected, detail = multi_edit(text, k, seed)
            assert injected == min(k, 3), (k, detail)
            assert detail.count("[preserving]") == 1 and detail.count(";") == injected
            assert out != text


def test_discrimination_known_values():
    # Hand-computed: report g1 clinical {3, 1} vs preserving {2, 0}: 3 of 4 pairs won -> 0.75.
    est = discrimination(
        ["r1"] * 4, ["g1"] * 4, [True, True, False, False], [3.0, 1.0, 2.0, 0.0], n_resamples=0
    )
    assert est.value == 0.75 and est.n == 4
    # Pairs are formed within a report only: g2's preserving edit is not compared with g1's clinical one.
    est = discrimination(
        ["r1", "r2", "r2"], ["g1", "g2", "g2"], [True, True, False], [5.0, 1.0, 1.0], n_resamples=0
    )
    assert est.value == 0.5 and est.n == 1


def test_discrimination_of_constructed_metrics_on_real_edits():
    table = perturb_all(
        [f"r{i}" for i in range(6)],
        [
            "Small left pleural effusion. No pneumothorax. The osseous structures are intact.",
            "No pleural effusion or pneumothorax. Heart size is normal.",
            "There is a 10 mm nodule in the right upper lobe. The lungs are otherwise clear.",
            "An endotracheal tube terminates 4 cm above the carina. No pneumothorax.",
            "Moderate cardiomegaly. No pleural effusion.",
            "The lungs are clear. No pneumothorax.",
        ],
        seed=2,
        derived=True,
    )
    app = table[table["applicable"]]
    clinical = (app["kind"] == "clinical").to_numpy()
    args = (app["ref_id"], app["base_id"], clinical)
    blind = discrimination(
        *args, [0.0] * len(app), n_resamples=200
    )  # a metric that ignores the text
    assert blind.value == 0.5 and blind.ci_lo == 0.5 and blind.ci_hi == 0.5
    oracle = discrimination(
        *args, clinical.astype(float), n_resamples=200
    )  # knows which edits are errors
    assert oracle.value == 1.0 and oracle.ci_lo == 1.0
    backwards = discrimination(*args, (~clinical).astype(float), n_resamples=0)
    assert backwards.value == 0.0


def test_kendall_tau_known_values():
    # x = 1,2,3,4 and y = 1,3,2,4: 5 concordant, 1 discordant pair -> tau = 4/6.
    assert kendall_tau([1, 2, 3, 4], [1, 3, 2, 4], n_resamples=0).value == pytest.approx(4 / 6)
    est = kendall_tau([0, 1, 2, 3, 4] * 4, [0, 1, 2, 3, 4] * 4, n_resamples=100)
    assert est.value == pytest.approx(1.0) and est.ci_lo == pytest.approx(1.0)


def test_run_stress_counts_and_bleu_sees_a_changed_word():
    refs = [
        "Small left pleural effusion. No pneumothorax.",
        "The lungs are clear.",
        "Heart size is normal. Mild left basilar atelectasis. No effusion.",
    ]
    res = run_stress(["a", "b", "c"], refs, ["bleu"], seed=1, n_resamples=50, progress=False)
    tab = res.table.set_index("category")
    n_bases = res.info["n_bases"]
    assert res.info["n_derived_bases"] == 3 and n_bases == 6
    assert ((tab["n_applicable"] + tab["n_not_applicable"]) == n_bases).all()
    assert (
        (tab["n_applicable_original"] + tab["n_applicable_derived"]) == tab["n_applicable"]
    ).all()
    # BLEU of a report against itself is 1 and below 1 once one content word changes.
    assert tab.loc["laterality_swap", "share"] == 1.0
    lo, hi = wilson(
        int(tab.loc["laterality_swap", "hits"]), int(tab.loc["laterality_swap", "n_scored"])
    )
    assert tab.loc["laterality_swap", "ci_lo"] == lo and hi == 1.0
    assert set(res.table["measure"][res.table["category"].isin(CLINICAL)]) == {"sensitivity"}
    assert (
        list(res.summary["output"]) == ["bleu"]
        and 0.0 <= res.summary.loc[0, "discrimination"] <= 1.0
    )
    assert len(res.multi) == n_bases and (res.multi["injected"] <= res.multi["target"]).all()


def test_wilson_interval_known_values():
    # Wilson (1927) interval for 8/10 at z = 1.96: 0.4902 .. 0.9433 (textbook value).
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)


@pytest.mark.parametrize("value", ["nan", "-0.1", "inf"])
def test_cli_rejects_a_tolerance_that_is_not_a_finite_non_negative_number(tmp_path, value):
    refs = tmp_path / "refs.csv"
    refs.write_text("study_id,reference\n1,No pneumothorax.\n")
    res = run_cli("stress", refs, f"--tolerance={value}", "--no-progress", timeout=120)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--tolerance" in lines[0] and "Traceback" not in res.stderr


def test_cli_on_iu_references_is_reproducible(tmp_path):
    refs = shared_path("rexrank", "iu_xray_test.json")
    outs = []
    for name, seed in (("a", "0"), ("b", "0"), ("c", "1")):
        res = run_cli(
            "stress",
            refs,
            "--track",
            "findings",
            "--metrics",
            "bleu",
            "--limit",
            "40",
            "--seed",
            seed,
            "--bootstrap",
            "20",
            "-o",
            tmp_path / name,
            "--no-progress",
            timeout=600,
        )
        assert res.returncode == 0, res.stderr
        outs.append(pd.read_csv(tmp_path / name / "perturbations.csv", keep_default_na=False))
    pd.testing.assert_frame_equal(outs[0], outs[1])
    assert (outs[0]["perturbed"] != outs[2]["perturbed"]).any()
    table = pd.read_csv(tmp_path / "a" / "stress_table.csv")
    n_bases = outs[0]["base_id"].nunique()
    assert ((table["n_applicable"] + table["n_not_applicable"]) == n_bases).all()
    assert (tmp_path / "a" / "stress_heatmap.png").is_file()
    assert (tmp_path / "a" / "stress_summary.csv").is_file() and (
        tmp_path / "a" / "multi_edit.csv"
    ).is_file()
    for _, row in outs[0][outs[0]["applicable"]].head(40).iterrows():
        assert (
            perturb(row["original"], row["category"], int(row["seed"])).perturbed
            == row["perturbed"]
        )


def test_every_clinical_category_applies_at_least_100_times_on_the_iu_references():
    from rexeval.tools.stress import read_references

    ids, texts = read_references(shared_path("rexrank", "iu_xray_test.json"), "findings")
    table = perturb_all(ids, texts, CLINICAL, seed=0, derived=True)
    applied = table[table["applicable"]].groupby("category").size()
    assert all(applied.get(cat, 0) >= 100 for cat in CLINICAL), applied.to_dict()
    assert (table["perturbed"][~table["applicable"]] == "").all()
