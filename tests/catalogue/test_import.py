"""Importing catalogue files: good files, every kind of refusal with its line, versions, .xlsx, nothing half-written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.catalogue.factories import create_catalogue, write_csv
from yibao.catalogue import service
from yibao.catalogue.errors import BadRow
from yibao.catalogue.importer import HEADER
from yibao.catalogue.models import CatalogueItem
from yibao.core import clock

GOOD = [
    "XJ01CAA040A001010100001,阿莫西林胶囊,101,01,1.20,2023-01-01,",
    "T000100001,当归,102,02,,20230101,",
    "001102000010000,门诊诊查费,201,01,25,2023-01-01,2025-12-31",
    "C14010101100100101130000001,一次性使用输液器,301,03,3.5,2023-01-01,",
]


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CatalogueItem)) or 0


def test_a_good_file(session: Session, tmp_path: Path) -> None:
    report = create_catalogue(session, tmp_path, *GOOD)
    assert (report.rows, report.codes, report.added, report.updated, report.unchanged) == (4, 4, 4, 0, 0)
    herbal = service.item_on(session, "T000100001", date(2023, 1, 1))
    assert herbal is not None and herbal.begin == date(2023, 1, 1) and herbal.price_ceiling is None
    assert herbal.med_chrgitm_type == "10" and herbal.lmt_used_flag == "0"  # derived from the list type; default
    service_item = service.item_on(session, "001102000010000", date(2025, 12, 31))
    assert service_item is not None and service_item.price_ceiling == 2500 and service_item.med_chrgitm_type == "14"
    consumable = service.item_on(session, "C14010101100100101130000001", date(2024, 1, 1))
    assert consumable is not None and consumable.price_ceiling == 350 and consumable.chrgitm_lv == "03"


def test_bom_crlf_quotes_notes_blank_lines_and_optional_columns(session: Session, tmp_path: Path) -> None:
    header = f"{HEADER},med_chrgitm_type,lmt_used_flag,bas_medn_flag,hi_nego_drug_flag"
    text = "\r\n".join(
        [
            header,
            "# 演示数据 / demo data",
            '001101000010000,"一般诊疗费(含挂号,诊查)",201,01,10.00,2023-01-01,,12,0,0,0',
            "",
            'XL01XC001,"贝伐珠单抗注射液",101,02,1198.00,2023-03-01,,,1,0,1',
            "",
        ]
    )
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    report = service.import_file(session, path)
    assert report.rows == 2 and report.added == 2
    general = service.item_on(session, "001101000010000", date(2023, 1, 1))
    assert general is not None and general.name == "一般诊疗费(含挂号,诊查)" and general.med_chrgitm_type == "12"
    drug = service.item_on(session, "XL01XC001", date(2023, 3, 1))
    assert drug is not None and drug.med_chrgitm_type == "09"
    assert (drug.lmt_used_flag, drug.bas_medn_flag, drug.hi_nego_drug_flag, drug.chld_medc_flag) == ("1", "0", "1", "0")
    assert drug.price_ceiling == 119_800


def test_header_names_in_any_case(session: Session, tmp_path: Path) -> None:
    report = create_catalogue(session, tmp_path, GOOD[0], header=" " + HEADER.upper().replace(",", " , "))
    assert report.added == 1


def _refused(session: Session, path: Path) -> BadRow:
    before = _count(session)
    with pytest.raises(BadRow) as exc:
        service.import_file(session, path)
    assert _count(session) == before  # nothing written
    return exc.value


OK = "XA01,阿莫西林胶囊,101,01,1.20,2023-01-01,"


@pytest.mark.parametrize(
    ("bad", "field", "words"),
    [
        (",阿莫西林胶囊,101,01,1.20,2023-01-01,", "med_list_codg", "不能为空"),
        ("XA０1,阿莫西林胶囊,101,01,1.20,2023-01-01,", "med_list_codg", "半角数字"),
        ("XA 01,阿莫西林胶囊,101,01,1.20,2023-01-01,", "med_list_codg", "字母、数字"),
        (f"{'X' * 51},阿莫西林胶囊,101,01,1.20,2023-01-01,", "med_list_codg", "1至50位"),
        ("XB01,,101,01,1.20,2023-01-01,", "name", "不能为空"),
        ("XB01,阿莫西林\u202e胶囊,101,01,1.20,2023-01-01,", "name", "控制字符"),
        ("XB01,阿莫西林胶囊,401,01,1.20,2023-01-01,", "list_type", "未知的取值"),
        ("XB01,阿莫西林胶囊,１01,01,1.20,2023-01-01,", "list_type", "半角数字"),
        ("XB01,阿莫西林胶囊,101,04,1.20,2023-01-01,", "chrgitm_lv", "未知的取值"),
        ("XB01,阿莫西林胶囊,101,,1.20,2023-01-01,", "chrgitm_lv", "不能为空"),
        ("XB01,阿莫西林胶囊,101,01,1.205,2023-01-01,", "pric_uplmt_amt", "两位小数"),
        ("XB01,阿莫西林胶囊,101,01,-1.20,2023-01-01,", "pric_uplmt_amt", "负数"),
        ('XB01,阿莫西林胶囊,101,01,"1,200.00",2023-01-01,', "pric_uplmt_amt", "格式不正确"),
        ("XB01,阿莫西林胶囊,101,01,1e3,2023-01-01,", "pric_uplmt_amt", "格式不正确"),
        ("XB01,阿莫西林胶囊,101,01,１.20,2023-01-01,", "pric_uplmt_amt", "半角数字"),
        ("XB01,阿莫西林胶囊,101,01,100000000.00,2023-01-01,", "pric_uplmt_amt", "1亿元"),
        ("XB01,阿莫西林胶囊,101,01,1.20,,", "begndate", "不能为空"),
        ("XB01,阿莫西林胶囊,101,01,1.20,2023/01/01,", "begndate", "格式不正确"),
        ("XB01,阿莫西林胶囊,101,01,1.20,2023-02-30,", "begndate", "日期不存在"),
        ("XB01,阿莫西林胶囊,101,01,1.20,20230230,", "begndate", "日期不存在"),
        ("XB01,阿莫西林胶囊,101,01,1.20,２023-01-01,", "begndate", "半角数字"),
        ("XB01,阿莫西林胶囊,101,01,1.20,2023-01-01,2022-12-31", "enddate", "早于开始日期"),
        ("XB01,阿莫西林胶囊,101,01,1.20,2023-01-01,2023-13-01", "enddate", "日期不存在"),
        ("XB01,阿莫西林胶囊,101,01,1.20,2023-01-01", "row", "表头有 7 列"),
        ("XB01,阿莫西林胶囊,101,01,1.20,2023-01-01,,x", "row", "表头有 7 列"),
    ],
)
def test_each_bad_value_is_refused_with_its_line(
    session: Session, tmp_path: Path, bad: str, field: str, words: str
) -> None:
    # The bad row is line 4 (header, two good rows), and a later bad row is not the one reported.
    path = write_csv(tmp_path, OK, "XA02,二甲双胍片,101,01,,2023-01-01,", bad, "XC01,,101,01,1.20,2023-01-01,")
    err = _refused(session, path)
    assert (err.line, err.field) == (4, field), err.message_zh
    assert words in err.message_zh and err.message_zh.startswith(f"第4行 {field}：")
    assert err.message_en.startswith(f"line 4, {field}: ")
    assert err.code == "catalogue.bad_row" and err.http_status == 422 and err.details == {"line": 4, "field": field}


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("med_list_codg,name,list_type,chrgitm_lv,pric_uplmt_amt,begndate", "缺少列 enddate"),
        (f"{HEADER},lmt_use_flag", "未知的列 'lmt_use_flag'"),
        (f"{HEADER},name", "列 name 重复"),
    ],
)
def test_bad_headers(session: Session, tmp_path: Path, header: str, words: str) -> None:
    err = _refused(session, write_csv(tmp_path, OK, header=header))
    assert (err.line, err.field) == (1, "header") and words in err.message_zh


@pytest.mark.parametrize(
    ("extra", "field", "value"),
    [("lmt_used_flag", "lmt_used_flag", "2"), ("med_chrgitm_type", "med_chrgitm_type", "15")],
)
def test_bad_optional_columns(session: Session, tmp_path: Path, extra: str, field: str, value: str) -> None:
    err = _refused(
        session, write_csv(tmp_path, f"{OK},", f"XA02,药,101,01,,2023-01-01,,{value}", header=f"{HEADER},{extra}")
    )
    assert (err.line, err.field) == (3, field)


def test_empty_file_wrong_encoding_and_other_formats(session: Session, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert (_refused(session, empty).line, _refused(session, empty).field) == (1, "header")
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(f"{HEADER}\n{OK}\nXA02,二甲双胍片,101,01,,2023-01-01,\n".encode("gbk"))
    err = _refused(session, gbk)
    assert (err.line, err.field) == (2, "encoding") and "UTF-8" in err.message_zh
    other = tmp_path / "catalogue.txt"
    other.write_text(f"{HEADER}\n{OK}\n", encoding="utf-8")
    err = _refused(session, other)
    assert err.field == "file" and err.line is None and ".xlsx" in err.message_zh
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip file")
    assert _refused(session, broken).field == "file"


def test_reimporting_the_same_file_changes_nothing(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path, *GOOD, "XJ01CAA040A001010100001,阿莫西林胶囊,101,02,1.05,2024-07-01,")
    with clock.use(clock.FixedClock(datetime(2024, 1, 1, tzinfo=UTC))) as c:
        first = service.import_file(session, path)
        c.advance(timedelta(days=1))
        again = service.import_file(session, path)
    assert (first.added, first.updated, first.closed, first.unchanged) == (5, 0, 0, 0)
    assert (again.added, again.updated, again.closed, again.unchanged) == (0, 0, 0, 5)
    stamps = set(session.scalars(select(CatalogueItem.updated_at)))
    assert len(stamps) == 1  # nothing was rewritten the second time


def test_a_new_begin_date_closes_the_open_version(session: Session, tmp_path: Path) -> None:
    create_catalogue(session, tmp_path, *GOOD)
    report = create_catalogue(
        session,
        tmp_path,
        "XJ01CAA040A001010100001,阿莫西林胶囊,101,02,1.05,2024-07-01,",  # new version: closes 2023's
        "T000100001,当归(片),102,02,,2023-01-01,",  # same version, corrected name
    )
    assert (report.added, report.updated, report.closed, report.unchanged) == (1, 1, 1, 0)
    old = service.item_on(session, "XJ01CAA040A001010100001", date(2024, 6, 30))
    assert old is not None and old.end == date(2024, 6, 30) and old.chrgitm_lv == "01"
    herbal = service.item_on(session, "T000100001", date(2023, 6, 1))
    assert herbal is not None and herbal.name == "当归(片)"
    # An earlier version added later ends the day before the stored one begins.
    create_catalogue(session, tmp_path, "XJ01CAA040A001010100001,阿莫西林胶囊,101,03,,2022-01-01,")
    earliest = service.item_on(session, "XJ01CAA040A001010100001", date(2022, 12, 31))
    assert earliest is not None and earliest.chrgitm_lv == "03" and earliest.end == date(2022, 12, 31)


def test_overlapping_versions_are_refused(session: Session, tmp_path: Path) -> None:
    # Within the file: the first version's explicit end runs into the second.
    err = _refused(
        session,
        write_csv(
            tmp_path, OK, "XA01,阿莫西林胶囊,101,02,1.20,2023-01-01,2024-12-31".replace("2023-01-01", "2022-06-01")
        ),
    )
    assert (err.line, err.field) == (3, "enddate") and "重叠" in err.message_zh and "第2行" in err.message_zh
    create_catalogue(session, tmp_path, "XA01,阿莫西林胶囊,101,01,1.20,2023-01-01,2023-12-31")
    # Against a stored version: a closed one the new row reaches into.
    err = _refused(session, write_csv(tmp_path, OK.replace("XA01", "XA09"), "XA01,阿莫西林胶囊,101,02,,2023-06-01,"))
    assert (err.line, err.field) == (3, "begndate") and "库中已有版本" in err.message_zh
    # The same code and begin date twice with different content.
    err = _refused(session, write_csv(tmp_path, "XA05,甲,101,01,,2023-01-01,", "XA05,乙,101,01,,2023-01-01,"))
    assert (err.line, err.field) == (3, "begndate") and "第2行" in err.message_zh
    # The same row twice is the same version.
    assert create_catalogue(session, tmp_path, "XA06,甲,101,01,,2023-01-01,", "XA06,甲,101,01,,2023-01-01,").added == 1


def test_the_first_refusal_leaves_nothing_even_after_good_rows(session: Session, tmp_path: Path) -> None:
    rows = [f"XG{i:04d},药品{i},101,01,1.00,2023-01-01," for i in range(600)]
    rows.insert(550, "XG9999,坏行,101,01,1.001,2023-01-01,")
    err = _refused(session, write_csv(tmp_path, *rows))
    assert err.line == 552


def _xlsx(tmp_path: Path, rows: list[list[object]], header: str = HEADER) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header.split(","))
    for row in rows:
        sheet.append(row)
    path = tmp_path / "catalogue.xlsx"
    book.save(path)
    return path


def test_xlsx_import(session: Session, tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path,
        [
            ["XA01", "阿莫西林胶囊", "101", "01", "1.20", "2023-01-01", None],
            [],  # a blank row keeps the line numbers of the rows after it
            ["T01", "当归", 102, 2, 12.5, datetime(2023, 1, 1), None],
            ["001102000010000", "门诊诊查费", 201, "01", 25, "20230101", datetime(2025, 12, 31)],
        ],
    )
    report = service.import_file(session, path)
    assert (report.rows, report.added) == (3, 3)
    herbal = service.item_on(session, "T01", date(2023, 1, 1))
    assert herbal is not None and herbal.chrgitm_lv == "02" and herbal.price_ceiling == 1250
    consultation = service.item_on(session, "001102000010000", date(2025, 12, 31))
    assert consultation is not None and consultation.price_ceiling == 2500
    assert service.import_file(session, path).unchanged == 3


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ([1102000010000, "门诊诊查费", 201, "01", None, "2023-01-01", None], "med_list_codg"),  # leading zeros lost
        (["XA02", "药", 101, "01", 12.345, "2023-01-01", None], "pric_uplmt_amt"),
        (["XA02", "药", 101, "01", None, datetime(2023, 1, 1, 8, 30), None], "begndate"),
        (["XA02", "药", 101, 4, None, "2023-01-01", None], "chrgitm_lv"),
    ],
)
def test_xlsx_refusals_name_the_sheet_row(session: Session, tmp_path: Path, cells: list[object], field: str) -> None:
    path = _xlsx(tmp_path, [["XA01", "阿莫西林胶囊", "101", "01", "1.20", "2023-01-01", None], [], cells])
    err = _refused(session, path)
    assert (err.line, err.field) == (4, field), err.message_zh
