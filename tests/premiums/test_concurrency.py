"""Retries racing each other pay once, on SQLite and PostgreSQL (real threads, real transactions)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from tests.factories import new_id
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work
from yibao.people import service as people
from yibao.premiums import service
from yibao.premiums.models import PremiumPayment

NOW = datetime(2022, 10, 8, 2, 0, tzinfo=UTC)


def test_same_key_from_eight_threads_pays_once(engine: Engine) -> None:
    idn = new_id()
    with unit_of_work(engine, principal=system_principal()) as s:
        people.register_resident(s, id_number=idn, name="并发", region="530100", on=datetime(2022, 9, 2).date())
    req = service.PaymentRequest(
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
            return str(service.pay_premium(s, req, now=NOW)["receipt_no"])

    with ThreadPoolExecutor(8) as pool:
        receipts = set(pool.map(attempt, range(8)))
    assert len(receipts) == 1
    with unit_of_work(engine, principal=system_principal()) as s:
        person = people.get_person(s, idn)
        assert s.scalar(select(func.count()).where(PremiumPayment.insured_id == person.id)) == 1


def test_different_keys_for_one_year_pay_once(engine: Engine) -> None:
    idn = new_id()
    with unit_of_work(engine, principal=system_principal()) as s:
        people.register_resident(s, id_number=idn, name="并发", region="530100", on=datetime(2022, 9, 2).date())

    def attempt(i: int) -> str:
        req = service.PaymentRequest(
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
                return str(service.pay_premium(s, req, now=NOW)["receipt_no"])
        except service.PremiumRefused as exc:
            return exc.code

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    assert sum(o.startswith("YB") for o in outcomes) == 1
    assert outcomes.count("premium.already_paid") == 5
