"""Logging in: argon2 hashes, lockout, tokens that expire and can be revoked, staff and client logins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from tests.factories import create_client_login, create_payment, create_person_login, create_resident, new_id
from yibao.core.audit import AuditEvent
from yibao.core.auth import ANONYMOUS, Role, act_as, system_principal
from yibao.core.errors import Forbidden, Unauthenticated, ValidationFailed
from yibao.core.ids import mask_id
from yibao.core.unit import unit_of_work
from yibao.identity import logins, tokens
from yibao.identity.models import AuthToken, Identity
from yibao.people import enrolment, persons

PW = "Secret2023x"


def _person(engine: Engine, password: str = PW) -> str:
    with unit_of_work(engine, principal=system_principal()) as s:
        idn = create_resident(s, name="登录人", born=date(1980, 2, 2))
        create_person_login(s, idn, password=password)
    return idn


def _login(client: Any, login: str, password: str, kind: str = "person") -> Any:
    return client.post("/api/auth/login", json={"kind": kind, "login": login, "password": password})


def test_password_is_stored_as_argon2id(session: Session) -> None:
    idn = create_resident(session)
    logins.set_person_password(session, id_number=idn, new_password=PW)
    ident = session.scalar(select(Identity).where(Identity.login == idn))
    assert ident is not None and ident.password_hash is not None
    assert ident.password_hash.startswith("$argon2id$") and PW not in ident.password_hash


@pytest.mark.parametrize("bad", ["short1", "lettersonly", "1234567890", "x" * 129 + "1"])
def test_password_rules(session: Session, bad: str) -> None:
    idn = create_resident(session)
    with pytest.raises(ValidationFailed) as err:
        logins.set_person_password(session, id_number=idn, new_password=bad)
    assert err.value.field == "password"
    assert session.scalar(select(Identity).where(Identity.login == idn)) is None


def test_login_me_logout(api_client: Any, engine: Engine) -> None:
    idn = _person(engine)
    r = _login(api_client, idn.lower() if idn.endswith("X") else idn, PW)
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    assert r.json()["role"] == "person"
    headers = {"Authorization": f"Bearer {token}"}
    me = api_client.get("/api/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["login"] == idn[:6] + "********" + idn[-4:]
    assert api_client.get(f"/api/people/{idn}", headers=headers).status_code == 200
    assert api_client.post("/api/auth/logout", headers=headers).status_code == 204
    again = api_client.get("/api/auth/me", headers=headers)
    assert again.status_code == 401 and again.json()["code"] == "auth.invalid_token"


def test_wrong_login_and_wrong_password_look_the_same(api_client: Any, engine: Engine) -> None:
    idn = _person(engine)
    a = _login(api_client, idn, "Wrong2023x")
    b = _login(api_client, new_id(), PW)
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_lockout_after_five_failures(api_client: Any, engine: Engine) -> None:
    idn = _person(engine)
    for _ in range(logins.MAX_FAILURES):
        assert _login(api_client, idn, "Wrong2023x").status_code == 401
    locked = _login(api_client, idn, PW)  # even the right password, while locked
    assert locked.status_code == 429 and locked.json()["code"] == "auth.locked"
    assert "分钟" in locked.json()["message"]
    with unit_of_work(engine, principal=system_principal()) as s:  # fifteen minutes later
        s.execute(
            update(Identity).where(Identity.login == idn).values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert _login(api_client, idn, PW).status_code == 200


def test_a_success_resets_the_count(api_client: Any, engine: Engine) -> None:
    idn = _person(engine)
    for _ in range(logins.MAX_FAILURES - 1):
        _login(api_client, idn, "Wrong2023x")
    assert _login(api_client, idn, PW).status_code == 200
    for _ in range(logins.MAX_FAILURES - 1):
        _login(api_client, idn, "Wrong2023x")
    assert _login(api_client, idn, PW).status_code == 200


def test_expired_and_malformed_tokens(api_client: Any, engine: Engine) -> None:
    idn = _person(engine)
    token = _login(api_client, idn, PW).json()["token"]
    with unit_of_work(engine, principal=system_principal()) as s:
        s.execute(
            update(AuthToken)
            .where(AuthToken.token_hash == tokens.token_hash(token))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert api_client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert api_client.get("/api/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert api_client.get("/api/auth/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert api_client.get("/api/auth/me").status_code == 401


def test_tokens_are_stored_hashed(api_client: Any, engine: Engine) -> None:
    idn = _person(engine)
    token = _login(api_client, idn, PW).json()["token"]
    with unit_of_work(engine, principal=system_principal()) as s:
        stored = list(s.scalars(select(AuthToken.token_hash)))
    assert token not in stored and tokens.token_hash(token) in stored


def test_staff_login_and_region(api_client: Any, engine: Engine) -> None:
    with unit_of_work(engine, principal=system_principal()) as s:
        logins.create_staff(s, username="dl.clerk", name="大理经办", role="clerk", region="532900", password=PW)
    token = _login(api_client, "dl.clerk", PW, kind="staff").json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    kunming = _person(engine)
    assert api_client.get(f"/api/people/{kunming}", headers=h).status_code == 403  # another region
    dali = new_id()
    r = api_client.post(
        "/api/people/residents",
        json={"id_number": dali, "name": "大理人", "region": "532900"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["id_number"] == dali  # clerks check identities at the counter: shown in full
    assert api_client.get(f"/api/people/{dali}", headers=h).json()["id_number"] == dali


def test_admin_creates_staff_only_in_own_region(session: Session) -> None:
    act_as(
        session,
        tokens.principal_for(
            Identity(id=0, kind="staff", login="km.admin", name="管理员", role="admin", region="530100", person_id=None)
        ),
    )
    created = logins.create_staff(session, username="km.new", name="新", role="clerk", region="530100", password=PW)
    assert (created.username, created.role, created.region) == ("km.new", Role.CLERK, "530100")
    with pytest.raises(Forbidden):
        logins.create_staff(session, username="dl.new", name="新", role="clerk", region="532900", password=PW)
    with pytest.raises(ValidationFailed) as err:
        logins.create_staff(session, username="km.bad", name="新", role="superuser", region="530100", password=PW)
    assert err.value.field == "role"
    made = session.scalars(select(Identity.login).where(Identity.login.in_(("km.new", "dl.new", "km.bad"))))
    assert list(made) == ["km.new"]


def test_client_keys_and_no_system_tokens(api_client: Any, engine: Engine) -> None:
    with unit_of_work(engine, principal=system_principal()) as s:
        client = create_client_login(s)
    assert api_client.get("/api/auth/me", headers=client.headers).json() == {
        "role": "institution",
        "name": "测试institution",
        "login": client.login,
        "region": "530100",
    }
    with unit_of_work(engine, principal=system_principal()) as s:
        # As if someone edited the row: the operator's rights never come by token.
        s.execute(update(Identity).where(Identity.id == client.identity_id).values(role=Role.SYSTEM))
    r = api_client.get("/api/auth/me", headers=client.headers)
    assert r.status_code == 401


def test_a_session_without_a_caller_may_do_nothing(engine: Engine) -> None:
    with Session(engine) as s, pytest.raises(Unauthenticated):
        enrolment.register_resident(s, id_number=new_id(), name="甲", region="530100", on=date(2022, 9, 1))
    with Session(engine) as s:
        act_as(s, ANONYMOUS)
        with pytest.raises(Unauthenticated):
            persons.view_person(s, new_id())


def test_person_changes_own_password_with_the_current_one(api_client: Any, engine: Engine) -> None:
    idn = _person(engine)
    h = {"Authorization": f"Bearer {_login(api_client, idn, PW).json()['token']}"}
    bad = api_client.post(
        f"/api/auth/persons/{idn}/password", json={"new_password": "Newer2023x", "current_password": "nope"}, headers=h
    )
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "current_password"
    ok = api_client.post(
        f"/api/auth/persons/{idn}/password", json={"new_password": "Newer2023x", "current_password": PW}, headers=h
    )
    assert ok.status_code == 204
    assert _login(api_client, idn, "Newer2023x").status_code == 200


def test_a_payer_reads_the_receipt_of_a_premium_paid_for_someone_else(api_client: Any, engine: Engine) -> None:
    payer, insured, stranger = _person(engine), _person(engine), _person(engine)
    with unit_of_work(engine, principal=system_principal()) as s:
        receipt = create_payment(s, insured, name="登录人", payer=(payer, "登录人")).receipt_no
    for who, status in ((payer, 200), (insured, 200), (stranger, 403)):
        h = {"Authorization": f"Bearer {_login(api_client, who, PW).json()['token']}"}
        assert api_client.get(f"/api/premiums/receipts/{receipt}", headers=h).status_code == status, who


@pytest.mark.parametrize("name", ["经办\u202e员", "经\u200b办", "经办\n员"])
def test_staff_and_client_names_without_invisible_characters(session: Session, name: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        logins.create_staff(session, username="km.name", name=name, role="clerk", region="530100", password=PW)
    assert err.value.field == "name"
    with pytest.raises(ValidationFailed) as err:
        logins.create_client(session, kind="institution", code="H-name", name=name, region="530100")
    assert err.value.field == "name"
    assert session.scalar(select(Identity).where(Identity.login.in_(("km.name", "H-name")))) is None


def _me(client: Any, token: str) -> int:
    return int(client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code)


def test_a_password_change_ends_the_other_sessions(api_client: Any, engine: Engine) -> None:
    idn = _person(engine)
    mine, other = (_login(api_client, idn, PW).json()["token"] for _ in range(2))
    r = api_client.post(
        f"/api/auth/persons/{idn}/password",
        json={"new_password": "Newer2023x", "current_password": PW},
        headers={"Authorization": f"Bearer {mine}"},
    )
    assert r.status_code == 204
    assert (_me(api_client, mine), _me(api_client, other)) == (200, 401)  # the changing session stays
    # A clerk resetting it at the counter ends every session of the person.
    with unit_of_work(engine, principal=system_principal()) as s:
        logins.set_person_password(s, id_number=idn, new_password="Newest2023x")
    assert _me(api_client, mine) == 401


def test_a_lockout_ends_the_logins_sessions(api_client: Any, engine: Engine) -> None:
    idn = _person(engine)
    token = _login(api_client, idn, PW).json()["token"]
    for _ in range(logins.MAX_FAILURES):
        _login(api_client, idn, "Wrong2023x")
    assert _me(api_client, token) == 401


def _audited(engine: Engine, action: str, since: int) -> list[AuditEvent]:
    with unit_of_work(engine, principal=system_principal()) as s:
        return list(
            s.scalars(
                select(AuditEvent).where(AuditEvent.action == action, AuditEvent.id > since).order_by(AuditEvent.id)
            )
        )


def _last_event(engine: Engine) -> int:
    with unit_of_work(engine, principal=system_principal()) as s:
        return int(s.scalar(select(func.max(AuditEvent.id))) or 0)


def test_failed_logins_are_audited_masked(api_client: Any, engine: Engine) -> None:
    idn, stranger = _person(engine), new_id()
    since = _last_event(engine)
    _login(api_client, idn, "Wrong2023x")
    _login(api_client, stranger, PW)
    _login(api_client, "no.such.clerk", PW, kind="staff")
    assert _login(api_client, idn, PW).status_code == 200
    events = [
        e
        for e in _audited(engine, "auth.login", since)
        if e.actor in (mask_id(idn), mask_id(stranger), "no.such.clerk")
    ]
    assert [e.outcome for e in events] == ["failed:auth.wrong_credentials"] * 3 + ["ok"]
    assert events[0].ip and events[0].path == "/api/auth/login" and events[0].subject == mask_id(idn)
    for e in events:
        assert idn not in str(e.__dict__) and stranger not in str(e.__dict__)


def test_rejected_tokens_are_audited(api_client: Any, engine: Engine) -> None:
    idn = _person(engine)
    token = _login(api_client, idn, PW).json()["token"]
    api_client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    since = _last_event(engine)
    assert _me(api_client, "nonsense") == 401
    assert _me(api_client, token) == 401  # revoked
    events = _audited(engine, "auth.token", since)
    assert [(e.outcome, e.method, e.path) for e in events] == [("failed:auth.invalid_token", "GET", "/api/auth/me")] * 2
    assert events[0].ip and events[0].actor == "(none)"
    assert events[1].actor == mask_id(idn) and "revoked" in (events[1].detail or "")
    assert token not in str([e.__dict__ for e in events])


def test_failures_are_rate_limited_per_login_and_per_ip(api_client: Any, engine: Engine) -> None:
    from yibao.core.ratelimit import AuthLimits

    api_client.app.state.auth_limits = AuthLimits(per_login=2, per_ip=4)
    idn = _person(engine)
    valid = _login(api_client, idn, PW).json()["token"]
    assert [_login(api_client, "x.clerk", PW, kind="staff").status_code for _ in range(3)] == [401, 401, 429]
    limited = _login(api_client, "x.clerk", PW, kind="staff")
    assert limited.json()["code"] == "auth.rate_limited" and int(limited.headers["Retry-After"]) > 0
    assert _login(api_client, "y.clerk", PW, kind="staff").status_code == 401  # another login: 3 from this IP
    assert _me(api_client, "bad-token") == 401  # the fourth failure from this IP
    assert _login(api_client, idn, PW).status_code == 429  # the IP is over its limit, even with the right password
    assert _me(api_client, "another-bad-token") == 429
    assert _me(api_client, valid) == 200  # a valid token still works from there
    since = _last_event(engine) - 10
    outcomes = {e.outcome for e in _audited(engine, "auth.login", since)} | {
        e.outcome for e in _audited(engine, "auth.token", since)
    }
    assert "failed:auth.rate_limited" in outcomes
