"""``yibao serve``: migrate the database, then run the HTTP server (API and, later, the portal)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
import uvicorn

from yibao.cli import workers as workers_module
from yibao.cli.common import err_console, exits_on_app_error
from yibao.cli.deadlines import DeadlineProtocol
from yibao.core import migrate
from yibao.core.settings import get_settings

APP = "yibao.api.app:create_app"


def mask_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@exits_on_app_error
def serve(
    host: Annotated[str | None, typer.Option(help="监听地址 / bind address")] = None,
    port: Annotated[int | None, typer.Option(help="端口 / port")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="工作进程数 / worker processes (YIBAO_WORKERS, default 1)")
    ] = None,
    access_log: Annotated[bool, typer.Option(help="记录每个请求 / log every request")] = True,
    reload: Annotated[bool, typer.Option(help="开发模式：代码变化时重启 / restart on code changes")] = False,
) -> None:
    """启动服务（先升级数据库）/ run the server after migrating the database."""
    settings = get_settings()
    at = migrate.upgrade()
    n = workers or settings.workers
    err_console.print(
        f"数据库 database: {mask_url(settings.database_url)} (revision {at}); "
        f"workers {n} × {settings.db_pool_size} database slots"
    )
    options: dict[str, Any] = {
        "factory": True,
        "host": host or settings.host,
        "port": port or settings.port,
        "access_log": access_log,
        # Keep-alive connections from hospital systems and proxies are reused; idle ones close after 30 s.
        "timeout_keep_alive": 30,  # assumed operational value
        # A request that does not arrive in time is answered 408 and its connection closed (slow clients).
        "http": DeadlineProtocol,
    }
    if n > 1 and not reload and workers_module.balanced():
        # A listening socket per worker, so that connections spread evenly (yibao.cli.workers).
        workers_module.run(uvicorn.Config(APP, workers=n, **options))
        return
    uvicorn.run(APP, workers=None if reload else n, reload=reload, **options)
