"""Reading a catalogue file (CSV in UTF-8, or .xlsx) into validated rows, or refusing it at its first bad row.

The header is ``med_list_codg,name,list_type,chrgitm_lv,pric_uplmt_amt,begndate,enddate``, optionally followed
(in any order) by ``med_chrgitm_type`` and the yes/no flags ``lmt_used_flag``, ``bas_medn_flag``,
``hi_nego_drug_flag``, ``chld_medc_flag``, ``list_sp_item_flag``, ``drt_reim_flag``; column names in any case.
Blank lines and lines whose first cell starts with ``#`` (a note such as "demo data") are skipped. Every value is checked: ASCII digits
only in codes, amounts and dates; amounts exact with at most two decimals; real dates as ``yyyy-MM-dd`` or
``yyyyMMdd``; known list types and classes; begin no later than end. Line numbers are the file's own (the
header is line 1), so that the person who prepared the file finds the row at once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from yibao.catalogue.errors import BadRow
from yibao.catalogue.models import (
    CODE_MAX,
    DEFAULT_MED_CHARGE_TYPE,
    FLAGS,
    MED_CHARGE_TYPES,
    NAME_MAX,
    ChargeClass,
    ListType,
)
from yibao.core.errors import ValidationFailed
from yibao.core.money import parse_yuan
from yibao.core.text import ascii_digits, clean_name

REQUIRED = ("med_list_codg", "name", "list_type", "chrgitm_lv", "pric_uplmt_amt", "begndate", "enddate")
OPTIONAL = ("med_chrgitm_type", *FLAGS)
HEADER = ",".join(REQUIRED)

# The national interface reads amounts below 100,000,000 yuan; a ceiling at or above it is a typing error.
PRICE_LIMIT = 100_000_000 * 100

_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_DATE_RES = (re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})"), re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"))

Cell = str | int | float | date | datetime | bool | None
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Row:
    """A validated catalogue row and the line of the file it came from."""

    line: int
    code: str
    name: str
    list_type: str
    chrgitm_lv: str
    med_chrgitm_type: str
    price_ceiling: int | None
    begin: date
    end: date | None
    lmt_used_flag: str = "0"
    bas_medn_flag: str = "0"
    hi_nego_drug_flag: str = "0"
    chld_medc_flag: str = "0"
    list_sp_item_flag: str = "0"
    drt_reim_flag: str = "0"

    def values(self) -> dict[str, Any]:
        """The stored columns of this row (everything but its line)."""
        return {
            "code": self.code,
            "name": self.name,
            "list_type": self.list_type,
            "chrgitm_lv": self.chrgitm_lv,
            "med_chrgitm_type": self.med_chrgitm_type,
            "price_ceiling": self.price_ceiling,
            "begin": self.begin,
            "end": self.end,
            **{flag: getattr(self, flag) for flag in FLAGS},
        }


def read_rows(path: Path, *, on_progress: Progress | None = None) -> list[Row]:
    """Every catalogue row of a ``.csv`` or ``.xlsx`` file, validated; :class:`BadRow` at the first bad one."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        raw = list(_xlsx_lines(path))
    elif suffix == ".csv":
        raw = list(_csv_lines(path))
    else:
        raise BadRow(
            None, "file", f"只支持 .csv 和 .xlsx 文件，不支持 {path.name}", f"only .csv and .xlsx files: {path.name}"
        )
    if not raw:
        raise BadRow(
            1, "header", f"文件为空，第一行应为表头 {HEADER}", f"the file is empty; line 1 must be the header {HEADER}"
        )
    (header_line, header_cells), body = raw[0], raw[1:]
    columns = _header(header_line, header_cells)
    rows: list[Row] = []
    total = len(body)
    for done, (line, cells) in enumerate(body, start=1):
        if not _skipped(cells):
            # A spreadsheet row may stop at its last non-empty cell; a CSV line always has every comma.
            rows.append(_row(line, columns, cells, ragged=suffix == ".xlsx"))
        if on_progress is not None and (done % 500 == 0 or done == total):
            on_progress(done, total)
    return rows


# ---- files -----------------------------------------------------------------------------------


