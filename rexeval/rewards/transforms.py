"""Reward transforms: a safe arithmetic expression in ``x`` or a plain callable, checked before training.

A transform maps a metric's per-study value to a reward. It is checked when the configuration is read:
an expression must parse, call only known functions with the right number of arguments and have finite
constants (``9**9**9`` and ``1/0`` are refused), and every transform must give a finite number over the
range the metric declares for its output (``1/x`` on a count that can be 0, ``log(x)`` on BLEU, which is
0 for a report sharing no 4-gram, are refused): such a transform would turn valid scores into failed
samples at every training step.
"""

from __future__ import annotations

import ast
import inspect
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rexeval.base.exceptions import ConfigError

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
#: name -> (function, number of arguments)
_FUNCS: dict[str, tuple[Callable[..., Any], int]] = {
    "log": (np.log, 1),
    "log1p": (np.log1p, 1),
    "exp": (np.exp, 1),
    "sqrt": (np.sqrt, 1),
    "abs": (np.abs, 1),
    "tanh": (np.tanh, 1),
    "min": (np.minimum, 2),
    "max": (np.maximum, 2),
    "clip": (np.clip, 3),
}
NAMED = {"identity": "x", "neg": "-x", "negate": "-x", "inverse1p": "1/(1+x)", "complement": "1-x"}


@dataclass(frozen=True)
class Transform:
    """A checked transform: ``fn`` maps an array of values to an array of rewards (NaN = failed)."""

    fn: Callable[[np.ndarray], np.ndarray]
    #: What was applied, for signatures: the expression (``"-x"``) or ``callable:module.name``.
    label: str

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.fn(x)


def _finite_or_nan(out: Any, shape: tuple[int, ...]) -> np.ndarray:
    out = np.broadcast_to(np.asarray(out, dtype=float), shape).astype(float)
    out[~np.isfinite(out)] = np.nan  # 1/(1+x) at x=-1 etc.: a failure, not +inf
    return out


