"""The FastAPI application: assembles each domain's router and renders every error one way."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from yibao import __version__
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


class DatabaseUnavailable(AppError):
    """The database does not answer."""

    code = "database_unavailable"
    http_status = 503
    retry_after = 1


def create_app() -> FastAPI:
    """Build the application (a factory: importing this module has no side effects)."""
    from yibao.accounts.api import router as accounts_router
    from yibao.api.deps import request_engine, run_in_db_thread
    from yibao.api.guard import InputGuard
    from yibao.catalogue.api import router as catalogue_router
    from yibao.claims.api import router as claims_router
    from yibao.core import logs
    from yibao.engine.api import router as engine_router
    from yibao.identity.api import audit_router
    from yibao.identity.api import router as auth_router
    from yibao.institutions.api import router as institutions_router
    from yibao.nhsa.app import create_gateway
    from yibao.people.api import router as people_router
    from yibao.policy.api import router as policy_router
    from yibao.premiums.api import router as premiums_router

    logs.install()  # no full ID or phone number in any log line from here on
    app = FastAPI(title="yibao 医保 API", description=DESCRIPTION, version=__version__)
    app.add_middleware(InputGuard, skip=("/fsi/",))  # the national interface answers bad input in envelopes
    app.include_router(auth_router)
    app.include_router(audit_router)
    app.include_router(policy_router)
    app.include_router(engine_router)
    app.include_router(people_router)
    app.include_router(premiums_router)
    app.include_router(accounts_router)
    app.include_router(institutions_router)
    app.mount("/fsi", create_gateway())  # the national interface (yibao.nhsa), a sub-application of its own
    app.include_router(catalogue_router)
    app.include_router(claims_router)
    _register_errors(app)
    _add_claim_schemas(app)

    @app.get("/healthz", tags=["ops"], summary="健康检查 / health check", openapi_extra=needs(HEALTH))
    async def healthz(request: Request) -> dict[str, str]:
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
        return {"status": "ok", "database": "ok"}

    return app


# Every error, whatever the status, has this shape (see yibao.core.errors.AppError.to_dict).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "required": ["code", "message", "message_en"],
    "properties": {
        "code": {"type": "string", "description": "稳定的错误代码 / stable error code"},
        "message": {"type": "string", "description": "中文说明 / message in Chinese"},
        "message_zh": {"type": "string"},
        "message_en": {"type": "string", "description": "English message"},
        "details": {"type": "object", "description": "如出错字段 field、补救办法 remedy / e.g. field, remedy"},
    },
}


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
            components["schemas"]["Error"] = ERROR_SCHEMA
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


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


_HTTP_ZH = {
    400: "请求内容无法解析",
    404: "请求的地址不存在",
    405: "不支持该请求方法",
    413: "请求内容过大",
}


def _register_errors(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(status_code=exc.http_status, content=exc.to_dict(), headers=exc.headers() or None)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # The database could not be reached or lost the connection (possibly during COMMIT): the
        # work was not acknowledged and, unless the commit had already landed, not done. A retry with
        # the same idempotency key returns the first answer if it had.
        log.warning("database unavailable: %s", type(exc).__name__)
        err = DatabaseUnavailable("数据库暂时不可用，请稍后重试", "the database is unavailable, please retry")
        return JSONResponse(status_code=503, content=err.to_dict(), headers={"Retry-After": str(err.retry_after)})

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        field = _field_of(tuple(errors[0]["loc"])) if errors else "body"
        body = {
            "code": "validation_failed",
            "message": f"{field}：输入无效",
            "message_zh": f"{field}：输入无效",
            "message_en": f"{field}: invalid input ({errors[0]['msg'] if errors else 'malformed request'})",
            "details": {
                "field": field,
                "errors": [{"field": _field_of(tuple(e["loc"])), "message": str(e["msg"])} for e in errors],
            },
        }
        return JSONResponse(status_code=422, content=body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Errors raised by the framework itself (unknown path, wrong method, unreadable body), in our shape.
        zh = _HTTP_ZH.get(exc.status_code, "请求无效")
        en = str(exc.detail) if exc.detail else "bad request"
        return JSONResponse(
            status_code=exc.status_code,
            content={"code": f"http_{exc.status_code}", "message": zh, "message_zh": zh, "message_en": en},
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DataError)
    async def data_error(_request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value as invalid for its column (out of range, malformed): bad input,
        # and the transaction was rolled back, so nothing was written.
        log.info("database refused a value: %s", type(exc.orig).__name__)
        return JSONResponse(
            status_code=422,
            content={
                "code": "validation_failed",
                "message": "输入的数据超出允许范围或格式无效",
                "message_zh": "输入的数据超出允许范围或格式无效",
                "message_en": "a value is out of range or malformed",
            },
        )

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error: %s", type(exc).__name__)
        return JSONResponse(
            status_code=500,
            content={
                "code": "internal_error",
                "message": "系统内部错误，请稍后再试",
                "message_zh": "系统内部错误，请稍后再试",
                "message_en": "internal error, please try again later",
            },
        )
