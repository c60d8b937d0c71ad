"""Entry point of the ``yibao`` command: assembles each domain's commands."""

from __future__ import annotations

import typer

from yibao.accounts import cli as accounts_cli
from yibao.cli import db as db_cli
from yibao.cli import demo as demo_cli
from yibao.cli import serve as serve_cli
from yibao.engine import cli as engine_cli
from yibao.identity import cli as identity_cli
from yibao.people import cli as people_cli
from yibao.policy import cli as policy_cli
from yibao.premiums import cli as premiums_cli

app = typer.Typer(
    name="yibao",
    help="yibao 医保：云南基本医疗保险经办平台 / Yunnan public medical insurance platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(policy_cli.app, name="policy")
app.add_typer(db_cli.app, name="db")
app.add_typer(people_cli.app, name="people")
app.add_typer(premiums_cli.app, name="premiums")
app.add_typer(demo_cli.app, name="demo")
app.add_typer(accounts_cli.app, name="accounts")
app.add_typer(identity_cli.app, name="auth")
serve_cli.register(app)
engine_cli.register(app)


def main() -> None:
    """Run the CLI (log lines never carry a full ID or phone number)."""
    from yibao.core import logs

    logs.install()
    app()
