"""``rexeval metrics``: every registered metric, what it reports and needs, and whether it can run here now."""

from __future__ import annotations

import math
import re
from typing import Any

import typer

from rexeval.cli._common import user_errors


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics_list)


#: Metrics that talk to an LLM endpoint but predate the ``needs_endpoint`` class attribute.
_ENDPOINT = {"errors_llm": "required", "green": "optional (or the local model)"}


def _fmt_bound(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def _extras_in(text: str) -> list[str]:
    """Extras a fix message names (``'rexeval[models]'`` in its install command)."""
    found: list[str] = []
    for group in re.findall(r"rexeval\[([a-z0-9_,-]+)\]", text):
        found.extend(e for e in group.split(",") if e not in found)
    return found


def describe(name: str) -> dict[str, Any]:
    """One registry entry as a row: outputs with direction and range, needs, and availability now."""
    from rexeval.backends.models import MODELS
    from rexeval.base.exceptions import MetricUnavailable, RexevalError
    from rexeval.metrics import lookup

    row: dict[str, Any] = {"key": name}
    try:
        cls = lookup(name)
        metric = cls()
    except Exception as exc:  # noqa: BLE001 - a broken plugin is listed with its error, never hides the rest
        row.update(outputs=[], description="", requires=[], extras=[], models=[], endpoint="",
                   available=False, reason=str(exc) if isinstance(exc, RexevalError) else f"cannot load: {exc}",
                   fix="")
        return row
    outputs = []
    for out in metric.outputs():
        outputs.append({
            "key": out.key,
            "direction": "higher" if out.higher_is_better else "lower",
            "range": [_fmt_bound(out.value_range[0]), _fmt_bound(out.value_range[1])],
            "aggregate": out.aggregate.name,
            "per_study": out.per_study,
        })
    models = sorted({spec.name for spec in MODELS.values() if name in spec.used_by} | set(getattr(cls, "uses_models", ())))
    row.update(
        outputs=outputs,
        description=getattr(cls, "description", ""),
        requires=list(cls.requires),
        models=models,
        endpoint=getattr(cls, "needs_endpoint", None) or _ENDPOINT.get(name, ""),
        default=bool(getattr(cls, "default", True)),
    )
    extras = list(getattr(cls, "extras", ()) or ())
    try:
        metric.check_available()
        row.update(available=True, reason="", fix="")
    except MetricUnavailable as exc:
        row.update(available=False, reason=exc.reason, fix=exc.fix)
        extras += [e for e in _extras_in(exc.fix) if e not in extras]
    except RexevalError as exc:
        row.update(available=False, reason=str(exc), fix="")
    except Exception as exc:  # noqa: BLE001 - the listing reports, it never crashes on one metric
        row.update(available=False, reason=f"{type(exc).__name__}: {exc}", fix="")
    row["extras"] = extras
    return row


@user_errors
def metrics_list(
    as_json: bool = typer.Option(False, "--json", help="Print the listing as JSON."),
    names: str | None = typer.Option(None, "--metrics", help="Only these registry names (comma-separated)."),
) -> None:
    """List every registered metric: outputs, direction, range, what it needs and whether it can run here now."""
    import json

    from rexeval.base.exceptions import ConfigError
    from rexeval.cli._common import split_list
    from rexeval.metrics import available, plugin_errors

    known = available()
    wanted = split_list(names) or known
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ConfigError(f"unknown metric {unknown[0]!r}; known metrics: {', '.join(known)}")
    # a refused plugin (its name clashes) is not a metric: said on stderr, so --json stays one row per name
    for name, why in plugin_errors().items():
        typer.echo(f"plugin metric {name!r} not registered: {why}", err=True)
    rows = [describe(n) for n in wanted]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        mark = "ready  " if r["available"] else "SKIPPED"
        typer.echo(f"{mark} {r['key']}  {r.get('description', '')}")
        for o in r["outputs"]:
            arrow = "↑" if o["direction"] == "higher" else "↓"
            typer.echo(f"        {o['key']}: {arrow} {o['direction']} is better, range [{o['range'][0]}, {o['range'][1]}], {o['aggregate']}")
        needs = []
        if r["requires"]:
            needs.append("metrics " + ", ".join(r["requires"]))
        if r["extras"]:
            needs.append("extra " + ", ".join(f"rexeval[{e}]" for e in r["extras"]))
        if r["models"]:
            needs.append("model " + ", ".join(r["models"]))
        if r["endpoint"]:
            needs.append(f"an OpenAI-compatible endpoint ({r['endpoint']})")
        typer.echo(f"        needs: {'; '.join(needs) if needs else 'nothing beyond the core install'}")
        if not r["available"]:
            typer.echo(f"        why not: {r['reason']}")
            if r["fix"]:
                typer.echo(f"        fix: {r['fix']}")
