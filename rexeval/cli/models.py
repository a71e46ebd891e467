"""``rexeval models``: every model rexeval can use, where it is looked up, found or missing, and the fix;
``rexeval models download [NAME]`` fetches them (the only command that touches the network)."""

from __future__ import annotations

from pathlib import Path

import typer

from rexeval.cli._common import user_errors


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="List the models behind the model-based metrics, or download them.", no_args_is_help=False)
    group.callback(invoke_without_command=True)(models_list)
    group.command("download")(models_download)
    group.command("random")(models_random)
    app.add_typer(group, name="models")


def all_models():
    """Import every registered metric module (cheap: no torch at import) so each registers its models."""
    from rexeval.backends.models import MODELS
    from rexeval.metrics import available, lookup

    for name in available():
        try:
            lookup(name)
        except Exception:  # a broken plugin must not hide the other models
            continue
    return MODELS


@user_errors
def models_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the listing as JSON."),
) -> None:
    """List every model: hub id, where it is looked up, found or missing, and the exact fix."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from rexeval.backends.models import resolve, where
    from rexeval.base.exceptions import MetricUnavailable

    rows = []
    for name, spec in sorted(all_models().items()):
        try:
            found = resolve(spec)
            status, detail = "found", f"{found.path} ({found.source}{', revision ' + found.revision if found.revision else ''})"
        except MetricUnavailable as exc:
            status, detail = "missing", exc.reason
        rows.append({
            "name": name, "hub_id": spec.hub_id, "revision": spec.revision, "used_by": list(spec.used_by),
            "status": status, "detail": detail, "looks_in": where(spec), "fix": spec.fix if status == "missing" else "",
            "note": spec.note,
        })
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        mark = "found  " if r["status"] == "found" else "MISSING"
        typer.echo(f"{mark} {r['name']}  ({r['hub_id']}{'@' + r['revision'] if r['revision'] else ''}; used by {', '.join(r['used_by'])})")
        typer.echo(f"        {r['detail']}")
        typer.echo(f"        looks in: {'; '.join(r['looks_in'])}")
        if r["fix"]:
            typer.echo(f"        fix: {r['fix']}")
        if r["note"]:
            typer.echo(f"        note: {r['note']}")


@user_errors
def models_download(
    name: str | None = typer.Argument(None, help="Model name (default: every model)."),
    cache_dir: str | None = typer.Option(None, "--cache-dir", help="HF cache to download into (default: the usual HF cache)."),
) -> None:
    """Download model files into the Hugging Face cache (needs internet)."""
    from rexeval.backends.models import download
    from rexeval.base.exceptions import ConfigError

    models = all_models()
    names = [name] if name else sorted(models)
    for n in names:
        if n not in models:
            raise ConfigError(f"unknown model {n!r}; known: {', '.join(sorted(models))}")
    for n in names:
        typer.echo(f"downloading {n} ({models[n].hub_id}) ...")
        path = download(n, cache_dir)
        typer.echo(f"  -> {path}")


@user_errors
def models_random(
    name: str = typer.Argument(..., help="radgraph, radgraph-xl, modern-radgraph-xl, chexbert or distilroberta-base."),
    out: str = typer.Option(..., "-o", "--out", help="Hugging Face hub cache folder to write into (then export HF_HUB_CACHE=it)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random weights (same seed, same files)."),
    size: str = typer.Option("full", "--size", help="full: the real architecture's size; small: a tiny one for fast tests."),
    encoder_weights: bool = typer.Option(False, "--encoder-weights", help="radgraph: also store the encoder weights (only the radgraph package needs them)."),
    force: bool = typer.Option(False, "--force", help="Write into a cache that holds real snapshots of the same models (its refs/main then points at the random ones)."),
) -> None:
    """Write a RANDOM-WEIGHT stand-in with the real architecture and file layout, for offline pipeline tests.

    Its scores mean nothing. The files go where rexeval (and the peer packages) look them up. A cache
    that holds a real snapshot of the same models is refused unless --force.
    """
    from rexeval.backends.standins import RANDOM_MODELS, WARNING, build, check_cache
    from rexeval.base.exceptions import ConfigError

    if name not in RANDOM_MODELS:
        raise ConfigError(f"no random stand-in for {name!r}; choose from {', '.join(RANDOM_MODELS)}")
    if size not in ("full", "small"):
        raise ConfigError(f"--size must be full or small, not {size!r}")
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"-o {out} is a file; give the Hugging Face cache folder to write into (it is created)")
    check_cache(out, name, size, force)  # before the warning: nothing is written when refused
    typer.echo(f"WARNING: {WARNING}", err=True)
    try:
        path = build(name, out, seed=seed, size=size, encoder_weights=encoder_weights, force=force)
    except OSError as exc:
        raise ConfigError(f"-o {out}: cannot write the stand-in ({exc.strerror or exc}: {exc.filename or out})") from None
    typer.echo(f"wrote {path}")
    typer.echo(f"use it with: export HF_HUB_CACHE={out}")
