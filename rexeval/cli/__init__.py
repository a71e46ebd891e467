"""The ``rexeval`` command line. Each sub-command lives in its own module and imports heavy
libraries inside the command body, so that ``rexeval --help`` stays instant.

One way to add a command: a module here with ``register(app)``, which adds its commands (or a command
group) with typer's ``app.command(name)(function)``, each function wrapped in ``_common.user_errors``;
then list the module in ``COMMAND_MODULES``."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="rexeval",
    help="ReXrank-exact metrics, statistics and leaderboards for chest X-ray report generation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: Sub-command modules, in the order ``rexeval --help`` lists them; each defines ``register(app)``.
COMMAND_MODULES = [
    "rexeval.cli.score",
    "rexeval.cli.compare",
    "rexeval.cli.baseline",
    "rexeval.cli.longitudinal",
    "rexeval.cli.leaderboard",
    "rexeval.cli.plot",
    "rexeval.cli.report",
    "rexeval.cli.train",
    "rexeval.cli.labels",
    "rexeval.cli.radcliq",
    "rexeval.cli.models",
    "rexeval.cli.merge",
    "rexeval.cli.metaeval",
    "rexeval.cli.stress",
    "rexeval.cli.reward_check",
    "rexeval.cli.metrics",
    "rexeval.cli.serve",
]

for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def _print_version(value: bool) -> None:
    # an eager option's callback runs while the arguments are parsed, so `rexeval --version` needs no command
    if value:
        from rexeval._version import __version__

        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True,
                                 callback=_print_version),
) -> None:
    pass


def main() -> None:
    app()
