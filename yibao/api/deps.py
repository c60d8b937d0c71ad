"""The request path to the database: the caller, one unit of work per request, committed before the answer.

Every endpoint that takes ``session: Session = Depends(get_session)`` runs, through :class:`UnitOfWorkRoute`,
as one call in one worker thread: resolve the caller from the bearer token, run the endpoint, store the
audit trail and COMMIT; only then is the answer rendered. A commit that fails raises, so the client gets
an error and never a receipt for work that does not exist. The connection is taken and given back in that
same thread, and a per-process gate admits at most ``db_pool_size`` such calls at once (one connection
each), so requests never wait on each other for connections; beyond capacity they wait briefly for their
turn, then get 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import Request
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from yibao.core.auth import ANONYMOUS, act_as
from yibao.core.db import get_engine, session_factory
from yibao.core.errors import Unauthenticated, Unavailable
from yibao.core.ratelimit import limits_of
from yibao.core.settings import get_settings
from yibao.core.unit import run_retrying

T = TypeVar("T")


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, if any."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("登录凭证格式不正确", "use 'Authorization: Bearer <token>'", code="auth.invalid_token")
    return token.strip()


def request_info(request: Request) -> dict[str, str | None]:
    """Where a request came from, for the audit log."""
    rid = request.headers.get("x-request-id") or uuid.uuid4().hex
    client = request.scope.get("client")
    return {
        "ip": client[0] if client else None,
        "request_id": rid[:64],
        "method": request.scope["method"],
        "path": request.url.path,
    }


def request_engine(request: Request) -> Engine:
    """The database this application serves (another one in tests)."""
    engine = getattr(request.app.state, "engine", None)
    return engine if isinstance(engine, Engine) else get_engine()


def open_session(request: Request, token: str | None) -> Session:
    """A session for this request, to act for the caller of ``token`` (a bearer header, the portal's cookie).

    Nothing touches the database here: the token is looked up, and the work committed, in the worker
    thread that runs the unit of work.
    """
    session = session_factory(request_engine(request))()
    act_as(session, ANONYMOUS, **request_info(request))
    if token:
        session.info["bearer_token"] = token
        session.info["auth_limits"] = limits_of(request.app.state)
    return session


async def get_session(request: Request) -> Session:
    """A session for this request, acting for the caller of its bearer token (see :class:`UnitOfWorkRoute`)."""
    return open_session(request, bearer_token(request))


def _resolve_caller(session: Session) -> None:
    token = session.info.pop("bearer_token", None)
    if token:
        from yibao.identity.tokens import principal_from_token

        limits = session.info.get("auth_limits")
        act_as(session, principal_from_token(session, token, limits), **session.info.get("request", {}))


class _Gate:
    """The database slots of one process and event loop: at most ``size`` units of work at once, each run in
    a thread of the gate's own pool (asyncio's semaphore and executor: the cheapest hop to a thread)."""

    def __init__(self, size: int) -> None:
        self.loop = asyncio.get_running_loop()
        self.slots = asyncio.Semaphore(size)
        self.threads = ThreadPoolExecutor(max_workers=size, thread_name_prefix="yibao-db")


def _gate(request: Request) -> _Gate:
    # One gate per application and event loop (each test client runs its own loop).
    gate = getattr(request.app.state, "db_gate", None)
    if not isinstance(gate, _Gate) or gate.loop is not asyncio.get_running_loop():
        if isinstance(gate, _Gate):
            gate.threads.shutdown(wait=False)
        gate = _Gate(get_settings().db_pool_size)
        request.app.state.db_gate = gate
    return gate


def _release_after(gate: _Gate, done: asyncio.Future[Any]) -> None:
    if not done.cancelled():
        done.exception()  # retrieved: nobody awaits it any more
    gate.slots.release()


async def run_in_db_thread(request: Request, work: Callable[[], T]) -> T:
    """Run ``work`` in a worker thread once the database gate admits it, or answer 503 after a short wait."""
    gate = _gate(request)
    if gate.slots.locked():  # every slot taken, or others already waiting: wait briefly, in turn
        try:
            async with asyncio.timeout(get_settings().queue_seconds):
                await gate.slots.acquire()
        except TimeoutError:
            raise Unavailable(
                "系统繁忙，请稍后重试", "the service is busy, please retry shortly", code="busy"
            ) from None
    else:
        await gate.slots.acquire()  # free: taken at once
    # The thread sees the request's context (a test's clock, for one), as the endpoint would.
    done = asyncio.get_running_loop().run_in_executor(gate.threads, contextvars.copy_context().run, work)
    try:
        return await asyncio.shield(done)
    finally:
        if done.done():
            gate.slots.release()
        else:
            # Cancelled while the thread works: not cancellable, the work runs to its end (committed or
            # not) and keeps its slot until then.
            done.add_done_callback(functools.partial(_release_after, gate))


def _run_unit(session: Session, name: str, endpoint: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    seed = dict(session.info)  # the request and its token, for a fresh start
    sessions = iter([session])

    def fresh() -> Session:
        s = next(sessions, None)
        if s is None:
            s = session_factory(session.get_bind().engine)()
            s.info.update(seed)
        return s

    def work(s: Session) -> Any:
        _resolve_caller(s)
        return endpoint(**{**kwargs, name: s})

    return run_retrying(fresh, work)


async def run_unit(request: Request, token: str | None, work: Callable[[Session], T]) -> T:
    """Run ``work`` as one unit of work for the caller of ``token``, committed before this returns.

    The same path as an endpoint of :class:`UnitOfWorkRoute` (gate, caller, retry, audit, COMMIT), for an
    interface that renders the result itself afterwards (the portal's pages).
    """
    session = open_session(request, token)

    def call(session: Session) -> T:
        return work(session)

    result: T = await run_in_db_thread(request, functools.partial(_run_unit, session, "session", call, {}))
    return result


def _session_parameter(endpoint: Callable[..., Any]) -> str | None:
    for name, param in inspect.signature(endpoint).parameters.items():
        if isinstance(param.default, DependsParam) and param.default.dependency is get_session:
            return name
    return None


def _in_unit_of_work(endpoint: Callable[..., Any], name: str) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):
        raise TypeError(f"{endpoint.__name__}: an endpoint with a database session must be a plain function")

    signature = inspect.signature(endpoint)
    # The gate needs the request: the endpoint's own parameter if it has one, else one added for it.
    own = next((p.name for p in signature.parameters.values() if p.annotation in (Request, "Request")), None)
    request_name = own or "yibao_request"

    @functools.wraps(endpoint)
    async def call(**kwargs: Any) -> Any:
        request = kwargs[request_name] if own else kwargs.pop(request_name)
        override = request.app.dependency_overrides.get(get_session)  # a test acting as someone else
        if override is None:
            session = open_session(request, bearer_token(request))
        else:
            made = override(request)
            session = await made if inspect.isawaitable(made) else made
        kwargs[name] = session
        return await run_in_db_thread(request, functools.partial(_run_unit, session, name, endpoint, kwargs))

    # FastAPI sees the endpoint without its session (made above: cheaper than solving a dependency on
    # every request) and with the request, which the gate needs.
    params = [p for p in signature.parameters.values() if p.name != name]
    if own is None:
        params.append(inspect.Parameter(request_name, inspect.Parameter.KEYWORD_ONLY, annotation=Request))
    call.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return call


class UnitOfWorkRoute(APIRoute):
    """A route whose database work is one unit of work, committed before the response is rendered."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        name = _session_parameter(endpoint)
        if name is not None:
            endpoint = _in_unit_of_work(endpoint, name)
        super().__init__(path, endpoint, **kwargs)
