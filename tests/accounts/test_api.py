"""Account endpoints on SQLite and PostgreSQL: what they answer, in the shapes the OpenAPI document shows."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.accounts.factories import NOW
from tests.factories import new_id
from yibao.core import clock

H = {"Idempotency-Key": "k", "X-Source-System": "hospital-1"}


def _employee(client: Any, name: str = "职工", funded: str | None = None) -> str:
    idn = new_id(born=date(1975, 1, 1))
    r = client.post(
        "/api/people/employees", json={"id_number": idn, "name": name, "region": "530100", "employer": "某公司"}
    )
    assert r.status_code == 201, r.text
    if funded:
        r = _credit(client, idn, funded)
        assert r.status_code == 201, r.text
    return idn


def _credit(client: Any, idn: str, amount: str) -> Any:
    return client.post(
        f"/api/accounts/{idn}/credits",
        json={"amount": amount, "period": "2022-09"},
        headers={**H, "Idempotency-Key": f"c-{idn}-{amount}"},
    )


def _pay(client: Any, idn: str, amount: str, category: str = "designated_pharmacy", key: str | None = None) -> Any:
    return client.post(
        f"/api/accounts/{idn}/payments",
        json={"amount": amount, "category": category, "institution": "药店"},
        headers={**H, "Idempotency-Key": key or f"p-{idn}-{amount}-{category}"},
    )


def test_credit_pay_records_verify(client: Any) -> None:
    idn = _employee(client)
    r = _credit(client, idn, "500.00")
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"entry_id", "kind", "category", "amount", "reference", "at"}
    assert (r.json()["kind"], r.json()["amount"], r.json()["reference"]) == ("credit", "500.00", "2022-09")
    assert _credit(client, idn, "500.00").json() == r.json()
    pay = _pay(client, idn, "58.50")
    assert pay.status_code == 201 and (pay.json()["amount"], pay.json()["kind"]) == ("-58.50", "payment")
    assert client.get(f"/api/accounts/{idn}").json() | {"id_number": "masked"} == {
        "id_number": "masked",
        "name": "职工",
        "balance": "441.50",
        "status": "open",
    }
    page = client.get(f"/api/accounts/{idn}/records", params={"kind": "spending"}).json()
    assert (page["page"], page["per_page"], page["has_more"]) == (1, 20, False)
    assert [i["amount"] for i in page["items"]] == ["-58.50"]
    refused = _pay(client, idn, "10.00", "fitness")
    assert refused.status_code == 422 and refused.json()["code"] == "accounts.excluded_use"
    short = _pay(client, idn, "9999.00")
    assert short.status_code == 422 and short.json()["code"] == "accounts.insufficient_balance"
    verified = client.get("/api/accounts/ledger/verify").json()
    assert verified["ok"] is True and verified["problems"] == [] and verified["total"] == 0


def test_bindings_and_withdrawal(client: Any) -> None:
    holder = _employee(client, "甲", funded="100.00")
    rel = new_id(born=date(1950, 1, 1))
    assert (
        client.post("/api/people/residents", json={"id_number": rel, "name": "父亲", "region": "530100"}).status_code
        == 201
    )
    r = client.post(
        f"/api/accounts/{holder}/bindings",
        json={"relative_id_number": rel, "relation": "parent", "commitment_signed": True},
    )
    assert r.status_code == 201
    (record,) = r.json()
    assert (record["status"], record["channel"], record["unbound_at"], record["user"]["name"]) == (
        "active",
        "yunnan_yibao_miniapp",
        None,
        "父亲",
    )
    assert client.get(f"/api/accounts/{rel}/bindings").json() == r.json()  # the user sees it too
    r = client.post(f"/api/accounts/{holder}/unbind", json={"relative_id_number": rel, "channel": "banshitong_app"})
    assert (
        r.status_code == 200 and r.json()[0]["status"] == "ended" and r.json()[0]["unbound_channel"] == "banshitong_app"
    )
    unknown = client.post(f"/api/accounts/{holder}/unbind", json={"relative_id_number": rel, "channel": "wechat"})
    assert unknown.status_code == 422 and unknown.json()["details"]["field"] == "channel"
    w = client.post(
        f"/api/accounts/{holder}/withdrawals",
        json={"case": "give_up", "documents": ["身份证", "放弃参加职工基本医疗保险的申请"]},
    )
    assert w.status_code == 201 and w.json() == {"request_id": w.json()["request_id"], "status": "pending"}
    d = client.post(
        f"/api/accounts/withdrawals/{w.json()['request_id']}/decision",
        json={"approve": True, "clerk": "经办", "note": "同意"},
    )
    assert d.status_code == 200
    assert d.json() == {"request_id": w.json()["request_id"], "status": "approved", "amount": "100.00"}
    assert client.get(f"/api/accounts/{holder}").json()["status"] == "closed"


def test_a_relative_premium_answers_the_receipt(client: Any) -> None:
    holder = _employee(client, "张伟", funded="500.00")
    mother = new_id(born=date(1950, 5, 5), sex="F")
    client.post(
        "/api/people/residents", json={"id_number": mother, "name": "母亲", "region": "530100", "on": "2022-09-02"}
    )
    client.post(
        f"/api/accounts/{holder}/bindings",
        json={"relative_id_number": mother, "relation": "parent", "commitment_signed": True},
    )
    body = {"relative_id_number": mother, "relative_name": "母亲", "year": 2023}
    with clock.use(clock.FixedClock(NOW)):  # within the 2023 collection period
        r = client.post(f"/api/accounts/{holder}/relative-premiums", json=body, headers={"Idempotency-Key": "rp"})
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert (receipt["amount"], receipt["proxy"], receipt["channel_name"], receipt["insured_name"]) == (
        "350.00",
        True,
        "医保账户支付",
        "母亲",
    )
    assert client.get(f"/api/premiums/receipts/{receipt['receipt_no']}").json() == receipt  # the premiums domain's own
    assert client.get(f"/api/accounts/{holder}").json()["balance"] == "150.00"


def test_a_retried_insurance_purchase_charges_once(client: Any) -> None:
    idn = _employee(client, funded="3000.00")
    body = {"insured_id_number": idn, "product": "jirui_ankang", "shares": 2}
    missing = client.post(f"/api/accounts/{idn}/insurance", json=body)
    assert missing.status_code == 422 and missing.json()["details"]["field"] == "Idempotency-Key"
    first = client.post(f"/api/accounts/{idn}/insurance", json=body, headers={"Idempotency-Key": f"i-{idn}"})
    assert first.status_code == 201, first.text
    assert first.json() | {"policy_id": 0} == {
        "policy_id": 0,
        "product": "jirui_ankang",
        "shares": 2,
        "yearly_premium": "1000.00",
        "maturity_year": first.json()["maturity_year"],
    }
    again = client.post(f"/api/accounts/{idn}/insurance", json=body, headers={"Idempotency-Key": f"i-{idn}"})
    assert again.status_code == 201 and again.json() == first.json()
    assert client.get(f"/api/accounts/{idn}").json()["balance"] == "2000.00"  # 2 shares × 500.00, once
    other = client.post(
        f"/api/accounts/{idn}/insurance", json={**body, "shares": 1}, headers={"Idempotency-Key": f"i-{idn}"}
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency.key_reused"
    unknown = client.post(
        f"/api/accounts/{idn}/insurance", json={**body, "product": "anxin"}, headers={"Idempotency-Key": "i-x"}
    )
    assert unknown.status_code == 422 and unknown.json()["details"]["field"] == "product"


def test_every_accounts_operation_documents_its_answer(client: Any) -> None:
    doc = client.get("/openapi.json").json()
    ops = [(m, p, op) for p, item in doc["paths"].items() if p.startswith("/api/accounts") for m, op in item.items()]
    assert len(ops) == 12
    schemas = doc["components"]["schemas"]
    for method, path, op in ops:
        ok = [code for code in op["responses"] if code.startswith("2")]
        assert len(ok) == 1, (method, path, ok)
        schema = op["responses"][ok[0]]["content"]["application/json"]["schema"]
        ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
        assert ref, (method, path, schema)  # a named model, not an empty object
        assert schemas[ref.rsplit("/", 1)[1]]["properties"], (method, path)
    balance = schemas["BalanceOut"]["properties"]
    assert set(balance) == {"id_number", "name", "balance", "status"}
    created = {p for m, p, op in ops if "201" in op["responses"]}
    assert created == {
        f"/api/accounts/{{id_number}}/{tail}"
        for tail in ("credits", "payments", "bindings", "relative-premiums", "insurance", "withdrawals")
    }


def test_a_balance_is_refused_as_every_account_use_is(client: Any) -> None:
    unknown = client.get(f"/api/accounts/{new_id(born=date(1980, 1, 1))}")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "people.not_found")
    resident = new_id(born=date(1960, 1, 1))
    assert client.post(
        "/api/people/residents", json={"id_number": resident, "name": "居民", "region": "530100"}
    ).is_success
    r = client.get(f"/api/accounts/{resident}")
    assert (r.status_code, r.json()["code"]) == (404, "accounts.no_account")
    assert "未参加职工医保" in r.json()["message"]
    unopened = _employee(client, "新职工")
    r = client.get(f"/api/accounts/{unopened}")
    assert (r.status_code, r.json()["code"]) == (404, "accounts.no_account")
    assert "没有个人账户" in r.json()["message"] and "未参加" not in r.json()["message"]
    _credit(client, unopened, "12.34")
    r = client.get(f"/api/accounts/{unopened}")
    assert r.status_code == 200 and (r.json()["balance"], r.json()["status"]) == ("12.34", "open")
    assert r.json()["id_number"] != unopened and "*" in r.json()["id_number"]
    malformed = client.get("/api/accounts/12345")
    assert malformed.status_code == 422
