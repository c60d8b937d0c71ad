"""The sliding window behind the limits on failed logins and rejected tokens."""

from __future__ import annotations

from yibao.core.ratelimit import AuthLimits, SlidingWindow


def test_a_window_slides() -> None:
    now = [1000.0]
    w = SlidingWindow(2, window=60, clock=lambda: now[0])
    w.record("a")
    now[0] += 30
    w.record("a")
    assert w.retry_after("a") == 30 and w.retry_after("b") is None  # the first failure leaves in 30 s
    now[0] += 30
    assert w.retry_after("a") is None
    w.record("a")
    assert w.retry_after("a") == 30


def test_address_and_login_count_apart() -> None:
    limits = AuthLimits(per_ip=3, per_login=2)
    limits.record("10.0.0.1", "staff:a")
    limits.record("10.0.0.1", "staff:a")
    assert limits.retry_after("10.0.0.2", "staff:a")  # the login, from anywhere
    assert limits.retry_after("10.0.0.1", "staff:b") is None
    limits.record("10.0.0.1")
    assert limits.retry_after("10.0.0.1", "staff:b")  # the address, for any login
    assert limits.retry_after("10.0.0.2", "staff:b") is None