def parse_transform(spec: str) -> Transform:
    """A safe arithmetic expression in ``x`` (``"-x"``, ``"1/(1+x)"``, ``"1-x"``, ``"-log1p(x)"``) or a name
    (identity, neg, inverse1p, complement). Only numbers, x, + - * / **, and log/log1p/exp/sqrt/abs/tanh
    (one argument), min/max (two) and clip (three) are allowed; constant parts must be finite."""
    text = NAMED.get(spec.strip(), spec.strip())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"bad reward transform {spec!r}: {exc.msg}") from None

    def bad(why: str) -> ConfigError:
        return ConfigError(f"bad reward transform {spec!r}: {why}")

    def check(node: ast.AST) -> bool:
        """Validate the node; True when it depends on x."""
        if isinstance(node, ast.Expression):
            return check(node.body)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            uses_x = check(node.left) | check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            uses_x = check(node.operand)
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            uses_x = False
        elif isinstance(node, ast.Name) and node.id == "x":
            return True
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCS
        ):
            if node.keywords:
                raise bad("keyword arguments are not allowed")
            arity = _FUNCS[node.func.id][1]
            if len(node.args) != arity:
                raise bad(
                    f"{node.func.id}() takes {arity} argument{'s' if arity > 1 else ''}, "
                    f"got {len(node.args)}"
                )
            uses_x = False
            for arg in node.args:
                uses_x |= check(arg)
        else:
            raise bad(f"only x, numbers, + - * / ** and {', '.join(_FUNCS)} are allowed")
        if not uses_x:  # a constant part: evaluate it now, so 9**9**9 or 1/0 fail here
            try:
                with np.errstate(all="raise"):
                    value = _const(node)
            except (ArithmeticError, FloatingPointError, ValueError) as exc:
                raise bad(f"{ast.unparse(node)} cannot be computed ({exc})") from None
            if not math.isfinite(value):
                raise bad(f"{ast.unparse(node)} is not a finite number")
        return uses_x

    def _const(node: ast.AST) -> float:
        return float(np.asarray(run(node, np.zeros(1))).reshape(-1)[0])

    def run(node: ast.AST, x: np.ndarray) -> Any:
        if isinstance(node, ast.Expression):
            return run(node.body, x)
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](run(node.left, x), run(node.right, x))
        if isinstance(node, ast.UnaryOp):
            v = run(node.operand, x)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Constant):
            return float(node.value)  # type: ignore[arg-type]  # check() admits only numbers
        if isinstance(node, ast.Name):
            return x
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        return _FUNCS[node.func.id][0](*(run(a, x) for a in node.args))

    check(tree)

    def transform(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            try:
                out = run(tree, x)
            except (ArithmeticError, ValueError):  # a Python-float step overflowed: no reward
                out = np.full(x.shape, np.nan)
        return _finite_or_nan(out, x.shape)

    return Transform(transform, ast.unparse(tree))


def callable_transform(fn: Callable[[float], float]) -> Transform:
    """A plain callable applied to each value (``math.tanh``, ``lambda x: 1 / (1 + x)``); it must take
    exactly one positional argument. A sample on which it raises or returns a non-finite value fails."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = None  # a builtin without a signature (some numpy ufuncs): checked by probing only
    if params is not None:
        required = [
            p
            for p in params
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        positional = [
            p
            for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
        kw_only = [p for p in params if p.kind == p.KEYWORD_ONLY and p.default is p.empty]
        if len(required) > 1 or not positional or kw_only:
            raise ConfigError(
                f"reward transform {_callable_name(fn)} must take one argument (the metric value); "
                f"its signature is {inspect.signature(fn)}"
            )

    def transform(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        out = np.full(x.shape, np.nan)
        with np.errstate(all="ignore"):
            for i, v in np.ndenumerate(x):
                if math.isnan(v):
                    continue
                try:
                    out[i] = float(fn(float(v)))
                except Exception:  # that sample fails; the step goes on
                    continue
        out[~np.isfinite(out)] = np.nan
        return out

    return Transform(transform, f"callable:{_callable_name(fn)}")


def _callable_name(fn: Any) -> str:
    module = getattr(fn, "__module__", None) or type(fn).__module__
    name = (
        getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__qualname__
    )
    return f"{module}.{name}"


def as_transform(spec: str | Callable[[float], float]) -> Transform:
    if isinstance(spec, str):
        return parse_transform(spec)
    if callable(spec):
        return callable_transform(spec)
    raise ConfigError(f"a reward transform is an expression in x or a callable, not {spec!r}")


def probe_points(value_range: tuple[float, float]) -> np.ndarray:
    """Values a metric output can take, for checking a transform: finite ends, points between them, and a
    few moderate values along an unbounded side (not 1e300: exp(x) on an unbounded score is fine in use)."""
    lo, hi = (float(v) for v in value_range)
    if math.isfinite(lo) and math.isfinite(hi):
        return np.linspace(lo, hi, 11)
    if math.isfinite(lo):
        return lo + np.array([0.0, 0.25, 0.5, 1.0, 2.0, 10.0, 100.0])
    if math.isfinite(hi):
        return hi - np.array([0.0, 0.25, 0.5, 1.0, 2.0, 10.0, 100.0])
    return np.array([-100.0, -10.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 10.0, 100.0])


def check_on_range(transform: Transform, value_range: tuple[float, float], where: str) -> None:
    """ConfigError unless the transform gives a finite reward at every probe point of the output's range."""
    xs = probe_points(value_range)
    got = transform(xs.copy())
    if np.shape(got) != xs.shape:
        raise ConfigError(
            f"{where}: transform {transform.label} returned shape {np.shape(got)} for {xs.shape} values"
        )
    bad = xs[~np.isfinite(np.asarray(got, dtype=float))]
    if bad.size:
        raise ConfigError(
            f"{where}: transform {transform.label} gives no finite reward at x={bad[0]:g}, a value the "
            f"output can take (declared range {value_range[0]:g}..{value_range[1]:g})"
        )
