"""The national interface on PostgreSQL: signed 1101 messages per second through a real ``yibao serve``.

Run: ``.venv/bin/python bench/gateway.py [--seconds 20] [--clients 16] [--workers 2] [--repeat 3]``
(PostgreSQL from YIBAO_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres). Writes
bench/results/gateway.json.

A throwaway database gets Kunming residents and a designated hospital; ``yibao serve --workers N`` runs on
it. A separate load process keeps ``--clients`` keep-alive connections busy (plain HTTP/1.1 on asyncio
streams, bench/http.py's client) with, in interleaved rounds: ``GET /healthz`` (the HTTP stack and one
database round trip: the ceiling) and 1101 person-information messages, each signed afresh (its own nonce,
timestamp and msgid), each a whole message: signature and nonce claim, envelope, designation, access rule
and audit record, the person with their records and account, the msgid's idempotency record, COMMIT.
Only answers with ``infcode 0`` count. Figures are medians of the rounds, with p50/p99 latency and the
CPU each request costs in the server and in PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import json
import multiprocessing as mp
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:] = [str(BENCH.parent), *(p for p in sys.path if Path(p or ".").resolve() != BENCH)]

PATH = "/fsi/api/rsfComIfsService/callService"
CODE = "H53010000001"


def _module(name: str) -> Any:
    """A sibling benchmark script as a module (bench/http.py's name would shadow the standard library)."""
    spec = importlib.util.spec_from_file_location(f"{name}_bench", BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def setup(db_url: str, persons: int) -> tuple[list[str], dict[str, str]]:
    """Kunming residents (their ID numbers) and a level-3 hospital's credentials."""
    from tests.live import REGION, fresh_id_numbers
    from yibao.core import migrate
    from yibao.core.auth import system_principal
    from yibao.core.db import make_engine
    from yibao.core.unit import unit_of_work
    from yibao.institutions import service as institutions
    from yibao.people import enrolment as people

    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    with unit_of_work(engine, principal=system_principal()) as s:
        ids = fresh_id_numbers(persons)
        for idn in ids:
            people.register_resident(s, id_number=idn, name="压测", region=REGION, on=date(2022, 9, 5))
        row, secret = institutions.add(
            s, code=CODE, name="压测医院", kind="hospital", level=3, region=REGION, designated_from=date(2015, 1, 1)
        )
        creds = {"code": row.code, "paasid": row.paasid, "secret": secret}
    engine.dispose()
    return ids, creds


async def _client(port: int, make: Any, deadline: float, lat: list[float], codes: dict[str, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = 0
    while (now := time.perf_counter()) < deadline:
        writer.write(make(n))
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line[15:]) for line in head.split(b"\r\n") if line[:15].lower() == b"content-length:")
        body = await reader.readexactly(length)
        lat.append(time.perf_counter() - now)
        status = head[9:12].decode()
        ok = status == "200" and (b'"infcode":0,' in body or b'"status":"ok"' in body)
        key = "ok" if ok else f"{status}:{body[:160].decode(errors='replace')}"
        codes[key] = codes.get(key, 0) + 1
        n += 1
    writer.close()


def _load(port: int, workload: str, clients: int, seconds: float, ctx: dict[str, Any], out: Any) -> None:
    http = _module("http")

    def maker(i: int) -> Any:
        if workload == "healthz":
            req = http._request("GET", "/healthz", {})
            return lambda n: req
        ids, creds, tag = ctx["ids"], ctx["creds"], uuid.uuid4().hex[:8]

        def message(n: int) -> bytes:
            idn = ids[(i * 7919 + n * 104729) % len(ids)]
            ts = str(int(time.time()))
            nonce = f"{tag}{i:02d}{n}"
            envelope = {
                "infno": "1101",
                "msgid": f"{creds['code']}{tag}{i:02d}{n:08d}",
                "fixmedins_code": creds["code"],
                "inf_time": time.strftime("%Y-%m-%d %H:%M:%S"),
                "sign_no": "",
                "insuplc_admdvs": "",
                "input": {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": idn, "certno": "", "psn_name": ""}},
            }
            headers = {
                "x-tif-paasid": creds["paasid"],
                "x-tif-timestamp": ts,
                "x-tif-nonce": nonce,
                "x-tif-signature": hashlib.sha256(f"{ts}{creds['secret']}{nonce}{ts}".encode()).hexdigest(),
            }
            return bytes(http._request("POST", PATH, headers, json.dumps(envelope).encode()))

        return message

    async def run() -> tuple[list[float], dict[str, int], float]:
        lat: list[float] = []
        codes: dict[str, int] = {}
        t0 = time.perf_counter()
        deadline = t0 + seconds
        await asyncio.gather(*(_client(port, maker(i), deadline, lat, codes) for i in range(clients)))
        return lat, codes, time.perf_counter() - t0

    out.put(asyncio.run(run()))


def gateway_round(
    port: int, workload: str, clients: int, seconds: float, ctx: dict[str, Any], server_pid: int, db_url: str
) -> dict[str, Any]:
    """One timed round of one workload from a separate load process, with the CPU it cost where."""
    http = _module("http")
    q: Any = mp.Queue()
    p = mp.Process(target=_load, args=(port, workload, clients, seconds, ctx, q))
    servers = http._server_pids(server_pid)
    backends = http._backend_pids(db_url)
    cpu0 = http._cpu_seconds(servers), http._cpu_seconds(backends)
    p.start()
    lat, codes, elapsed = q.get()
    p.join()
    backends = sorted(set(backends) | set(http._backend_pids(db_url)))
    cpu1 = http._cpu_seconds(servers), http._cpu_seconds(backends)
    lat.sort()
    n = max(1, sum(codes.values()))
    return {
        "per_second": codes.get("ok", 0) / elapsed,
        "p50_ms": 1000 * lat[len(lat) // 2] if lat else None,
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None,
        "server_cpu_ms_per_request": 1000 * (cpu1[0] - cpu0[0]) / n,
        "postgres_cpu_ms_per_request": 1000 * (cpu1[1] - cpu0[1]) / n,
        "answers": dict(sorted(codes.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the figures are medians")
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "gateway.json")
    args = parser.parse_args()

    ledger = _module("ledger")
    from tests.live import LiveServer

    with ledger.throwaway_database() as db_url:
        ids, creds = setup(db_url, args.persons)
        with LiveServer(db_url, workers=args.workers) as server:
            ctx = {"ids": ids, "creds": creds}
            runs: dict[str, list[dict[str, Any]]] = {"healthz": [], "1101": []}
            for _ in range(args.repeat):
                for workload in runs:
                    runs[workload].append(
                        gateway_round(server.port, workload, args.clients, args.seconds, ctx, server.pid, db_url)
                    )
        keys = ("per_second", "p50_ms", "p99_ms", "server_cpu_ms_per_request", "postgres_cpu_ms_per_request")
        med = {
            w: {k: statistics.median(r[k] for r in rs) for k in keys if all(r[k] is not None for r in rs)}
            for w, rs in runs.items()
        }
        figures: dict[str, Any] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "clients": args.clients,
            "workers": args.workers,
            "seconds": args.seconds,
            "repeat": args.repeat,
            "healthz_per_second": med["healthz"]["per_second"],
            "healthz_p50_ms": med["healthz"]["p50_ms"],
            "healthz_p99_ms": med["healthz"]["p99_ms"],
            "person_info_1101_per_second": med["1101"]["per_second"],
            "person_info_1101_p50_ms": med["1101"]["p50_ms"],
            "person_info_1101_p99_ms": med["1101"]["p99_ms"],
            "cpu_ms_per_request": {
                w: {"server": m["server_cpu_ms_per_request"], "postgres": m["postgres_cpu_ms_per_request"]}
                for w, m in med.items()
            },
            "runs": runs,
        }
        figures["person_info_1101_over_healthz"] = (
            figures["person_info_1101_per_second"] / figures["healthz_per_second"]
        )
        ledger.write_figures(db_url, figures, args.out)
        print(json.dumps({k: v for k, v in figures.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
