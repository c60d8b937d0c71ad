"""Real-time settlement on PostgreSQL: 2304 settlements and whole inpatient stays through ``yibao serve``.

Run: ``.venv/bin/python bench/settlement.py [--persons 100000] [--stays 4000] [--seconds 20] [--clients 16]
[--workers 2] [--repeat 3]`` (PostgreSQL from YIBAO_TEST_PG_URL). Writes bench/results/settlement.json and a
profile of one 2304 (bench/results/settlement_profile.txt).

A throwaway database gets ``--persons`` insured employees in Kunming (each with a funded personal account),
a designated level-3 hospital, and 20 catalogue items (classes 甲, 乙, 丙). Stays are prepared beforehand
through the services (admission, 20 fee lines, discharge), one per person. ``yibao serve --workers N``
runs on it, and a separate load process keeps ``--clients`` keep-alive connections busy, each a HIS
signing every message as the convention says:

- ``settle``: 2304 on a prepared stay (``acct_used_flag`` 1: the account pays; the lines are summed,
  valued, the decision stored, the ledger moved, the msgid recorded, in one transaction);
- ``flow``: a whole stay, 2401 + 2301 (20 lines) + 2402 + 2304, counted when its 2304 succeeds.

In the same run, bench/ledger.py's in-process ``ledger.pay_once`` rate (16 connections) is the yardstick.
Rounds are interleaved; figures are medians. The persons are employees because the pack's resident
contribution standards end before today's benefit year and the server runs on the real clock: an
employee's settlement skips the benefit engine (the seeds define no employee pooled fund) and the
accumulator lock, so the resident path costs somewhat more than measured here.
"""

# ruff: noqa: E402  (the standard-library imports must follow the sys.path repair below)
from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:] = [str(BENCH.parent), *(p for p in sys.path if Path(p or ".").resolve() != BENCH)]

import argparse
import asyncio
import cProfile
import importlib.util
import io
import json
import multiprocessing as mp
import pstats
import re
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

FUNDS = 10**12  # fen per person: the account never runs out during a run
# Residents are settled in-process on a clock inside the seeds' 2023 benefit year, when their contribution
# standards apply (the load rounds use employees: the server runs on the real clock).
RESIDENT_CLOCK = datetime(2023, 3, 10, 2, 0, tzinfo=UTC)
LINES = 20
LEVELS = ("01", "02", "03")
REGION = "530100"


