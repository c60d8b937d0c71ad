"""The FastAPI application: assembles each domain's router and access rules; errors answer through api.errors."""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import text

from yibao import __version__
from yibao.api import errors
from yibao.api.errors import DatabaseUnavailable
from yibao.core.auth import needs, public_rule
from yibao.core.errors import AppError

log = logging.getLogger("yibao.api")

DESCRIPTION = """
云南省基本医疗保险经办平台接口：政策参数、待遇计算、参保、缴费、个人账户等。金额一律为以元为单位、两位小数的字符串。
除公开接口外须登录：`POST /api/auth/login` 取得令牌，以 `Authorization: Bearer <令牌>` 发送；
每个接口的 `x-action` 与 `x-allowed` 说明所需权限（角色与范围：本人 own、本人及共济绑定亲属 bound、本统筹区 region、任意 any）。

Yunnan public medical insurance platform: policy parameters, benefit calculation, enrolment, premiums,
personal accounts. Money is always a yuan string with two decimals ("1234.56"). Except for public
endpoints, log in with `POST /api/auth/login` and send `Authorization: Bearer <token>`; each operation's
`x-action` and `x-allowed` say who may call it (role and scope: own, bound relatives, region, any).
"""


HEALTH = public_rule("ops.health", "健康检查 / health check")


def create_app() -> FastAPI:
    """Build the application (a factory: importing this module has no side effects)."""
    from yibao.accounts.api import router as accounts_router
    from yibao.api.deps import request_engine, run_in_db_thread
    from yibao.api.guard import InputGuard
    from yibao.assembly import load_access
    from yibao.catalogue.api import router as catalogue_router
    from yibao.claims.api import router as claims_router
    from yibao.core import clock, logs
    from yibao.core.settings import get_settings
    from yibao.engine.api import router as engine_router
    from yibao.identity.api import audit_router
    from yibao.identity.api import router as auth_router
    from yibao.institutions.api import router as institutions_router
    from yibao.nhsa.app import create_gateway
    from yibao.people.api import router as people_router
    from yibao.policy.api import router as policy_router
    from yibao.premiums.api import router as premiums_router
    from yibao.web.app import mount as mount_portal

    logs.install()  # no full ID or phone number in any log line from here on
    load_access()  # how each domain resolves the scopes of its subjects
    clock.configure(get_settings().clock_start)  # a demo or training server may live in another period
    # The documentation page is served by the portal with local files (no CDN); ReDoc would load one.
    app = FastAPI(title="yibao 医保 API", description=DESCRIPTION, version=__version__, docs_url=None, redoc_url=None)
    app.add_middleware(InputGuard, skip=("/fsi/",))  # the national interface answers bad input in envelopes
    # A request is matched against the routes in this order, one by one: the busiest come first (account
    # payments and reads, then people, premiums, logins). No two routers share a path pattern.
    app.mount("/fsi", create_gateway())  # the national interface (yibao.nhsa), a sub-application of its own
    app.include_router(accounts_router)
    app.include_router(people_router)
    app.include_router(premiums_router)
    app.include_router(auth_router)
    app.include_router(claims_router)
    app.include_router(catalogue_router)
    app.include_router(institutions_router)
    app.include_router(policy_router)
    app.include_router(engine_router)
    app.include_router(audit_router)
    errors.install(app)
    _add_claim_schemas(app)

    @app.get(
        "/healthz",
        tags=["ops"],
        summary="健康检查 / health check",
        response_model=Health,
        openapi_extra=needs(HEALTH),
    )
    async def healthz(request: Request) -> Health:
        engine = request_engine(request)

        def ping() -> None:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            # Through the same gate as every request: a health check is one more database user, not a
            # way around the pool's size.
            await run_in_db_thread(request, ping)
        except AppError:
            raise
        except Exception as exc:
            log.warning("database check failed: %s", type(exc).__name__)
            raise DatabaseUnavailable("数据库不可用", "database unavailable") from None
        return Health(status="ok", database="ok")

    mount_portal(app)  # last: the portal's page for an unknown address comes after every other route
    return app


class Health(BaseModel):
    """The server answers and its database too (anything else is a 503 with the error body)."""

    status: Literal["ok"]
    database: Literal["ok"]


def _add_claim_schemas(app: FastAPI) -> None:
    """Publish the claim models referenced by ``POST /api/calc``, the error shape and the bearer scheme."""
    from fastapi.openapi.utils import get_openapi

    from yibao.core.auth import RULES
    from yibao.engine.api import claim_schemas

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {}).update(claim_schemas())
            components["schemas"]["Error"] = errors.ERROR_SCHEMA
            components["securitySchemes"] = {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "POST /api/auth/login 取得 / from login",
                }
            }
            error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            for ops in schema.get("paths", {}).values():
                for op in ops.values():
                    responses = op.setdefault("responses", {})
                    # FastAPI documents its own validation error; ours has the one shape of every error.
                    responses["422"] = {
                        "description": "输入无效，指明字段 / bad input, naming the field",
                        "content": error,
                    }
                    responses.setdefault("4XX", {"description": "错误 / error", "content": error})
                    rule = RULES.get(op.get("x-action", ""))
                    if rule and not rule.public:
                        op["security"] = [{"bearerAuth": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
