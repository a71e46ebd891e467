"""Where the metrics of a run are computed: executors.

:mod:`rexeval.engines.base` defines the :class:`~rexeval.engines.base.Executor` protocol (one metric and
one aligned batch in, per-study columns and the failed studies with their reasons out) and the one
failure policy every executor follows. :mod:`rexeval.engines.local` runs metrics in this process,
:mod:`rexeval.engines.ray` on Ray workers. Scoring (:func:`rexeval.run.scoring.score_pairs`) and the reward
engine (:mod:`rexeval.rewards.engine`) both go through an executor, so alignment, aggregation, CIs and
the run directory stay the same code whatever computed the values.
"""

ENGINES = ("local", "ray")
