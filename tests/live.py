"""A real ``yibao serve`` process for tests and benchmarks that must cross a real socket.

What a promise about HTTP means is only shown by a server process: its worker threads, its pool, its
commit before the answer. :class:`LiveServer` starts ``yibao serve`` on a free loopback port against a
given database and stops it; :func:`seed_employees` makes insured employees with funded accounts and
:func:`institution_key` a designated institution's API key, straight through the services.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from types import TracebackType

import httpx
from sqlalchemy import Engine, text

from yibao.core.auth import system_principal
from yibao.core.ids import make_id_number
from yibao.core.unit import unit_of_work

REGION = "530100"


def fresh_id_numbers(count: int) -> list[str]:
    """``count`` valid ID numbers, unlikely to meet any other's (random birth dates and sequence numbers in
    Anning, a district the test factories never use)."""
    rng = random.SystemRandom()
    out: set[str] = set()
    while len(out) < count:
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(18_000))
        out.add(make_id_number("530181", born, rng.randrange(500), rng.choice("MF")))
    return sorted(out)


def seed_employees(engine: Engine, count: int, *, balance_fen: int) -> list[str]:
    """``count`` Kunming employees, each with a personal account holding ``balance_fen``; their ID numbers."""
    from yibao.accounts import payments
    from yibao.people import enrolment

    ids: list[str] = []
    with unit_of_work(engine, principal=system_principal()) as s:
        for idn in fresh_id_numbers(count):
            enrolment.enrol_employee(
                s, id_number=idn, name="压测职工", region=REGION, on=date(2022, 1, 1), employer="某公司"
            )
            payments.credit_contribution(
                s, id_number=idn, amount=balance_fen, period="2022-09", source="live-seed", key=f"seed-{idn}"
            )
            ids.append(idn)
    return ids


def balances_left(engine: Engine, ids: list[str]) -> int:
    """What the personal accounts of the persons with these ID numbers hold together, in fen."""
    with engine.connect() as conn:
        total = conn.execute(
            text(
                "SELECT coalesce(sum(a.balance), 0) FROM ledger_accounts a JOIN persons p ON p.id = a.owner_id "
                "WHERE a.purpose = 'member' AND p.id_number = ANY(:ids)"
            ),
            {"ids": ids},
        ).scalar()
    return int(total or 0)


def institution_key(engine: Engine, code: str) -> str:
    """A Kunming designated institution login; its API key."""
    from yibao.identity import logins

    with unit_of_work(engine, principal=system_principal()) as s:
        return logins.create_client(s, kind="institution", code=code, name=f"昆明{code}", region=REGION).api_key


def staff_token(engine: Engine, base_url: str, username: str, role: str = "clerk") -> str:
    """A Kunming staff login, logged in over HTTP; its bearer token."""
    from yibao.identity import logins

    password = f"pw-{username}-2024"
    with unit_of_work(engine, principal=system_principal()) as s:
        logins.create_staff(s, username=username, name="压测", role=role, region=REGION, password=password)
    r = httpx.post(f"{base_url}/api/auth/login", json={"kind": "staff", "login": username, "password": password})
    r.raise_for_status()
    return str(r.json()["token"])


def person_token(base_url: str, id_number: str, password: str) -> str:
    """Log a person in over HTTP."""
    r = httpx.post(f"{base_url}/api/auth/login", json={"kind": "person", "login": id_number, "password": password})
    r.raise_for_status()
    return str(r.json()["token"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """``yibao serve`` in a subprocess on 127.0.0.1 (a context manager); ``url`` is its base address."""

    def __init__(
        self, database_url: str, *, workers: int = 1, access_log: bool = False, env: dict[str, str] | None = None
    ) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.workers = workers
        self.access_log = access_log
        self.extra_env = env or {}
        # Under pytest the server's output joins the run's logs, which are scanned for full ID numbers.
        log_dir = Path(os.environ.get("YIBAO_TEST_LOG_DIR") or tempfile.mkdtemp(prefix="yibao-live-"))
        self.log = log_dir / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LiveServer:
        from yibao.institutions import secrets

        env = {
            **os.environ,
            "YIBAO_DATABASE_URL": self.database_url,
            "YIBAO_VAR_DIR": tempfile.mkdtemp(prefix="yibao-live-var-"),
            # The server opens the institutions' secrets sealed by this process: the same key.
            "YIBAO_SECRET_KEY": secrets.key_hex(),
            **self.extra_env,
        }
        yibao = Path(sys.executable).with_name("yibao")
        cmd = [str(yibao), "serve", "--port", str(self.port), "--workers", str(self.workers)]
        cmd.append("--access-log" if self.access_log else "--no-access-log")
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"yibao serve exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"yibao serve did not answer: {self.log.read_text(errors='replace')[-2000:]}")

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    @property
    def pid(self) -> int:
        """The server's process id (its workers are its children)."""
        assert self.proc is not None
        return self.proc.pid

    def log_text(self) -> str:
        """What the server printed."""
        return self.log.read_text(errors="replace")
