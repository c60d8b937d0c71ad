from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from yibao.core import migrate
from yibao.core.auth import system_principal
from yibao.core.db import normalize_url
from yibao.core.meta import DeploymentMeta, get_meta, set_meta
from yibao.core.unit import unit_of_work


def test_migrations_reach_head(engine: Engine, db_url: str) -> None:
    assert migrate.current(db_url) == migrate.head()
    assert "deployment_meta" in inspect(engine).get_table_names()


def test_meta_round_trip(session: Session) -> None:
    set_meta(session, "policy_pack", "yunnan")
    set_meta(session, "policy_pack", "yunnan+demo")
    assert get_meta(session)["policy_pack"] == "yunnan+demo"


def test_unit_of_work_rolls_back_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError), unit_of_work(engine, principal=system_principal()) as s:
        set_meta(s, "rollback_probe", "x")
        raise RuntimeError("boom")
    with unit_of_work(engine, principal=system_principal()) as s:
        assert s.scalar(select(DeploymentMeta).where(DeploymentMeta.key == "rollback_probe")) is None


def test_unit_of_work_commits(engine: Engine) -> None:
    with unit_of_work(engine, principal=system_principal()) as s:
        set_meta(s, "commit_probe", "y")
    with unit_of_work(engine, principal=system_principal()) as s:
        assert get_meta(s)["commit_probe"] == "y"
        s.delete(s.get(DeploymentMeta, "commit_probe"))


def test_postgres_urls_use_psycopg3() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_upgrade_from_empty_file(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/fresh/yibao.db"
    assert migrate.current(url) is None
    assert migrate.upgrade(url) == migrate.head()


def test_models_match_the_migrations(engine: Engine) -> None:
    """The ORM models and the migrated database agree: no migration forgotten, none ahead of the code."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import yibao.accounts.models
    import yibao.catalogue.models
    import yibao.core.audit
    import yibao.core.idempotency
    import yibao.identity.models
    import yibao.institutions.models
    import yibao.nhsa.models
    import yibao.people.models
    import yibao.premiums.models  # noqa: F401
    from yibao.core.db import Base

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
