"""Ledger throughput on PostgreSQL: payments per second with 16 concurrent clients, next to pgbench.

Run: ``.venv/bin/python bench/ledger.py [--seconds 10] [--clients 16]`` (PostgreSQL from
YIBAO_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres). Writes
bench/results/ledger.json. Two workloads through yibao's ledger (``ledger.pay_once`` on an autocommit
connection, the hospital path: each payment a guarded debit of a member account, a credit of a
sharded settlement account, a journal entry with two lines and an idempotency record, as its own
transaction), spread over many accounts and on one hot account; and, on the same server in the same
run, pgbench running an equivalent single-statement transfer (guarded debit, credit and journal line
in one SQL statement) as the yardstick. For context pgbench also sends yibao's own payment statement,
which is the ceiling any client of this schema could reach. The 16 clients are 16 connections driven
by 2 processes of 8 threads, as pgbench drives its 16 connections from 2 threads (-j 2).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
MEMBERS = 2000
FUNDS = 10**12  # fen per member: enough never to run out during a run


def _admin_url() -> str:
    from yibao.core.db import normalize_url

    return normalize_url(os.environ.get("YIBAO_TEST_PG_URL", PG_DEFAULT))


def _setup(db_url: str) -> list[int]:
    from yibao.accounts import ledger
    from yibao.accounts.models import EntryKind, Purpose
    from yibao.core import migrate
    from yibao.core.auth import system_principal
    from yibao.core.db import make_engine
    from yibao.core.unit import unit_of_work
    from yibao.people.models import Person

    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    ids: list[int] = []
    with unit_of_work(engine, principal=system_principal()) as s:
        for i in range(MEMBERS):
            p = Person(
                id_number=f"B{i:017d}",
                name="压测",
                sex="M",
                birth_date=datetime(1980, 1, 1).date(),
                phone=None,
                created_at=datetime.now(UTC),
            )
            s.add(p)
            s.flush()
            acc = ledger.member_account(s, p.id, create=True)
            ledger.transfer(
                s,
                kind=EntryKind.CREDIT,
                source=ledger.system_account(s, Purpose.CONTRIBUTIONS, p.id),
                target=acc,
                amount=FUNDS,
                member_id=p.id,
            )
            ids.append(p.id)
    engine.dispose()
    return ids


def _worker(
    db_url: str, members: list[int], seconds: float, hot: bool, seeds: list[int], out: Any, ready: Any, go: Any
) -> None:
    """One client process running one client thread (and connection) per seed, as pgbench's -j threads do."""
    import random
    import threading

    from sqlalchemy.orm import Session

    from yibao.accounts import ledger
    from yibao.accounts.models import Purpose
    from yibao.core.db import make_engine

    engine = make_engine(db_url, pool_size=len(seeds))
    with Session(engine) as s:
        targets = {m: ledger.system_account(s, Purpose.SETTLEMENTS, m) for m in members}
    # The hospital path: each payment is its own transaction on a connection held by the client.
    conns = [engine.connect().execution_options(isolation_level="AUTOCOMMIT") for _ in seeds]
    done = [0] * len(seeds)

    def client(i: int) -> None:
        conn, rng = conns[i], random.Random(seeds[i])
        source = f"bench-{seeds[i]}"
        deadline = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < deadline:
            member = members[0] if hot else rng.choice(members)
            payment = ledger.MemberPayment(
                member_id=member, target=targets[member], amount=100, category="designated_pharmacy", reference="药店"
            )
            body = {"op": "pay", "holder": member, "amount": 100, "category": "designated_pharmacy"}
            ledger.pay_once(conn, payment, source=source, key=uuid.uuid4().hex, body=body)
            n += 1
        done[i] = n

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(seeds))]
    ready.put(len(seeds))
    go.wait()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for conn in conns:
        conn.close()
    engine.dispose()
    out.put(sum(done))


def yibao_rate(db_url: str, members: list[int], clients: int, seconds: float, hot: bool, processes: int = 2) -> float:
    """Payments per second through the ledger with ``clients`` connections spread over ``processes`` processes."""
    q: Any = mp.Queue()
    ready: Any = mp.Queue()
    go = mp.Event()
    seeds = [list(range(clients))[i::processes] for i in range(processes)]
    procs = [mp.Process(target=_worker, args=(db_url, members, seconds, hot, part, q, ready, go)) for part in seeds]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get()  # every client connected: start the clock
    t0 = time.perf_counter()
    go.set()
    total = sum(q.get() for _ in procs)
    for p in procs:
        p.join()
    return total / (time.perf_counter() - t0)


MEASURES = (
    "yibao_spread_payments_per_second",
    "yibao_hot_account_payments_per_second",
    "pgbench_spread_tps",
    "pgbench_hot_tps",
    "pgbench_same_statement_spread_tps",
    "pgbench_same_statement_hot_tps",
)

PGBENCH_SCRIPT = """\\set a random(1, {members})
\\set b random(1, 8)
WITH d AS (UPDATE bench_accounts SET balance = balance - 100 WHERE id = :a AND balance >= 100 RETURNING id),
     c AS (UPDATE bench_accounts SET balance = balance + 100 WHERE id = {members} + :b AND EXISTS (SELECT 1 FROM d) RETURNING id)
INSERT INTO bench_journal(debit_id, credit_id, amount) SELECT d.id, c.id, 100 FROM d, c;
"""


