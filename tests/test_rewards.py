"""rexeval.rewards: metrics as TRL reward functions."""

from __future__ import annotations

import asyncio
import math
import statistics

import numpy as np
import pytest

from rexeval.base.exceptions import ConfigError
from rexeval.metrics.bleu import sentence_bleu
from rexeval.rewards import RewardSuite, completion_text, parse_transform
from tests.helpers.rl import CountingOverlap

PLUGINS = {
    "test_overlap": "tests.helpers.rl:CountingOverlap",
    "test_errors": "tests.helpers.rl:TestErrors",
}
REF_A = "The heart is normal in size. The lungs are clear."
REF_B = "Mild cardiomegaly. Small left pleural effusion."
COMPLETIONS = [
    "The heart is normal. The lungs are clear.",
    "Heart size normal.",
    "The lungs are clear.",
    "Mild cardiomegaly.",
    "Small pleural effusion on the left.",
    "Mild cardiomegaly. Small left pleural effusion.",
]
REFS = [REF_A, REF_A, REF_A, REF_B, REF_B, REF_B]
PROMPTS = ["p1"] * 3 + ["p2"] * 3


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "cache"))
    CountingOverlap.reference_calls.clear()
    yield


def suite(components, **kw):
    return RewardSuite({"components": components, "plugins": PLUGINS, **kw})


def call(fn, prompts, completions, refs, **kw):
    out = fn(prompts=prompts, completions=completions, reference=refs, **kw)
    return asyncio.run(out) if asyncio.iscoroutine(out) else out


def test_bleu_component_equals_sentence_bleu_and_logs_by_name():
    s = suite(["bleu"])
    (fn,) = s.reward_functions()
    assert fn.__name__ == "bleu"
    got = call(fn, PROMPTS, COMPLETIONS, REFS)
    assert got == [
        pytest.approx(sentence_bleu(c, r), abs=0) for c, r in zip(COMPLETIONS, REFS, strict=True)
    ]


def test_batch_invariance_raw_components():
    s1 = suite(["bleu", "test_overlap", "-test_missing"])
    full = [call(f, PROMPTS, COMPLETIONS, REFS) for f in s1.reward_functions()]
    # Each sample alone, in a fresh suite (no caches shared), and in a shuffled batch.
    for i in range(len(COMPLETIONS)):
        s2 = suite(["bleu", "test_overlap", "-test_missing"])
        alone = [call(f, [PROMPTS[i]], [COMPLETIONS[i]], [REFS[i]]) for f in s2.reward_functions()]
        assert [a[0] for a in alone] == [f[i] for f in full]
    perm = [5, 2, 0, 4, 1, 3]
    s3 = suite(["bleu", "test_overlap", "-test_missing"])
    shuffled = [
        call(f, [PROMPTS[j] for j in perm], [COMPLETIONS[j] for j in perm], [REFS[j] for j in perm])
        for f in s3.reward_functions()
    ]
    for f_full, f_shuf in zip(full, shuffled, strict=True):
        assert [f_full[j] for j in perm] == f_shuf


def test_direction_auto_and_declared_transforms():
    # test_missing is lower-is-better: "auto" negates it, "1/(1+x)" maps it into (0, 1].
    s = suite(
        [
            {"metric": "test_missing", "name": "auto"},
            {"metric": "test_missing", "name": "inv", "transform": "1/(1+x)"},
            {"metric": "-test_missing", "name": "neg"},
            {"metric": "test_missing", "name": "ident", "transform": "identity"},
        ]
    )
    auto, inv, neg, ident = (call(f, PROMPTS, COMPLETIONS, REFS) for f in s.reward_functions())
    assert ident[5] == 0 and ident[1] > 0  # the exact copy misses nothing
    assert auto == neg == [-v for v in ident]
    assert inv == [1 / (1 + v) for v in ident]
    # the better completion (fewer missing words) gets the higher reward in every direction-aware form
    assert auto[5] > auto[3] and inv[5] > inv[3]


