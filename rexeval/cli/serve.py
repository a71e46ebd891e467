"""``rexeval serve``: the reward engine as a batched HTTP service for RL trainers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from rexeval.cli._common import user_errors

if TYPE_CHECKING:
    from rexeval.serve.ray_replicas import RayReplicas
    from rexeval.serve.scoring import RewardScorer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)


@user_errors
def serve_command(
    config: Path = typer.Option(..., "--config", "-c", help="Reward config (YAML): a run config with a "
                                "'reward:' block, as train-rl reads, or a bare reward config; an optional "
                                "'serve:' block sets batching, limits and time-outs."),
    host: str = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1: this machine only)."),
    port: int = typer.Option(None, "--port", help="Port (default 8000; 0 picks a free one)."),
    token_file: Path = typer.Option(None, "--token-file", help="File holding a token every request must "
                                    "send as 'Authorization: Bearer <token>' (/health excepted)."),
    engine: str = typer.Option("local", "--engine", help="local: models in this process; ray: scorer "
                               "replicas on Ray actors (serve.replicas, serve.gpus_per_replica)."),
    max_batch_size: int = typer.Option(None, "--max-batch-size", help="Samples per engine call."),
    max_wait_ms: float = typer.Option(None, "--max-wait-ms", help="Milliseconds an idle batcher holds a batch open for more requests (default 0)."),
    no_batching: bool = typer.Option(False, "--no-batching", help="Score each request on its own."),
) -> None:
    """Serve rewards over HTTP: POST /score, POST /openrlhf (OpenRLHF --remote_rm_url), GET /config,
    /health (ready once every model is loaded) and /metrics (Prometheus). See docs/serve.md."""
    from rexeval.base.exceptions import ConfigError, MetricUnavailable, install_hint

    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise MetricUnavailable(f"rexeval serve needs {exc.name}", install_hint("serve")) from None
    from rexeval.serve.app import create_app
    from rexeval.serve.client import read_token
    from rexeval.serve.config import check_servable, load_serve_config

    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine must be local or ray, not {engine!r}")
    reward, options = load_serve_config(config)
    for name, value in (("host", host), ("port", port), ("max_batch_size", max_batch_size)):
        if value is not None:
            setattr(options, name, value)
    if max_wait_ms is not None:
        options.max_wait_s = max_wait_ms / 1000.0
    if no_batching:
        options.dynamic_batching = False
    options.check()
    check_servable(reward)
    token = read_token(token_file)
    backend: RayReplicas | RewardScorer  # both serve names, config and score (create_app's backend)
    if engine == "ray":
        from rexeval.serve.ray_replicas import RayReplicas

        backend = RayReplicas(reward, options)
    else:
        from rexeval.serve.scoring import RewardScorer

        backend = RewardScorer(reward)  # config and model availability checked here: exit 2 before binding
    app = create_app(backend, options, token)
    typer.echo(f"rexeval serve: {', '.join(backend.names)} on http://{options.host}:{options.port} "
               f"(engine {engine}{', token required' if token else ''}); models load now, /health says "
               "ready when they have", err=True)
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning", access_log=False)

