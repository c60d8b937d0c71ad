"""Small helpers that make valid test data (``create_*``), instead of big fixture files."""

from __future__ import annotations

from datetime import date
from itertools import count

from sqlalchemy.orm import Session

from yibao.core.ids import make_id_number
from yibao.people import service

_seq = count(1)


# Kunming's districts: 500 sequence numbers per birth date and sex in each, so that a long test run
# never hands out one number twice.
_DISTRICTS = ("530102", "530103", "530111", "530112", "530113", "530114", "530115", "530124")


def new_id(region: str | None = None, born: date = date(1990, 1, 1), sex: str = "M") -> str:
    """A fresh, valid ID number (never the same twice in a test run)."""
    n = next(_seq)
    return make_id_number(region or _DISTRICTS[(n // 500) % len(_DISTRICTS)], born, n % 500, sex)


def create_resident(
    session: Session,
    *,
    name: str = "张三",
    region: str = "530100",
    born: date = date(1990, 1, 1),
    sex: str = "M",
    on: date = date(2022, 9, 5),
) -> str:
    """A registered resident; returns the ID number."""
    idn = new_id(born=born, sex=sex)
    service.register_resident(session, id_number=idn, name=name, region=region, on=on)
    return idn


def premium_body(insured_id_number: str, **over: object) -> dict[str, object]:
    """A valid ``POST /api/premiums/payments`` body: the 2023 resident premium, paid in Kunming."""
    body: dict[str, object] = {
        "insured_id_number": insured_id_number,
        "insured_name": "张三",
        "year": 2023,
        "amount": "350.00",
        "channel": "banshitong_app",
        "region": "530100",
    }
    return body | over
