"""The run: what :func:`rexeval.score` returns and a run directory holds, typed and versioned.

- :mod:`rexeval.run.runs.summary`: summary.json as dataclasses (:class:`Summary`, :class:`MetricEntry`, ...)
  with ``schema_version``; the only code that knows summary.json's keys.
- :mod:`rexeval.run.runs.run`: :class:`Run` (summary + per-study values), the run directory's files, its
  atomic locked writer and :func:`load_run`, the one reader.
- :mod:`rexeval.run.runs.differences`: were runs scored alike (before a merge, compare or leaderboard)?
"""

from rexeval.run.runs.differences import refuse_differences, scoring_differences
from rexeval.run.runs.run import (
    GROUPS,
    PER_STUDY,
    RUN_FILES,
    SUBGROUPS,
    SUMMARY,
    TEXTS,
    Run,
    RunDirWriter,
    ScoreResult,
    check_out_dir,
    is_rexeval_summary,
    load_run,
    load_runs,
    read_summary,
)
from rexeval.run.runs.summary import (
    SCHEMA_VERSION,
    Bootstrap,
    InputInfo,
    MetricEntry,
    RunInfo,
    ShardInfo,
    StudyList,
    SubgroupsInfo,
    Summary,
    as_summary,
    finite,
    json_default,
    random_weights_line,
)

__all__ = [
    "GROUPS", "PER_STUDY", "RUN_FILES", "SCHEMA_VERSION", "SUBGROUPS", "SUMMARY", "TEXTS", "Bootstrap",
    "InputInfo", "MetricEntry", "Run", "RunDirWriter", "RunInfo", "ScoreResult", "ShardInfo", "StudyList",
    "SubgroupsInfo", "Summary", "as_summary", "check_out_dir", "finite", "is_rexeval_summary", "json_default",
    "load_run", "load_runs", "random_weights_line", "read_summary", "refuse_differences", "scoring_differences",
]
