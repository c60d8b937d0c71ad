"""The HTTP request path on PostgreSQL: account payments and balance reads through a real ``yibao serve``.

Run: ``.venv/bin/python bench/http.py [--seconds 10] [--clients 16] [--workers 2] [--repeat 3]``
(PostgreSQL from YIBAO_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres). Writes
bench/results/http.json.

A throwaway database gets funded Kunming employees, 16 person logins and an institution's API key;
``yibao serve --workers N`` runs on it. A separate load process keeps ``--clients`` keep-alive
connections busy (plain HTTP/1.1 on asyncio streams, so the client costs little of the 2 cores) with:
``GET /healthz`` (the HTTP stack and one database round trip: the ceiling), a person reading their own
balance (token lookup, access rule, audit row, commit), and an institution paying from accounts
(``POST /api/accounts/{id}/payments``: validation, access rule, the one-statement ledger payment, audit,
commit). In the same run, the in-process ``ledger.pay_once`` rate (bench/ledger.py's client, 16
connections) shows what the HTTP path adds. Rounds are interleaved; figures are medians.
"""

# ruff: noqa: E402  (the standard-library imports must follow the sys.path repair below)
from __future__ import annotations

import sys
from pathlib import Path

# This file is named after what it measures; as a script its folder comes first on sys.path, where it
# would stand in for the standard library's ``http`` package. Look up modules from the project instead.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [str(BENCH.parent), *(p for p in sys.path if Path(p or ".").resolve() != BENCH)]

import argparse
import asyncio
import importlib.util
import json
import multiprocessing as mp
import os
import statistics
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import create_engine, text

FUNDS = 10**12  # fen per payer: never runs out during a run
PASSWORD = "bench-pass-2024"


def setup(db_url: str, payers: int, readers: int) -> tuple[list[str], list[str], str, list[int]]:
    """Funded employees (payers), person logins (readers), an institution key; the payers' person ids."""
    from tests.live import REGION, fresh_id_numbers, institution_key
    from yibao.accounts import ledger
    from yibao.accounts.models import EntryKind, Purpose
    from yibao.core import migrate
    from yibao.core.auth import system_principal
    from yibao.core.db import make_engine
    from yibao.core.unit import unit_of_work
    from yibao.identity import logins
    from yibao.people import enrolment, persons

    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    ids: list[str] = []
    person_ids: list[int] = []
    with unit_of_work(engine, principal=system_principal()) as s:
        for idn in fresh_id_numbers(payers):
            enrolment.enrol_employee(
                s, id_number=idn, name="压测", region=REGION, on=date(2022, 1, 1), employer="某公司"
            )
            person = persons.get_person(s, idn)
            ledger.transfer(
                s,
                kind=EntryKind.CREDIT,
                source=ledger.system_account(s, Purpose.CONTRIBUTIONS, person.id),
                target=ledger.member_account(s, person.id, create=True),
                amount=FUNDS,
                member_id=person.id,
            )
            ids.append(idn)
            person_ids.append(person.id)
        for idn in ids[:readers]:
            logins.set_person_password(s, id_number=idn, new_password=PASSWORD)
    key = institution_key(engine, "BENCH01")
    engine.dispose()
    return ids, ids[:readers], key, person_ids


# ---- the load process: raw HTTP/1.1 keep-alive, one asyncio loop ---------------------------------