def _module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"{name}_bench", BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def setup(db_url: str, persons: int, residents: int) -> dict[str, Any]:
    """Funded employees, residents with the 2023 contribution paid, a hospital and its credentials, 20 catalogue items."""
    from tests.live import fresh_id_numbers
    from yibao.accounts import ledger
    from yibao.accounts.models import Purpose
    from yibao.catalogue.models import CatalogueItem
    from yibao.core import clock, migrate
    from yibao.core.auth import system_principal
    from yibao.core.db import make_engine
    from yibao.core.unit import unit_of_work
    from yibao.institutions import service as institutions
    from yibao.people import enrolment
    from yibao.people.persons import get_person
    from yibao.premiums import payments as premiums

    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    with unit_of_work(engine, principal=system_principal()) as s:
        row, secret = institutions.add(
            s, code="H53010099001", name="压测医院", kind="hospital", level=3, region=REGION,
            designated_from=date(2015, 1, 1),
        )  # fmt: skip
        creds = {"code": row.code, "paasid": row.paasid, "secret": secret}
        codes = []
        for i in range(LINES):
            code = f"BENCH{i:04d}"
            s.add(
                CatalogueItem(
                    code=code, name=f"压测项目{i}", list_type="101", chrgitm_lv=LEVELS[i % 3], med_chrgitm_type="09",
                    price_ceiling=None, begin=date(2020, 1, 1), end=None, updated_at=clock.now(),
                )
            )  # fmt: skip
            codes.append(code)
    ids: list[str] = []
    person_ids: list[int] = []
    numbers = fresh_id_numbers(persons)
    for start in range(0, persons, 1000):
        with unit_of_work(engine, principal=system_principal()) as s:
            for idn in numbers[start : start + 1000]:
                enrolment.enrol_employee(
                    s, id_number=idn, name="压测", region=REGION, on=date(2022, 1, 1), employer="某公司"
                )
                person = get_person(s, idn)
                ledger.transfer(
                    s,
                    kind="credit",
                    source=ledger.system_account(s, Purpose.CONTRIBUTIONS, person.id),
                    target=ledger.member_account(s, person.id, create=True),
                    amount=FUNDS,
                    member_id=person.id,
                )
                ids.append(idn)
                person_ids.append(person.id)
    resident_ids = fresh_id_numbers(residents)
    with unit_of_work(engine, principal=system_principal()) as s:
        for idn in resident_ids:
            enrolment.register_resident(s, id_number=idn, name="压测", region=REGION, on=date(2022, 9, 5))
            paid = premiums.PaymentRequest(
                insured_id_number=idn, insured_name="压测", year=2023, amount=35_000, channel="banshitong_app",
                region=REGION, idempotency_key=f"bench-{idn}",
            )  # fmt: skip
            premiums.pay_premium(s, paid, now=datetime(2022, 10, 15, 2, 0, tzinfo=UTC))
    engine.dispose()
    return {"creds": creds, "codes": codes, "ids": ids, "person_ids": person_ids, "residents": resident_ids}


def bill(codes: list[str]) -> list[tuple[str, int, int]]:
    """The 20 lines of a stay: (code, price in fen, quantity in ten-thousandths)."""
    return [(code, 1_000 + 137 * i, 10_000 * (1 + i % 3)) for i, code in enumerate(codes)]


