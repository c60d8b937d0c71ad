"""Reconciliation of details through files (9101 upload, 3202 compare, 9102 download), via ``yibao.his.Client``."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from tests.claims.helpers import SettledStay, cn, settled_stays
from tests.nhsa.conftest import Gateway, writes
from tests.nhsa.helpers import Creds, create_institution, his
from yibao.claims.models import StatementFile
from yibao.core import clock
from yibao.his import Client, HisError

NOW = cn(2023, 3, 11, 9)


@pytest.fixture(autouse=True)
def _the_day_after() -> Iterator[None]:
    with clock.use(clock.FixedClock(NOW)):
        yield


@pytest.fixture
def gw(api_client: Any, engine: Engine) -> Gateway:
    """A Kunming level-3 hospital and its HIS client on the application."""
    creds = create_institution(engine)
    return Gateway(api_client, engine, creds, his(api_client, creds))


def stamp() -> str:
    """``x-tif-timestamp`` on the test's clock (a fixed clock is the server's real time too)."""
    return str(int(clock.wire_now().timestamp()))


def kept(gw: Gateway, creds: Creds | None = None) -> int:
    """The files kept for the institution."""
    return gw.count("claim_statement_files", f"institution_code = '{(creds or gw.creds).code}'")


def zipped(text: str, name: str = "detail.txt") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()


def ask(file_qury_no: str, **over: Any) -> dict[str, Any]:
    """A 3202 for inpatient settlements of 2023-03-10 (the totals are the institution's, informative)."""
    data = {
        "setl_optins": "530100",
        "file_qury_no": file_qury_no,
        "stmt_begndate": "2023-03-10",
        "stmt_enddate": "2023-03-10",
        "medfee_sumamt": "14600.00",
        "fund_pay_sumamt": "8000.00",
        "cash_payamt": "6600.00",
        "fixmedins_setl_cnt": 2,
        "clr_type": "21",
        "refd_setl_flag": "0",
    }
    return {"data": data | over}


def reconcile(h: Client, text: str, **over: Any) -> tuple[dict[str, Any], list[list[str]]]:
    """Upload ``text`` zipped, reconcile it, download the result: 3202's fileinfo and the result's rows."""
    up = h.upload_file(zipped(text), "detail.zip")
    info = h.call("3202", ask(up["file_qury_no"], **over))["fileinfo"]
    content = h.download_file(info["file_qury_no"], info["filename"])
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        (name,) = z.namelist()
        body = z.read(name).decode("utf-8")
    assert name == info["filename"].removesuffix(".zip") + ".txt"
    return info, [line.split("\t") for line in body.splitlines()]


def test_round_trip_lists_each_difference_with_its_reason(api_client: Any, engine: Engine) -> None:
    creds = create_institution(engine)
    h = his(api_client, creds)
    same, amount, flag, unlisted = settled_stays(engine, creds.code, creds.region, 4, reverse={2})
    ghost = SettledStay("20230310999999999999", "20230310888888888888", "P0000000000000", "1.00")
    text = "\r\n".join([same.line(), amount.line(medfee="7400.00"), flag.line(flag="0"), ghost.line("1.00")]) + "\r\n"
    info, rows = reconcile(h, text)
    assert info["filename"] == f"3202_{creds.code}_20230310_20230310.zip" and len(info["file_qury_no"]) == 30
    assert info["dld_endtime"] == (NOW + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M:%S")
    assert [r[-1] for r in rows] == ["金额不符 medfee_sumamt", "冲销标志不符", "医保无此结算", "机构未上传"]
    assert all(len(r) == 15 for r in rows)
    assert rows[0][:7] == amount.line(medfee="7400.00").split("\t")
    assert rows[0][7:14] == amount.line().split("\t")
    assert rows[1][6] == "0" and rows[1][13] == "1"
    assert rows[2][:7] == ghost.line("1.00").split("\t") and rows[2][7:14] == ["null"] * 7
    assert rows[3][:7] == ["null"] * 7 and rows[3][7:14] == unlisted.line().split("\t")


def test_all_agreeing_gives_an_empty_result_file(api_client: Any, engine: Engine) -> None:
    creds = create_institution(engine)
    h = his(api_client, creds)
    first, second = settled_stays(engine, creds.code, creds.region, 2, reverse={0})
    _, rows = reconcile(h, first.line(flag="1") + "\n" + second.line() + "\n")
    assert rows == []
    # The same file against a period without these settlements: each row says why it is not in it.
    _, rows = reconcile(h, first.line(flag="1") + "\n", stmt_begndate="2023-03-11", stmt_enddate="2023-03-31")
    assert [r[-1] for r in rows] == ["结算日期 2023-03-10 不在对账期间"]


def test_files_belong_to_their_institution(api_client: Any, engine: Engine) -> None:
    creds = create_institution(engine)
    h = his(api_client, creds)
    (stay,) = settled_stays(engine, creds.code, creds.region, 1)
    up = h.upload_file(zipped(stay.line() + "\n"), "detail.zip")
    info = h.call("3202", ask(up["file_qury_no"]))["fileinfo"]
    other = his(api_client, create_institution(engine))
    gw = Gateway(api_client, engine, creds, h)
    before = writes(engine)
    with pytest.raises(
        HisError, match=re.escape(f"input.fsDownloadIn.file_qury_no: 本机构没有文件查询号为 {info['file_qury_no']}")
    ):
        other.download_file(info["file_qury_no"], info["filename"])
    with pytest.raises(HisError, match=re.escape(f"input.fsDownloadIn.fixmedins_code: {creds.code} 不是本机构编码")):
        node = {"file_qury_no": info["file_qury_no"], "filename": info["filename"], "fixmedins_code": creds.code}
        other.call("9102", {"fsDownloadIn": node})
    with pytest.raises(HisError, match=re.escape("input.data.file_qury_no: 本机构没有文件查询号为")):
        other.call("3202", ask(up["file_qury_no"]))
    assert kept(gw) == 2
    assert writes(engine)["msgids"] == before["msgids"]
    assert h.download_file(info["file_qury_no"], info["filename"])[:2] == b"PK"


def test_an_unknown_file_gets_an_envelope(gw: Gateway) -> None:
    body = gw.envelope(
        "9102", {"fsDownloadIn": {"file_qury_no": "RS1", "filename": "x.zip", "fixmedins_code": gw.creds.code}}
    )
    r = gw.raw(body, timestamp=stamp())
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    answer = r.json()
    assert answer["infcode"] == -1 and answer["output"] is None
    assert answer["err_msg"] == "input.fsDownloadIn.file_qury_no: 本机构没有文件查询号为 RS1 的对账结果文件"
    # An upload is no result to download, and a result's name must be its own.
    up = gw.his.upload_file(zipped(""), "empty.zip")
    with pytest.raises(HisError, match="对账结果文件"):
        gw.his.download_file(up["file_qury_no"], "empty.zip")
    info = gw.his.call("3202", ask(up["file_qury_no"], fixmedins_setl_cnt=0))["fileinfo"]
    with pytest.raises(HisError, match="不符"):
        gw.his.download_file(info["file_qury_no"], "other.zip")


def test_a_download_is_the_zip_itself(gw: Gateway) -> None:
    up = gw.his.upload_file(zipped(""), "empty.zip")
    info = gw.his.call("3202", ask(up["file_qury_no"], fixmedins_setl_cnt=0))["fileinfo"]
    node = {"file_qury_no": info["file_qury_no"], "filename": info["filename"], "fixmedins_code": gw.creds.code}
    r = gw.raw(gw.envelope("9102", {"fsDownloadIn": node}), timestamp=stamp())
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == f'attachment; filename="{info["filename"]}"'
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.read(z.namelist()[0]) == b""


def test_files_expire_at_their_deadline(gw: Gateway) -> None:
    up = gw.his.upload_file(zipped(""), "empty.zip")
    info = gw.his.call("3202", ask(up["file_qury_no"], fixmedins_setl_cnt=0))["fileinfo"]
    with clock.use(clock.FixedClock(NOW + timedelta(hours=24, seconds=1))):
        with pytest.raises(HisError, match="已过截止时间"):
            gw.his.download_file(info["file_qury_no"], info["filename"])
        with pytest.raises(HisError, match="已过截止时间"):
            gw.his.call("3202", ask(up["file_qury_no"], fixmedins_setl_cnt=0))
        gw.his.upload_file(zipped(""), "again.zip")  # a new upload clears the institution's expired files
    assert kept(gw) == 1


@pytest.mark.parametrize(
    ("content", "err_msg"),
    [
        (b"not a zip", "input.fsUploadIn.in: 不是有效的ZIP压缩文件"),
        (
            zipped("S1\tM1\tP1\t1.00\t0.00\t0.00\t0\nS2\tM2\tP2\t1.005\t0.00\t0.00\t0\n"),
            "input.fsUploadIn.in: 第2行 medfee_sumamt：金额最多两位小数",
        ),
        (zipped("S1\tM1\tP1\t1.00\t0.00\t0.00\r\n"), "input.fsUploadIn.in: 第1行：应有 7 列"),
    ],
)
def test_a_bad_upload_is_refused_and_nothing_is_kept(gw: Gateway, content: bytes, err_msg: str) -> None:
    before = writes(gw.engine)
    answer = gw.his.send(
        "9101",
        {
            "fsUploadIn": {
                "in": base64.b64encode(content).decode(),
                "filename": "d.zip",
                "fixmedins_code": gw.creds.code,
            }
        },
    )
    assert not answer.ok and answer.err_msg is not None and answer.err_msg.startswith(err_msg)
    assert kept(gw) == 0
    assert writes(gw.engine)["msgids"] == before["msgids"]


def test_upload_fields_are_checked(gw: Gateway) -> None:
    node = {"in": "@@@", "filename": "d.zip", "fixmedins_code": gw.creds.code}
    assert gw.his.send("9101", {"fsUploadIn": node}).err_msg == "input.fsUploadIn.in: 不是有效的Base64编码"
    node = {"in": base64.b64encode(zipped("")).decode(), "filename": "d.zip", "fixmedins_code": "plc"}
    assert "1312" in str(gw.his.send("9101", {"fsUploadIn": node}).err_msg)
    node = {"filename": "d.zip", "fixmedins_code": gw.creds.code}
    assert gw.his.send("9101", {"fsUploadIn": node}).err_msg == "input.fsUploadIn.in: 必填项缺失"
    assert kept(gw) == 0


def test_base64_wrapped_as_old_java_encoders_do_is_read(gw: Gateway) -> None:
    content = zipped("S1\tM1\tP1\t1.00\t0.00\t0.00\t0\n" * 40)
    wrapped = base64.encodebytes(content).decode().replace("\n", "\r\n")  # lines of 76 characters
    node = {"in": wrapped, "filename": "d.zip", "fixmedins_code": gw.creds.code}
    answer = gw.his.send("9101", {"fsUploadIn": node})
    assert (
        answer.err_msg
        == "input.fsUploadIn.in: 第2行 setl_id：S1 与第1行重复（每笔结算一行，已冲销的 refd_setl_flag 为 1）"
    )
    node["in"] = base64.encodebytes(zipped("S1\tM1\tP1\t1.00\t0.00\t0.00\t0\n")).decode()
    assert gw.his.send("9101", {"fsUploadIn": node}).ok


def test_a_resent_message_gets_the_first_answer(gw: Gateway) -> None:
    content = zipped("")
    first = gw.his.upload_file(content, "d.zip", msgid="RESEND9101")
    assert gw.his.upload_file(content, "d.zip", msgid="RESEND9101") == first
    assert kept(gw) == 1
    info = gw.his.call("3202", ask(first["file_qury_no"], fixmedins_setl_cnt=0), msgid="RESEND3202")["fileinfo"]
    again = gw.his.call("3202", ask(first["file_qury_no"], fixmedins_setl_cnt=0), msgid="RESEND3202")["fileinfo"]
    assert again == info and kept(gw) == 2
    with pytest.raises(HisError, match="msgid 已使用"):
        gw.his.upload_file(zipped("\n"), "d.zip", msgid="RESEND9101")
    # A download only reads: resent, it reads the file again; another input with its msgid is refused.
    one = gw.his.download_file(info["file_qury_no"], info["filename"], msgid="RESEND9102")
    assert gw.his.download_file(info["file_qury_no"], info["filename"], msgid="RESEND9102") == one
    other = gw.his.call("3202", ask(first["file_qury_no"], fixmedins_setl_cnt=0))["fileinfo"]
    with pytest.raises(HisError, match="msgid 已使用"):
        gw.his.download_file(other["file_qury_no"], other["filename"], msgid="RESEND9102")
    with gw.engine.connect() as conn:
        kinds = conn.execute(
            select(StatementFile.kind, func.count())
            .where(StatementFile.institution_code == gw.creds.code)
            .group_by(StatementFile.kind)
        ).all()
    assert sorted(kinds) == [("result", 2), ("upload", 1)]


def test_3202_checks_its_data(gw: Gateway) -> None:
    up = gw.his.upload_file(zipped(""), "d.zip")
    refused = {
        "setl_optins": ("532900", "input.data.setl_optins: 清算经办机构应为本机构所在统筹区 530100"),
        "stmt_enddate": ("2023-03-09", "input.data.stmt_enddate: 对账结束日期早于开始日期"),
        "cash_payamt": ("1.001", "input.data.cash_payamt: 金额最多两位小数"),
        "clr_type": ("99", "input.data.clr_type: 取值 '99' 无效"),
    }
    for field, (value, err_msg) in refused.items():
        answer = gw.his.send("3202", ask(up["file_qury_no"], **{field: value}))
        assert answer.err_msg is not None and answer.err_msg.startswith(err_msg), answer.err_msg
    assert kept(gw) == 1
