"""Errors a user can fix. The CLI prints them as one line and exits with code 2."""

from __future__ import annotations

from collections.abc import Iterable


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


def refuse_unknown(given: Iterable[str], known: Iterable[str], what: str) -> None:
    """Raise ``ConfigError("unknown WHAT a, b; known: ...")`` when ``given`` holds names not in ``known``:
    every config block (reward, serve, trainer) checks its keys this one way, so a typo never passes silently."""
    known = set(known)
    unknown = set(given) - known
    if unknown:
        raise ConfigError(f"unknown {what} {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")


#: Extras that pull torch: a bare torch requirement with no torch installed gets the multi-GB CUDA build.
TORCH_EXTRAS = frozenset({"models", "green", "rl", "all"})
CPU_TORCH = "pip install torch --index-url https://download.pytorch.org/whl/cpu"


def install_hint(extra: str, *packages: str) -> str:
    """The fix for a missing optional dependency: ``pip install 'rexeval[EXTRA]'`` (plus ``packages``),
    preceded, for the extras that need torch, by torch's CPU wheel for a machine without a GPU."""
    command = " ".join([f"pip install 'rexeval[{extra}]'", *packages])
    if extra in TORCH_EXTRAS:
        return f"{CPU_TORCH} (without a GPU; else the CUDA build for yours), then {command}"
    return command
