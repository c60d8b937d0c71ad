"""The database gate: slots per process, a short wait then 503, and work that outlives its request."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from yibao.api import deps
from yibao.core.errors import Unavailable
from yibao.core.settings import get_settings


def _request() -> Any:
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace()))


@pytest.fixture
def two_slots(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("YIBAO_DB_POOL_SIZE", "2")
    monkeypatch.setenv("YIBAO_QUEUE_SECONDS", "0.2")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_at_most_the_slots_run_at_once_and_the_rest_wait_then_are_refused(two_slots: None) -> None:
    release = threading.Event()
    running: list[int] = []

    def work() -> int:
        running.append(threading.get_ident())
        release.wait(5)
        return len(running)

    async def main() -> None:
        request = _request()
        first = [asyncio.create_task(deps.run_in_db_thread(request, work)) for _ in range(2)]
        for _ in range(500):  # a loaded machine may take a while to start the threads
            if len(running) == 2:
                break
            await asyncio.sleep(0.01)
        assert len(running) == 2 and len(set(running)) == 2  # each in a thread of its own
        with pytest.raises(Unavailable) as refused:
            await deps.run_in_db_thread(request, work)  # no slot within 0.2 s
        assert refused.value.code == "busy"
        release.set()
        assert sorted(await asyncio.gather(*first)) == [2, 2]
        assert await deps.run_in_db_thread(request, lambda: "free again") == "free again"

    asyncio.run(main())


def test_a_cancelled_request_keeps_its_slot_until_its_work_ends(two_slots: None) -> None:
    release = threading.Event()
    finished = threading.Event()

    def work() -> None:
        release.wait(5)
        finished.set()

    async def main() -> None:
        request = _request()
        tasks = [asyncio.create_task(deps.run_in_db_thread(request, work)) for _ in range(2)]
        await asyncio.sleep(0.05)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        gate = request.app.state.db_gate
        assert gate.slots.locked() and not finished.is_set()  # the work goes on, holding its slots
        release.set()
        for _ in range(500):
            await asyncio.sleep(0.01)
            if not gate.slots.locked():
                break
        assert finished.is_set() and not gate.slots.locked()
        assert await deps.run_in_db_thread(request, lambda: 7) == 7

    asyncio.run(main())


def test_an_error_in_the_work_gives_the_slot_back(two_slots: None) -> None:
    def fails() -> None:
        raise RuntimeError("boom")

    async def main() -> None:
        request = _request()
        for _ in range(5):  # more times than there are slots
            with pytest.raises(RuntimeError):
                await deps.run_in_db_thread(request, fails)
        assert not request.app.state.db_gate.slots.locked()

    asyncio.run(main())
