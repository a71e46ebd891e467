"""Where the metrics of a run are computed.

The local engine is the loop in :func:`rexeval.scoring.score_pairs`; other engines plug into its
``compute`` hook (one call per metric, the whole aligned batch in, per-study columns out) so that
alignment, aggregation, CIs and the run directory stay the same code whatever computed the values.
"""

ENGINES = ("local", "ray")
