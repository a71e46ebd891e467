"""Errors a user can fix. The CLI prints them as one line and exits with code 2."""

from __future__ import annotations


class RexevalError(Exception):
    """Base class for every error caused by input, configuration or environment."""

    exit_code = 2


class InputError(RexevalError):
    """Bad input data, located as precisely as we can: file, row, column."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        column: str | None = None,
        study_id: str | None = None,
    ) -> None:
        self.path, self.row, self.column, self.study_id = path, row, column, study_id
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"row {row}" + (f" (study_id {study_id!r})" if study_id is not None else ""))
        elif study_id is not None:
            where.append(f"study_id {study_id!r}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__((": ".join([", ".join(where), message])) if where else message)


class MetricUnavailable(RexevalError):
    """A metric cannot run here: an optional dependency or model weights are missing."""

    def __init__(self, reason: str, fix: str) -> None:
        self.reason, self.fix = reason, fix
        super().__init__(f"{reason}. Fix: {fix}")


class ConfigError(RexevalError):
    """Inconsistent options (unknown metric name, bad shard spec, ...)."""