def test_transform_parser_rejects_code():
    assert parse_transform("1/(1+x)")(np.array([0.0, 1.0])).tolist() == [1.0, 0.5]
    assert parse_transform("-log1p(x)")(np.array([0.0]))[0] == 0.0
    for bad in ["__import__('os')", "x.real", "open('f')", "lambda: 1", "y + 1"]:
        with pytest.raises(ConfigError):
            parse_transform(bad)
    with pytest.raises(ConfigError):
        suite([{"metric": "bleu", "normalize": "minmax"}])
    with pytest.raises(ConfigError):
        suite([{"metric": "no_such_metric"}])
    for bad_component in ({"metric": 3}, {"metric": "bleu", "weight": "heavy"}):
        with pytest.raises(ConfigError):
            suite([bad_component])


def test_none_for_failed_samples_counted_and_step_survives():
    s = suite(["test_overlap", "test_errors", "bleu"])
    comps = ["good one", "FAIL here", "NAN there", "the lungs are clear"]
    refs = [REF_A] * 4
    logged = {}
    overlap, errors, bleu = (
        call(f, ["p"] * 4, comps, refs, log_metric=lambda k, v: logged.__setitem__(k, v))
        for f in s.reward_functions()
    )
    assert overlap[1] is None and all(v is not None for i, v in enumerate(overlap) if i != 1)
    assert (
        errors[2] is None and errors[1] is not None
    )  # negated count for the sample test_errors can score
    assert all(v is not None for v in bleu)
    assert s.failures == {"test_overlap": 1, "test_errors": 1, "bleu": 0}
    assert logged["rewards_failed/test_overlap"] == 1.0
    # composite: nansum of the components that scored; None only if every component failed
    total = s.composite(["p"] * 4, comps, reference=refs)
    assert total[1] == pytest.approx(errors[1] + bleu[1])


def test_reference_side_computed_once_per_distinct_reference_across_steps():
    s = suite(["test_overlap", "bleu"])
    fns = s.reward_functions()
    rng = np.random.default_rng(0)
    for _step in range(3):  # three GRPO steps, 2 prompts x 8 generations, references repeat
        comps = [" ".join(rng.choice(COMPLETIONS[i % 6].split(), 3)) for i in range(16)]
        refs = [REF_A] * 8 + [REF_B] * 8
        for f in fns:
            call(f, ["a"] * 8 + ["b"] * 8, comps, refs)
    assert dict(CountingOverlap.reference_calls) == {REF_A: 1, REF_B: 1}
    assert s.reference_states_computed == {"test_overlap": 2, "bleu": 2}
    # without the cache the reference side is redone for every scored pair
    CountingOverlap.reference_calls.clear()
    s2 = suite(["test_overlap"], reference_cache=False, dedupe=False)
    call(s2.reward_functions()[0], ["a"] * 8, ["x"] * 8, [REF_A] * 8)
    assert CountingOverlap.reference_calls[REF_A] == 8


def test_identical_completions_scored_once_and_metrics_shared_between_components():
    s = suite(
        [
            {"metric": "test_overlap", "name": "o1"},
            {"metric": "test_overlap", "name": "o2", "normalize": "group"},
            "bleu",
        ]
    )
    assert len(s.metrics) == 2  # one instance per metric, shared by components o1 and o2
    comps = ["the heart"] * 4 + ["the lungs"] * 4
    for f in s.reward_functions():
        call(f, ["p"] * 8, comps, [REF_A] * 8)
    assert s.pairs_scored == {"test_overlap": 2, "bleu": 2}
    for f in s.reward_functions():  # the next step repeats a pair: served from the cache
        call(f, ["p"] * 8, comps, [REF_A] * 8)
    assert s.pairs_scored == {"test_overlap": 2, "bleu": 2}


def test_group_normalisation_depends_only_on_own_group():
    comp = [{"metric": "bleu", "normalize": "group"}]
    g1 = call(suite(comp).reward_functions()[0], PROMPTS, COMPLETIONS, REFS)
    raw = [sentence_bleu(c, r) for c, r in zip(COMPLETIONS, REFS, strict=True)]
    for lo in (0, 3):
        group = raw[lo : lo + 3]
        # the sample std (Bessel's correction), the one TRL scales advantages with
        mu, sd = statistics.fmean(group), statistics.stdev(group)
        assert g1[lo : lo + 3] == pytest.approx([(v - mu) / sd for v in group])
    # group 2 alone gives the same normalised values
    g2 = call(suite(comp).reward_functions()[0], PROMPTS[3:], COMPLETIONS[3:], REFS[3:])
    assert g2 == pytest.approx(g1[3:])
    # a group with no spread gets 0 (no signal), not NaN
    flat = call(suite(comp).reward_functions()[0], ["q"] * 3, ["same"] * 3, [REF_A] * 3)
    assert flat == [0.0, 0.0, 0.0]


