"""Account endpoints on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.factories import new_id

H = {"Idempotency-Key": "k", "X-Source-System": "hospital-1"}


def _employee(client: Any, name: str = "职工") -> str:
    idn = new_id(born=date(1975, 1, 1))
    r = client.post(
        "/api/people/employees", json={"id_number": idn, "name": name, "region": "530100", "employer": "某公司"}
    )
    assert r.status_code == 201, r.text
    return idn


def test_credit_pay_records_verify(client: Any) -> None:
    idn = _employee(client)
    r = client.post(
        f"/api/accounts/{idn}/credits",
        json={"amount": "500.00", "period": "2022-09"},
        headers={**H, "Idempotency-Key": f"c-{idn}"},
    )
    assert r.status_code == 201, r.text
    again = client.post(
        f"/api/accounts/{idn}/credits",
        json={"amount": "500.00", "period": "2022-09"},
        headers={**H, "Idempotency-Key": f"c-{idn}"},
    )
    assert again.json() == r.json()
    pay = client.post(
        f"/api/accounts/{idn}/payments",
        json={"amount": "58.50", "category": "designated_pharmacy", "institution": "药店"},
        headers={**H, "Idempotency-Key": f"p-{idn}"},
    )
    assert pay.status_code == 201 and pay.json()["amount"] == "-58.50"
    assert client.get(f"/api/accounts/{idn}").json()["balance"] == "441.50"
    assert (
        client.get(f"/api/accounts/{idn}/records", params={"kind": "spending"}).json()["items"][0]["amount"] == "-58.50"
    )
    refused = client.post(
        f"/api/accounts/{idn}/payments",
        json={"amount": "10.00", "category": "fitness", "institution": "健身房"},
        headers={**H, "Idempotency-Key": f"f-{idn}"},
    )
    assert refused.status_code == 422 and refused.json()["code"] == "accounts.excluded_use"
    short = client.post(
        f"/api/accounts/{idn}/payments",
        json={"amount": "9999.00", "category": "designated_pharmacy", "institution": "药店"},
        headers={**H, "Idempotency-Key": f"s-{idn}"},
    )
    assert short.status_code == 422 and short.json()["code"] == "accounts.insufficient_balance"
    assert client.get("/api/accounts/ledger/verify").json()["ok"] is True


def test_bindings_and_withdrawal(client: Any) -> None:
    holder = _employee(client, "甲")
    rel = new_id(born=date(1950, 1, 1))
    assert (
        client.post("/api/people/residents", json={"id_number": rel, "name": "父亲", "region": "530100"}).status_code
        == 201
    )
    r = client.post(
        f"/api/accounts/{holder}/bindings",
        json={"relative_id_number": rel, "relation": "parent", "commitment_signed": True},
    )
    assert r.status_code == 201 and r.json()[0]["status"] == "active"
    assert client.get(f"/api/accounts/{rel}/bindings").json()[0]["relation"] == "parent"  # the user sees it too
    r = client.post(f"/api/accounts/{holder}/unbind", json={"relative_id_number": rel, "channel": "banshitong_app"})
    assert r.json()[0]["status"] == "ended"
    client.post(
        f"/api/accounts/{holder}/credits",
        json={"amount": "100.00", "period": "2022-09"},
        headers={**H, "Idempotency-Key": f"c-{holder}"},
    )
    w = client.post(
        f"/api/accounts/{holder}/withdrawals",
        json={"case": "give_up", "documents": ["身份证", "放弃参加职工基本医疗保险的申请"]},
    )
    assert w.status_code == 201
    d = client.post(
        f"/api/accounts/withdrawals/{w.json()['request_id']}/decision",
        json={"approve": True, "clerk": "经办", "note": "同意"},
    )
    assert d.json() == {"request_id": w.json()["request_id"], "status": "approved", "amount": "100.00"}
    assert client.get(f"/api/accounts/{holder}").json()["status"] == "closed"


def test_a_retried_insurance_purchase_charges_once(client: Any) -> None:
    idn = _employee(client)
    credit = client.post(
        f"/api/accounts/{idn}/credits",
        json={"amount": "3000.00", "period": "2022-09"},
        headers={**H, "Idempotency-Key": f"c-{idn}"},
    )
    assert credit.status_code == 201, credit.text
    body = {"insured_id_number": idn, "product": "jirui_ankang", "shares": 2}
    missing = client.post(f"/api/accounts/{idn}/insurance", json=body)
    assert missing.status_code == 422 and missing.json()["details"]["field"] == "Idempotency-Key"
    first = client.post(f"/api/accounts/{idn}/insurance", json=body, headers={"Idempotency-Key": f"i-{idn}"})
    assert first.status_code == 201, first.text
    again = client.post(f"/api/accounts/{idn}/insurance", json=body, headers={"Idempotency-Key": f"i-{idn}"})
    assert again.status_code == 201 and again.json() == first.json()
    assert client.get(f"/api/accounts/{idn}").json()["balance"] == "2000.00"  # 2 shares × 500.00, once
    other = client.post(
        f"/api/accounts/{idn}/insurance", json={**body, "shares": 1}, headers={"Idempotency-Key": f"i-{idn}"}
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency.key_reused"
