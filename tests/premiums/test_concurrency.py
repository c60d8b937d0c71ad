"""Retries racing each other pay once, on SQLite and PostgreSQL (real threads, real transactions)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from tests.factories import create_resident
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work
from yibao.people import persons
from yibao.premiums import payments
from yibao.premiums.models import PremiumPayment

NOW = datetime(2022, 10, 8, 2, 0, tzinfo=UTC)


def test_same_key_from_eight_threads_pays_once(engine: Engine) -> None:
    with unit_of_work(engine, principal=system_principal()) as s:
        idn = create_resident(s, name="并发")
    req = payments.PaymentRequest(
        insured_id_number=idn,
        insured_name="并发",
        year=2023,
        amount=35000,
        channel="banshitong_app",
        region="530100",
        idempotency_key=f"race-{idn}",
    )

    def attempt(_: int) -> str:
        with unit_of_work(engine, principal=system_principal()) as s:
            return payments.pay_premium(s, req, now=NOW).receipt_no

    with ThreadPoolExecutor(8) as pool:
        receipts = set(pool.map(attempt, range(8)))
    assert len(receipts) == 1
    with unit_of_work(engine, principal=system_principal()) as s:
        person = persons.get_person(s, idn)
        assert s.scalar(select(func.count()).where(PremiumPayment.insured_id == person.id)) == 1


def test_different_keys_for_one_year_pay_once(engine: Engine) -> None:
    with unit_of_work(engine, principal=system_principal()) as s:
        idn = create_resident(s, name="并发")

    def attempt(i: int) -> str:
        req = payments.PaymentRequest(
            insured_id_number=idn,
            insured_name="并发",
            year=2023,
            amount=35000,
            channel="banshitong_app",
            region="530100",
            idempotency_key=f"race-{idn}-{i}",
        )
        try:
            with unit_of_work(engine, principal=system_principal()) as s:
                return payments.pay_premium(s, req, now=NOW).receipt_no
        except payments.PremiumRefused as exc:
            return exc.code

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    assert sum(o.startswith("YB") for o in outcomes) == 1
    assert outcomes.count("premium.already_paid") == 5
    with unit_of_work(engine, principal=system_principal()) as s:
        assert [r.receipt_no for r in payments.payments_for_insured(s, idn)] == [
            o for o in outcomes if o.startswith("YB")
        ]
