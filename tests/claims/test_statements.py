"""Detail files of 3202, read and compared without a database: every refusal names its line."""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import UTC, date, datetime

import pytest

from yibao.claims import statements
from yibao.claims.statements import BadFile, Held, Period, Row

GOOD = "S1\tM1\tP1\t100.00\t60.00\t10.00\t0\nS2\tM2\tP2\t20.5\t0\t0.00\t1\n"
PERIOD = Period("21", "530100", date(2023, 3, 1), date(2023, 3, 31))


def zipped(*files: tuple[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as z:
        for name, data in files:
            z.writestr(name, data)
    return buffer.getvalue()


def refusal(content: bytes) -> str:
    with pytest.raises(BadFile) as caught:
        statements.read_upload(content)
    return caught.value.reason


def test_rows_are_read_exactly_with_lf_crlf_a_bom_and_blank_lines() -> None:
    expected = [
        Row("S1", "M1", "P1", 10_000, 6_000, 1_000, "0"),
        Row("S2", "M2", "P2", 2_050, 0, 0, "1"),
    ]
    assert statements.read_upload(zipped(("d.txt", GOOD.encode()))) == expected
    crlf = "\ufeff" + GOOD.replace("\n", "\r\n") + "\r\n"
    assert statements.read_upload(zipped(("d.txt", crlf.encode()))) == expected
    assert statements.read_upload(zipped(("d.txt", b""))) == []  # nothing settled in the period


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("S1\tM1\tP1\t100.00\t60.00\t10.00\n", "第1行：应有 7 列"),
        (GOOD + "S3\tM3\tP3\t1.00\t1.00\t0.00\t0\textra\n", "第3行：应有 7 列"),
        ("S1\tM1\tP1\t100.001\t60.00\t10.00\t0\n", "第1行 medfee_sumamt：金额最多两位小数"),
        ("S1\tM1\tP1\t100.00\t-1.00\t10.00\t0\n", "第1行 fund_pay_sumamt：金额不能为负数"),
        ("S1\tM1\tP1\t100.00\t60.00\tabc\t0\n", "第1行 acct_pay：金额格式不正确"),
        ("S1\tM1\tP1\t１00.00\t60.00\t0\t0\n", "第1行 medfee_sumamt：只能使用半角"),
        ("S1\tnull\tP1\t100.00\t60.00\t10.00\t0\n", "第1行 mdtrt_id：必填项缺失"),
        ("S1\tM1\t\t100.00\t60.00\t10.00\t0\n", "第1行 psn_no：必填项缺失"),
        ("S" * 31 + "\tM1\tP1\t1.00\t0\t0\t0\n", "第1行 setl_id：长度不能超过30个字符"),
        ("S1\tM1\tP1\t100.00\t60.00\t10.00\t2\n", "第1行 refd_setl_flag：应为 0 或 1"),
        (GOOD + "\nS1\tM9\tP9\t1.00\t0\t0\t1\n", "第4行 setl_id：S1 与第1行重复"),
    ],
)
def test_a_bad_line_is_refused_by_its_number(text: str, reason: str) -> None:
    assert refusal(zipped(("d.txt", text.encode()))).startswith(reason)


def test_text_that_is_not_utf8_is_refused_by_its_line() -> None:
    data = GOOD.encode() + "S3\tM3\t张三\t1.00\t0\t0\t0\n".encode("gbk")
    assert refusal(zipped(("d.txt", data))).startswith("第3行：不是有效的UTF-8编码")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"S1\tM1\tP1\t1.00\t0\t0\t0\n", "不是有效的ZIP压缩文件"),
        (b"", "不是有效的ZIP压缩文件"),
        (zipped(), "压缩包中应只有一个文本文件，实际没有文件"),
        (zipped(("a.txt", b""), ("b.txt", b"")), "压缩包中应只有一个文本文件，实际有 2 个文件"),
    ],
)
def test_a_zip_holds_exactly_one_file(content: bytes, reason: str) -> None:
    assert refusal(content) == reason


def test_a_folder_entry_is_not_a_file() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(zipfile.ZipInfo("stmt/"), b"")
        z.writestr("stmt/d.txt", GOOD.encode())
    assert len(statements.read_upload(buffer.getvalue())) == 2


