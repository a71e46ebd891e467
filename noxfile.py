"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s demo`.

torch is installed from its pinned CPU wheel first, so that the `models` extra never pulls a CUDA build.
"""

import nox

nox.options.sessions = ["lint", "tests"]
TORCH = "torch==2.13.0"


@nox.session(python=False)
def lint(session):
    session.run("ruff", "check", "rexeval", "baselines", "trainers", "leaderboards", "tests", "benchmarks")


@nox.session
def tests(session):
    session.install(TORCH)
    session.install("-e", ".[all]")
    session.run("pytest", *session.posargs)


@nox.session
def demo(session):
    """Score the shipped example and compare it with a trivial system."""
    session.install("-e", ".")
    session.run("rexeval", "score", "examples/example_preds.csv", "--out", "runs/example", "--name", "example")


@nox.session
def iu_leaderboard(session):
    """Rebuild leaderboards/iu_xray/leaderboard.{md,csv}: every baseline on the 590 IU X-ray test studies."""
    session.install("-e", ".")
    session.run("python", "-m", "rexeval.leaderboards.iu_xray.build", *session.posargs)
