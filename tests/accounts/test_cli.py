"""``yibao accounts`` against a migrated SQLite file: the answers as tables and lines, and insurance renewals.

(The money-moving commands with ``--json`` are run in tests/people/test_cli.py.)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.cli import run
from tests.factories import new_id
from yibao.core import clock


def _holder_and_relative() -> tuple[str, str]:
    holder, rel = new_id(), new_id()
    run("people", "enrol-employee", "--id-number", holder, "--name", "甲", "--region", "530100", "--employer", "某公司")
    run("people", "register-resident", "--id-number", rel, "--name", "乙", "--region", "530100")
    return holder, rel


def test_answers_as_lines_and_tables(cli_db: str) -> None:
    holder, rel = _holder_and_relative()
    code, out = run("accounts", "credit", holder, "20.00", "2022-09", "--idempotency-key", "c1")
    assert code == 0 and "金额 amount" in out and "20.00" in out
    code, out = run("accounts", "bind", holder, rel, "--relation", "sibling", "--sign-commitment")
    assert code == 0, out
    assert "使用人" in out and "乙" in out and "active" in out and "sibling" in out  # one row per binding
    code, out = run("accounts", "balance", holder)
    assert code == 0 and "余额 balance" in out and "20.00" in out and "open" in out
    code, out = run("accounts", "records", holder, "--kind", "transfers_in")
    assert code == 0 and "has_more" in out and "2022-09" in out
    code, out = run("accounts", "records", holder, "--kind", "refunds")
    assert code == 2  # not a kind of record
    code, out = run("accounts", "unbind", holder, rel, "--channel", "agency_counter")
    assert code == 2  # at the counter: clerk and proof
    code, out = run("accounts", "unbind", holder, rel, "--channel", "banshitong_app", "--json")
    assert code == 0 and json.loads(out)[0]["unbound_channel"] == "banshitong_app"


def test_insurance_year_and_maturity(cli_db: str) -> None:
    holder, _ = _holder_and_relative()
    run("accounts", "credit", holder, "3000.00", "2022-09", "--idempotency-key", "c1")
    with clock.use(clock.FixedClock(datetime(2022, 10, 8, 2, 0, tzinfo=UTC))):
        code, out = run("accounts", "insure", holder, holder, "jirui_ankang", "--shares", "2", "--json")
        assert code == 0, out
        policy = json.loads(out)
        code, out = run("accounts", "insurance-year", str(policy["policy_id"]))
        assert code == 4  # the year of purchase is paid
    with clock.use(clock.FixedClock(datetime(2023, 10, 8, 2, 0, tzinfo=UTC))):
        code, out = run("accounts", "insurance-year", str(policy["policy_id"]), "--json")
        assert code == 0 and json.loads(out) == policy
        code, out = run("accounts", "insurance-mature", str(policy["policy_id"]))
        assert code == 4  # not before maturity
    code, out = run("accounts", "balance", holder, "--json")
    assert json.loads(out)["balance"] == "1000.00"
    with clock.use(clock.FixedClock(datetime(policy["maturity_year"], 1, 5, 2, 0, tzinfo=UTC))):
        code, out = run("accounts", "insurance-mature", str(policy["policy_id"]), "--json")
        assert code == 0, out
    code, out = run("accounts", "balance", holder, "--json")
    assert json.loads(out)["balance"] == "3200.00"  # 1,000.00 + 110% of 2 x 1,000.00
    code, out = run("accounts", "verify", "--json")
    assert code == 0 and json.loads(out) | {"accounts": 0, "entries": 0} == {
        "ok": True,
        "accounts": 0,
        "entries": 0,
        "total": 0,
        "problems": [],
    }
