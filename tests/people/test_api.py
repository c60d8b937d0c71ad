"""People endpoints on SQLite and PostgreSQL: masked output, clear errors, nothing half-written."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.factories import new_id


def test_register_and_read_back(client: Any) -> None:
    idn = new_id(born=date(1988, 8, 8), sex="F")
    r = client.post(
        "/api/people/residents",
        json={"id_number": idn, "name": "刘芳", "region": "530400", "phone": "13912345678", "on": "2022-09-02"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id_number", "name", "sex", "birth_date", "phone", "records"}
    assert set(body["records"][0]) == {
        "scheme",
        "status",
        "region_code",
        "region_name",
        "agency",
        "population_group",
        "employer",
        "flexible",
        "school",
        "enrolled_on",
        "benefits_from",
        "channel",
        "registered_by",
        "history",
    }
    assert body["id_number"] == idn[:6] + "********" + idn[-4:]
    assert body["phone"] == "139****5678"
    assert body["records"][0]["agency"] == "玉溪市医疗保障经办机构"
    got = client.get(f"/api/people/{idn}").json()
    assert got["records"][0]["history"][0]["kind"] == "enrol"
    assert idn not in client.get(f"/api/people/{idn}").text


def test_errors_are_bilingual_and_name_the_field(client: Any) -> None:
    r = client.post("/api/people/residents", json={"id_number": "530102199001011230", "name": "x", "region": "530100"})
    assert r.status_code == 422 and r.json()["details"]["field"] == "id_number"
    assert r.json()["message_zh"] and r.json()["message_en"]
    r = client.post("/api/people/residents", json={"id_number": new_id(), "name": "x", "region": "530100", "extra": 1})
    assert r.status_code == 422 and r.json()["details"]["field"] == "extra"
    assert client.get(f"/api/people/{new_id()}").status_code == 404


def test_student_newborn_employee_status_move_relations(client: Any) -> None:
    s = new_id(born=date(2004, 1, 1))
    assert (
        client.post(
            "/api/people/students",
            json={"id_number": s, "name": "学生甲", "school": "云南大学", "commitment_accepted": True},
        ).status_code
        == 201
    )
    mom = new_id(born=date(1992, 2, 2), sex="F")
    assert (
        client.post("/api/people/residents", json={"id_number": mom, "name": "妈妈", "region": "530100"}).status_code
        == 201
    )
    baby = new_id(born=date(2022, 6, 1))
    r = client.post(
        "/api/people/newborns",
        json={"id_number": baby, "name": "宝宝", "guardian_id_number": mom, "region": "530100", "on": "2022-08-20"},
    )
    assert r.status_code == 201 and r.json()["records"][0]["benefits_from"] == "2022-08-20"
    e = new_id()
    assert (
        client.post(
            "/api/people/employees",
            json={"id_number": e, "name": "职工乙", "region": "530100", "employer": "昆明某公司"},
        ).status_code
        == 201
    )
    r = client.post(f"/api/people/{e}/status", json={"scheme": "employee", "to": "suspended", "reason": "离职"})
    assert r.status_code == 200 and r.json()["records"][0]["status"] == "suspended"
    r = client.post(f"/api/people/{e}/status", json={"scheme": "employee", "to": "suspended", "reason": "again"})
    assert r.status_code == 409
    r = client.post(f"/api/people/{mom}/move", json={"scheme": "resident", "region": "532500", "reason": "迁居"})
    assert r.json()["records"][0]["region_code"] == "532500"
    r = client.post(f"/api/people/{mom}/relations", json={"relative_id_number": baby, "relation": "child"})
    assert r.status_code == 201
    assert r.json() == {
        "relatives": [{"id_number": baby[:6] + "********" + baby[-4:], "name": "宝宝", "relation": "child"}]
    }
    assert client.get(f"/api/people/{baby}/relations").json() == [
        {"id_number": mom[:6] + "********" + mom[-4:], "name": "妈妈", "relation": "parent"}
    ]
    r = client.post(f"/api/people/{mom}/relations", json={"relative_id_number": baby, "relation": "cousin"})
    assert r.status_code == 422 and r.json()["details"]["field"] == "relation"
