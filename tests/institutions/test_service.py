"""Registering designated institutions: validation, the login they share with REST, sealed secrets."""

from __future__ import annotations

import logging
import os
import stat
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.nhsa.helpers import new_code
from yibao.core.errors import Conflict, ValidationFailed
from yibao.identity import logins, tokens
from yibao.identity.models import Identity
from yibao.institutions import secrets, service
from yibao.institutions.models import Institution, InstitutionStatus, view_of


def _add(session: Session, **over: Any) -> tuple[Institution, str]:
    args: dict[str, Any] = {
        "code": new_code(),
        "name": "昆明测试医院",
        "kind": "hospital",
        "level": 3,
        "region": "530100",
        "designated_from": date(2015, 1, 1),
    } | over
    return service.add(session, **args)


def test_register_a_hospital(session: Session) -> None:
    row, secret = _add(session, code="H53010000777")
    assert (row.kind, row.level, row.region, row.paasid) == ("hospital", 3, "530100", "yb_H53010000777")
    assert row.status == InstitutionStatus.ACTIVE and row.secret_version == 1 and not row.infcode_string
    assert len(secret) == 32
    assert secrets.unseal(row.secret_sealed, row.code) == secret
    login = session.get(Identity, row.identity_id)
    assert login is not None and (login.kind, login.login, login.role, login.region) == (
        "institution",
        "H53010000777",
        "institution",
        "530100",
    )


def test_secret_never_stored_plain(session: Session) -> None:
    row, secret = _add(session)
    stored = session.execute(text("SELECT * FROM institutions WHERE id = :id"), {"id": row.id}).one()
    assert all(secret not in str(v) for v in stored)
    # A sealed secret opens only for its own row.
    other, _ = _add(session)
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        secrets.unseal(row.secret_sealed, other.code)


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"code": "H5301"}, "code"),
        ({"code": "h53010000001"}, "code"),
        ({"code": "H5301000000１"}, "code"),
        ({"kind": "clinic"}, "kind"),
        ({"level": None}, "level"),
        ({"level": 4}, "level"),
        ({"kind": "pharmacy", "level": 1}, "level"),
        ({"region": "110000"}, "region"),
        ({"designated_until": date(2014, 12, 31)}, "designated_until"),
        ({"paasid": "has space"}, "paasid"),
        ({"name": "医院\u200b"}, "name"),
    ],
)
def test_refused(session: Session, over: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        _add(session, **over)
    assert err.value.field == field


def test_levels_by_kind(session: Session) -> None:
    chc, _ = _add(session, code=new_code("C"), kind="community_health_center", level=None)
    assert chc.level == 1
    chc2, _ = _add(session, code=new_code("C"), kind="community_health_center", level=2)
    assert chc2.level == 2
    pharmacy, _ = _add(session, code=new_code("P"), kind="pharmacy", level=None)
    assert pharmacy.level is None


def test_codes_and_paasids_are_unique(session: Session) -> None:
    row, _ = _add(session)
    with pytest.raises(Conflict):
        _add(session, code=row.code)
    with pytest.raises(Conflict):
        _add(session, paasid=row.paasid)


def test_an_existing_login_keeps_its_api_key(session: Session) -> None:
    code = new_code()
    key = logins.create_client(session, kind="institution", code=code, name="先有账号", region="530100").api_key
    login = tokens.principal_from_token(session, key)
    row, _ = _add(session, code=code)
    assert row.identity_id == login.identity_id
    assert tokens.principal_from_token(session, key).login == code
    service.suspend(session, code, reason="飞行检查")
    assert view_of(row).refusal(date(2024, 1, 1)) == f"定点医药机构 {code} 已暂停医保服务"
    with pytest.raises(Exception, match="token"):
        tokens.principal_from_token(session, key)  # a suspended institution's API key stops too
    service.reinstate(session, code)
    assert tokens.principal_from_token(session, key).login == code


def test_rotate_and_end(session: Session) -> None:
    row, first = _add(session)
    _, second = service.rotate_secret(session, row.code)
    assert second != first and row.secret_version == 2
    assert secrets.unseal(row.secret_sealed, row.code) == second
    service.end_designation(session, row.code, on=date(2024, 7, 1))
    assert row.designated_until == date(2024, 6, 30)
    view = view_of(row)
    assert view.refusal(date(2024, 6, 30)) is None
    assert view.refusal(date(2024, 7, 1)) == f"定点医药机构 {row.code} 的定点资格已于 2024-06-30 终止"
    assert view.refusal(date(2014, 12, 31)) == f"定点医药机构 {row.code} 的定点资格自 2015-01-01 起生效，尚未生效"


def test_list_by_region(session: Session) -> None:
    km, _ = _add(session)
    dali, _ = _add(session, region="532900")
    codes = {r.code for r in service.list(session, region="530100")}
    assert km.code in codes and dali.code not in codes
    assert {km.code, dali.code} <= {r.code for r in service.list(session)}
    assert all(r.kind == "hospital" for r in service.list(session, kind="hospital"))


def test_secret_is_never_logged(session: Session, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        _, secret = _add(session)
    assert secret not in caplog.text


def test_key_file_created_once_with_mode_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from yibao.core.settings import get_settings

    monkeypatch.delenv(secrets.KEY_ENV, raising=False)
    monkeypatch.setenv("YIBAO_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        key = secrets.key()
        path = tmp_path / secrets.KEY_FILE
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and len(key) == 32
        assert secrets.key() == key == bytes.fromhex(path.read_text().strip())
        monkeypatch.setenv(secrets.KEY_ENV, "ab" * 32)
        assert secrets.key() == bytes.fromhex("ab" * 32)  # the environment wins
        monkeypatch.setenv(secrets.KEY_ENV, "short")
        with pytest.raises(RuntimeError, match="64 hex"):
            secrets.key()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_institution_lookup(session: Session) -> None:
    row, _ = _add(session)
    assert service.get(session, row.code) is row
    assert service.by_paasid(session, row.paasid) is row
    assert service.by_paasid(session, "nobody") is None
    assert session.scalar(select(Institution.code).where(Institution.paasid == row.paasid)) == row.code
