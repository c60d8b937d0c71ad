"""Catalogue use cases: the version of an item in force on a day, paged queries (transaction 1312), imports.

Services flush and never commit: the entry point (request, command, national-interface message) owns the
transaction, so a refused import leaves nothing written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from yibao.catalogue import importer
from yibao.catalogue.errors import BadRow, ItemNotFound
from yibao.catalogue.importer import Row
from yibao.catalogue.models import FLAGS, CatalogueItem, ChargeClass, ListType
from yibao.catalogue.schemas import CataloguePage, ImportReport, row_out
from yibao.core import auth, clock
from yibao.core.auth import Role, Scope, rule
from yibao.core.dates import CHINA_TZ
from yibao.core.errors import ValidationFailed
from yibao.core.text import ascii_digits

# Who may do what with the catalogue (see yibao.core.auth). The catalogue is public reference data of the
# whole province: anyone logged in may read it (hospitals sync it through 1312), and only the province's
# administrators and finance staff replace it, since it decides what the funds pay.
READ = rule(
    "catalogue.read",
    "查询医保目录 / read the medical catalogue",
    writes=False,
    audited=False,  # nothing personal is read; hospitals page through it many times a day
    roles=dict.fromkeys((r for r in Role if r not in (Role.ANONYMOUS, Role.SYSTEM)), Scope.ANY),
)
IMPORT = rule(
    "catalogue.import",
    "导入医保目录 / import the medical catalogue",
    writes=True,
    admin=Scope.REGION,  # with no subject, a REGION scope means staff of the province (530000) only
    finance=Scope.REGION,
)

# Operational limits (assumed): one page holds at most 1,000 rows; pages beyond 100,000 are refused, as in
# the audit log (a larger offset overflows SQLite).
PAGE_SIZE_MAX = 1000
PAGE_MAX = 100_000
_CHUNK = 500  # codes per IN (...) list when reading existing versions


def item_on(session: Session, code: str, on: date) -> CatalogueItem | None:
    """The version of ``code`` in force on ``on`` (None: unknown code, or none in force that day).

    A lookup for use cases that have already authorised their caller (fee-line valuation); the 1312
    query and the catalogue endpoints authorise ``catalogue.read`` themselves.
    """
    return session.scalars(
        select(CatalogueItem)
        .where(CatalogueItem.code == code, CatalogueItem.begin <= on)
        .where((CatalogueItem.end.is_(None)) | (CatalogueItem.end >= on))
    ).first()


def items_on(session: Session, lines: Iterable[tuple[str, date]]) -> dict[tuple[str, date], CatalogueItem | None]:
    """:func:`item_on` for many (code, day) pairs at once, reading each code's versions once."""
    wanted = set(lines)
    versions = _stored(session, sorted({code for code, _ in wanted}))
    return {(code, on): next((v for v in versions.get(code, []) if v.in_force(on)), None) for code, on in wanted}


def versions_of(session: Session, code: str) -> list[CatalogueItem]:
    """Every version of ``code``, oldest first."""
    return list(session.scalars(select(CatalogueItem).where(CatalogueItem.code == code).order_by(CatalogueItem.begin)))


def show_item(session: Session, *, code: str, on: date) -> tuple[CatalogueItem, list[CatalogueItem]]:
    """The version of ``code`` in force on ``on`` and every version of the code, or :class:`ItemNotFound`."""
    auth.authorize(session, READ)
    code = _code_param(code)
    versions = versions_of(session, code)
    item = next((v for v in versions if v.in_force(on)), None)
    if item is not None:
        return item, versions
    if not versions:
        raise ItemNotFound(f"医保目录中没有编码 {code}", f"no catalogue item with the code {code}")
    spans = "，".join(f"{v.begin}–{v.end or ''}" for v in versions)
    raise ItemNotFound(
        f"编码 {code} 在 {on} 没有有效的目录版本（有效期：{spans}）",
        f"the code {code} has no version in force on {on} (versions: {spans})",
    )