def test_running_normalisation_uses_history():
    s = suite([{"metric": "bleu", "normalize": "running"}])
    f = s.reward_functions()[0]
    seen = []
    for lo in (0, 3):
        out = call(f, PROMPTS[lo : lo + 3], COMPLETIONS[lo : lo + 3], REFS[lo : lo + 3])
        seen += [
            sentence_bleu(c, r)
            for c, r in zip(COMPLETIONS[lo : lo + 3], REFS[lo : lo + 3], strict=True)
        ]
        mu, sd = np.mean(seen), np.std(seen, ddof=1)
        expect = [
            (sentence_bleu(c, r) - mu) / sd
            for c, r in zip(COMPLETIONS[lo : lo + 3], REFS[lo : lo + 3], strict=True)
        ]
        assert out == pytest.approx(expect)


def test_chat_message_completions_and_weights():
    msgs = [[{"role": "assistant", "content": c}] for c in COMPLETIONS]
    assert completion_text(msgs[0]) == COMPLETIONS[0]
    assert (
        completion_text([{"role": "assistant", "content": [{"type": "text", "text": "a b"}]}])
        == "a b"
    )
    s = suite([{"metric": "bleu", "weight": 2.0}, {"metric": "test_overlap", "weight": 0.5}])
    assert s.weights() == [2.0, 0.5]
    as_msgs = [call(f, PROMPTS, msgs, REFS) for f in s.reward_functions()]
    s2 = suite([{"metric": "bleu", "weight": 2.0}, {"metric": "test_overlap", "weight": 0.5}])
    as_str = [call(f, PROMPTS, COMPLETIONS, REFS) for f in s2.reward_functions()]
    assert as_msgs == as_str
    total = s.composite(PROMPTS, COMPLETIONS, reference=REFS)
    assert total == pytest.approx([2 * b + 0.5 * o for b, o in zip(*as_str, strict=True)])
    assert not any(math.isnan(t) for t in total)


class _Judge(CountingOverlap):
    name = "test_judge"
    remote = True


def test_remote_metric_component_is_async(monkeypatch):
    from rexeval.metrics import REGISTRY

    monkeypatch.setitem(REGISTRY, "test_judge", "tests.test_rewards:_Judge")
    s = RewardSuite({"components": [{"metric": "test_judge", "output": "test_overlap"}, "bleu"]})
    judge, bleu = s.reward_functions()
    assert asyncio.iscoroutinefunction(judge) and not asyncio.iscoroutinefunction(bleu)
    assert call(judge, PROMPTS, COMPLETIONS, REFS)[5] == 1.0


def test_missing_reference_column_is_a_config_error():
    f = suite(["bleu"]).reward_functions()[0]
    with pytest.raises(ConfigError, match="reference"):
        f(prompts=["p"], completions=["x"], solution=["y"])


def test_model_metric_constructed_once_for_several_components():
    from tests.helpers.rl import TinyEmbedSim

    before = TinyEmbedSim.instances
    s = RewardSuite(
        {
            "components": [
                {"metric": "test_embed", "name": "e1"},
                {"metric": "test_embed", "name": "e2", "normalize": "group"},
                "bleu",
            ],
            "plugins": {"test_embed": "tests.helpers.rl:TinyEmbedSim"},
        }
    )
    assert TinyEmbedSim.instances - before == 1
    assert s.components[0].metric is s.components[1].metric


def test_one_standard_deviation_for_group_running_and_trl():
    """group and running z-scores use the sample std (ddof=1), the one TRL scales advantages with."""
    comps = ["the heart is normal", "the lungs", "clear", "heart size normal"]
    raw = [sentence_bleu(c, REF_A) for c in comps]
    group = call(
        suite([{"metric": "bleu", "normalize": "group"}]).reward_functions()[0],
        ["p"] * 4,
        comps,
        [REF_A] * 4,
    )
    running = call(
        suite([{"metric": "bleu", "normalize": "running"}]).reward_functions()[0],
        ["p"] * 4,
        comps,
        [REF_A] * 4,
    )
    # one group, one batch: both see the same values, so they must agree
    assert group == pytest.approx(running)
    assert statistics.stdev(group) == pytest.approx(1.0)
    torch = pytest.importorskip("torch")
    trl_utils = pytest.importorskip("trl.trainer.utils")
    x = torch.tensor(raw, dtype=torch.float64)
    trl_z = ((x - x.mean()) / trl_utils.nanstd(x)).tolist()  # TRL's group scaling without its 1e-4
    assert group == pytest.approx(trl_z)


