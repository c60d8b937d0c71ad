"""Failed logins and rejected tokens, counted per client address and per login in a sliding window.

The counts live in this process: with several worker processes each keeps its own, so an address
gets up to that many times the limit (acceptable for slowing down guessing; a shared store would be
exact). Lockout after wrong passwords (in the database) stays the per-login rule for existing logins;
the window here also slows guessing at logins that do not exist, and everything from one address.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

# Operational settings (assumed): a quarter of an hour, like the lockout; ten failures per login (above
# the five that lock an existing login, so that the lockout answers first); fifty per address (an
# agency office reaches the service through one address, shared by many clerks).
WINDOW_SECONDS = 15 * 60
PER_LOGIN = 10
PER_IP = 50
# Operational limit (assumed): keys remembered before stale ones are dropped, to bound memory.
MAX_KEYS = 100_000


class SlidingWindow:
    """At most ``limit`` events per key in the last ``window`` seconds."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """Seconds until ``key`` may try again, or None when it is under the limit."""
        with self._lock:
            now = self._clock()
            events = self._fresh(key, now)
            if len(events) < self.limit:
                return None
            return max(1, math.ceil(events[0] + self.window - now))

    def record(self, key: str) -> None:
        """Count one failure for ``key``."""
        with self._lock:
            now = self._clock()
            if len(self._events) >= MAX_KEYS:
                for k in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
                    del self._events[k]
            self._fresh(key, now).append(now)

    def _fresh(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        return events


class AuthLimits:
    """The two windows: per client address and per login."""

    def __init__(self, *, per_ip: int = PER_IP, per_login: int = PER_LOGIN, window: float = WINDOW_SECONDS) -> None:
        self.by_ip = SlidingWindow(per_ip, window)
        self.by_login = SlidingWindow(per_login, window)

    def retry_after(self, ip: str | None, login: str | None = None) -> int | None:
        """Seconds to wait when the address or the login is over its limit, else None."""
        waits = [self.by_ip.retry_after(ip or "-")]
        if login is not None:
            waits.append(self.by_login.retry_after(login))
        found = [w for w in waits if w is not None]
        return max(found) if found else None

    def record(self, ip: str | None, login: str | None = None) -> None:
        """Count one failure from the address (and for the login)."""
        self.by_ip.record(ip or "-")
        if login is not None:
            self.by_login.record(login)


_create = threading.Lock()


def limits_of(holder: Any) -> AuthLimits:
    """The limits kept on an object that lives as long as the application (its ``state``)."""
    found = getattr(holder, "auth_limits", None)
    if isinstance(found, AuthLimits):
        return found
    with _create:
        found = getattr(holder, "auth_limits", None)
        if not isinstance(found, AuthLimits):
            found = AuthLimits()
            holder.auth_limits = found
        return found
