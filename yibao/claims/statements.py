"""Reconciliation of details (3202 对明细账): the institution's file of settlements against yibao's, row by row.

Files travel as the convention has them (9101 up, 9102 down): a zip holding one UTF-8 text file, TAB-separated,
without a header line, lines ending in LF or CRLF. An uploaded row is one settlement: ``setl_id``, ``mdtrt_id``,
``psn_no``, ``medfee_sumamt``, ``fund_pay_sumamt``, ``acct_pay``, ``refd_setl_flag`` (1 when it has been
reversed). A result row stands for a settlement that differs or that one side lacks: the institution's seven
values, yibao's seven, then the reason; a side without the row has ``null`` in its seven columns, as the
convention writes empty values in its text files. Everything here is plain: bytes in, rows and bytes out.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from yibao.core.dates import CHINA_TZ
from yibao.core.errors import AppError
from yibao.core.money import format_yuan
from yibao.nhsa.errors import FieldError
from yibao.nhsa.money import read_money
from yibao.nhsa.payload import absent, check_text

COLUMNS = ("setl_id", "mdtrt_id", "psn_no", "medfee_sumamt", "fund_pay_sumamt", "acct_pay", "refd_setl_flag")
AMOUNTS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")
NULL = "null"  # the convention's empty value in its text files
ID_MAX = 30  # the convention's length of setl_id, mdtrt_id and psn_no

# Technical limits, not policy (assumed): the gateway already bounds a message at 4 MB, which holds a zip of
# at most about 3 MB; these bound what that zip may unpack to (a zip bomb is refused while it is read), and
# the rows compared in one message. A month of a large hospital's settlements (~150,000 rows of ~90 bytes) fits.
MAX_TEXT_BYTES = 32 * 1024 * 1024
MAX_ROWS = 200_000


class BadFile(AppError):
    """An uploaded file that is not a detail file as the convention has it; the reason names the line."""

    code = "claims.statement_file"
    http_status = 422
    exit_code = 2

    def __init__(self, reason: str, reason_en: str | None = None) -> None:
        super().__init__(reason, reason_en or reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Row:
    """One settlement as a detail file lists it (amounts in fen)."""

    setl_id: str
    mdtrt_id: str
    psn_no: str
    medfee_sumamt: int
    fund_pay_sumamt: int
    acct_pay: int
    refd_setl_flag: str  # "1" when reversed

    def cells(self) -> list[str]:
        """The row's seven columns as text."""
        return [
            self.setl_id,
            self.mdtrt_id,
            self.psn_no,
            format_yuan(self.medfee_sumamt),
            format_yuan(self.fund_pay_sumamt),
            format_yuan(self.acct_pay),
            self.refd_setl_flag,
        ]


@dataclass(frozen=True, slots=True)
class Held:
    """One of yibao's settlements of the institution, with what decides whether a period covers it."""

    row: Row
    day: date  # the China date of setl_time
    clr_type: str
    clr_optins: str


@dataclass(frozen=True, slots=True)
class Period:
    """What a 3202 compares: settlements of a clearing type and agency whose date falls in [begin, end]."""

    clr_type: str
    setl_optins: str
    begin: date
    end: date

    def covers(self, held: Held) -> bool:
        """Whether the settlement belongs to this reconciliation."""
        return (
            self.begin <= held.day <= self.end
            and held.clr_type == self.clr_type
            and held.clr_optins == self.setl_optins
        )

    def outside(self, held: Held) -> list[str]:
        """Why a settlement the institution listed is not in this reconciliation."""
        why = []
        if not self.begin <= held.day <= self.end:
            why.append(f"结算日期 {held.day.isoformat()} 不在对账期间")
        if held.clr_type != self.clr_type:
            why.append(f"清算类别为 {held.clr_type}，非本次对账的 {self.clr_type}")
        if held.clr_optins != self.setl_optins:
            why.append(f"清算经办机构为 {held.clr_optins}，非 {self.setl_optins}")
        return why


@dataclass(frozen=True, slots=True)
class Difference:
    """A result row: the institution's row and yibao's (None for the side that lacks it), and why."""

    theirs: Row | None
    ours: Row | None
    reasons: tuple[str, ...]

    def cells(self) -> list[str]:
        """The fifteen columns of the result file."""
        blank = [NULL] * len(COLUMNS)
        return [
            *(self.theirs.cells() if self.theirs else blank),
            *(self.ours.cells() if self.ours else blank),
            "；".join(self.reasons),
        ]


# ---- reading an upload ---------------------------------------------------------------------------


def unzip(content: bytes) -> bytes:
    """The one file of a zip, read no further than :data:`MAX_TEXT_BYTES` (whatever its header claims)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise BadFile("不是有效的ZIP压缩文件", "not a zip file") from None
    with archive:
        files = [info for info in archive.infolist() if not info.is_dir()]
        if len(files) != 1:
            have = "没有文件" if not files else f"有 {len(files)} 个文件"
            raise BadFile(f"压缩包中应只有一个文本文件，实际{have}", f"the zip holds {len(files)} files, not one")
        info = files[0]
        if info.flag_bits & 0x1:
            raise BadFile("压缩包已加密，请上传未加密的ZIP文件", "the zip is encrypted")
        too_big = BadFile(
            f"解压后超过 {MAX_TEXT_BYTES // (1024 * 1024)} MB 上限，请按较短的对账期间分别上传",
            "the file unpacks to more than the limit",
        )
        if info.file_size > MAX_TEXT_BYTES:
            raise too_big
        try:
            with archive.open(info) as f:
                data = f.read(MAX_TEXT_BYTES + 1)  # the header's size may lie: never unpack more than the limit
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError, ValueError):
            raise BadFile(
                "ZIP文件已损坏或压缩方式不受支持", "the zip is damaged or uses an unsupported method"
            ) from None
    if len(data) > MAX_TEXT_BYTES:
        raise too_big
    return data


def decode(data: bytes) -> str:
    """The text of the file: UTF-8 (a leading byte-order mark, as Windows editors write, is dropped)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadFile(f"第{line}行：不是有效的UTF-8编码（文件应以UTF-8保存）", f"line {line} is not UTF-8") from None


