"""Acknowledged means committed, shown on a real ``yibao serve`` process on PostgreSQL.

A 2xx answer is sent only after COMMIT succeeded: a commit that fails (a deferred constraint, a
connection killed at that moment) answers an error and leaves nothing; 200 requests at once get
answers (no 500, no reset, no hang), and every acknowledged payment is stored, every refused one absent.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text

from tests.live import LiveServer, balances_left, institution_key, seed_employees, staff_token
from yibao.accounts.models import JournalEntry
from yibao.core.db import make_engine
from yibao.core.idempotency import IdempotencyRecord

pytestmark = pytest.mark.pg


@pytest.fixture(scope="module")
def live_pg(pg_url: str) -> Iterator[tuple[LiveServer, Engine]]:
    """One server process (2 workers) on this run's PostgreSQL database."""
    engine = make_engine(pg_url)
    with LiveServer(pg_url, workers=2) as server:
        yield server, engine
    engine.dispose()


def _stored(engine: Engine, source: str, key: str) -> bool:
    with engine.connect() as conn:
        return (
            conn.scalar(
                select(func.count())
                .select_from(IdempotencyRecord)
                .where(IdempotencyRecord.source.endswith(f"/{source}"), IdempotencyRecord.key == key)
            )
            == 1
        )


def _entries(engine: Engine, reference: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).where(JournalEntry.reference == reference)) or 0)


def _pay(server: LiveServer, api_key: str, idn: str, *, institution: str, key: str, amount: str = "1.00") -> Any:
    return httpx.post(
        f"{server.url}/api/accounts/{idn}/payments",
        json={"amount": amount, "category": "designated_pharmacy", "institution": institution},
        headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": key, "X-Source-System": institution},
        timeout=30,
    )


def _failing_commit(engine: Engine, name: str, reference: str, body: str) -> None:
    """A deferred constraint trigger that runs ``body`` at COMMIT of any entry for ``reference``."""
    with engine.begin() as conn:
        conn.execute(
            text(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$")
        )
        conn.execute(
            text(
                f"CREATE CONSTRAINT TRIGGER {name} AFTER INSERT ON journal_entries DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW WHEN (NEW.reference = '{reference}') EXECUTE FUNCTION {name}()"
            )
        )


def _drop(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"DROP TRIGGER {name} ON journal_entries"))
        conn.execute(text(f"DROP FUNCTION {name}()"))


@pytest.mark.parametrize(
    "fault",
    [
        "RAISE EXCEPTION 'deferred check failed at commit';",
        # The server's own connection dies between the write and the end of COMMIT.
        "PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(1);",
    ],
    ids=["commit-refused", "connection-killed"],
)
def test_a_failed_commit_is_never_acknowledged(live_pg: tuple[LiveServer, Engine], fault: str) -> None:
    server, engine = live_pg
    run = uuid.uuid4().hex[:8]
    code = f"F{run}"
    api_key = institution_key(engine, code)
    (idn,) = seed_employees(engine, 1, balance_fen=10_000)
    name = f"fail_{run}"
    _failing_commit(engine, name, code, fault)
    try:
        r = _pay(server, api_key, idn, institution=code, key=f"k-{run}")
        assert r.status_code >= 500, r.text
        assert r.headers.get("retry-after") or r.status_code == 500
        assert not _stored(engine, code, f"k-{run}")
        assert _entries(engine, code) == 0
    finally:
        _drop(engine, name)
    # The client retries with the same key once the fault is gone: paid exactly once.
    again = _pay(server, api_key, idn, institution=code, key=f"k-{run}")
    assert again.status_code == 201, again.text
    assert _pay(server, api_key, idn, institution=code, key=f"k-{run}").json() == again.json()
    assert _entries(engine, code) == 1


def test_200_concurrent_requests_all_answered_and_every_acknowledged_payment_stored(
    live_pg: tuple[LiveServer, Engine],
) -> None:
    server, engine = live_pg
    run = uuid.uuid4().hex[:8]
    code = f"C{run}"
    api_key = institution_key(engine, code)
    # 20 accounts of 5.00 each and 160 payments of 1.00, 8 per account: 3 of the 8 must be refused.
    ids = seed_employees(engine, 20, balance_fen=500)
    auth = {"Authorization": f"Bearer {api_key}", "X-Source-System": code}
    reader = {"Authorization": f"Bearer {staff_token(engine, server.url, f'clerk{run}')}"}

    async def one(client: httpx.AsyncClient, i: int) -> tuple[str, str, int]:
        idn = ids[i % len(ids)]
        if i % 5 == 4:  # every fifth request reads a balance
            r = await client.get(f"/api/accounts/{idn}", headers=reader)
            return ("read", "", r.status_code)
        key = f"p-{run}-{i}"
        r = await client.post(
            f"/api/accounts/{idn}/payments",
            json={"amount": "1.00", "category": "designated_pharmacy", "institution": code},
            headers={**auth, "Idempotency-Key": key},
        )
        return ("pay", key, r.status_code)

    async def fire() -> list[tuple[str, str, int]]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as client:
            return await asyncio.gather(*(one(client, i) for i in range(200)))

    results = asyncio.run(fire())  # a reset or a timeout would raise here
    statuses = [s for _, _, s in results]
    assert 500 not in statuses, server.log_text()[-3000:]
    assert all(s in (200, 201, 422, 503) for s in statuses), statuses
    paid = [k for kind, k, s in results if kind == "pay" and s == 201]
    refused = [k for kind, k, s in results if kind == "pay" and s != 201]
    assert 0 < len(paid) <= 20 * 5  # never more than the money there was
    for key in paid:
        assert _stored(engine, code, key), key
    for key in refused:
        assert not _stored(engine, code, key), key
    assert _entries(engine, code) == len(paid)
    assert balances_left(engine, ids) == 20 * 500 - 100 * len(paid)