def pgbench_rate(db_url: str, clients: int, seconds: int, hot: bool) -> float:
    """Transactions per second of pgbench running the single-statement transfer."""
    engine = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text("DROP TABLE IF EXISTS bench_journal, bench_accounts"))
        c.execute(text("CREATE TABLE bench_accounts (id int PRIMARY KEY, balance bigint NOT NULL)"))
        c.execute(
            text("CREATE TABLE bench_journal (id bigserial PRIMARY KEY, debit_id int, credit_id int, amount bigint)")
        )
        c.execute(text(f"INSERT INTO bench_accounts SELECT g, {FUNDS} FROM generate_series(1, {MEMBERS + 8}) g"))
    engine.dispose()
    return _pgbench(db_url, PGBENCH_SCRIPT.format(members=1 if hot else MEMBERS), clients, seconds)


def pgbench_same_statement_rate(db_url: str, members: list[int], clients: int, seconds: int, hot: bool) -> float:
    """Transactions per second of pgbench sending yibao's own payment statement (the ceiling for any client)."""
    from yibao.accounts import ledger

    lo, hi = min(members), max(members)
    assert sorted(members) == list(range(lo, hi + 1)), "members are numbered without gaps"
    engine = create_engine(db_url)
    with engine.connect() as c:
        shards = dict(c.execute(text("SELECT shard, id FROM ledger_accounts WHERE purpose = 'settlements'")).all())
    engine.dispose()
    literal = {
        "source": "'pgbench-' || :client_id",
        "key": "CAST(:k AS TEXT)",
        "request_hash": "'" + "0" * 64 + "'",
        "answer": "'" + json.dumps({"entry_id": 0, "amount": "-1.00"}) + "'",
        "member_id": ":m",
        "beneficiary_id": ":m",
        "credit_id": "CASE :m % 8 " + " ".join(f"WHEN {k} THEN {v}" for k, v in shards.items()) + " END",
        "amount": "100",
        "need": "100",
        "kind": "'payment'",
        "category": "'designated_pharmacy'",
        "reference": "'药店'",
        "reverses_id": "NULL",
        "created_at": "now()",
    }
    sql = re.sub(r"(?<!:):([a-z_]+)", lambda m: literal[m.group(1)], ledger._PAY_ONCE_SQL)
    member = f"\\set m {lo}" if hot else f"\\set m random({lo}, {hi})"
    script = f"{member}\n\\set k random(1, 9000000000000000000)\n" + " ".join(sql.split()) + ";\n"
    return _pgbench(db_url, script, clients, seconds, prepared=True)  # prepared, as yibao sends it


def _pgbench(db_url: str, script: str, clients: int, seconds: int, prepared: bool = False) -> float:
    url = make_url(db_url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    cmd = [
        "pgbench",
        "-n",
        *(["-M", "prepared"] if prepared else []),
        "-c",
        str(clients),
        "-j",
        "2",
        "-T",
        str(seconds),
        "-f",
        f.name,
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
        url.database or "postgres",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    m = re.search(r"tps = ([0-9.]+)", res.stdout)
    if not m:
        raise RuntimeError(res.stdout + res.stderr)
    return float(m.group(1))


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A new PostgreSQL database for one benchmark run (its URL), dropped afterwards."""
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"yibao_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(_admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write_figures(db_url: str, figures: dict[str, Any], out: Path) -> None:
    """Add whether the ledger verifies after the run, and write the figures."""
    from sqlalchemy.orm import Session

    from yibao.accounts.ledger import verify

    with create_engine(db_url).connect() as c:
        figures["ledger_verified"] = verify(Session(bind=c)).ok
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    global MEMBERS
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the figures are medians")
    parser.add_argument("--members", type=int, default=MEMBERS, help="funded member accounts")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ledger.json")
    args = parser.parse_args()
    MEMBERS = args.members
    with throwaway_database() as db_url:
        members = _setup(db_url)
        n, secs = args.clients, args.seconds
        runs: dict[str, list[float]] = {k: [] for k in MEASURES}
        # Interleaved rounds, so that the machine's ups and downs fall on every workload alike.
        for _ in range(args.repeat):
            runs["yibao_spread_payments_per_second"].append(yibao_rate(db_url, members, n, secs, hot=False))
            runs["pgbench_spread_tps"].append(pgbench_rate(db_url, n, secs, hot=False))
            runs["yibao_hot_account_payments_per_second"].append(yibao_rate(db_url, members, n, secs, hot=True))
            runs["pgbench_hot_tps"].append(pgbench_rate(db_url, n, secs, hot=True))
            runs["pgbench_same_statement_spread_tps"].append(
                pgbench_same_statement_rate(db_url, members, n, secs, hot=False)
            )
            runs["pgbench_same_statement_hot_tps"].append(
                pgbench_same_statement_rate(db_url, members, n, secs, hot=True)
            )
        figures: dict[str, Any] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "clients": n,
            "seconds": secs,
            "repeat": args.repeat,
            "client_processes": 2,
            **{k: statistics.median(v) for k, v in runs.items()},
            "runs": runs,
        }
        for kind in ("spread", "hot"):
            ours = figures[
                "yibao_spread_payments_per_second" if kind == "spread" else "yibao_hot_account_payments_per_second"
            ]
            figures[f"{kind}_ratio_to_pgbench"] = ours / figures[f"pgbench_{kind}_tps"]
            figures[f"{kind}_ratio_to_same_statement"] = ours / figures[f"pgbench_same_statement_{kind}_tps"]
        write_figures(db_url, figures, args.out)
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
