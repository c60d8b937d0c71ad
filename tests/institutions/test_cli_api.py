"""``yibao institutions`` and ``/api/institutions``: credentials shown once, then never again."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine

from tests.cli import run
from tests.nhsa.helpers import new_code
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work
from yibao.identity import logins as identity


def test_command_line(cli_db: str) -> None:
    code, out = run(
        "institutions", "add", "H53010000123", "昆明测试医院", "--kind", "hospital", "--level", "3",
        "--region", "530100", "--designated-from", "2015-01-01", "--json",
    )  # fmt: skip
    assert code == 0, out
    creds = json.loads(out)
    assert set(creds) == {"code", "paasid", "secret"}
    assert creds["code"] == "H53010000123" and creds["paasid"] == "yb_H53010000123" and len(creds["secret"]) == 32
    code, out = run(
        "institutions", "add", "P53010000123", "昆明测试药店", "--kind", "pharmacy", "--region", "530100",
        "--paasid", "1234567890abcdef", "--infcode-string",
    )  # fmt: skip
    assert code == 0 and "1234567890abcdef" in out and "secret" in out
    code, out = run(
        "institutions", "add", "H53010000123", "重复", "--kind", "hospital", "--level", "1", "--region", "530100"
    )
    assert code == 4
    code, out = run("institutions", "add", "H5301", "短", "--kind", "hospital", "--level", "1", "--region", "530100")
    assert code == 2
    code, out = run("institutions", "list", "--json")
    rows = json.loads(out)
    assert [r["code"] for r in rows] == ["H53010000123", "P53010000123"]
    assert all("secret" not in r for r in rows) and creds["secret"] not in out
    assert rows[1]["infcode_string"] is True and rows[1]["level"] is None
    code, out = run("institutions", "show", "H53010000123", "--json")
    assert code == 0 and json.loads(out)["designated_today"] is True
    code, out = run("institutions", "rotate-secret", "H53010000123", "--json")
    assert code == 0 and json.loads(out)["secret"] != creds["secret"]
    code, out = run("institutions", "end-designation", "H53010000123", "--on", "2024-07-01", "--json")
    assert code == 0 and json.loads(out)["designated_until"] == "2024-06-30"
    code, out = run("institutions", "suspend", "P53010000123", "--reason", "飞行检查", "--json")
    assert code == 0 and json.loads(out)["status"] == "suspended"
    code, out = run("institutions", "reinstate", "P53010000123", "--json")
    assert code == 0 and json.loads(out)["status"] == "active"
    assert run("institutions", "show", "H00000000000")[0] == 3


def test_rest_for_staff(api_client: Any, engine: Engine) -> None:
    with unit_of_work(engine, principal=system_principal()) as s:
        identity.create_staff(
            s, username="km.adm.inst", name="管理员", role="admin", region="530100", password="Admin2023pw"
        )
    r = api_client.post("/api/auth/login", json={"kind": "staff", "login": "km.adm.inst", "password": "Admin2023pw"})
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    code = new_code()
    body: dict[str, Any] = {"code": code, "name": "新医院", "kind": "community_health_center", "region": "530100"}
    r = api_client.post("/api/institutions", json=body, headers=auth)
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"code", "paasid", "secret"}
    secret = r.json()["secret"]
    r = api_client.get(f"/api/institutions/{code}", headers=auth)
    assert r.status_code == 200 and r.json()["level"] == 1 and secret not in r.text
    r = api_client.post("/api/institutions", json={**body, "code": new_code(), "region": "532900"}, headers=auth)
    assert r.status_code == 403  # another region's institutions are its administrators'
    r = api_client.post("/api/institutions", json={**body, "code": "short"}, headers=auth)
    assert r.status_code == 422
    r = api_client.get("/api/institutions?region=530100", headers=auth)
    assert code in {i["code"] for i in r.json()}