def query(
    session: Session,
    *,
    on: date | None = None,
    code: str | None = None,
    updated_since: datetime | None = None,
    page: int = 1,
    size: int = 100,
    list_type: ListType | None = None,
    chrgitm_lv: ChargeClass | None = None,
) -> CataloguePage:
    """A page of catalogue versions, ordered by code and begin date (transaction 1312's query).

    ``on``: only versions in force that day (else every version); ``code``: one code; ``updated_since``:
    versions written at or after that instant (a naive time is China time, as the convention's times are).
    """
    auth.authorize(session, READ)
    if not 1 <= page <= PAGE_MAX:
        raise ValidationFailed("page", f"页码应为1至{PAGE_MAX}", f"the page number must be 1 to {PAGE_MAX}")
    if not 1 <= size <= PAGE_SIZE_MAX:
        raise ValidationFailed("size", f"每页条数应为1至{PAGE_SIZE_MAX}", f"the page size must be 1 to {PAGE_SIZE_MAX}")
    where: list[Any] = []
    if on is not None:
        where += [CatalogueItem.begin <= on, (CatalogueItem.end.is_(None)) | (CatalogueItem.end >= on)]
    if code:
        where.append(CatalogueItem.code == _code_param(code))
    if updated_since is not None:
        where.append(CatalogueItem.updated_at >= _instant(updated_since))
    if list_type is not None:
        where.append(CatalogueItem.list_type == list_type.value)
    if chrgitm_lv is not None:
        where.append(CatalogueItem.chrgitm_lv == chrgitm_lv.value)
    total = session.scalar(select(func.count()).select_from(CatalogueItem).where(*where)) or 0
    items = list(
        session.scalars(
            select(CatalogueItem)
            .where(*where)
            .order_by(CatalogueItem.code, CatalogueItem.begin)
            .offset((page - 1) * size)
            .limit(size)
        )
    )
    return CataloguePage(data=[row_out(i) for i in items], **paging(total, page=page, size=size, count=len(items)))


def paging(total: int, *, page: int, size: int, count: int) -> dict[str, int]:
    """The paging fields of a 1312 answer: ``count`` rows of page ``page`` (of ``size``) out of ``total``."""
    pages = -(-total // size)
    return {
        "pageNum": page,
        "pageSize": size,
        "recordCounts": total,
        "pages": pages,
        "firstPage": 1 if pages else 0,
        "lastPage": pages,
        "size": count,
        "startRow": (page - 1) * size + 1 if count else 0,
    }


def _instant(moment: datetime) -> datetime:
    """A time as a UTC instant; a naive one is China time."""
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)).astimezone(UTC)
    except OverflowError:
        raise ValidationFailed("updated_since", f"时间超出范围：{moment}", f"time out of range: {moment}") from None


def _code_param(code: str) -> str:
    code = ascii_digits(code.strip(), field="code")
    if not code or len(code) > 50:
        raise ValidationFailed("code", "编码应为1至50个字符", "a code has 1 to 50 characters")
    return code


# ---- import ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Version:
    """A version as it will be after the import: its values, its stored row (if any), its file line (if any)."""

    values: dict[str, Any]
    stored: CatalogueItem | None = None
    line: int | None = None
    closed: bool = False


