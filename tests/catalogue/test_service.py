"""The version in force on a day, paged queries (transaction 1312), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.catalogue.factories import create_catalogue
from yibao.catalogue import service
from yibao.catalogue.errors import ItemNotFound
from yibao.catalogue.models import ChargeClass, ListType
from yibao.core import clock
from yibao.core.errors import ValidationFailed

AMOXICILLIN = "XJ01CAA040A001010100001"
CONSULTATION = "001102000010000"


def _two_versions(session: Session, tmp_path: Path) -> None:
    create_catalogue(
        session,
        tmp_path,
        f"{AMOXICILLIN},阿莫西林胶囊,101,01,1.20,2023-01-01,",
        f"{AMOXICILLIN},阿莫西林胶囊,101,02,1.05,2024-07-01,",
        f"{CONSULTATION},门诊诊查费(主任医师),201,01,,2023-01-01,2024-12-31",
    )


def test_item_on_at_the_boundaries(session: Session, tmp_path: Path) -> None:
    _two_versions(session, tmp_path)
    assert service.item_on(session, AMOXICILLIN, date(2022, 12, 31)) is None  # before the first version
    first = service.item_on(session, AMOXICILLIN, date(2023, 1, 1))
    assert first is not None and first.chrgitm_lv == "01" and first.price_ceiling == 120
    # The open first version was closed the day before the second began.
    assert first.end == date(2024, 6, 30)
    last_day = service.item_on(session, AMOXICILLIN, date(2024, 6, 30))
    assert last_day is not None and last_day.chrgitm_lv == "01"
    second = service.item_on(session, AMOXICILLIN, date(2024, 7, 1))
    assert second is not None and second.chrgitm_lv == "02" and second.price_ceiling == 105 and second.end is None
    assert service.item_on(session, AMOXICILLIN, date(2099, 1, 1)) is second  # open: in force from then on
    assert service.item_on(session, CONSULTATION, date(2024, 12, 31)) is not None  # the end date is included
    assert service.item_on(session, CONSULTATION, date(2025, 1, 1)) is None
    assert service.item_on(session, "NO-SUCH-CODE", date(2024, 1, 1)) is None


def test_items_on_reads_many_lines_at_once(session: Session, tmp_path: Path) -> None:
    _two_versions(session, tmp_path)
    found = service.items_on(
        session,
        [
            (AMOXICILLIN, date(2023, 5, 1)),
            (AMOXICILLIN, date(2024, 8, 1)),
            (CONSULTATION, date(2025, 2, 1)),
            ("X", date(2024, 1, 1)),
        ],
    )
    assert found[AMOXICILLIN, date(2023, 5, 1)].chrgitm_lv == "01"  # type: ignore[union-attr]
    assert found[AMOXICILLIN, date(2024, 8, 1)].chrgitm_lv == "02"  # type: ignore[union-attr]
    assert found[CONSULTATION, date(2025, 2, 1)] is None
    assert found["X", date(2024, 1, 1)] is None


def test_show_item_names_the_versions_when_none_is_in_force(session: Session, tmp_path: Path) -> None:
    _two_versions(session, tmp_path)
    item, versions = service.show_item(session, code=CONSULTATION, on=date(2024, 1, 1))
    assert item.name == "门诊诊查费(主任医师)" and len(versions) == 1
    with pytest.raises(ItemNotFound) as exc:
        service.show_item(session, code=CONSULTATION, on=date(2025, 1, 1))
    assert "2023-01-01–2024-12-31" in exc.value.message_zh
    with pytest.raises(ItemNotFound) as exc:
        service.show_item(session, code="NOPE", on=date(2025, 1, 1))
    assert exc.value.code == "catalogue.not_found" and exc.value.http_status == 404


def _many(session: Session, tmp_path: Path, n: int) -> None:
    create_catalogue(
        session, tmp_path, *[f"T{i:04d},饮片{i},102,{('01', '02', '03')[i % 3]},,2023-01-01," for i in range(n)]
    )


@pytest.mark.parametrize(
    ("total", "page", "size", "expected"),
    [
        # recordCounts, pages, firstPage, lastPage, size, startRow
        (0, 1, 10, (0, 0, 0, 0, 0, 0)),
        (1, 1, 10, (1, 1, 1, 1, 1, 1)),
        (10, 1, 10, (10, 1, 1, 1, 10, 1)),
        (11, 2, 10, (11, 2, 1, 2, 1, 11)),
        (25, 2, 10, (25, 3, 1, 3, 10, 11)),
        (25, 3, 10, (25, 3, 1, 3, 5, 21)),
        (25, 4, 10, (25, 3, 1, 3, 0, 0)),  # past the last page: empty, not an error
        (7, 3, 3, (7, 3, 1, 3, 1, 7)),
    ],
)
def test_paging_math(
    session: Session, tmp_path: Path, total: int, page: int, size: int, expected: tuple[int, ...]
) -> None:
    _many(session, tmp_path, total)
    p = service.query(session, page=page, size=size)
    assert (p.recordCounts, p.pages, p.firstPage, p.lastPage, p.size, p.startRow) == expected
    assert p.pageNum == page and p.pageSize == size and len(p.data) == p.size
    if p.size:
        assert p.data[0].hilist_code == f"T{(page - 1) * size:04d}"  # ordered by code


def test_query_filters(session: Session, tmp_path: Path) -> None:
    with clock.use(clock.FixedClock(datetime(2024, 1, 1, 2, 0, tzinfo=UTC))) as c:
        _two_versions(session, tmp_path)
        c.advance(timedelta(days=30))
        create_catalogue(session, tmp_path, "C1,一次性输液器,301,02,3.50,2024-01-01,")
    assert service.query(session).recordCounts == 4  # every version when no day is given
    on = service.query(session, on=date(2024, 8, 1))
    assert [(r.hilist_code, r.chrgitm_lv) for r in on.data] == [(CONSULTATION, "01"), ("C1", "02"), (AMOXICILLIN, "02")]
    one = service.query(session, code=AMOXICILLIN)
    assert [r.begndate for r in one.data] == [date(2023, 1, 1), date(2024, 7, 1)]
    assert one.data[0].enddate == date(2024, 6, 30) and one.data[0].pric_uplmt_amt == "1.20"
    assert one.data[0].insu_admdvs == "530000" and one.data[0].med_chrgitm_type == "09"
    since = service.query(session, updated_since=datetime(2024, 1, 15, tzinfo=UTC))
    assert [r.hilist_code for r in since.data] == ["C1"]
    # A naive time is China time: 2024-01-31 10:00 in Kunming is 02:00 UTC, when C1 was written.
    assert service.query(session, updated_since=datetime(2024, 1, 31, 10, 0)).recordCounts == 1
    assert service.query(session, updated_since=datetime(2024, 1, 31, 10, 1)).recordCounts == 0
    assert service.query(session, list_type=ListType.CONSUMABLE).recordCounts == 1
    assert service.query(session, chrgitm_lv=ChargeClass.CLASS_A).recordCounts == 2
    assert service.query(session, chrgitm_lv=ChargeClass.CLASS_A, on=date(2024, 8, 1)).recordCounts == 1


@pytest.mark.parametrize(("page", "size", "field"), [(0, 10, "page"), (1, 0, "size"), (1, 1001, "size")])
def test_query_refuses_bad_paging(session: Session, page: int, size: int, field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        service.query(session, page=page, size=size)
    assert exc.value.field == field