def test_beyond_capacity_a_request_waits_briefly_then_gets_503_with_retry_after(pg_url: str) -> None:
    engine = make_engine(pg_url)
    run = uuid.uuid4().hex[:8]
    (idn,) = seed_employees(engine, 1, balance_fen=100)
    # One database slot and a 50 ms wait: 64 readers at once cannot all be served in time.
    env = {"YIBAO_DB_POOL_SIZE": "1", "YIBAO_QUEUE_SECONDS": "0.05"}
    with LiveServer(pg_url, workers=1, env=env) as server:
        reader = {"Authorization": f"Bearer {staff_token(engine, server.url, f'busy{run}')}"}

        async def fire() -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=0)
            async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
                return await asyncio.gather(*(client.get(f"/api/accounts/{idn}", headers=reader) for _ in range(64)))

        started = time.monotonic()
        answers = asyncio.run(fire())
        elapsed = time.monotonic() - started
    engine.dispose()
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {200, 503}, statuses
    busy = [r for r in answers if r.status_code == 503]
    assert busy and all(r.headers["retry-after"] == "1" and r.json()["code"] == "busy" for r in busy)
    assert 200 in statuses
    assert elapsed < 10


def test_connections_killed_while_idle_cost_no_request(live_pg: tuple[LiveServer, Engine]) -> None:
    """Pooled connections terminated by the database (a restart, an administrator) are replaced unnoticed."""
    server, engine = live_pg
    run = uuid.uuid4().hex[:8]
    code = f"K{run}"
    api_key = institution_key(engine, code)
    (idn,) = seed_employees(engine, 1, balance_fen=10_000)
    for i in range(8):  # fill both workers' pools
        assert _pay(server, api_key, idn, institution=code, key=f"w-{run}-{i}").status_code == 201
    with engine.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'"
            )
        ).scalar()
    assert killed
    answers = [_pay(server, api_key, idn, institution=code, key=f"a-{run}-{i}") for i in range(8)]
    assert [r.status_code for r in answers] == [201] * 8, [r.text for r in answers]
    assert _entries(engine, code) == 16


def test_concurrent_retries_of_one_key_all_get_the_first_answer(live_pg: tuple[LiveServer, Engine]) -> None:
    server, engine = live_pg
    run = uuid.uuid4().hex[:8]
    code = f"R{run}"
    api_key = institution_key(engine, code)
    (idn,) = seed_employees(engine, 1, balance_fen=150)  # enough for one payment of 1.00, not two
    headers = {"Authorization": f"Bearer {api_key}", "X-Source-System": code, "Idempotency-Key": f"same-{run}"}
    body = {"amount": "1.00", "category": "designated_pharmacy", "institution": code}

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            return await asyncio.gather(
                *(client.post(f"/api/accounts/{idn}/payments", json=body, headers=headers) for _ in range(20))
            )

    answers = asyncio.run(fire())
    assert {r.status_code for r in answers} == {201}, [r.text for r in answers]
    assert len({r.text for r in answers}) == 1
    assert _entries(engine, code) == 1


def test_one_institution_cannot_take_anothers_keys(live_pg: tuple[LiveServer, Engine]) -> None:
    server, engine = live_pg
    run = uuid.uuid4().hex[:8]
    a, b = f"A{run}", f"B{run}"
    key_a, key_b = institution_key(engine, a), institution_key(engine, b)
    (idn,) = seed_employees(engine, 1, balance_fen=10_000)
    body = {"amount": "1.00", "category": "designated_pharmacy"}
    same = {"Idempotency-Key": f"shared-{run}", "X-Source-System": "his"}  # the same header values for both
    first = httpx.post(
        f"{server.url}/api/accounts/{idn}/payments",
        json={**body, "institution": a},
        headers={**same, "Authorization": f"Bearer {key_a}"},
    )
    second = httpx.post(
        f"{server.url}/api/accounts/{idn}/payments",
        json={**body, "institution": b},
        headers={**same, "Authorization": f"Bearer {key_b}"},
    )
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert first.json()["entry_id"] != second.json()["entry_id"]
    assert _entries(engine, a) == _entries(engine, b) == 1