def _request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    if body or method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _client(port: int, make: Any, deadline: float, lat: list[float], codes: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = 0
    while (now := time.perf_counter()) < deadline:
        writer.write(make(n))
        status = await _read_response(reader)
        lat.append(time.perf_counter() - now)
        codes[status] = codes.get(status, 0) + 1
        n += 1
    writer.close()


def _load(port: int, workload: str, clients: int, seconds: float, ctx: dict[str, Any], out: Any) -> None:
    def maker(i: int) -> Any:
        if workload == "healthz":
            req = _request("GET", "/healthz", {})
            return lambda n: req
        if workload == "read":
            idn, token = ctx["readers"][i % len(ctx["readers"])]
            req = _request("GET", f"/api/accounts/{idn}", {"Authorization": f"Bearer {token}"})
            return lambda n: req
        payers = ctx["payers"]
        auth = {"Authorization": f"Bearer {ctx['key']}", "X-Source-System": "BENCH01"}
        body = json.dumps({"amount": "1.00", "category": "designated_pharmacy", "institution": "BENCH01"}).encode()
        tag = uuid.uuid4().hex[:12]

        def pay(n: int) -> bytes:
            idn = payers[(i * 7919 + n * 104729) % len(payers)]
            return _request("POST", f"/api/accounts/{idn}/payments", {**auth, "Idempotency-Key": f"{tag}-{n}"}, body)

        return pay

    async def run() -> tuple[list[float], dict[int, int], float]:
        lat: list[float] = []
        codes: dict[int, int] = {}
        t0 = time.perf_counter()
        deadline = t0 + seconds
        await asyncio.gather(*(_client(port, maker(i), deadline, lat, codes) for i in range(clients)))
        return lat, codes, time.perf_counter() - t0

    lat, codes, elapsed = asyncio.run(run())
    out.put((lat, codes, elapsed))


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def _server_pids(root: int) -> list[int]:
    pids = [root]
    for task in Path(f"/proc/{root}/task").iterdir():
        children = task / "children"
        if children.exists():
            pids += [int(c) for c in children.read_text().split()]
    return pids


def _backend_pids(db_url: str) -> list[int]:
    with create_engine(db_url).connect() as c:
        return list(c.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars())


def http_round(
    port: int, workload: str, clients: int, seconds: float, ctx: dict[str, Any], server_pid: int, db_url: str
) -> dict[str, Any]:
    """One timed round of one workload from a separate load process, with the CPU it cost where."""
    q: Any = mp.Queue()
    p = mp.Process(target=_load, args=(port, workload, clients, seconds, ctx, q))
    servers = _server_pids(server_pid)
    backends = _backend_pids(db_url)
    cpu0 = _cpu_seconds(servers), _cpu_seconds(backends)
    p.start()
    lat, codes, elapsed = q.get()
    p.join()
    backends = sorted(set(backends) | set(_backend_pids(db_url)))
    cpu1 = _cpu_seconds(servers), _cpu_seconds(backends)
    lat.sort()
    ok = sum(v for k, v in codes.items() if 200 <= k < 300)
    n = max(1, sum(codes.values()))
    return {
        "per_second": ok / elapsed,
        "p50_ms": 1000 * lat[len(lat) // 2] if lat else None,
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None,
        "server_cpu_ms_per_request": 1000 * (cpu1[0] - cpu0[0]) / n,
        "postgres_cpu_ms_per_request": 1000 * (cpu1[1] - cpu0[1]) / n,
        "statuses": {str(k): v for k, v in sorted(codes.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the figures are medians")
    parser.add_argument("--payers", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "http.json")
    args = parser.parse_args()

    spec = importlib.util.spec_from_file_location("ledger_bench", BENCH / "ledger.py")
    assert spec and spec.loader
    ledger_bench = importlib.util.module_from_spec(spec)  # bench/ledger.py: the in-process pay_once client
    spec.loader.exec_module(ledger_bench)
    from tests.live import LiveServer, person_token

    with ledger_bench.throwaway_database() as db_url:
        payers, readers, key, person_ids = setup(db_url, args.payers, min(16, args.payers))
        with LiveServer(db_url, workers=args.workers) as server:
            ctx = {
                "payers": payers,
                "readers": [(idn, person_token(server.url, idn, PASSWORD)) for idn in readers],
                "key": key,
            }
            runs: dict[str, list[dict[str, Any]]] = {"healthz": [], "read": [], "pay": []}
            in_process: list[float] = []
            for _ in range(args.repeat):
                for workload in runs:
                    runs[workload].append(
                        http_round(server.port, workload, args.clients, args.seconds, ctx, server.pid, db_url)
                    )
                in_process.append(ledger_bench.yibao_rate(db_url, person_ids, args.clients, args.seconds, hot=False))
        med = {
            w: {
                k: statistics.median(r[k] for r in rs)
                for k in ("per_second", "p50_ms", "p99_ms", "server_cpu_ms_per_request", "postgres_cpu_ms_per_request")
                if all(r[k] is not None for r in rs)
            }
            for w, rs in runs.items()
        }
        figures: dict[str, Any] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "clients": args.clients,
            "workers": args.workers,
            "seconds": args.seconds,
            "repeat": args.repeat,
            "healthz_per_second": med["healthz"]["per_second"],
            "reads_per_second": med["read"]["per_second"],
            "read_p50_ms": med["read"]["p50_ms"],
            "read_p99_ms": med["read"]["p99_ms"],
            "payments_per_second": med["pay"]["per_second"],
            "payment_p50_ms": med["pay"]["p50_ms"],
            "payment_p99_ms": med["pay"]["p99_ms"],
            "in_process_pay_once_per_second": statistics.median(in_process),
            "cpu_ms_per_request": {
                w: {"server": m["server_cpu_ms_per_request"], "postgres": m["postgres_cpu_ms_per_request"]}
                for w, m in med.items()
            },
            "runs": {**runs, "in_process_pay_once": in_process},
        }
        figures["payments_over_healthz"] = figures["payments_per_second"] / figures["healthz_per_second"]
        figures["reads_over_healthz"] = figures["reads_per_second"] / figures["healthz_per_second"]
        figures["payments_over_in_process"] = figures["payments_per_second"] / figures["in_process_pay_once_per_second"]
        ledger_bench.write_figures(db_url, figures, args.out)
        print(json.dumps({k: v for k, v in figures.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
