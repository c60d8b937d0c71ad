"""A Hypothesis state machine over the ledger's use cases, each step its own committed transaction.

After every step: all balances sum to zero (no money created or lost), no member balance is
negative, every balance equals its journal, and the model's balances (each key applied once) agree.
Payments go both through the service (inside a transaction) and straight to the ledger on an
autocommit connection (the hospital path); a withdrawal closes an account for good.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine

from tests.accounts.factories import apply_withdrawal, balance, bind, create_employee, create_relative, pay
from yibao.accounts import ledger, payments, withdrawals
from yibao.accounts.insurance import purchase_insurance
from yibao.accounts.models import Purpose
from yibao.core import clock
from yibao.core.auth import system_principal
from yibao.core.errors import Conflict
from yibao.core.unit import unit_of_work
from yibao.people import persons

amounts = st.integers(min_value=1, max_value=200_000)
keys = st.integers(min_value=0, max_value=5)


def make_machine(engine: Engine) -> type[RuleBasedStateMachine]:
    class Ledger(RuleBasedStateMachine):
        @initialize()
        def setup(self) -> None:
            self.members: list[str] = []
            self.pid: dict[str, int] = {}
            self.balance: dict[str, int] = {}
            self.applied: dict[tuple[str, str], tuple[str, int]] = {}
            self.holds: dict[int, tuple[str, int]] = {}
            self.payments: dict[int, tuple[str, int]] = {}
            self.reversed: set[int] = set()
            self.closed: set[str] = set()
            with unit_of_work(engine, principal=system_principal()) as s:
                for name in ("甲", "乙"):
                    idn = create_employee(s, name=name, born=date(1970, 1, 1))
                    self.pid[idn] = persons.get_person(s, idn).id
                    self.members.append(idn)
                    self.balance[idn] = 0
                self.relative = create_relative(s, name="老人", born=date(1945, 1, 1))
                bind(s, self.members[0], self.relative)

        def _keyed(self, op: str, member: str, key: int, amount: int, run: Any) -> None:
            k = (op, f"{member}-{key}")
            try:
                with unit_of_work(engine, principal=system_principal()) as s:
                    run(s, f"{member}-{op}-{key}")
            except Conflict:
                assert k in self.applied and self.applied[k] != (member, amount)
                return
            except ledger.InsufficientBalance:
                assert k not in self.applied and self.balance[member] < amount
                return
            except ledger.AccountClosed:
                assert k not in self.applied and member in self.closed
                return
            if k in self.applied:
                assert self.applied[k] == (member, amount)  # a replay: nothing moved again
                return
            self.applied[k] = (member, amount)
            self.balance[member] += amount if op == "credit" else -amount

        @rule(m=st.integers(0, 1), key=keys, amount=amounts)
        def credit(self, m: int, key: int, amount: int) -> None:
            member = self.members[m]
            self._keyed(
                "credit",
                member,
                key,
                amount,
                lambda s, k: payments.credit_contribution(
                    s, id_number=member, amount=amount, period="2022-09", source="tax", key=k
                ),
            )

        @rule(m=st.integers(0, 1), key=keys, amount=amounts, for_relative=st.booleans())
        def pay(self, m: int, key: int, amount: int, for_relative: bool) -> None:
            member = self.members[m]
            beneficiary = self.relative if (for_relative and m == 0) else None
            entries: list[int] = []

            def run(s: Any, k: str) -> None:
                entries.append(pay(s, member, amount, beneficiary=beneficiary, key=k).entry_id)

            before = dict(self.applied)
            self._keyed("pay", member, key, amount, run)
            if len(self.applied) > len(before):
                self.payments[entries[-1]] = (member, amount)

        @rule(m=st.integers(0, 1), key=keys, amount=amounts)
        def pay_autocommit(self, m: int, key: int, amount: int) -> None:
            """The hospital path: one payment, its own transaction (one statement on PostgreSQL)."""
            member = self.members[m]
            pid = self.pid[member]
            k = ("his", f"{member}-{key}")
            with unit_of_work(engine, principal=system_principal()) as s:
                target = ledger.system_account(s, Purpose.SETTLEMENTS, pid)
            payment = ledger.MemberPayment(member_id=pid, target=target, amount=amount, category="designated_hospital")
            body = {"op": "pay", "holder": pid, "beneficiary": pid, "amount": amount, "category": "designated_hospital"}
            try:
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    answer = ledger.pay_once(conn, payment, source="his", key=f"{member}-{key}", body=body)
            except ledger.InsufficientBalance:
                assert self.balance[member] < amount or member in self.closed
                return
            except ledger.AccountClosed:
                assert member in self.closed
                return
            except Conflict:
                assert k in self.applied and self.applied[k] != (member, amount)
                return
            if k in self.applied:
                assert self.applied[k] == (member, amount)  # a replay: nothing moved again
                return
            self.applied[k] = (member, amount)
            self.balance[member] -= amount
            self.payments[answer.entry_id] = (member, amount)

        @rule(death=st.booleans())
        def withdraw(self, death: bool) -> None:
            """The second member leaves: the balance goes abroad or to the first member as heir; the account closes."""
            member, heir = self.members[1], self.members[0]
            if member in self.closed:
                return
            try:
                with unit_of_work(engine, principal=system_principal()) as s:
                    req = apply_withdrawal(
                        s, member, "death" if death else "settle_abroad", heir=heir if death else None
                    )
                    withdrawals.decide_withdrawal(
                        s, request_id=req.request_id, approve=True, clerk="窗口01", note="材料齐全"
                    )
            except Conflict:
                assert any(m == member for m, _ in self.holds.values())  # held amounts must settle first
                return
            if death:
                self.balance[heir] += self.balance[member]
            self.balance[member] = 0
            self.closed.add(member)

        @rule(m=st.integers(0, 1), amount=amounts)
        def hold(self, m: int, amount: int) -> None:
            member = self.members[m]
            if member in self.closed:
                with pytest.raises(ledger.AccountClosed), unit_of_work(engine, principal=system_principal()) as s:
                    ledger.hold(s, member_id=self.pid[member], amount=amount)
                return
            try:
                with unit_of_work(engine, principal=system_principal()) as s:
                    h = ledger.hold(s, member_id=self.pid[member], amount=amount)
                    hid = h.id
            except ledger.InsufficientBalance:
                assert self.balance[member] < amount
                return
            self.balance[member] -= amount
            self.holds[hid] = (member, amount)

        @rule(data=st.data(), post=st.booleans())
        def close_hold(self, data: st.DataObject, post: bool) -> None:
            if not self.holds:
                return
            hid = data.draw(st.sampled_from(sorted(self.holds)))
            member, amount = self.holds[hid]
            with unit_of_work(engine, principal=system_principal()) as s:
                (ledger.post_hold if post else ledger.void_hold)(s, hid)
            if not post:
                self.balance[member] += amount
            del self.holds[hid]
            with pytest.raises(Conflict), unit_of_work(engine, principal=system_principal()) as s:
                ledger.void_hold(s, hid)  # exactly once

        @rule(data=st.data())
        def reverse_payment(self, data: st.DataObject) -> None:
            if not self.payments:
                return
            eid = data.draw(st.sampled_from(sorted(self.payments)))
            member, amount = self.payments[eid]
            if eid in self.reversed:
                with pytest.raises(Conflict), unit_of_work(engine, principal=system_principal()) as s:
                    ledger.reverse(s, eid, reason="again")
                return
            with unit_of_work(engine, principal=system_principal()) as s:
                ledger.reverse(s, eid, reason="退费")
            self.reversed.add(eid)
            self.balance[member] += amount

        @rule(m=st.integers(0, 1))
        def insurance(self, m: int) -> None:
            member = self.members[m]
            if member in self.closed:
                return
            try:
                with unit_of_work(engine, principal=system_principal()) as s:
                    purchase_insurance(
                        s,
                        holder_id_number=member,
                        insured_id_number=member,
                        product="jirui_ankang",
                        shares=1,
                        key=uuid.uuid4().hex,
                        now=clock.now(),
                    )
            except ledger.InsufficientBalance:
                assert self.balance[member] < 50_000 + 100_000
                return
            self.balance[member] -= 50_000

        @invariant()
        def books_balance(self) -> None:
            if not hasattr(self, "members"):
                return
            with unit_of_work(engine, principal=system_principal()) as s:
                v = ledger.verify(s)
                assert v.ok, v.problems
                for member in self.members:
                    assert int(balance(s, member).replace(".", "")) == self.balance[member]

    return Ledger


def test_ledger_state_machine(engine: Engine) -> None:
    machine = make_machine(engine)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=12, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
