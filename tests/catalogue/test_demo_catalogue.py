"""The demo catalogue: labelled as demo data, at least 300 rows across every list type and class, loaded once."""

from __future__ import annotations

from collections import Counter
from datetime import date
from itertools import pairwise

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibao import demo
from yibao.catalogue import service
from yibao.catalogue.importer import HEADER
from yibao.catalogue.models import CatalogueItem, ChargeClass, ListType


def test_the_file_says_it_is_demo_data() -> None:
    lines = demo.DEMO_CATALOGUE.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(HEADER)
    assert lines[1].startswith("#") and "DEMO" in lines[1] and "演示数据" in lines[1]
    readme = (demo.DEMO_CATALOGUE.parent / "README.md").read_text(encoding="utf-8")
    assert "DEMO data" in readme and "演示数据" in readme


def test_the_demo_catalogue_loads_with_every_type_and_class(session: Session) -> None:
    report = demo.seed_catalogue(session)
    assert report.rows >= 300 and report.added == report.rows and report.updated == 0
    items = list(session.scalars(select(CatalogueItem)))
    assert len(items) == report.rows
    kinds = Counter((ListType(i.list_type), ChargeClass(i.chrgitm_lv)) for i in items)
    assert set(kinds) == {(t, c) for t in ListType for c in ChargeClass}, kinds
    assert sum(i.price_ceiling is not None for i in items) >= 50
    per_code = Counter(i.code for i in items)
    assert sum(n > 1 for n in per_code.values()) >= 10  # versioned items
    assert any(i.hi_nego_drug_flag == "1" for i in items) and any(i.bas_medn_flag == "1" for i in items)
    # Versions follow each other without a gap or an overlap (the import closed the earlier ones).
    for code in (c for c, n in per_code.items() if n > 1):
        versions = service.versions_of(session, code)
        for before, after in pairwise(versions):
            assert before.end is not None and (after.begin - before.end).days == 1
    amoxicillin = next(i for i in items if i.name.startswith("阿莫西林胶囊"))
    assert amoxicillin.code.startswith("XJ01CA") and amoxicillin.chrgitm_lv == "01"
    assert service.item_on(session, amoxicillin.code, date(2024, 1, 1)) is amoxicillin


def test_the_seed_loads_it_once(session: Session) -> None:
    demo.seed(session)
    count = session.scalar(select(func.count()).select_from(CatalogueItem))
    assert count is not None and count >= 300
    again = demo.seed_catalogue(session)
    assert (again.added, again.updated, again.closed, again.unchanged) == (0, 0, 0, again.rows)
    demo.seed(session)  # the population is there already; the catalogue is loaded again, changing nothing
    assert session.scalar(select(func.count()).select_from(CatalogueItem)) == count
    assert session.info["demo_catalogue"].unchanged == again.rows
