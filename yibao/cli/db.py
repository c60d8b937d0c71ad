"""``yibao db``: create and migrate the database."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from yibao.cli.common import exits_on_app_error
from yibao.core import migrate

app = typer.Typer(help="数据库：建库与迁移 / database schema and migrations", no_args_is_help=True)
console = Console()

UrlOption = Annotated[
    str | None, typer.Option("--url", help="数据库地址，默认取 YIBAO_DATABASE_URL / database URL (default: settings)")
]


@app.command()
@exits_on_app_error
def upgrade(url: UrlOption = None, revision: str = "head") -> None:
    """升级数据库结构到最新版本 / migrate the database up to the newest revision."""
    at = migrate.upgrade(url, revision)
    console.print(f"数据库已是版本 / database at revision: [bold]{at}[/bold]")


@app.command()
@exits_on_app_error
def current(url: UrlOption = None) -> None:
    """显示数据库当前版本 / show the database's current revision."""
    at = migrate.current(url)
    head = migrate.head()
    console.print(f"当前 current: {at or '（未建库 empty）'}  最新 head: {head}")


@app.command()
@exits_on_app_error
def revision(message: Annotated[str, typer.Option("-m", "--message")], url: UrlOption = None) -> None:
    """（开发者）根据模型自动生成迁移 / (developers) autogenerate a migration from the models."""
    migrate.revision(message, url)
