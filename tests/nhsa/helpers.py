"""Small helpers for national-interface tests: institutions, insured persons, a HIS client on the app."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine

from tests.factories import new_id
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work
from yibao.his import Client


@dataclass(frozen=True)
class Creds:
    code: str
    paasid: str
    secret: str
    region: str


def new_code(prefix: str = "H") -> str:
    """A fresh 12-character institution code."""
    return prefix + "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(11))


def create_institution(engine: Engine, *, region: str = "530100", prefix: str = "H", **over: Any) -> Creds:
    """A designated institution (a level-3 hospital in Kunming unless told otherwise); its credentials."""
    from yibao.institutions import service

    args: dict[str, Any] = {"kind": "hospital", "level": 3, "designated_from": date(2015, 1, 1)} | over
    if args["kind"] == "pharmacy":
        args["level"] = None
    with unit_of_work(engine, principal=system_principal()) as s:
        row, secret = service.add(s, code=new_code(prefix), name="测试定点医院", region=region, **args)
        return Creds(row.code, row.paasid, secret, row.region)


def create_insured(
    engine: Engine, *, region: str = "530100", scheme: str = "resident", paid: bool = True, card_no: str | None = None
) -> tuple[str, str]:
    """An insured person (a resident with the 2023 premium paid, or an employee); ID number and psn_no."""
    from yibao.people import enrolment, persons, records
    from yibao.premiums import payments as premiums

    idn = new_id()
    with unit_of_work(engine, principal=system_principal()) as s:
        if scheme == "resident":
            enrolment.register_resident(s, id_number=idn, name="张三", region=region, on=date(2022, 9, 5))
            if paid:
                from datetime import UTC, datetime

                premiums.pay_premium(
                    s,
                    premiums.PaymentRequest(
                        insured_id_number=idn,
                        insured_name="张三",
                        year=2023,
                        amount=35_000,
                        channel="banshitong_app",
                        region=region,
                        idempotency_key=f"t-{idn}",
                    ),
                    now=datetime(2022, 10, 15, 2, 0, tzinfo=UTC),
                )
        else:
            enrolment.enrol_employee(
                s, id_number=idn, name="张三", region=region, on=date(2022, 1, 1), employer="某公司"
            )
        if card_no is not None:
            records.record_card(s, id_number=idn, card_no=card_no)
        person = persons.get_person(s, idn)
        return idn, person.psn_no


def his(test_client: Any, creds: Creds) -> Client:
    """A HIS client of this institution, talking to the application in ``test_client``."""
    return Client("http://testserver", creds.code, creds.paasid, creds.secret, http=test_client)


def load_demo_catalogue(engine: Engine) -> None:
    """The demo catalogue in the test database (loading it again changes nothing)."""
    from yibao.catalogue import service as catalogue
    from yibao.demo import DEMO_CATALOGUE

    with unit_of_work(engine, principal=system_principal()) as s:
        catalogue.import_file(s, DEMO_CATALOGUE)
