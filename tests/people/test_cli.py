"""The people and premiums commands with --json, against a migrated SQLite file."""

from __future__ import annotations

import json

from tests.cli import run
from tests.factories import new_id


def test_register_show_pay_receipt(cli_db: str) -> None:
    idn = new_id()
    code, out = run("people", "register-resident", "--id-number", idn, "--name", "张三", "--region", "530100", "--json")
    assert code == 0, out
    assert json.loads(out)["records"][0]["region_code"] == "530100"
    code, out = run("people", "show", idn, "--json")
    assert code == 0 and json.loads(out)["name"] == "张三"
    code, out = run("premiums", "year", "2023", "--json")
    assert json.loads(out)["amount"] == "350.00"
    # Paying now is outside the 2023 collection period: refused with code 5 and a remedy.
    code, out = run(
        "premiums",
        "pay",
        "--insured",
        idn,
        "--name",
        "张三",
        "--year",
        "2023",
        "--amount",
        "350.00",
        "--channel",
        "banshitong_app",
        "--region",
        "530100",
        "--idempotency-key",
        "cli-1",
        "--json",
    )
    assert code == 5


def test_errors_exit_with_codes(cli_db: str) -> None:
    code, _ = run("people", "register-resident", "--id-number", "123", "--name", "x", "--region", "530100")
    assert code == 2
    code, _ = run("people", "show", new_id())
    assert code == 3
    idn = new_id()
    run("people", "register-resident", "--id-number", idn, "--name", "张三", "--region", "530100")
    code, _ = run("people", "register-resident", "--id-number", idn, "--name", "张三", "--region", "530100")
    assert code == 4


def test_relations_and_status(cli_db: str) -> None:
    a, b = new_id(), new_id()
    run("people", "register-resident", "--id-number", a, "--name", "甲", "--region", "530100")
    run("people", "enrol-employee", "--id-number", b, "--name", "乙", "--region", "530100", "--employer", "某公司")
    code, out = run("people", "relate", a, b, "--relation", "sibling", "--json")
    assert code == 0 and json.loads(out)[0]["relation"] == "sibling"
    code, out = run("people", "status", b, "--scheme", "employee", "--to", "suspended", "--reason", "离职", "--json")
    assert code == 0 and json.loads(out)["records"][0]["status"] == "suspended"


def test_accounts_verify_on_an_empty_ledger(cli_db: str) -> None:
    code, out = run("accounts", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_accounts_commands(cli_db: str) -> None:
    holder, rel = new_id(), new_id()
    run("people", "enrol-employee", "--id-number", holder, "--name", "甲", "--region", "530100", "--employer", "某公司")
    run("people", "register-resident", "--id-number", rel, "--name", "乙", "--region", "530100")
    code, out = run("accounts", "credit", holder, "2000.00", "2022-09", "--idempotency-key", "c1", "--json")
    assert code == 0, out
    code, out = run(
        "accounts",
        "pay",
        holder,
        "12.30",
        "--category",
        "designated_pharmacy",
        "--institution",
        "药店",
        "--idempotency-key",
        "p1",
        "--json",
    )
    assert code == 0 and json.loads(out)["amount"] == "-12.30"
    code, out = run("accounts", "bind", holder, rel, "--relation", "sibling", "--sign-commitment", "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "active"
    code, out = run("accounts", "insure", holder, holder, "jirui_ankang", "--shares", "1", "--json")
    assert code == 0 and json.loads(out)["yearly_premium"] == "500.00"
    code, out = run("accounts", "balance", holder, "--json")
    assert json.loads(out)["balance"] == "1487.70"
    code, out = run("accounts", "records", holder, "--kind", "spending", "--json")
    assert len(json.loads(out)["items"]) == 2
    code, _ = run(
        "accounts", "pay", holder, "1.00", "--category", "fitness", "--institution", "x", "--idempotency-key", "p2"
    )
    assert code == 5
    code, out = run(
        "accounts",
        "withdraw",
        holder,
        "give_up",
        "--document",
        "身份证",
        "--document",
        "放弃参加职工基本医疗保险的申请",
        "--json",
    )
    rid = json.loads(out)["request_id"]
    code, out = run("accounts", "decide", str(rid), "经办", "--approve", "--json")
    assert json.loads(out)["amount"] == "1487.70"
    code, out = run("accounts", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_accounts_cross_region_bindings(cli_db: str) -> None:
    holder, rel = new_id(), new_id()
    run("people", "enrol-employee", "--id-number", holder, "--name", "甲", "--region", "530100", "--employer", "某公司")
    run("people", "register-resident", "--id-number", rel, "--name", "乙", "--region", "530100")
    code, out = run("accounts", "bind", holder, rel, "--relation", "sibling", "--sign-commitment", "--json")
    assert code == 0, out
    code, out = run("accounts", "cross-region-bindings")
    assert code == 0 and "没有跨统筹区" in out
    code, out = run("people", "move", rel, "--scheme", "resident", "--region", "532900", "--reason", "迁居大理")
    assert code == 0, out
    code, out = run("accounts", "cross-region-bindings", "--json")
    rows = json.loads(out)
    assert code == 0 and [(r["holder_region"], r["user_regions"]) for r in rows] == [("530100", ["532900"])]
