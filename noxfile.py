"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s demo`, `nox -s docs_figures`, `nox -s iu_leaderboard`.

torch is installed from its pinned CPU wheel first, so that the `models` extra never pulls a CUDA build.
"""

import nox

nox.options.sessions = ["lint", "tests"]
TORCH = "torch==2.13.0"


@nox.session(python=False)
def lint(session):
    """ruff, mypy (the library, config in pyproject.toml), deptry (declared = imported dependencies) and
    import-linter (the layers in pyproject.toml).

    Runs the tools of the environment nox runs in (the README's test command: the project's .venv).
    """
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    tools = Path(sys.executable).parent
    session.run(sys.executable, "-m", "ruff", "check", "rexeval", "baselines", "trainers", "leaderboards", "tests",
                "benchmarks", "docs")
    session.chdir(here)
    session.run(sys.executable, "-m", "mypy")  # files and options: [tool.mypy] in pyproject.toml
    session.run(str(tools / "deptry"), ".")
    # the applications are top-level packages beside rexeval/: the checkout itself is what is checked
    session.run(str(tools / "lint-imports"), "--config", str(here / "pyproject.toml"), "--no-cache",
                env={"PYTHONPATH": str(here)})


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


@nox.session(python=False)
def docs_figures(session):
    """Redraw docs/img/*.png (the figures the docs pages show) with docs/make_figures.py; commit the result.

    Runs in the environment nox runs in (the project's .venv: matplotlib and the offline metrics)."""
    import sys

    session.run(sys.executable, "docs/make_figures.py", *session.posargs)


@nox.session
def iu_leaderboard(session):
    """Rebuild leaderboards/iu_xray/leaderboard.{md,csv}: every baseline on the 590 IU X-ray test studies."""
    session.install("-e", ".")
    session.run("python", "-m", "leaderboards.iu_xray.build", *session.posargs)