def test_a_zip_bomb_is_refused_by_its_declared_size() -> None:
    bomb = zipped(("d.txt", b"0" * (statements.MAX_TEXT_BYTES + 1)))
    assert len(bomb) < 100_000
    assert refusal(bomb).startswith("解压后超过 32 MB 上限")


def test_a_zip_that_understates_its_size_is_never_unpacked_past_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statements, "MAX_TEXT_BYTES", 1000)
    content = bytearray(zipped(("d.txt", GOOD.encode() * 200)))
    # Write "100 bytes" as the uncompressed size into the local header and the central directory.
    local = content.find(b"PK\x03\x04")
    central = content.find(b"PK\x01\x02")
    struct.pack_into("<I", content, local + 22, 100)
    struct.pack_into("<I", content, central + 24, 100)
    # Unpacking stops at the stated size, where the checksum of the short text fails.
    assert refusal(bytes(content)) == "ZIP文件已损坏或压缩方式不受支持"


def test_rows_beyond_the_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statements, "MAX_ROWS", 2)
    assert len(statements.read_upload(zipped(("d.txt", GOOD.encode())))) == 2
    more = GOOD + "S3\tM3\tP3\t1.00\t0\t0\t0\n"
    assert refusal(zipped(("d.txt", more.encode()))).startswith("文件超过 2 行上限")


def held(row: Row, day: date = date(2023, 3, 10), clr_type: str = "21") -> Held:
    return Held(row, day, clr_type, "530100")


def test_each_difference_names_its_reason_and_rows_agreeing_are_left_out() -> None:
    same = Row("S1", "M1", "P1", 10_000, 6_000, 0, "0")
    amount = Row("S2", "M2", "P2", 5_000, 3_000, 0, "0")
    flag = Row("S3", "M3", "P3", 7_000, 4_000, 100, "1")
    unlisted = Row("S4", "M4", "P4", 900, 500, 0, "0")
    unknown = Row("S9", "M9", "P9", 100, 0, 0, "0")
    later = Row("S5", "M5", "P5", 100, 0, 0, "0")
    theirs = [
        same,
        Row("S2", "M2", "P2", 5_100, 3_000, 10, "0"),
        Row("S3", "M3", "P3", 7_000, 4_000, 100, "0"),
        unknown,
        later,
    ]
    ours = [held(same), held(amount), held(flag), held(unlisted), held(later, day=date(2023, 4, 1), clr_type="11")]
    found = statements.compare(theirs, ours, PERIOD)
    assert [(d.theirs and d.theirs.setl_id, d.ours and d.ours.setl_id, d.reasons) for d in found] == [
        ("S2", "S2", ("金额不符 medfee_sumamt", "金额不符 acct_pay")),
        ("S3", "S3", ("冲销标志不符",)),
        ("S9", None, ("医保无此结算",)),
        ("S5", "S5", ("结算日期 2023-04-01 不在对账期间", "清算类别为 11，非本次对账的 21")),
        (None, "S4", ("机构未上传",)),
    ]
    text = statements.result_text(found)
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == 6
    assert lines[0].split("\t") == [
        *("S2", "M2", "P2", "51.00", "30.00", "0.10", "0"),
        *("S2", "M2", "P2", "50.00", "30.00", "0.00", "0"),
        "金额不符 medfee_sumamt；金额不符 acct_pay",
    ]
    assert lines[2].split("\t")[7:] == ["null"] * 7 + ["医保无此结算"]
    assert lines[4].split("\t")[:7] == ["null"] * 7


def test_a_settlement_of_another_visit_or_person_says_so() -> None:
    ours = Row("S1", "M1", "P1", 100, 0, 0, "0")
    theirs = Row("S1", "M2", "P2", 100, 0, 0, "0")
    (d,) = statements.compare([theirs], [held(ours)], PERIOD)
    assert d.reasons == ("就诊ID不符", "人员编号不符")


def test_everything_agreeing_gives_an_empty_file_in_a_zip() -> None:
    row = Row("S1", "M1", "P1", 100, 0, 0, "0")
    assert statements.compare([row], [held(row)], PERIOD) == []
    content = statements.zip_text("r.txt", statements.result_text([]), datetime(2023, 3, 10, 2, tzinfo=UTC))
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert z.namelist() == ["r.txt"] and z.read("r.txt") == b""
        assert z.getinfo("r.txt").date_time == (2023, 3, 10, 10, 0, 0)  # China time