def _csv_lines(path: Path) -> Iterator[tuple[int, Sequence[Cell]]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")  # with or without a byte-order mark
    except UnicodeDecodeError as exc:
        bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        line = data[: exc.start].count(b"\n") + 1
        raise BadRow(
            line,
            "encoding",
            f"不是 UTF-8 编码（第{exc.start - bom + 1}个字节起）；请以 UTF-8 保存 CSV",
            f"not UTF-8 (from byte {exc.start - bom + 1}); save the CSV as UTF-8",
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:
        raise BadRow(reader.line_num, "csv", f"CSV 格式错误：{exc}", f"malformed CSV: {exc}") from None


def _xlsx_lines(path: Path) -> Iterator[tuple[int, Sequence[Cell]]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise BadRow(
            None, "file", f"无法读取 .xlsx 文件：{type(exc).__name__}", f"cannot read the .xlsx file: {exc}"
        ) from None
    try:
        sheet = book.worksheets[0]
        for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [_xlsx_cell(c) for c in cells]
    finally:
        book.close()


def _xlsx_cell(value: object) -> Cell:
    """A spreadsheet value as the row checks read it: exact decimals and rich text become their text."""
    if value is None or isinstance(value, str | int | float | date | datetime | bool):
        return value
    return str(value)  # Decimal (exact), rich text; a time or a formula then fails its field's check


def _skipped(cells: Sequence[Cell]) -> bool:
    """A blank line, or a note line (first cell starts with ``#``)."""
    texts = ["" if c is None else str(c).strip() for c in cells]
    return not any(texts) or texts[0].startswith("#")


def _header(line: int, cells: Sequence[Cell]) -> list[str]:
    names = ["" if c is None else str(c).strip().lower() for c in cells]
    while names and names[-1] == "":
        names.pop()  # spreadsheets report trailing empty cells
    if names:
        names[0] = names[0].lstrip("\ufeff")
    seen: set[str] = set()
    for name in names:
        if name not in REQUIRED and name not in OPTIONAL:
            raise BadRow(
                line,
                "header",
                f"未知的列 {name!r}；必需列为 {HEADER}，可选列为 {','.join(OPTIONAL)}",
                f"unknown column {name!r}; required: {HEADER}; optional: {','.join(OPTIONAL)}",
            )
        if name in seen:
            raise BadRow(line, "header", f"列 {name} 重复", f"column {name} appears twice")
        seen.add(name)
    missing = [name for name in REQUIRED if name not in seen]
    if missing:
        raise BadRow(
            line,
            "header",
            f"缺少列 {','.join(missing)}；表头应为 {HEADER}",
            f"missing column(s) {','.join(missing)}; the header is {HEADER}",
        )
    return names


# ---- one row ---------------------------------------------------------------------------------


def _row(line: int, columns: list[str], cells: Sequence[Cell], *, ragged: bool) -> Row:
    extra = [c for c in cells[len(columns) :] if not _blank(c)]
    if extra or (len(cells) < len(columns) and not ragged):
        raise BadRow(
            line,
            "row",
            f"有 {len(cells)} 列，表头有 {len(columns)} 列",
            f"has {len(cells)} cells, the header has {len(columns)} columns",
        )
    value = dict(zip(columns, cells, strict=False))
    try:
        # In the header's order of the required columns, so that the first bad field is the one reported.
        code = _code(value.get("med_list_codg"))
        name = clean_name(_text(value.get("name"), "name"), field="name", max_length=NAME_MAX)
        list_type = _choice(value.get("list_type"), "list_type", [t.value for t in ListType], width=3)
        chrgitm_lv = _choice(value.get("chrgitm_lv"), "chrgitm_lv", [c.value for c in ChargeClass], width=2)
        price_ceiling = _price(value.get("pric_uplmt_amt"))
        begin = _date(value.get("begndate"), "begndate")
        end = _optional_date(value.get("enddate"), "enddate")
        if end is not None and end < begin:
            raise ValidationFailed(
                "enddate",
                f"结束日期 {end} 早于开始日期 {begin}",
                f"the end date {end} is before the begin date {begin}",
            )
        charge_type = _choice(
            value.get("med_chrgitm_type"), "med_chrgitm_type", list(MED_CHARGE_TYPES), width=2, optional=True
        )
        flags = {flag: _choice(value.get(flag), flag, ["0", "1"], width=1, optional=True) or "0" for flag in FLAGS}
    except ValidationFailed as exc:
        raise BadRow(line, exc.field, _after_field(exc.message_zh), _after_field(exc.message_en)) from None
    return Row(
        line=line,
        code=code,
        name=name,
        list_type=list_type,
        chrgitm_lv=chrgitm_lv,
        med_chrgitm_type=charge_type or DEFAULT_MED_CHARGE_TYPE[ListType(list_type)],
        price_ceiling=price_ceiling,
        begin=begin,
        end=end,
        **flags,
    )


def _after_field(message: str) -> str:
    for sep in ("：", ": "):
        if sep in message:
            return message.split(sep, 1)[1]
    return message


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip() == "")


def _text(cell: Cell, field: str) -> str:
    if _blank(cell):
        raise ValidationFailed(field, "不能为空", "must not be empty")
    if isinstance(cell, bool) or not isinstance(cell, str | int):
        raise ValidationFailed(field, "应为文本", "must be text")
    return str(cell).strip()


def _code(cell: Cell) -> str:
    field = "med_list_codg"
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        # A code typed as a number loses its leading zeros: refuse it rather than guess.
        raise ValidationFailed(
            field,
            "编码须为文本单元格（数字格式会丢失前导零）",
            "the code must be a text cell (a number loses leading zeros)",
        )
    code = ascii_digits(_text(cell, field), field=field)
    if len(code) > CODE_MAX or not _CODE_RE.fullmatch(code):
        raise ValidationFailed(
            field,
            f"编码 {code!r} 应为1至{CODE_MAX}位字母、数字（可含 . _ -）",
            f"the code {code!r} must be 1 to {CODE_MAX} letters or digits (and . _ -)",
        )
    return code


def _choice(cell: Cell, field: str, allowed: list[str], *, width: int, optional: bool = False) -> str:
    if _blank(cell):
        if optional:
            return ""
        raise ValidationFailed(field, f"不能为空，应为 {'/'.join(allowed)}", f"must be one of {'/'.join(allowed)}")
    if isinstance(cell, int) and not isinstance(cell, bool):
        text = str(cell).zfill(width)  # a spreadsheet shows the code 01 as the number 1
    elif isinstance(cell, str):
        text = ascii_digits(cell.strip(), field=field)
    else:
        raise ValidationFailed(field, f"应为 {'/'.join(allowed)}", f"must be one of {'/'.join(allowed)}")
    if text not in allowed:
        raise ValidationFailed(
            field,
            f"未知的取值 {text!r}，应为 {'/'.join(allowed)}",
            f"unknown value {text!r}; one of {'/'.join(allowed)}",
        )
    return text


def _price(cell: Cell) -> int | None:
    field = "pric_uplmt_amt"
    if _blank(cell):
        return None
    if isinstance(cell, float):
        # A spreadsheet keeps a typed 12.34 as the decimal text "12.34"; the shortest text that reads back
        # as the same number is that text, so it is checked like any other amount (a third decimal is refused).
        cell = repr(cell)
    if isinstance(cell, str):
        cell = cell.strip()
    fen = parse_yuan(cell, field=field)
    if fen >= PRICE_LIMIT:
        raise ValidationFailed(field, "限价应小于1亿元", "the ceiling must be below 100,000,000 yuan")
    return fen


def _optional_date(cell: Cell, field: str) -> date | None:
    return None if _blank(cell) else _date(cell, field)


def _date(cell: Cell, field: str) -> date:
    if _blank(cell):
        raise ValidationFailed(field, "不能为空，应为 yyyy-MM-dd 或 yyyyMMdd", "must be a date, yyyy-MM-dd or yyyyMMdd")
    if isinstance(cell, datetime):
        if cell.time() != datetime.min.time():
            raise ValidationFailed(field, "应为日期，不含时间", "must be a date without a time")
        return cell.date()
    if isinstance(cell, date):
        return cell
    if not isinstance(cell, str):
        raise ValidationFailed(
            field, "应为 yyyy-MM-dd 或 yyyyMMdd 格式的日期", "must be a date, yyyy-MM-dd or yyyyMMdd"
        )
    text = ascii_digits(cell.strip(), field=field)
    m = next((m for r in _DATE_RES if (m := r.fullmatch(text))), None)
    if m is None:
        raise ValidationFailed(
            field,
            f"日期格式不正确：{text!r}（应为 yyyy-MM-dd 或 yyyyMMdd）",
            f"malformed date {text!r}: yyyy-MM-dd or yyyyMMdd",
        )
    try:
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValidationFailed(field, f"日期不存在：{text}", f"no such date: {text}") from None
    if day.year < 1900:
        raise ValidationFailed(field, f"日期 {text} 早于1900年", f"the date {text} is before 1900")
    return day
