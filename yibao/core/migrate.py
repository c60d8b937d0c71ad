"""Running Alembic from code, so that ``yibao db upgrade`` works wherever the package is installed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from yibao.core.db import make_engine, normalize_url
from yibao.core.settings import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations and ``url`` (default: settings)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url or get_settings().database_url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> str | None:
    """Migrate the database at ``url`` up to ``revision``; returns the revision it is at afterwards."""
    command.upgrade(alembic_config(url), revision)
    return current(url)


def current(url: str | None = None) -> str | None:
    """The revision the database at ``url`` is at (None when it has never been migrated)."""
    engine = make_engine(url or get_settings().database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head() -> str | None:
    """The newest revision shipped with this version of yibao."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def revision(message: str, url: str | None = None) -> None:
    """Autogenerate a new migration from the ORM models (for developers)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
