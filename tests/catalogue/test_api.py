"""Catalogue endpoints on SQLite and PostgreSQL: one item on a day, pages as 1312 pages them, clear refusals."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tests.catalogue.factories import write_csv
from yibao.catalogue import service
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work


def _import(engine: Engine, tmp_path: Path, *lines: str) -> None:
    with unit_of_work(engine, principal=system_principal()) as s:
        service.import_file(s, write_csv(tmp_path, *lines))


def test_item_on_a_day_and_its_versions(client: Any, engine: Engine, tmp_path: Path) -> None:
    code = f"XA{uuid.uuid4().hex[:12].upper()}"  # the test database is shared: a code of this test's own
    _import(
        engine,
        tmp_path,
        f"{code},二甲双胍片,101,01,0.35,2023-01-01,",
        f"{code},二甲双胍片,101,02,0.30,2024-01-01,",
    )
    r = client.get(f"/api/catalogue/{code}", params={"date": "2023-12-31"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["med_list_codg"], body["chrgitm_lv"], body["pric_uplmt_amt"]) == (code, "01", "0.35")
    assert (body["begndate"], body["enddate"]) == ("2023-01-01", "2023-12-31")
    assert body["chrgitm_lv_name"] == "甲类 / class A" and body["med_chrgitm_type"] == "09"
    assert [v["begndate"] for v in body["versions"]] == ["2023-01-01", "2024-01-01"]
    assert client.get(f"/api/catalogue/{code}", params={"date": "2024-01-01"}).json()["chrgitm_lv"] == "02"
    missing = client.get(f"/api/catalogue/{code}", params={"date": "2022-12-31"})
    assert missing.status_code == 404 and missing.json()["code"] == "catalogue.not_found"
    assert missing.json()["message_zh"] and missing.json()["message_en"]


def test_pages_like_1312(client: Any, engine: Engine, tmp_path: Path) -> None:
    code = f"T{uuid.uuid4().hex[:12].upper()}"
    _import(engine, tmp_path, f"{code},黄芪,102,01,,2023-01-01,2023-06-30", f"{code},黄芪,102,02,,2023-07-01,")
    r = client.get("/api/catalogue", params={"code": code, "size": 1, "page": 2})
    assert r.status_code == 200, r.text
    page = r.json()
    assert {k: page[k] for k in ("pageNum", "pageSize", "recordCounts", "pages", "firstPage", "lastPage")} == {
        "pageNum": 2,
        "pageSize": 1,
        "recordCounts": 2,
        "pages": 2,
        "firstPage": 1,
        "lastPage": 2,
    }
    assert (page["size"], page["startRow"]) == (1, 2)
    assert page["data"] == [
        {
            "hilist_code": code,
            "hilist_name": "黄芪",
            "insu_admdvs": "530000",
            "begndate": "2023-07-01",
            "enddate": None,
            "med_chrgitm_type": "10",
            "chrgitm_lv": "02",
            "lmt_used_flag": "0",
            "list_type": "102",
            "pric_uplmt_amt": None,
        }
    ]
    on = client.get("/api/catalogue", params={"code": code, "date": "2023-06-30"}).json()
    assert [row["chrgitm_lv"] for row in on["data"]] == ["01"]
    typed = client.get("/api/catalogue", params={"code": code, "list_type": "102", "chrgitm_lv": "02"}).json()
    assert typed["recordCounts"] == 1


def test_bad_queries_name_the_field(client: Any) -> None:
    for params, field in (
        ({"size": 0}, "size"),
        ({"size": 1001}, "size"),
        ({"page": 0}, "page"),
        ({"list_type": "401"}, "list_type"),
        ({"date": "2023-02-30"}, "date"),
        ({"updated_since": "0001-01-01T00:00:00"}, "updated_since"),
    ):
        r = client.get("/api/catalogue", params=params)
        assert r.status_code == 422 and r.json()["details"]["field"] == field, (params, r.text)
    r = client.get("/api/catalogue/XA０1")
    assert r.status_code == 422 and r.json()["details"]["field"] == "code"
