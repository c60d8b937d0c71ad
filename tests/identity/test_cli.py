"""``yibao auth``: staff and client logins, a person's password and the audit log from the command line."""

from __future__ import annotations

import json

import pytest

from tests.cli import run
from tests.factories import new_id


def test_logins_and_audit_from_the_command_line(cli_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_PASSWORD", "Counter2023x")
    code, out = run("auth", "create-staff", "km.clerk9", "王经办", "--role", "clerk", "--region", "530100", "--json")
    assert code == 0, out
    assert json.loads(out) == {"username": "km.clerk9", "name": "王经办", "role": "clerk", "region": "530100"}
    code, out = run("auth", "create-staff", "km.clerk9", "重复", "--role", "clerk", "--region", "530100")
    assert code == 4  # already exists
    code, out = run("auth", "create-staff", "x.boss", "老板", "--role", "owner", "--region", "530100")
    assert code == 2  # no such role
    code, out = run("auth", "create-client", "institution", "H530100999", "某医院", "--region", "530100", "--json")
    assert code == 0 and len(json.loads(out)["api_key"]) >= 40
    idn = new_id()
    assert run("people", "register-resident", "--id-number", idn, "--name", "张三", "--region", "530100")[0] == 0
    assert run("auth", "set-password", idn)[0] == 0
    code, out = run("auth", "audit", "--action", "auth.password.set", "--json")
    assert code == 0, out
    items = json.loads(out)["items"]
    assert items and items[0]["subject"] == idn[:6] + "********" + idn[-4:] and items[0]["actor_role"] == "system"
    assert idn not in out