def prepare(db_url: str, ctx: dict[str, Any], ids: list[str], insutype: str = "310") -> list[dict[str, str]]:
    """One discharged stay of 20 fee lines for each person: what 2304 needs to settle it."""
    from yibao.claims import fees, visits
    from yibao.claims.fees import LineIn
    from yibao.claims.visits import DiagnosisIn, Opening
    from yibao.core import clock
    from yibao.core.auth import system_principal
    from yibao.core.db import make_engine
    from yibao.core.unit import unit_of_work
    from yibao.institutions import service as institutions
    from yibao.institutions.models import view_of
    from yibao.people.persons import get_person

    engine = make_engine(db_url)
    out = []
    now = clock.now()
    with unit_of_work(engine, principal=system_principal()) as s:
        place = view_of(institutions.get(s, ctx["creds"]["code"]))
    for start in range(0, len(ids), 200):
        with unit_of_work(engine, principal=system_principal()) as s:
            for idn in ids[start : start + 200]:
                person = get_person(s, idn)
                opening = Opening(
                    person=person, insutype=insutype, begntime=now - timedelta(days=3), mdtrt_cert_type="02",
                    ipt_otp_no=f"ZY{person.id}", med_type="21", matn_type=None,
                    diagnoses=(DiagnosisIn("J18.900", "肺炎", main=True),),
                )  # fmt: skip
                v = visits.admit(s, institution=place, opening=opening, msgid=uuid.uuid4().hex[:30])
                lines = [
                    LineIn(
                        feedetl_sn=str(i), med_list_codg=code, fee_ocur_time=now - timedelta(days=2),
                        amount=pric * cnt // 10_000, cnt=cnt, pric=pric,
                    )
                    for i, (code, pric, cnt) in enumerate(bill(ctx["codes"]), 1)
                ]  # fmt: skip
                fees.upload(s, institution=place, mdtrt_id=v.mdtrt_id, person=person, lines=lines)
                visits.discharge(
                    s, institution=place, mdtrt_id=v.mdtrt_id, person=person, insutype=insutype,
                    endtime=now - timedelta(hours=1), dscg_way="1", diagnoses=(), details={},
                )  # fmt: skip
                total = sum(pric * cnt // 10_000 for _, pric, cnt in bill(ctx["codes"]))
                out.append({"idn": idn, "psn_no": person.psn_no, "mdtrt_id": v.mdtrt_id, "total": f"{total / 100:.2f}",
                            "insutype": insutype})  # fmt: skip
    engine.dispose()
    return out


def settle_input(stay: dict[str, str]) -> dict[str, Any]:
    """The input of a 2304 for a prepared stay."""
    return {
        "data": {
            "psn_no": stay["psn_no"], "mdtrt_cert_type": "02", "mdtrt_cert_no": stay["idn"],
            "medfee_sumamt": stay["total"], "psn_setlway": "01", "mdtrt_id": stay["mdtrt_id"],
            "insutype": stay.get("insutype", "310"),
            # employees pay from their own account; residents have none (no family sharing is bound here)
            "acct_used_flag": "1" if stay.get("insutype", "310") == "310" else "0", "mid_setl_flag": "0",
        }
    }  # fmt: skip


# ---- the load process: raw HTTP/1.1 keep-alive, one asyncio loop ---------------------------------


async def _exchange(reader: Any, writer: Any, client: Any, infno: str, payload: dict[str, Any]) -> dict[str, Any]:
    from yibao.nhsa.app import PATH
    from yibao.nhsa.errors import to_json

    body = to_json(client.envelope(infno, payload, msgid=uuid.uuid4().hex[:30])).encode()
    head = [f"POST /fsi{PATH} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in client.headers().items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    raw = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in raw.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    answer: dict[str, Any] = json.loads(await reader.readexactly(length), parse_float=Decimal)
    return answer


async def _settler(port: int, client: Any, stays: list[Any], deadline: float, lat: list[float], bad: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while stays and (t0 := time.perf_counter()) < deadline:
        answer = await _exchange(reader, writer, client, "2304", settle_input(stays.pop()))
        if str(answer["infcode"]) == "0":
            lat.append(time.perf_counter() - t0)
        else:
            bad.append(str(answer["err_msg"]))
    writer.close()


async def _flows(port: int, client: Any, ctx: dict[str, Any], people: list[str], deadline: float, lat: list[float],
                 bad: list[str]) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = 0
    now = datetime.now(UTC)
    begin = (now - timedelta(days=3)).astimezone(_china()).strftime("%Y-%m-%d %H:%M:%S")
    end = (now - timedelta(hours=1)).astimezone(_china()).strftime("%Y-%m-%d %H:%M:%S")
    while (t0 := time.perf_counter()) < deadline:
        idn, psn_no = people[n % len(people)]
        n += 1
        info = {"psn_no": psn_no, "insutype": "310", "begntime": begin, "mdtrt_cert_type": "02", "mdtrt_cert_no": idn,
                "med_type": "21", "ipt_no": f"ZY{n}"}  # fmt: skip
        a = await _exchange(reader, writer, client, "2401", {"mdtrtinfo": info, "diseinfo": []})
        if str(a["infcode"]) != "0":
            bad.append(str(a["err_msg"]))
            continue
        mdtrt_id = a["output"]["result"]["mdtrt_id"]
        lines = [
            {"feedetl_sn": str(i), "mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_type": "21", "fee_ocur_time": begin,
             "med_list_codg": code, "det_item_fee_sumamt": f"{pric * cnt // 10_000 / 100:.2f}",
             "cnt": str(cnt // 10_000), "pric": f"{pric / 100:.2f}"}
            for i, (code, pric, cnt) in enumerate(bill(ctx["codes"]), 1)
        ]  # fmt: skip
        total = sum(pric * cnt // 10_000 for _, pric, cnt in bill(ctx["codes"]))
        steps = [
            ("2301", {"feedetail": lines}),
            ("2402", {"dscginfo": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "insutype": "310", "endtime": end,
                                   "dscg_way": "1"}}),
            ("2304", settle_input({"idn": idn, "psn_no": psn_no, "mdtrt_id": mdtrt_id, "total": f"{total / 100:.2f}"})),
        ]  # fmt: skip
        for infno, payload in steps:
            a = await _exchange(reader, writer, client, infno, payload)
            if str(a["infcode"]) != "0":
                bad.append(f"{infno}: {a['err_msg']}")
                break
        else:
            lat.append(time.perf_counter() - t0)
    writer.close()


def _china() -> Any:
    from yibao.core.dates import CHINA_TZ

    return CHINA_TZ


def _load(port: int, workload: str, clients: int, seconds: float, ctx: dict[str, Any], work: Any, out: Any) -> None:
    from yibao.his import Client

    creds = ctx["creds"]
    his = [Client("http://127.0.0.1", creds["code"], creds["paasid"], creds["secret"]) for _ in range(clients)]

    async def run() -> tuple[list[float], list[str], float]:
        lat: list[float] = []
        bad: list[str] = []
        t0 = time.perf_counter()
        deadline = t0 + seconds
        if workload == "settle":
            parts = [work[i::clients] for i in range(clients)]
            await asyncio.gather(*(_settler(port, his[i], parts[i], deadline, lat, bad) for i in range(clients)))
        else:
            parts = [work[i::clients] for i in range(clients)]
            await asyncio.gather(*(_flows(port, his[i], ctx, parts[i], deadline, lat, bad) for i in range(clients)))
        return lat, bad, time.perf_counter() - t0

    lat, bad, elapsed = asyncio.run(run())
    out.put((lat, bad[:5], len(bad), elapsed))


def load_round(
    port: int, workload: str, clients: int, seconds: float, ctx: dict[str, Any], work: Any, server_pid: int, db_url: str
) -> dict[str, Any]:
    """One timed round of one workload from a separate load process, with the CPU it cost where."""
    http = _module("http")
    q: Any = mp.Queue()
    p = mp.Process(target=_load, args=(port, workload, clients, seconds, ctx, work, q))
    servers = http._server_pids(server_pid)
    backends = http._backend_pids(db_url)
    cpu0 = http._cpu_seconds(servers), http._cpu_seconds(backends)
    p.start()
    lat, bad, refused, elapsed = q.get()
    p.join()
    backends = sorted(set(backends) | set(http._backend_pids(db_url)))
    cpu1 = http._cpu_seconds(servers), http._cpu_seconds(backends)
    lat.sort()
    n = max(1, len(lat) + refused)
    return {
        "per_second": len(lat) / elapsed,
        "done": len(lat),
        # per 2304 (settle) or per whole stay of four messages (flow)
        "server_cpu_ms_each": 1000 * (cpu1[0] - cpu0[0]) / n,
        "postgres_cpu_ms_each": 1000 * (cpu1[1] - cpu0[1]) / n,
        "p50_ms": 1000 * lat[len(lat) // 2] if lat else None,
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None,
        "refused": refused,
        "refusals": bad,
        "ran_out_of_stays": workload == "settle" and len(lat) + refused >= len(work),
    }


def profile_one(db_url: str, ctx: dict[str, Any], stays: list[dict[str, str]], out: Path) -> int:
    """cProfile of one 2304 through the gateway's message path in this process (after one warm-up), headed by
    the SQL statements it sent; returns how many.

    ``yibao.nhsa.gateway.handle`` is what the server runs for a message, minus HTTP: signature, envelope,
    msgid idempotency, the handler, the transaction.
    """
    from sqlalchemy import event

    from yibao.core.db import make_engine
    from yibao.his import Client
    from yibao.nhsa.errors import to_json
    from yibao.nhsa.gateway import handle

    engine = make_engine(db_url)
    creds = ctx["creds"]
    his = Client("http://unused", creds["code"], creds["paasid"], creds["secret"])

    def one(stay: dict[str, str]) -> bytes:
        body = to_json(his.envelope("2304", settle_input(stay))).encode()
        reply = handle(engine, body, his.headers())
        assert b'"infcode":0' in reply.body.replace(b" ", b""), reply.body[:300]
        return reply.body

    one(stays[0])
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: sent.append(" ".join(sql.split())))
    prof = cProfile.Profile()
    prof.enable()
    one(stays[1])
    prof.disable()
    his.close()
    engine.dispose()
    text = io.StringIO()
    text.write(f"{len(sent)} SQL statements (COMMIT besides):\n")
    text.writelines(f"  {sql[:150]}\n" for sql in sent)
    text.write("\n")
    stats = pstats.Stats(prof, stream=text)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Paths relative to the project and to site-packages, so that the file reads the same on any machine.
    report = text.getvalue().replace(str(BENCH.parent) + "/", "")
    report = re.sub(r"\S*/site-packages/", "", report)
    out.write_text(report, encoding="utf-8")
    return len(sent)


def in_process(db_url: str, ctx: dict[str, Any], stays: list[dict[str, str]]) -> dict[str, float]:
    """CPU per 2304 in this process (the server's message path, minus HTTP) and in PostgreSQL's backends,
    settling ``stays`` one after another after one warm-up; and the SQL statements each sent."""
    from sqlalchemy import event

    from yibao.core.db import make_engine
    from yibao.his import Client
    from yibao.nhsa.errors import to_json
    from yibao.nhsa.gateway import handle

    http = _module("http")
    engine = make_engine(db_url)
    creds = ctx["creds"]
    his = Client("http://unused", creds["code"], creds["paasid"], creds["secret"])
    sent = [0]
    event.listen(engine, "before_cursor_execute", lambda *_a: sent.__setitem__(0, sent[0] + 1))

    def one(stay: dict[str, str]) -> None:
        reply = handle(engine, to_json(his.envelope("2304", settle_input(stay))).encode(), his.headers())
        assert b'"infcode":0' in reply.body.replace(b" ", b""), reply.body[:300]

    one(stays[0])
    backends = http._backend_pids(db_url)
    sent[0] = 0
    t0, pg0 = time.process_time(), http._cpu_seconds(backends)
    for stay in stays[1:]:
        one(stay)
    t1 = time.process_time()
    pg1 = http._cpu_seconds(sorted(set(backends) | set(http._backend_pids(db_url))))
    his.close()
    engine.dispose()
    n = len(stays) - 1
    return {
        "process_cpu_ms": 1000 * (t1 - t0) / n,
        "postgres_cpu_ms": 1000 * (pg1 - pg0) / n,
        "statements": sent[0] / n,
    }


def in_process_both(db_url: str, ctx: dict[str, Any], employees: list[str]) -> dict[str, dict[str, float]]:
    """:func:`in_process` for employees (real clock) and for residents (the benefit engine and the accumulator lock)."""
    from yibao.core import clock

    out = {"employee": in_process(db_url, ctx, prepare(db_url, ctx, employees))}
    with clock.use(clock.ShiftedClock(RESIDENT_CLOCK)):
        out["resident"] = in_process(db_url, ctx, prepare(db_url, ctx, ctx["residents"], insutype="390"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=6000, help="insured persons (the issue asks 100000)")
    parser.add_argument("--stays", type=int, default=4000, help="stays prepared for each 2304 round")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the figures are medians")
    parser.add_argument("--alone", type=int, default=200, help="2304s settled in-process, per kind of person")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "settlement.json")
    args = parser.parse_args()
    ledger_bench = _module("ledger")
    from tests.live import LiveServer

    need = args.stays * args.repeat + 2 + args.alone + args.clients  # each flow client needs persons of its own
    persons = max(args.persons, need)
    with ledger_bench.throwaway_database() as db_url:
        t0 = time.perf_counter()
        ctx = setup(db_url, persons, args.alone)
        seeded = time.perf_counter() - t0
        ids = ctx["ids"]
        rounds = [prepare(db_url, ctx, ids[r * args.stays : (r + 1) * args.stays]) for r in range(args.repeat)]
        first_free = args.stays * args.repeat
        spare = prepare(db_url, ctx, ids[first_free : first_free + 2])
        prepared = time.perf_counter() - t0 - seeded
        alone = ids[first_free + 2 : first_free + 2 + args.alone]
        flow_people = psn_numbers(db_url, ids[first_free + 2 + args.alone :])
        runs: dict[str, list[dict[str, Any]]] = {"settle": [], "flow": []}
        in_process: list[float] = []
        with LiveServer(db_url, workers=args.workers) as server:
            for r in range(args.repeat):
                for workload, work in (("settle", rounds[r]), ("flow", flow_people)):
                    runs[workload].append(
                        load_round(server.port, workload, args.clients, args.seconds, ctx, work, server.pid, db_url)
                    )
                in_process.append(
                    ledger_bench.yibao_rate(db_url, ctx["person_ids"][:2000], args.clients, args.seconds, hot=False)
                )
        alone_cost = in_process_both(db_url, ctx, alone)
        statements = profile_one(db_url, ctx, spare, args.out.with_name(args.out.stem + "_profile.txt"))

        def med(w: str, k: str) -> float | None:
            values = [r[k] for r in runs[w] if r[k] is not None]
            return statistics.median(values) if values else None

        figures: dict[str, Any] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "persons": persons,
            "stays_per_round": args.stays,
            "lines_per_stay": LINES,
            "clients": args.clients,
            "workers": args.workers,
            "seconds": args.seconds,
            "repeat": args.repeat,
            "load_average_before": _loadavg(),
            "seed_seconds": seeded,
            "prepare_seconds": prepared,
            "settlements_2304_per_second": med("settle", "per_second"),
            "settlement_2304_p50_ms": med("settle", "p50_ms"),
            "settlement_2304_p99_ms": med("settle", "p99_ms"),
            "settlement_2304_cpu_ms": {
                "server": med("settle", "server_cpu_ms_each"),
                "postgres": med("settle", "postgres_cpu_ms_each"),
            },
            "statements_per_2304": statements,
            "in_process_2304": alone_cost,
            "inpatient_flows_per_second": med("flow", "per_second"),
            "inpatient_flow_p50_ms": med("flow", "p50_ms"),
            "inpatient_flow_p99_ms": med("flow", "p99_ms"),
            "inpatient_flow_cpu_ms": {
                "server": med("flow", "server_cpu_ms_each"),
                "postgres": med("flow", "postgres_cpu_ms_each"),
            },
            "in_process_pay_once_per_second": statistics.median(in_process),
            "runs": {**runs, "in_process_pay_once": in_process},
        }
        figures["load_average_after"] = _loadavg()
        ledger_bench.write_figures(db_url, figures, args.out)
        print(json.dumps({k: v for k, v in figures.items() if k != "runs"}, indent=2))


def _loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def psn_numbers(db_url: str, ids: list[str]) -> list[tuple[str, str]]:
    """(ID number, psn_no) of the persons who go through whole stays."""
    from sqlalchemy import create_engine, select

    from yibao.people.models import Person

    engine = create_engine(db_url)
    found: dict[str, str] = {}
    with engine.connect() as c:
        for start in range(0, len(ids), 10_000):  # a statement takes at most 65,535 parameters
            chunk = ids[start : start + 10_000]
            found.update(c.execute(select(Person.id_number, Person.psn_no).where(Person.id_number.in_(chunk))).all())
    engine.dispose()
    return [(idn, found[idn]) for idn in ids]


if __name__ == "__main__":
    main()
