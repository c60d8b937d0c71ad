"""Insured-person numbers (psn_no): issued to every new person, and by migration 0009 to everyone on file."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests.conftest import _pg_admin_url
from tests.factories import create_resident
from yibao.core import migrate
from yibao.core.ids import find_full_ids
from yibao.people import persons as people
from yibao.people.models import new_psn_no


def test_new_persons_get_one(session: Session) -> None:
    idn = create_resident(session)
    person = people.get_person(session, idn)
    assert re.fullmatch(r"[0-9A-F]{16}", person.psn_no)
    assert people.find_by_psn_no(session, person.psn_no) is person


def test_never_mistaken_for_an_id_number() -> None:
    numbers = {new_psn_no() for _ in range(20_000)}
    assert len(numbers) == 20_000
    assert not any(find_full_ids(n) for n in numbers)


def _backfill(url: str) -> None:
    migrate.upgrade(url, "0008_premium_keys_per_caller")
    engine = create_engine(url)
    now = datetime(2024, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for i in range(50):
            conn.execute(
                text(
                    "INSERT INTO persons (id_number, name, sex, birth_date, phone, created_at) "
                    "VALUES (:idn, '旧人', 'M', '1980-01-01', NULL, :now)"
                ),
                {"idn": f"T{i:017d}", "now": now},
            )
    migrate.upgrade(url)
    with engine.connect() as conn:
        numbers = [r[0] for r in conn.execute(text("SELECT psn_no FROM persons"))]
    engine.dispose()
    assert len(numbers) == 50 == len(set(numbers))
    assert all(re.fullmatch(r"[0-9A-F]{16}", n) for n in numbers)


def test_migration_issues_numbers_on_sqlite(tmp_path: object) -> None:
    _backfill(f"sqlite:///{tmp_path}/backfill.db")


def test_migration_issues_numbers_on_postgresql(pg_url: str) -> None:
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"yibao_backfill_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _backfill(make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
