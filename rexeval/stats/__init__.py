"""Statistics over per-study values: percentile bootstrap CIs and paired randomisation tests.

The defaults live here, once, for the library and the CLI (importing this package imports no numpy).
"""

#: Bootstrap resamples for confidence intervals.
DEFAULT_RESAMPLES = 1000
#: Seed of the bootstrap resamples and the permutations (recorded in every summary).
DEFAULT_SEED = 12345
#: Permutations of the paired randomisation test (compare, leaderboard rank groups, HTML report).
DEFAULT_PERMUTATIONS = 10_000
