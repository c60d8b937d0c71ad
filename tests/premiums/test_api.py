"""Premium endpoints: idempotent payments, receipts (JSON and printable), refusals with remedies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.factories import new_id, premium_body
from yibao.core import clock

NOW = datetime(2022, 10, 8, 2, 0, tzinfo=UTC)


def _resident(client: Any) -> str:
    idn = new_id()
    assert (
        client.post(
            "/api/people/residents", json={"id_number": idn, "name": "张三", "region": "530100", "on": "2022-09-02"}
        ).status_code
        == 201
    )
    return idn


def _pay(client: Any, idn: str, key: str, **over: Any) -> Any:
    body = premium_body(idn, **over)
    with clock.use(clock.FixedClock(NOW)):
        return client.post("/api/premiums/payments", json=body, headers={"Idempotency-Key": key})


def test_contribution_year(client: Any) -> None:
    r = client.get("/api/premiums/years/2023").json()
    assert (r["amount"], r["collection_opens"], r["collection_closes"]) == ("350.00", "2022-09-01", "2022-12-31")
    assert "350元" in r["amount_source"]["quote"]
    # A source shows the keys it has: a cited value its source and quote, an assumed one its note.
    assert set(r["amount_source"]) == set(r["period_source"]) == {"source", "quote"}
    assumed = client.get("/api/premiums/years/2022").json()["period_source"]
    assert assumed["assumed"] is True and assumed["note"] and set(assumed) == {"source", "quote", "assumed", "note"}
    assert client.get("/api/premiums/years/2019").status_code == 404


def test_pay_retry_receipt_and_records(client: Any) -> None:
    idn = _resident(client)
    first = _pay(client, idn, "abc-1")
    assert first.status_code == 201, first.text
    assert set(first.json()) == {
        "receipt_no",
        "year",
        "scheme",
        "amount",
        "insured_name",
        "insured_id_number",
        "payer_name",
        "payer_id_number",
        "proxy",
        "region_code",
        "agency",
        "channel",
        "channel_name",
        "paid_at",
    }
    assert (first.json()["scheme"], first.json()["proxy"], first.json()["paid_at"]) == (
        "resident",
        False,
        "2022-10-08T02:00:00+00:00",
    )
    again = _pay(client, idn, "abc-1")
    assert again.json() == first.json()
    no = first.json()["receipt_no"]
    assert client.get(f"/api/premiums/receipts/{no}").json()["amount"] == "350.00"
    page = client.get(f"/api/premiums/receipts/{no}/print")
    assert page.status_code == 200 and "电子缴费凭证" in page.text and idn not in page.text
    assert client.get(f"/api/premiums/insured/{idn}/payments").json() == [first.json()]
    assert client.get(f"/api/premiums/payers/{idn}/payments").json() == []  # paid for oneself
    assert _pay(client, idn, "abc-1", amount="320.00").status_code == 409


def test_refusal_carries_the_remedy(client: Any) -> None:
    r = _pay(client, new_id(), "k-none")
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "premium.no_registration" and body["message"] == "未查询到缴费人基础信息"
    assert body["details"]["remedy"]
    idn = _resident(client)
    assert _pay(client, idn, "k2", amount="350.001").json()["details"]["field"] == "amount"
    assert _pay(client, idn, "k3", amount=350.0).status_code == 422


def test_hostile_amounts_and_names_are_refused_naming_the_field(client: Any) -> None:
    idn = _resident(client)
    payer = _resident(client)
    for key, over, field in (
        ("h1", {"amount": "99999999999999.99"}, "amount"),
        ("h2", {"amount": "３５０.００"}, "amount"),
        ("h3", {"payer_id_number": payer, "payer_name": "李\u202e四"}, "payer_name"),
        ("h4", {"payer_id_number": payer, "payer_name": "李\n四"}, "payer_name"),
        ("h5", {"insured_name": "张\u200b三"}, "insured_name"),
    ):
        r = _pay(client, idn, key, **over)
        assert r.status_code == 422, r.text
        assert r.json()["details"]["field"] == field, (over, r.json())
    assert client.get(f"/api/premiums/insured/{idn}/payments").json() == []
