"""The audit log: every write and every read of personal data, with outcome; append-only; for auditors."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.factories import create_resident, create_staff_login
from yibao.core.audit import AuditEvent
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work


def _staff(engine: Engine, role: str, region: str) -> tuple[str, str]:
    with unit_of_work(engine, principal=system_principal()) as s:
        login = create_staff_login(s, role=role, region=region)
    return login.login, login.token


def _resident(engine: Engine, region: str) -> str:
    with unit_of_work(engine, principal=system_principal()) as s:
        return create_resident(s, name="被查人", region=region, on=date(2022, 9, 1))


def _events(engine: Engine, actor: str) -> list[AuditEvent]:
    with unit_of_work(engine, principal=system_principal()) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.actor == actor).order_by(AuditEvent.id)))


def test_reads_denials_and_failures_are_logged(api_client: Any, engine: Engine) -> None:
    clerk, token = _staff(engine, "clerk", "530100")
    h = {"Authorization": f"Bearer {token}", "X-Request-ID": "req-42"}
    mine, other = _resident(engine, "530100"), _resident(engine, "532900")
    assert api_client.get(f"/api/people/{mine}", headers=h).status_code == 200
    assert api_client.get(f"/api/people/{other}", headers=h).status_code == 403
    # Allowed, then refused by the rules (normal -> normal): logged as failed, nothing changed.
    r = api_client.post(
        f"/api/people/{mine}/status", json={"scheme": "resident", "to": "normal", "reason": "核查"}, headers=h
    )
    assert r.status_code == 409
    read, denied, failed = _events(engine, clerk)
    assert (read.action, read.outcome, read.writes) == ("people.read", "ok", False)
    assert read.subject == mine[:6] + "********" + mine[-4:] and read.subject_regions == "530100"
    assert read.request_id == "req-42" and read.method == "GET" and read.ip
    assert mine not in (read.path or "") and "********" in (read.path or "")
    assert (denied.action, denied.outcome) == ("people.read", "denied")
    assert (failed.action, failed.outcome, failed.writes) == ("people.change", "failed:people.status_not_allowed", True)


def test_public_reads_are_not_logged(api_client: Any, engine: Engine) -> None:
    with unit_of_work(engine, principal=system_principal()) as s:
        before = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    assert api_client.get("/api/premiums/years/2023").status_code == 200
    assert api_client.get("/api/policy/parameters/resident.premium.individual").status_code == 200
    with unit_of_work(engine, principal=system_principal()) as s:
        after = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    assert after == before


def test_the_log_is_append_only(engine: Engine) -> None:
    _resident(engine, "530100")  # at least one event
    with engine.connect() as conn:
        for stmt in ("UPDATE audit_log SET outcome = 'ok'", "DELETE FROM audit_log"):
            with pytest.raises((DBAPIError, IntegrityError)), conn.begin():
                conn.execute(text(stmt))


def test_auditors_query_their_region(api_client: Any, engine: Engine) -> None:
    clerk_km, km_token = _staff(engine, "clerk", "530100")
    clerk_dl, dl_token = _staff(engine, "clerk", "532900")
    km, dl = _resident(engine, "530100"), _resident(engine, "532900")
    api_client.get(f"/api/people/{km}", headers={"Authorization": f"Bearer {km_token}"})
    api_client.get(f"/api/people/{dl}", headers={"Authorization": f"Bearer {dl_token}"})
    _, auditor = _staff(engine, "auditor", "530100")
    h = {"Authorization": f"Bearer {auditor}"}
    mine = api_client.get("/api/audit", params={"actor": clerk_km}, headers=h)
    assert mine.status_code == 200
    assert [e["action"] for e in mine.json()["items"]] == ["people.read"]
    assert api_client.get("/api/audit", params={"actor": clerk_dl}, headers=h).json()["items"] == []  # Dali's
    by_subject = api_client.get("/api/audit", params={"subject": km}, headers=h).json()["items"]
    assert by_subject and all(e["subject"] == km[:6] + "********" + km[-4:] for e in by_subject)
    _, province = _staff(engine, "auditor", "530000")
    all_of_it = api_client.get(
        "/api/audit", params={"actor": clerk_dl}, headers={"Authorization": f"Bearer {province}"}
    )
    assert len(all_of_it.json()["items"]) == 1
    # Reading the log is itself logged, and only auditors may.
    assert api_client.get("/api/audit", headers={"Authorization": f"Bearer {km_token}"}).status_code == 403


def test_operator_commands_are_logged_too(engine: Engine) -> None:
    idn = _resident(engine, "530100")
    with unit_of_work(engine, principal=system_principal()) as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.subject == idn[:6] + "********" + idn[-4:])))
    assert rows and rows[-1].actor_role == "system" and rows[-1].action == "people.register"
