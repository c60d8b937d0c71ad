"""Alembic environment: configured from code by yibao.core.migrate, never from a working directory."""

from __future__ import annotations

from alembic import context

# Importing the models registers their tables on Base.metadata for autogenerate.
import yibao.accounts.models
import yibao.catalogue.models
import yibao.claims.models
import yibao.core.audit
import yibao.core.meta
import yibao.identity.models
import yibao.institutions.models
import yibao.nhsa.models
import yibao.people.models
import yibao.premiums.models  # noqa: F401
from yibao.core.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run migrations on the configured URL (or a connection handed in by the caller)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: batch mode rebuilds tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `yibao db upgrade`")
run_migrations_online()
