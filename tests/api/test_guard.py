"""Bad input everywhere gets a clear 4xx in the one error shape, never a 500, and writes nothing."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from tests.factories import new_id
from yibao.accounts.models import JournalEntry
from yibao.api.guard import MAX_BODY_BYTES, MAX_DEPTH, nesting_depth
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work
from yibao.people.models import Person

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _persons(engine: Engine) -> int:
    with unit_of_work(engine, principal=system_principal()) as s:
        return int(s.scalar(select(func.count()).select_from(Person)) or 0)


def _resident(**overrides: Any) -> dict[str, Any]:
    return {"id_number": new_id(), "name": "张三", "region": "530100", "on": "2022-09-10", **overrides}


def _shape(r: Any) -> dict[str, Any]:
    body: dict[str, Any] = r.json()
    assert {"code", "message", "message_en"} <= set(body), body
    return body


def test_oversized_body(client: Any, engine: Engine) -> None:
    before = _persons(engine)
    big = json.dumps(_resident(name="张" * (MAX_BODY_BYTES // 3 + 10)))
    r = client.post("/api/people/residents", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and _shape(r)["code"] == "request_too_large"
    assert _persons(engine) == before


def test_nul_and_broken_unicode_in_bodies(client: Any, engine: Engine) -> None:
    before = _persons(engine)
    r = client.post("/api/people/residents", json=_resident(name="张\x00三"))
    assert r.status_code == 422 and _shape(r)["details"]["field"] == "name"
    lone = '{"id_number": "' + new_id() + '", "name": "\\ud800", "region": "530100"}'
    r = client.post("/api/people/residents", content=lone, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and _shape(r)["details"]["field"] == "name"
    r = client.post(
        "/api/people/residents", content=b'{"name": "\xff\xfe"}', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422 and _shape(r)
    r = client.post("/api/people/residents", content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and _shape(r)
    assert _persons(engine) == before


def test_bad_paths_and_queries(client: Any) -> None:
    for url in ("/api/people/5301%00", "/api/people/%ff%fe", "/api/accounts/x/records?kind=%00"):
        r = client.get(url)
        assert r.status_code == 422, (url, r.text)
        _shape(r)
    r = client.post("/api/accounts/withdrawals/99999999999999999999999/decision", json={"approve": True, "clerk": "x"})
    assert r.status_code == 422 and _shape(r)
    r = client.get("/api/premiums/years/99999999999")
    assert r.status_code == 422 and _shape(r)
    r = client.get("/api/no/such/page")
    assert r.status_code == 404 and _shape(r)["code"] == "http_404"
    r = client.delete("/api/premiums/years/2023")
    assert r.status_code == 405 and _shape(r)


def test_wrong_types_name_the_field(client: Any) -> None:
    r = client.post("/api/people/residents", json=_resident(region=530100))
    assert r.status_code == 422 and _shape(r)["details"]["field"] == "region"
    r = client.post(
        f"/api/accounts/{new_id()}/credits",
        json={"amount": 1.5, "period": "2023-01"},
        headers={"Idempotency-Key": "k", "X-Source-System": "tax"},
    )
    assert r.status_code == 422 and _shape(r)


def test_injection_attempts_are_just_text(client: Any, engine: Engine) -> None:
    r = client.get("/api/people/530102' OR '1'='1")
    assert r.status_code == 422 and _shape(r)["details"]["field"] == "id_number"
    idn = new_id()
    r = client.post("/api/people/residents", json=_resident(id_number=idn, name="Robert'); DROP TABLE persons;--"))
    # Quotes and semicolons are text in a name: stored as typed, and the table is still there.
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Robert'); DROP TABLE persons;--"
    assert client.get(f"/api/people/{idn}").json()["name"] == "Robert'); DROP TABLE persons;--"
    assert _persons(engine) > 0


def _entries(engine: Engine) -> int:
    with unit_of_work(engine, principal=system_principal()) as s:
        return int(s.scalar(select(func.count()).select_from(JournalEntry)) or 0)


@pytest.mark.parametrize("trick", [FULL_WIDTH, ARABIC_INDIC], ids=["full-width", "arabic-indic"])
def test_non_ascii_digits_never_make_a_second_person(client: Any, engine: Engine, trick: dict[int, str]) -> None:
    idn = new_id()
    assert client.post("/api/people/residents", json=_resident(id_number=idn)).status_code == 201
    before = _persons(engine)
    for field, body in (
        ("id_number", _resident(id_number=idn.translate(trick))),
        ("id_number", _resident(id_number=idn[:6] + idn[6:].translate(trick))),
        ("phone", _resident(id_number=new_id(), phone="13912345678".translate(trick))),
        ("region", _resident(id_number=new_id(), region="530100".translate(trick))),
    ):
        r = client.post("/api/people/residents", json=body)
        assert r.status_code == 422, r.text
        assert _shape(r)["details"]["field"] == field and "0-9" in r.json()["message_en"]
    r = client.get(f"/api/people/{idn.translate(trick)}")
    assert r.status_code == 422 and _shape(r)["details"]["field"] == "id_number"
    assert _persons(engine) == before


@pytest.mark.parametrize("trick", [FULL_WIDTH, ARABIC_INDIC], ids=["full-width", "arabic-indic"])
def test_non_ascii_digits_never_move_money(client: Any, engine: Engine, trick: dict[int, str]) -> None:
    idn = new_id(born=date(1980, 1, 1))
    r = client.post(
        "/api/people/employees", json={"id_number": idn, "name": "职工", "region": "530100", "employer": "某公司"}
    )
    assert r.status_code == 201, r.text
    before = _entries(engine)
    headers = {"Idempotency-Key": f"fw-{idn}", "X-Source-System": "tax"}
    for url, body in (
        (f"/api/accounts/{idn}/credits", {"amount": "1.00".translate(trick), "period": "2023-05"}),
        (f"/api/accounts/{idn}/credits", {"amount": "100.00", "period": "2023-05".translate(trick)}),
        (f"/api/accounts/{idn}/payments", {"amount": "1.00".translate(trick), "category": "x", "institution": "y"}),
    ):
        r = client.post(url, json=body, headers=headers)
        assert r.status_code == 422, r.text
        assert _shape(r)["details"]["field"] in ("amount", "period") and "0-9" in r.json()["message_en"]
    assert _entries(engine) == before


def test_deep_nesting_is_refused_before_parsing(api_client: Any, engine: Engine) -> None:
    before = _persons(engine)
    deep = "[" * 1000 + "]" * 1000
    for url, body, headers in (
        ("/api/people/residents", deep, {"Content-Type": "application/json"}),
        ("/api/auth/login", '{"login": ' + "{" * 1000 + "}" * 1000 + "}", {"Content-Type": "application/json"}),
        ("/api/people/residents", deep, {}),  # no content type: FastAPI still reads JSON
        ("/api/calc", '{"a": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}", {"Content-Type": "text/json"}),
    ):
        r = api_client.post(url, content=body, headers=headers)  # unauthenticated, too
        assert r.status_code == 422, (url, r.status_code, r.text[:200])
        assert _shape(r)["details"]["field"] == "body" and "nest" in r.json()["message_en"]
    assert _persons(engine) == before


def test_nesting_within_the_limit_and_brackets_in_strings_pass_the_guard(client: Any) -> None:
    # Brackets inside strings (escaped quotes too) are text, not nesting.
    name = '[[[[\\"{{{{' * 20
    body = '{"id_number": "' + new_id() + '", "name": "' + name + '", "region": "530100", "on": "2022-09-10"}'
    r = client.post("/api/people/residents", content=body, headers={"Content-Type": "application/json"})
    # Passed by the guard; then refused by the name rule (200 characters), naming the field.
    assert r.status_code == 422 and _shape(r)["details"]["field"] == "name" and "nest" not in r.text, r.text
    short = '[[\\"{{' * 5
    body = '{"id_number": "' + new_id() + '", "name": "' + short + '", "region": "530100", "on": "2022-09-10"}'
    r = client.post("/api/people/residents", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 201 and r.json()["name"] == '[["{{' * 5, r.text
    ok = '{"a": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"
    r = client.post("/api/people/residents", content=ok, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "nest" not in r.text  # refused by the schema, not the guard


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [[1], {"b": 2}]}', 3),
        (b'{"a": "[[[{{{"}', 1),
        (b'{"a": "\\"[[[", "b": [1]}', 2),  # an escaped quote does not end the string
        (b'["\\\\", [[]]]', 3),  # an escaped backslash does not escape the quote after it
        (b"[" * 1000, 1000),
        (b"[]" * 1000, 1),
    ],
)
def test_nesting_depth(body: bytes, depth: int) -> None:
    assert nesting_depth(body) == depth


def test_extreme_date_filters(client: Any) -> None:
    idn = new_id(born=date(1980, 1, 1))
    r = client.post(
        "/api/people/employees", json={"id_number": idn, "name": "职工", "region": "530100", "employer": "某公司"}
    )
    assert r.status_code == 201, r.text
    client.post(
        f"/api/accounts/{idn}/credits",
        json={"amount": "10.00", "period": "2023-05"},
        headers={"Idempotency-Key": f"x-{idn}", "X-Source-System": "tax"},
    )
    for url in (f"/api/accounts/{idn}/records", "/api/audit"):
        for params in ({"end": "9999-12-31"}, {"start": "0001-01-01", "end": "9999-12-31"}, {"start": "9999-12-31"}):
            r = client.get(url, params=params)
            assert r.status_code == 200, (url, params, r.text)
        assert client.get(url, params={"end": "9999-12-31"}).json()["items"], url  # the end of time holds all


@pytest.mark.parametrize("trick", ["\u202e", "\u200b", "\ufeff", "\u2066", "\x1b", "\u2028"])
def test_free_text_fields_refuse_invisible_characters(client: Any, trick: str) -> None:
    idn = new_id()
    assert client.post("/api/people/residents", json=_resident(id_number=idn)).status_code == 201
    r = client.post(
        f"/api/people/{idn}/status", json={"scheme": "resident", "to": "suspended", "reason": f"停{trick}保"}
    )
    assert r.status_code == 422 and _shape(r)["details"]["field"] == "reason", r.text
    assert f"U+{ord(trick):04X}" in r.json()["message_en"]
    assert client.get(f"/api/people/{idn}").json()["records"][0]["status"] == "normal"  # nothing changed
    r = client.post(f"/api/accounts/{idn}/withdrawals", json={"case": "abroad", "documents": ["护照", f"证明{trick}"]})
    assert r.status_code == 422 and _shape(r)["details"]["field"] == "documents[1]", r.text


def test_line_breaks_and_tabs_are_text(client: Any) -> None:
    idn = new_id()
    assert client.post("/api/people/residents", json=_resident(id_number=idn)).status_code == 201
    r = client.post(
        f"/api/people/{idn}/status", json={"scheme": "resident", "to": "suspended", "reason": "迁出\n\t本省"}
    )
    assert r.status_code == 200, r.text
