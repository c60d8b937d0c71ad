"""Ledger throughput on PostgreSQL: payments per second with 16 concurrent clients, next to pgbench.

Run: ``.venv/bin/python bench/ledger.py [--seconds 10] [--clients 16]`` (PostgreSQL from
YIBAO_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres). Writes
bench/results/ledger.json. Two workloads through yibao's ledger (each payment: a guarded debit of a
member account, a credit of a sharded settlement account, a journal entry with two lines and an
idempotency record, in one transaction), spread over many accounts and on one hot account; and, on
the same server in the same run, pgbench running an equivalent single-statement transfer (guarded
debit, credit and journal line in one SQL statement) as the yardstick.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import subprocess
import tempfile
import time
import uuid
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
    from yibao.accounts.models import Purpose
    from yibao.core import migrate
    from yibao.core.db import make_engine, unit_of_work
    from yibao.people.models import Person

    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    ids: list[int] = []
    with unit_of_work(engine) as s:
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
                kind="credit",
                source=ledger.system_account(s, Purpose.CONTRIBUTIONS, p.id),
                target=acc,
                amount=FUNDS,
                member_id=p.id,
            )
            ids.append(p.id)
    engine.dispose()
    return ids


def _worker(
    db_url: str, members: list[int], seconds: float, hot: bool, seed: int, out: Any, ready: Any, go: Any
) -> None:
    import random

    from yibao.accounts import ledger
    from yibao.accounts.models import Purpose
    from yibao.core.db import make_engine, unit_of_work

    engine = make_engine(db_url, pool_size=1)
    with engine.connect():
        pass  # connect and import before the clock starts
    rng = random.Random(seed)
    done = 0
    ready.put(seed)
    go.wait()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        member = members[0] if hot else rng.choice(members)
        with unit_of_work(engine) as s:

            def run(s: Any = s, member: int = member) -> dict[str, Any]:
                e = ledger.transfer(
                    s,
                    kind="payment",
                    source=ledger.member_account(s, member),
                    target=ledger.system_account(s, Purpose.SETTLEMENTS, member),
                    amount=100,
                    member_id=member,
                    category="designated_pharmacy",
                )
                return {"entry": e.id}

            ledger.idempotent(s, source=f"bench-{seed}", key=uuid.uuid4().hex, body={"m": member}, run=run)
        done += 1
    engine.dispose()
    out.put(done)


def yibao_rate(db_url: str, members: list[int], clients: int, seconds: float, hot: bool) -> float:
    """Payments per second through the ledger with ``clients`` processes."""
    q: Any = mp.Queue()
    ready: Any = mp.Queue()
    go = mp.Event()
    procs = [mp.Process(target=_worker, args=(db_url, members, seconds, hot, i, q, ready, go)) for i in range(clients)]
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
    script = PGBENCH_SCRIPT.format(members=1 if hot else MEMBERS)
    url = make_url(db_url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    cmd = [
        "pgbench",
        "-n",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ledger.json")
    args = parser.parse_args()
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"yibao_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = make_url(_admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        members = _setup(db_url)
        figures = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "clients": args.clients,
            "seconds": args.seconds,
            "yibao_spread_payments_per_second": yibao_rate(db_url, members, args.clients, args.seconds, hot=False),
            "yibao_hot_account_payments_per_second": yibao_rate(db_url, members, args.clients, args.seconds, hot=True),
            "pgbench_spread_tps": pgbench_rate(db_url, args.clients, args.seconds, hot=False),
            "pgbench_hot_tps": pgbench_rate(db_url, args.clients, args.seconds, hot=True),
        }
        figures["spread_ratio_to_pgbench"] = figures["yibao_spread_payments_per_second"] / figures["pgbench_spread_tps"]
        figures["hot_ratio_to_pgbench"] = figures["yibao_hot_account_payments_per_second"] / figures["pgbench_hot_tps"]
        with create_engine(db_url).connect() as c:
            from sqlalchemy.orm import Session

            from yibao.accounts.ledger import verify

            figures["ledger_verified"] = verify(Session(bind=c)).ok
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(figures, indent=2))
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
