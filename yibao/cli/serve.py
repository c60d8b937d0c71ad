"""``yibao serve``: migrate the database, then run the HTTP server (API and, later, the portal)."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from yibao.cli.common import err_console, exits_on_app_error
from yibao.core import migrate
from yibao.core.settings import get_settings


@exits_on_app_error
def serve(
    host: Annotated[str | None, typer.Option(help="监听地址 / bind address")] = None,
    port: Annotated[int | None, typer.Option(help="端口 / port")] = None,
    reload: Annotated[bool, typer.Option(help="开发模式：代码变化时重启 / restart on code changes")] = False,
) -> None:
    """启动服务（先升级数据库）/ run the server after migrating the database."""
    settings = get_settings()
    at = migrate.upgrade()
    err_console.print(f"数据库 database: {settings.database_url} (revision {at})")
    uvicorn.run(
        "yibao.api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
    )
