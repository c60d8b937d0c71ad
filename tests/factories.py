"""Small helpers that make valid test data (``create_*``), instead of big fixture files."""

from __future__ import annotations

from datetime import date
from itertools import count

from sqlalchemy.orm import Session

from yibao.core.ids import make_id_number
from yibao.people import service

_seq = count(1)


def new_id(region: str = "530102", born: date = date(1990, 1, 1), sex: str = "M") -> str:
    """A fresh, valid ID number."""
    return make_id_number(region, born, next(_seq) % 500, sex)


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