def import_file(
    session: Session, path: str | Path, *, on_progress: Callable[[int, int], None] | None = None
) -> ImportReport:
    """Import a catalogue file (CSV or .xlsx): every row is checked first and nothing is written unless all pass.

    A row whose (code, begin date) is stored already replaces that version's content; a new begin date adds a
    version, and the open version before it ends the day before (catalogues are versioned, like the policy
    pack). Versions of a code never overlap: a row that would make them is refused, naming its line.
    Importing the same file again changes nothing.
    """
    path = Path(path)
    auth.authorize(session, IMPORT, file=path.name)
    rows = importer.read_rows(path, on_progress=on_progress)
    _lock(session)
    by_code: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_code[row.code].append(row)
    stored = _stored(session, sorted(by_code))
    now = clock.now()
    added: list[dict[str, Any]] = []
    updated = closed = unchanged = 0
    for code, code_rows in by_code.items():
        versions = _merge(code_rows, stored.get(code, []))
        for v in versions:
            if v.stored is None:
                added.append({**v.values, "updated_at": now})
                continue
            before = _values(v.stored)
            if before == v.values:
                unchanged += v.line is not None
                continue
            only_closed = {**before, "end": v.values["end"]} == v.values and before["end"] is None and v.closed
            closed += only_closed
            updated += not only_closed
            for key, value in v.values.items():
                setattr(v.stored, key, value)
            v.stored.updated_at = now
    for i in range(0, len(added), 1000):
        session.execute(insert(CatalogueItem), added[i : i + 1000])
    session.flush()
    return ImportReport(
        file=path.name,
        rows=len(rows),
        codes=len(by_code),
        added=len(added),
        updated=updated,
        closed=closed,
        unchanged=unchanged,
    )


def _lock(session: Session) -> None:
    # Two imports at once could each find a code free and together make its versions overlap. SQLite
    # serialises writers already (BEGIN IMMEDIATE); PostgreSQL is told to, while readers carry on.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE catalogue_items IN EXCLUSIVE MODE"))


def _stored(session: Session, codes: list[str]) -> dict[str, list[CatalogueItem]]:
    """The stored versions of each of ``codes`` (codes without any are absent)."""
    out: dict[str, list[CatalogueItem]] = defaultdict(list)
    for i in range(0, len(codes), _CHUNK):
        for item in session.scalars(select(CatalogueItem).where(CatalogueItem.code.in_(codes[i : i + _CHUNK]))):
            out[item.code].append(item)
    return out


def _values(item: CatalogueItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "list_type": item.list_type,
        "chrgitm_lv": item.chrgitm_lv,
        "med_chrgitm_type": item.med_chrgitm_type,
        "price_ceiling": item.price_ceiling,
        "begin": item.begin,
        "end": item.end,
        **{flag: getattr(item, flag) for flag in FLAGS},
    }


def _merge(rows: list[Row], stored: list[CatalogueItem]) -> list[_Version]:
    """A code's versions after the import, dates settled and checked, or :class:`BadRow`."""
    versions: dict[date, _Version] = {item.begin: _Version(_values(item), stored=item) for item in stored}
    for row in rows:
        v = versions.get(row.begin)
        if v is not None and v.line is not None:
            if v.values != row.values():
                raise BadRow(
                    row.line,
                    "begndate",
                    f"编码 {row.code} 开始日期 {row.begin} 的版本在第{v.line}行已出现，内容不同",
                    f"the version of {row.code} beginning {row.begin} is on line {v.line} already, differently",
                )
            continue
        versions[row.begin] = _Version(row.values(), stored=v.stored if v else None, line=row.line)
    ordered = [versions[d] for d in sorted(versions)]
    for before, after in pairwise(ordered):
        if before.values["end"] is None:
            # An open version ends the day before the next one begins.
            before.values["end"] = after.values["begin"] - timedelta(days=1)
            before.closed = True
        elif before.values["end"] >= after.values["begin"]:
            culprit = max((v for v in (before, after) if v.line is not None), key=lambda v: v.line or 0, default=after)
            other = after if culprit is before else before
            raise BadRow(
                culprit.line,
                "enddate" if culprit is before else "begndate",
                f"编码 {culprit.values['code']} 的有效期 {_span(culprit)} 与{_where(other)}的 {_span(other)} 重叠",
                f"the dates {_span(culprit)} of {culprit.values['code']} overlap {_span(other)} ({_where_en(other)})",
            )
    return ordered


def _span(v: _Version) -> str:
    return f"{v.values['begin']}–{v.values['end'] or ''}"


def _where(v: _Version) -> str:
    return f"第{v.line}行" if v.line is not None else "库中已有版本"


def _where_en(v: _Version) -> str:
    return f"line {v.line}" if v.line is not None else "a stored version"