def test_caller_components_kept_and_signature_records_the_applied_transform():
    from rexeval.rewards import Component, RewardConfig

    mine = [Component("bleu"), Component("test_missing"), Component("-test_missing", name="neg")]
    cfg = RewardConfig(components=mine, plugins=PLUGINS)
    s = RewardSuite(cfg)
    assert [c.name for c in mine] == [None, None, "neg"]  # the caller's objects are not rewritten
    assert [c.transform for c in mine] == ["auto", "auto", "auto"]
    assert s.names == ["bleu", "test_missing", "neg"]
    sig = {c["name"]: c["transform"] for c in s.signature()["components"]}
    # "auto" resolved: BLEU is higher-is-better, the missing-word count lower-is-better
    assert sig == {"bleu": "x", "test_missing": "-x", "neg": "-x"}
    named = suite([{"metric": "test_missing", "transform": "inverse1p"}])
    assert named.signature()["components"][0]["transform"] == "1 / (1 + x)"


@pytest.mark.parametrize(
    "component",
    [
        {"metric": "bleu", "transform": "9**9**9"},  # a constant that overflows
        {"metric": "bleu", "transform": "x + 1/0"},  # a constant division by zero
        {"metric": "bleu", "transform": "exp(1000) * x"},  # a constant that is not finite
        {"metric": "bleu", "transform": "clip(x)"},  # wrong arity
        {"metric": "bleu", "transform": "log(x, 2)"},
        {"metric": "bleu", "transform": "log(x)"},  # BLEU is 0 for a report sharing no 4-gram
        {"metric": "test_missing", "transform": "1/x"},  # 1/0 at x=0, the best count
        {"metric": "bleu", "transform": lambda a, b: a + b},  # a callable of the wrong arity
        {"metric": "test_missing", "transform": lambda x: 1 / x},  # raises at x=0
    ],
)
def test_transforms_that_cannot_work_are_rejected_when_read(component):
    with pytest.raises(ConfigError, match="transform"):
        suite([component])  # when the suite is configured, before any step


def test_plain_callable_transform_equals_the_expression():
    by_expr = suite([{"metric": "test_missing", "transform": "1/(1+x)"}])
    by_callable = suite([{"metric": "test_missing", "transform": lambda x: 1 / (1 + x)}])
    by_ufunc = suite([{"metric": "bleu", "transform": math.sqrt}])
    a = call(by_expr.reward_functions()[0], PROMPTS, COMPLETIONS, REFS)
    b = call(by_callable.reward_functions()[0], PROMPTS, COMPLETIONS, REFS)
    assert a == b and all(0 < v <= 1 for v in a)
    assert call(by_ufunc.reward_functions()[0], PROMPTS, COMPLETIONS, REFS) == pytest.approx(
        [math.sqrt(sentence_bleu(c, r)) for c, r in zip(COMPLETIONS, REFS, strict=True)]
    )
    label = by_callable.signature()["components"][0]["transform"]
    assert label.startswith("callable:") and "lambda" in label


def test_reference_state_cache_is_bounded():
    s = suite(["test_overlap"], cache_size=1, dedupe=False)
    f = s.reward_functions()[0]
    for ref in (REF_A, REF_B, REF_A):  # REF_A was evicted by REF_B: computed again
        call(f, ["p"], ["x"], [ref])
    assert s.reference_states_computed == {"test_overlap": 3}


@pytest.mark.parametrize(
    "config, message, meant",
    [
        ({"components": ["bleu"], "dedup": False}, "unknown reward option(s) dedup; known: ", "dedupe"),
        ({"components": [{"metric": "bleu", "wieght": 2}]}, "unknown reward component field(s) wieght; known: ",
         "weight"),
    ],
)
def test_a_misspelt_reward_key_is_refused_with_the_known_ones(config, message, meant):
    from rexeval.rewards.config import RewardConfig

    with pytest.raises(ConfigError) as err:
        RewardConfig.from_dict(config)
    assert str(err.value).startswith(message)
    assert meant in str(err.value).split("known: ")[1].split(", ")
