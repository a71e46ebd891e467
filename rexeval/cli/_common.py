"""Helpers shared by the sub-commands: one-line errors with exit code 2, option parsing."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from rexeval.base.exceptions import RexevalError

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> typer.Exit:
    from rexeval.backends.llm.redact import scrub

    typer.echo(f"error: {scrub(message)}", err=True)  # a server may echo a credential into an error
    return typer.Exit(code)


def user_errors(fn: F) -> F:
    """Turn RexevalError (bad input, config, missing dependency) into one line on stderr and exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RexevalError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except OSError as exc:  # the file system said no (a file where a folder goes, EBUSY, EACCES, disk full)
            where = f": {exc.filename}" if exc.filename else ""
            raise fail(f"{exc.strerror or exc}{where}") from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def split_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


def warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)
