"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from YIBAO_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres); each
test run (each xdist worker) creates its own throwaway database and drops it at the end. When
PostgreSQL cannot be reached the PostgreSQL half fails under CI=true and is skipped elsewhere.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from starlette.requests import Request

# Tests never touch the deployment's database in var/.
_TMP = Path(tempfile.mkdtemp(prefix="yibao-test-"))
os.environ["YIBAO_VAR_DIR"] = str(_TMP)
os.environ["YIBAO_DATABASE_URL"] = f"sqlite:///{_TMP / 'app.db'}"

from yibao.assembly import load_access  # noqa: E402
from yibao.core import migrate  # noqa: E402
from yibao.core.auth import act_as, system_principal  # noqa: E402
from yibao.core.db import make_engine, normalize_url  # noqa: E402
from yibao.core.settings import get_settings  # noqa: E402

get_settings.cache_clear()
load_access()  # service tests acting for persons and staff resolve scopes as the application does

# ---- every log line of the run, scanned for full ID numbers at the end ---------------------------
# The controller picks the folder; xdist workers inherit it through the environment.
LOG_DIR = Path(os.environ.setdefault("YIBAO_TEST_LOG_DIR", tempfile.mkdtemp(prefix="yibao-test-logs-")))


def pytest_configure(config: pytest.Config) -> None:
    """Log everything yibao, the web layer and the HTTP client say, as a deployment would, to a file."""
    from yibao.core import logs

    logs.install()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    handler = logging.FileHandler(LOG_DIR / f"{worker}.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # SQL is not logged in deployments (it would be, with its parameters, at INFO); tests/core/test_logs.py
    # checks that even then the parameters come out masked.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any log line of any worker carries a full ID number."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # the controller scans once every worker is done
    from yibao.core.ids import find_full_ids

    logging.shutdown()
    leaks: list[str] = []
    lines = 0
    for path in sorted(LOG_DIR.glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                lines += 1
                if find_full_ids(line):
                    leaks.append(f"{path.name}: {line.strip()[:300]}")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"log scan: {lines} log lines, {len(leaks)} with a full ID number ({LOG_DIR})")
    if leaks:
        if reporter is not None:
            for leak in leaks[:20]:
                reporter.write_line(f"  {leak}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


def _pg_admin_url() -> str:
    return normalize_url(os.environ.get("YIBAO_TEST_PG_URL", PG_DEFAULT))


@pytest.fixture(scope="session")
def pg_url(worker_id: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped afterwards."""
    admin_url = _pg_admin_url()
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        message = f"PostgreSQL not reachable at {admin_url}: {type(exc).__name__}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    name = f"yibao_test_{worker_id}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url() -> str:
    """A fresh, migrated SQLite database file for this test run."""
    url = f"sqlite:///{_TMP / f'test-{uuid.uuid4().hex[:8]}.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated test database, once per backend."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


def _assert_ledger_balanced(session: Session) -> None:
    # Every database test leaves the ledger as `yibao accounts verify` wants it.
    from yibao.accounts.ledger import verify

    v = verify(session)
    assert v.ok, v.problems


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test database; the ledger must verify clean afterwards."""
    eng = make_engine(db_url)
    yield eng
    with Session(eng) as s:
        _assert_ledger_balanced(s)
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        trans = conn.begin()
        s = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        act_as(s, system_principal())  # the domain's tests act as the operator; access is tested apart
        try:
            yield s
            _assert_ledger_balanced(s)
        finally:
            s.close()
            trans.rollback()


@pytest.fixture
def client(engine: Engine) -> Iterator[object]:
    """An API client acting as the server's operator, against the test database.

    For the domain's API tests; who may do what over HTTP is tested with real tokens through
    ``api_client`` (tests/api/test_access.py).
    """
    from fastapi.testclient import TestClient

    from yibao.api.app import create_app
    from yibao.api.deps import get_session, request_info
    from yibao.core.auth import act_as, system_principal
    from yibao.core.db import session_factory

    app = create_app()
    app.state.engine = engine

    async def as_operator(request: Request) -> Session:
        return act_as(session_factory(engine)(), system_principal(), **request_info(request))

    app.dependency_overrides[get_session] = as_operator
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def api_client(engine: Engine) -> Iterator[object]:
    """An API client with real authentication (send ``Authorization: Bearer ...``)."""
    from fastapi.testclient import TestClient

    from yibao.api.app import create_app

    app = create_app()
    app.state.engine = engine
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite file that the ``yibao`` command uses for this test."""
    from yibao.core.db import _engine_for

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("YIBAO_DATABASE_URL", url)
    get_settings.cache_clear()
    migrate.upgrade(url)
    yield url
    _engine_for.cache_clear()
    monkeypatch.undo()
    get_settings.cache_clear()