def _text(value: str, line: int, column: str) -> str:
    if absent(value):
        raise BadFile(f"第{line}行 {column}：必填项缺失", f"line {line}: {column} is missing")
    try:
        return check_text(value, column, max_len=ID_MAX)
    except FieldError as exc:
        raise BadFile(f"第{line}行 {column}：{exc.reason}", f"line {line}: {column} is malformed") from None


def _money(value: str, line: int, column: str) -> int:
    if absent(value):
        raise BadFile(f"第{line}行 {column}：必填项缺失", f"line {line}: {column} is missing")
    try:
        return read_money(value, column)
    except FieldError as exc:
        raise BadFile(f"第{line}行 {column}：{exc.reason}", f"line {line}: {column} is not an amount") from None


def parse(text: str) -> list[Row]:
    """The rows of an upload's text, each checked; :class:`BadFile` names the first line at fault.

    Blank lines are skipped (a trailing newline, an editor's empty last line); a settlement appears once.
    """
    lines = text.split("\n")
    if sum(1 for raw in lines if raw.strip()) > MAX_ROWS:
        raise BadFile(f"文件超过 {MAX_ROWS} 行上限，请按较短的对账期间分别对账", "too many rows")
    rows: list[Row] = []
    first_seen: dict[str, int] = {}
    for n, raw in enumerate(lines, 1):
        line = raw.removesuffix("\r")
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != len(COLUMNS):
            raise BadFile(
                f"第{n}行：应有 {len(COLUMNS)} 列（以TAB分隔：{'、'.join(COLUMNS)}），实有 {len(cols)} 列",
                f"line {n} has {len(cols)} columns, not {len(COLUMNS)}",
            )
        setl_id, mdtrt_id, psn_no = (_text(v, n, c) for v, c in zip(cols[:3], COLUMNS[:3], strict=True))
        medfee, fund, acct = (_money(v, n, c) for v, c in zip(cols[3:6], AMOUNTS, strict=True))
        flag = cols[6].strip()
        if flag not in ("0", "1"):
            raise BadFile(f"第{n}行 refd_setl_flag：应为 0 或 1，实为 {flag[:10]!r}", f"line {n}: refd_setl_flag")
        if setl_id in first_seen:
            raise BadFile(
                f"第{n}行 setl_id：{setl_id} 与第{first_seen[setl_id]}行重复（每笔结算一行，已冲销的 refd_setl_flag 为 1）",
                f"line {n}: setl_id {setl_id} repeats line {first_seen[setl_id]}",
            )
        first_seen[setl_id] = n
        rows.append(Row(setl_id, mdtrt_id, psn_no, medfee, fund, acct, flag))
    return rows


def read_upload(content: bytes) -> list[Row]:
    """The rows of an uploaded zip (:class:`BadFile` when it is not a detail file)."""
    return parse(decode(unzip(content)))


# ---- comparing -----------------------------------------------------------------------------------


def _mismatches(theirs: Row, ours: Row) -> list[str]:
    why = []
    if theirs.mdtrt_id != ours.mdtrt_id:
        why.append("就诊ID不符")
    if theirs.psn_no != ours.psn_no:
        why.append("人员编号不符")
    why += [f"金额不符 {name}" for name in AMOUNTS if getattr(theirs, name) != getattr(ours, name)]
    if theirs.refd_setl_flag != ours.refd_setl_flag:
        why.append("冲销标志不符")
    return why


def compare(theirs: Iterable[Row], held: Iterable[Held], period: Period) -> list[Difference]:
    """Every settlement that differs or that one side lacks: the institution's rows in their order, then yibao's.

    ``held`` are yibao's settlements of the institution that the period covers, in the order they are to be
    listed, and any others the institution listed (so that a row of another period or clearing type says so
    rather than "not found").
    """
    ours = {h.row.setl_id: h for h in held}
    out: list[Difference] = []
    listed: set[str] = set()
    for row in theirs:
        listed.add(row.setl_id)
        found = ours.get(row.setl_id)
        if found is None:
            out.append(Difference(row, None, ("医保无此结算",)))
            continue
        why = ([] if period.covers(found) else period.outside(found)) + _mismatches(row, found.row)
        if why:
            out.append(Difference(row, found.row, tuple(why)))
    for h in ours.values():
        if h.row.setl_id not in listed and period.covers(h):
            out.append(Difference(None, h.row, ("机构未上传",)))
    return out


# ---- writing a result ----------------------------------------------------------------------------


def result_text(differences: Iterable[Difference]) -> str:
    """The result file's text: one TAB-separated line per difference (empty when everything agrees)."""
    return "".join("\t".join(d.cells()) + "\n" for d in differences)


_ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=CHINA_TZ)


def zip_text(name: str, text: str, moment: datetime) -> bytes:
    """A zip holding one UTF-8 text file ``name``, stamped with ``moment`` in China time."""
    buffer = io.BytesIO()
    local = max(moment.astimezone(CHINA_TZ), _ZIP_EPOCH)  # a zip cannot date a file before 1980
    info = zipfile.ZipInfo(name, date_time=(local.year, local.month, local.day, local.hour, local.minute, local.second))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()
