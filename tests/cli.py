"""Running the ``yibao`` command inside the tests (against the ``cli_db`` fixture's database)."""

from __future__ import annotations

from typer.testing import CliRunner

from yibao.cli.main import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    """Exit code and standard output of ``yibao ARGS``."""
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout
