"""rexeval metrics as GRPO reward functions (TRL's ``f(prompts, completions, **columns) -> list[float | None]``).

A :class:`RewardSuite` owns one instance of every metric the components need (built once with
:func:`rexeval.metrics.resolve_metrics`, so a model backbone shared by two components — BERTScore inside
RadCliQ and BERTScore on its own — is loaded once). Each :class:`Component` picks one per-study output
column of a metric, applies a direction-aware transform and a normalisation, and is exposed as its own
reward function (``suite.reward_functions()``), so TRL logs one curve per component
(``rewards/<name>/mean``) and applies the weights (``suite.weights()`` → ``GRPOConfig.reward_weights``).

The package, one module per idea:

``config``
    :class:`Component`, :class:`RewardConfig` and :func:`plan`, which checks a configuration in full
    (metrics, columns, transforms over the outputs' declared ranges) before anything runs.
``transforms``
    safe expressions in ``x`` and plain callables, checked when read.
``engine``
    a cache around an executor (:mod:`rexeval.engines`): metrics run once per step, identical pairs
    scored once, reference-side work cached; failures kept with their reasons.
``result``
    :class:`RewardResult`, what :meth:`RewardSuite.score` returns for a batch of pairs.
``normalise``
    ``none`` / ``group`` / ``running``; every standard deviation is the sample one (ddof=1), as TRL's.
``trl_adapter``
    :class:`RewardSuite`: the TRL reward functions, weights, failure counts and logging.

Failures never crash a step (the executor's policy, :mod:`rexeval.engines.base`): a metric that raises on
a batch is retried sample by sample, and a sample it still fails on (or a NaN, a recorded failure) becomes
``None`` for that component — never 0 — with its reason: counted in ``suite.failures``, kept in
``suite.recent_failures``, logged as ``rewards_failed/<name>`` through TRL's ``log_metric``, as a
``failed/<name>`` column of reasons through TRL's ``log_extra`` and as a warning on the
``rexeval.rewards.trl_adapter`` logger. Errors about the configuration (``RexevalError``: a missing model,
bad options) are not sample failures and stop the step.

Outside TRL (a reward service, an evaluation script), :meth:`RewardSuite.score` scores a batch of
(prediction, reference) pairs and returns a :class:`RewardResult`: the weighted reward per sample (None when
every component failed on it), every component raw and transformed, and each failure with its component,
sample and reason::

    suite = RewardSuite({"components": ["bleu", {"metric": "rouge_l", "weight": 2}]})
    result = suite.score(["No effusion."], ["No pleural effusion."])
    result.rewards, result.components["bleu"].raw, result.failures

Normalisation (per component, after the transform):

``none``
    the transformed value; a sample's reward depends only on its own texts (batch-invariant).
``group``
    z-score within the sample's GRPO group (same prompt and reference) among the samples this process
    sees; 0 for a group with one valid member or zero spread. Depends only on the sample's own group.
    Across processes a group may be split; use ``none`` with TRL's ``scale_rewards="group"`` for exact
    cross-process group statistics.
``running``
    (x - mean) / std with mean and std accumulated (Welford) over every valid value seen so far, this
    batch included: keeps components of different scales comparable in a weighted sum.
"""

from rexeval.rewards.config import Component, RewardConfig, RewardPlan, plan
from rexeval.rewards.engine import (
    EngineResult,
    SampleFailure,
    ScoringEngine,
    has_reference_protocol,
    is_async_metric,
)
from rexeval.rewards.normalise import DDOF, NORMALISATIONS
from rexeval.rewards.result import ComponentScores, RewardFailure, RewardResult
from rexeval.rewards.transforms import Transform, callable_transform, parse_transform
from rexeval.rewards.trl_adapter import RewardSuite, completion_text, reward_functions

__all__ = [
    "DDOF",
    "NORMALISATIONS",
    "Component",
    "ComponentScores",
    "EngineResult",
    "RewardConfig",
    "RewardFailure",
    "RewardPlan",
    "RewardResult",
    "SampleFailure",
    "RewardSuite",
    "ScoringEngine",
    "Transform",
    "callable_transform",
    "completion_text",
    "has_reference_protocol",
    "is_async_metric",
    "parse_transform",
    "plan",
    "reward_functions",
]