def test_a_burst_of_connections_is_spread_over_the_workers(live_pg: tuple[LiveServer, Engine]) -> None:
    """Each worker accepts from a socket of its own: 16 connections opened at once do not all land on the
    worker that happened to wake first (uvicorn's shared socket let one worker take them all)."""
    import socket

    import psutil

    server, _ = live_pg
    children = psutil.Process(server.pid).children()
    workers = [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]
    assert len(workers) == 2
    conns = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(16)]
    try:
        for c in conns:  # one request on each, so that every connection has been accepted
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        for c in conns:
            assert c.recv(65536).startswith(b"HTTP/1.1 200")
        served = [
            sum(1 for k in w.net_connections("tcp") if k.laddr.port == server.port and k.status == "ESTABLISHED")
            for w in workers
        ]
    finally:
        for c in conns:
            c.close()
    assert sum(served) == 16
    assert min(served) >= 2, served  # the kernel's hash spread: 1 in 2,000 to fall below this by chance


def test_a_second_server_on_the_same_port_is_refused(live_pg: tuple[LiveServer, Engine], pg_url: str) -> None:
    """Sockets sharing a port must not let a second ``yibao serve`` join the first and split its traffic."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    server, _ = live_pg
    yibao = Path(sys.executable).with_name("yibao")
    env = {**os.environ, "YIBAO_DATABASE_URL": pg_url}
    done = subprocess.run(
        [str(yibao), "serve", "--port", str(server.port), "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Address already in use" in done.stderr + done.stdout
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200


def _workers(server: LiveServer) -> list[Any]:
    import psutil

    children = psutil.Process(server.pid).children()
    return [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]


def test_a_worker_killed_mid_payments_is_replaced_and_every_payment_happens_once(
    live_pg: tuple[LiveServer, Engine],
) -> None:
    """A worker process killed outright (SIGKILL: out of memory, an operator's mistake) while payments stream
    in: clients resend what got no answer with its key, the server starts another worker on the dead one's
    socket, every payment is made exactly once and no connection waits for an answer that never comes."""
    import os
    import signal
    import threading

    server, engine = live_pg
    run = uuid.uuid4().hex[:8]
    code = f"K{run}"
    api_key = institution_key(engine, code)
    ids = seed_employees(engine, 8, balance_fen=100_000)
    before = {w.pid for w in _workers(server)}
    assert len(before) == 2
    resent = [0]
    done = [0]
    midway = threading.Event()

    def payer(i: int) -> list[int]:
        statuses = []
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for n in range(25):
                key = f"w-{run}-{i}-{n}"
                for _attempt in range(100):
                    try:
                        r = client.post(
                            f"/api/accounts/{ids[i]}/payments",
                            json={"amount": "1.00", "category": "designated_pharmacy", "institution": code},
                            headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": key,
                                     "X-Source-System": code},
                        )  # fmt: skip
                    except httpx.TransportError:
                        resent[0] += 1
                        time.sleep(0.05)
                        continue  # no answer: the same payment again, with its key
                    if r.status_code == 503:
                        time.sleep(0.05)
                        continue
                    statuses.append(r.status_code)
                    done[0] += 1
                    if done[0] >= 50:
                        midway.set()
                    break
        return statuses

    threads_out: list[list[int]] = [[] for _ in ids]

    def run_payer(i: int) -> None:
        threads_out[i] = payer(i)

    threads = [threading.Thread(target=run_payer, args=(i,)) for i in range(len(ids))]
    for t in threads:
        t.start()
    assert midway.wait(60)
    # A worker that holds some of the clients' connections (the kernel may have given all to one).
    victim = max(
        _workers(server),
        key=lambda w: sum(1 for k in w.net_connections("tcp") if k.laddr.port == server.port and k.raddr),
    ).pid
    os.kill(victim, signal.SIGKILL)
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive()
    assert [s for out in threads_out for s in out] == [201] * (25 * len(ids))
    assert resent[0] > 0  # the kill cut requests off (each client keeps its connection to one worker)
    # Another worker took the dead one's place.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(now := {w.pid for w in _workers(server)}) != 2:
        time.sleep(0.2)
    assert victim not in now and len(now) == 2
    assert _entries(engine, code) == 25 * len(ids)  # each payment once, resent or not
    assert balances_left(engine, ids) == len(ids) * (100_000 - 25 * 100)
    # Both sockets serve again: new connections all get answers.
    for _ in range(20):
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
