"""The gateway on a real ``yibao serve --workers 2`` on PostgreSQL: a HIS session, replays across workers, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text

from tests.live import LiveServer
from tests.nhsa.helpers import Creds, create_institution, create_insured, load_demo_catalogue
from yibao.core.db import make_engine
from yibao.his import Client
from yibao.nhsa.errors import to_json
from yibao.nhsa.models import SignIn

pytestmark = pytest.mark.pg


@pytest.fixture(scope="module")
def live(pg_url: str) -> Iterator[tuple[LiveServer, Engine]]:
    engine = make_engine(pg_url)
    load_demo_catalogue(engine)
    with LiveServer(pg_url, workers=2) as server:
        yield server, engine
    engine.dispose()


def _client(server: LiveServer, creds: Creds) -> Client:
    return Client(server.url, creds.code, creds.paasid, creds.secret)


def test_signed_session_over_http(live: tuple[LiveServer, Engine]) -> None:
    server, engine = live
    creds = create_institution(engine)
    idn, psn_no = create_insured(engine)
    his = _client(server, creds)
    try:
        his.sign_in("001")
        person = his.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": idn}})
        assert person["baseinfo"]["psn_no"] == psn_no
        trt = his.call(
            "2001", {"data": {"psn_no": psn_no, "insutype": "390", "med_type": "11", "begntime": "2023-05-01 09:00:00"}}
        )
        assert {r["trt_enjymnt_flag"] for r in trt["trtinfo"]} == {"1"}
        page = his.call("1312", {"data": {"query_date": "2024-01-01", "page_num": 2, "page_size": 50}})
        assert page["pageNum"] == 2 and page["size"] == 50 and page["startRow"] == 51
        cum = his.call("5206", {"data": {"psn_no": psn_no, "cum_ym": "202305"}})
        assert len(cum["cuminfo"]) == 4
        his.sign_out()
    finally:
        his.close()


def test_replayed_bytes_refused_across_workers(live: tuple[LiveServer, Engine]) -> None:
    server, engine = live
    creds = create_institution(engine)
    his = _client(server, creds)
    body = to_json(his.envelope("9001", {"signIn": {"opter_no": "001"}})).encode()
    headers = his.headers()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: his.post(body, headers), range(16)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] + [401] * 15
    assert sum("随机串已使用" in (r.json()["err_msg"] or "") for r in answers) == 15
    his.close()


def test_one_msgid_at_once_across_workers(live: tuple[LiveServer, Engine]) -> None:
    server, engine = live
    creds = create_institution(engine)
    his = _client(server, creds)
    msgid = f"{creds.code}{uuid.uuid4().hex[:18]}"
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: his.send("9001", {"signIn": {"opter_no": "007"}}, msgid=msgid), range(12)))
    assert all(a.ok for a in answers), [a.err_msg for a in answers]
    assert len({json.dumps(a.envelope, default=str, sort_keys=True) for a in answers}) == 1  # one answer, repeated
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).where(SignIn.msgid == msgid)) == 1
    his.close()


def test_his_call_command(live: tuple[LiveServer, Engine], tmp_path: Path) -> None:
    server, engine = live
    creds = create_institution(engine)
    idn, psn_no = create_insured(engine)
    request = tmp_path / "1101.json"
    request.write_text(json.dumps({"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": idn}}), encoding="utf-8")
    yibao = Path(sys.executable).with_name("yibao")
    args = [str(yibao), "his", "call", "1101", "--input", str(request), "--server", server.url, "--code", creds.code]
    args += ["--paasid", creds.paasid, "--secret", creds.secret]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["infcode"] == 0 and answer["output"]["baseinfo"]["psn_no"] == psn_no
    assert '"balc": 0.00' in done.stdout  # amounts keep their exact digits
    request.write_text(json.dumps({"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": "x"}}), encoding="utf-8")
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and json.loads(done.stdout)["infcode"] == -1 and "电子凭证" in done.stderr
    bad = [*args[:-1], "wrong-secret"]
    done = subprocess.run(bad, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "签名不正确" in done.stdout
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_yibao_his_inpatient_drives_a_whole_stay(live: tuple[LiveServer, Engine], tmp_path: Path) -> None:
    from tests.claims.test_messages import catalogue
    from tests.live import seed_employees

    server, engine = live
    creds = create_institution(engine)
    (idn,) = seed_employees(engine, 1, balance_fen=100_000)  # 1,000.00 in the personal account
    a, c = catalogue(engine, "01", "03")
    bill = tmp_path / "stay.csv"
    bill.write_text(f"med_list_codg,pric,cnt\n{a},600.00,2\n{c},50.00,1\n", encoding="utf-8")
    yibao = Path(sys.executable).with_name("yibao")
    args = [str(yibao), "his", "inpatient", "--server", server.url, "--code", creds.code, "--paasid", creds.paasid]
    args += ["--secret", creds.secret, "--cert-no", idn, "--bill", str(bill), "--acct-used-flag", "1"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "医保结算单" in done.stdout and "个人账户支付" in done.stdout and "1250.00" in done.stdout
    assert "1000.00" in done.stdout  # the account paid all it held
    for infno in ("9001", "1101", "2401", "2301", "2402", "2303", "2304", "9002"):
        assert infno in done.stderr
    # a second stay: the funds pay nothing for employees in the seeds, the account is empty, cash pays all
    done = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)["setlinfo"]
    assert (info["fund_pay_sumamt"], info["acct_pay"], info["psn_cash_pay"], info["balc"]) == (0, 0, 1250, 0)


def test_yibao_his_reconcile_and_a_download_by_his_call(live: tuple[LiveServer, Engine], tmp_path: Path) -> None:
    from tests.claims.helpers import settled_stays

    server, engine = live
    creds = create_institution(engine)
    listed, unlisted = settled_stays(engine, creds.code, creds.region, 2)
    rows = tmp_path / "settlements.csv"
    header = "setl_id,mdtrt_id,psn_no,medfee_sumamt,fund_pay_sumamt,acct_pay,refd_setl_flag"
    rows.write_text(f"{header}\n{listed.line().replace(chr(9), ',')}\n", encoding="utf-8")
    yibao = Path(sys.executable).with_name("yibao")
    auth = ["--server", server.url, "--code", creds.code, "--paasid", creds.paasid, "--secret", creds.secret]
    args = [str(yibao), "his", "reconcile", *auth, "--rows", str(rows), "--period", "2023-03-10:2023-03-10"]
    args += ["--setl-optins", creds.region, "--output", str(tmp_path / "result.zip")]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 4, done.stderr
    assert "机构未上传" in done.stdout
    done = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=60)
    answer = json.loads(done.stdout)
    assert [(r["yibao_setl_id"], r["reason"]) for r in answer["rows"]] == [(unlisted.setl_id, "机构未上传")]
    info = answer["fileinfo"]
    node = {"file_qury_no": info["file_qury_no"], "filename": info["filename"], "fixmedins_code": creds.code}
    request = tmp_path / "9102.json"
    request.write_text(json.dumps({"fsDownloadIn": node}), encoding="utf-8")
    call = [str(yibao), "his", "call", "9102", "--input", str(request), *auth]
    done = subprocess.run(call, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(tmp_path / info["filename"]) as z:
        (line,) = z.read(z.namelist()[0]).decode("utf-8").splitlines()
    assert line.split("\t")[7] == unlisted.setl_id and line.endswith("\t机构未上传")
    assert zipfile.is_zipfile(tmp_path / "result.zip")


def _server_backends(server: LiveServer, engine: Engine) -> list[int]:
    """The PostgreSQL backends serving the server's workers (found by their client ports), none of the test's."""
    import psutil

    ports = set()
    for proc in [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]:
        try:
            ports |= {c.laddr.port for c in proc.net_connections("tcp") if c.raddr and c.raddr.port == 5432}
        except psutil.NoSuchProcess:
            continue
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT pid, client_port FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
    return [pid for pid, port in rows if port in ports]


@contextmanager
def _slow_commit(engine: Engine, code: str) -> Iterator[None]:
    """Each settlement by institution ``code`` waits 20 ms at COMMIT (a deferred constraint trigger): killed
    connections then also land there, where the server cannot know whether its work was stored."""
    name = f"slow_{code.lower()}"
    with engine.begin() as conn:
        conn.execute(
            text(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.02); "
                 "RETURN NULL; END $$")
        )  # fmt: skip
        conn.execute(
            text(
                f"CREATE CONSTRAINT TRIGGER {name} AFTER INSERT ON claim_settlements DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW WHEN (NEW.institution_code = '{code}') EXECUTE FUNCTION {name}()"
            )
        )
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TRIGGER {name} ON claim_settlements"))
            conn.execute(text(f"DROP FUNCTION {name}()"))


def test_settlements_while_connections_die_are_answered_once_and_stored_once(
    live: tuple[LiveServer, Engine],
) -> None:
    """Hospitals settle stays while PostgreSQL kills the server's connections over and over, and resend every
    message whose answer they did not get, with its msgid: every stay is settled exactly once, each answer
    given is the stored one, no account is paid twice and the ledger balances."""
    import threading
    import time
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from tests.claims.test_messages import catalogue
    from tests.live import balances_left, seed_employees
    from yibao.accounts import ledger
    from yibao.claims.models import Settlement
    from yibao.core.auth import system_principal
    from yibao.core.unit import unit_of_work

    server, engine = live
    creds = create_institution(engine)
    a, b = catalogue(engine, "01", "02")
    ids = seed_employees(engine, 24, balance_fen=30_000)  # 300.00 each: every stay is paid partly from it
    china = ZoneInfo("Asia/Shanghai")
    now = datetime.now(UTC)
    begin = (now - timedelta(days=3)).astimezone(china).strftime("%Y-%m-%d %H:%M:%S")
    end = (now - timedelta(hours=1)).astimezone(china).strftime("%Y-%m-%d %H:%M:%S")
    his = _client(server, creds)
    stays = []
    for n, idn in enumerate(ids):
        psn_no = his.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": idn}})["baseinfo"]["psn_no"]
        info = {"psn_no": psn_no, "insutype": "310", "begntime": begin, "mdtrt_cert_type": "02",
                "mdtrt_cert_no": idn, "med_type": "21", "ipt_no": f"ZY{n}"}  # fmt: skip
        mdtrt_id = his.call("2401", {"mdtrtinfo": info, "diseinfo": []})["result"]["mdtrt_id"]
        line = {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_type": "21", "fee_ocur_time": begin}
        his.call(
            "2301",
            {
                "feedetail": [
                    line | {"feedetl_sn": "1", "med_list_codg": a, "det_item_fee_sumamt": "400.00", "cnt": 2,
                            "pric": "200.00"},
                    line | {"feedetl_sn": "2", "med_list_codg": b, "det_item_fee_sumamt": "123.45", "cnt": 1,
                            "pric": "123.45"},
                ]
            },
        )  # fmt: skip
        dscg = {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "insutype": "310", "endtime": end, "dscg_way": "1"}
        his.call("2402", {"dscginfo": dscg})
        ask = {"data": {"psn_no": psn_no, "mdtrt_cert_type": "02", "mdtrt_cert_no": idn, "medfee_sumamt": "523.45",
                        "psn_setlway": "01", "mdtrt_id": mdtrt_id, "insutype": "310", "acct_used_flag": "1",
                        "mid_setl_flag": "0"}}  # fmt: skip
        stays.append((f"{creds.code}{uuid.uuid4().hex[:18]}", ask))

    stop = threading.Event()
    killed = [0]

    def killer() -> None:
        while not stop.is_set():
            pids = _server_backends(server, engine)
            if pids:
                with engine.connect() as conn:
                    killed[0] += sum(bool(conn.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": p})) for p in pids)
            time.sleep(0.005)

    def settle(stay: tuple[int, tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], int]:
        n, (msgid, ask) = stay
        client = _client(server, creds)
        tries = 0
        try:
            while True:
                tries += 1
                assert tries <= 200, f"{msgid}: never settled"
                try:
                    answer = client.send("2304", ask, msgid=msgid)
                except httpx.TransportError:
                    continue  # the connection broke: resend the same message
                if answer.ok and tries == 1 and n % 3 == 0:
                    continue  # this answer is lost on its way back (a third of the stays): resent
                if answer.ok:
                    return answer.envelope["output"], tries
                # Only "busy, resend with the same msgid" may refuse a settlement here.
                assert "重发" in (answer.err_msg or ""), answer.err_msg
                time.sleep(0.01)
        finally:
            client.close()

    worker = threading.Thread(target=killer, daemon=True)
    with _slow_commit(engine, creds.code):
        worker.start()
        try:
            with ThreadPoolExecutor(6) as pool:
                results = list(pool.map(settle, enumerate(stays)))
        finally:
            stop.set()
            worker.join()
    assert killed[0] > 0
    # Afterwards each msgid answers with the answer the hospital got, and nothing is done again.
    for (msgid, ask), (output, _) in zip(stays, results, strict=True):
        again = his.send("2304", ask, msgid=msgid)
        assert again.ok and again.envelope["output"] == output, again.err_msg
    his.close()
    setl_ids = [output["setlinfo"]["setl_id"] for output, _ in results]
    with engine.connect() as conn:
        rows = conn.execute(
            select(Settlement.setl_id, Settlement.acct_pay, Settlement.state).where(
                Settlement.institution_code == creds.code
            )
        ).all()
    left = balances_left(engine, ids)
    assert sorted(r.setl_id for r in rows) == sorted(setl_ids)  # one settlement per stay, the one answered
    assert {r.state for r in rows} == {"settled"}
    paid = {output["setlinfo"]["setl_id"]: output["setlinfo"]["acct_pay"] for output, _ in results}
    assert all(paid[r.setl_id] == Decimal(r.acct_pay) / 100 > 0 for r in rows)
    assert left == 24 * 30_000 - sum(r.acct_pay for r in rows)  # each account paid once
    with unit_of_work(engine, principal=system_principal()) as s:
        assert ledger.verify(s).ok
