"""A request must arrive in time: slow or silent clients get 408 and lose their connection, on a real server."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer

HEAD, BODY = 1.0, 2.0  # seconds, for the test (the defaults are 10 and 60)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = Path(tmp_path_factory.mktemp("deadlines")) / "yibao.db"
    env = {"YIBAO_HEAD_SECONDS": str(HEAD), "YIBAO_BODY_SECONDS": str(BODY)}
    with LiveServer(f"sqlite:///{db}", workers=2, env=env) as live:
        yield live


def _connect(server: LiveServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _read_all(conn: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed it."""
    got = b""
    while chunk := conn.recv(65536):
        got += chunk
    return got, time.monotonic()


def test_a_head_sent_too_slowly_gets_408_and_the_connection_closes(server: LiveServer) -> None:
    conn = _connect(server)
    start = time.monotonic()
    conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    time.sleep(HEAD / 2)
    conn.sendall(b"X-Slow: 1\r\n")  # still no end of the head
    got, closed = _read_all(conn)
    assert got.startswith(b"HTTP/1.1 408 ")
    assert b'"code":"request_timeout"' in got and "请求发送超时".encode() in got
    assert HEAD * 0.9 <= closed - start < HEAD + 3


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(server: LiveServer) -> None:
    """As a proxy does: a client that opened it ahead of need must not take a 408 for its next answer."""
    conn = _connect(server)
    start = time.monotonic()
    got, closed = _read_all(conn)
    assert got == b""
    assert HEAD * 0.9 <= closed - start < HEAD + 3


def test_a_kept_alive_connection_with_a_second_head_cut_short_gets_408(server: LiveServer) -> None:
    conn = _connect(server)
    conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    first = b""
    while not first.endswith(b"}"):  # the whole first answer (head and body may come apart)
        first += conn.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 ")
    conn.sendall(b"GET /healthz HTTP/1.1\r\nHost:")
    start = time.monotonic()
    got, closed = _read_all(conn)
    assert got.startswith(b"HTTP/1.1 408 ")
    assert HEAD * 0.9 <= closed - start < HEAD + 3


def test_a_body_sent_too_slowly_gets_408(server: LiveServer) -> None:
    conn = _connect(server)
    body = b'{"kind": "staff", "login": "x", "password": "y"}'
    conn.sendall(
        b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[:10]
    )
    start = time.monotonic()
    got, closed = _read_all(conn)
    assert got.startswith(b"HTTP/1.1 408 ")
    assert BODY * 0.9 <= closed - start < BODY + 3


def test_requests_that_arrive_in_time_are_served_on_a_connection_older_than_the_deadlines(
    server: LiveServer,
) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for _ in range(4):  # one kept-alive connection for longer than both deadlines together
            assert client.get("/healthz").status_code == 200
            time.sleep(BODY / 2)
        r = client.post("/api/auth/login", json={"kind": "staff", "login": "nobody", "password": "wrong-pass"})
        assert r.status_code == 401


def test_many_slow_clients_do_not_keep_their_connections(server: LiveServer) -> None:
    conns = [_connect(server) for _ in range(200)]
    for c in conns:
        c.sendall(b"GET /healthz HTTP/1.1\r\n")
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200  # others are served meanwhile
    time.sleep(HEAD + 1)
    for c in conns:
        c.settimeout(5)
        got, _ = _read_all(c)
        assert got.startswith(b"HTTP/1.1 408 ")
