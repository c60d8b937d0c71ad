"""``once_in_unit``: the msgid store of a unit of work that is one message (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from yibao.core.auth import system_principal
from yibao.core.idempotency import IdempotencyRecord, KeyReused, once_in_unit
from yibao.core.unit import unit_of_work


def _count(engine: Engine, space: str) -> int:
    with unit_of_work(engine, principal=system_principal()) as s:
        return int(s.scalar(select(func.count()).where(IdempotencyRecord.source == space)) or 0)


@pytest.mark.parametrize("writes", [True, False])
def test_first_answer_again_and_reuse_refused(engine: Engine, writes: bool) -> None:
    space, calls = f"t/{uuid.uuid4().hex[:8]}", []

    def run() -> dict[str, Any]:
        calls.append(1)
        return {"n": len(calls)}

    for _ in range(2):
        with unit_of_work(engine, principal=system_principal()) as s:
            assert once_in_unit(s, space=space, key="k", body={"a": 1}, run=run, writes=writes) == {"n": 1}
    assert len(calls) == (1 if writes else 2)  # a reader may work again; its answer is the stored one
    with pytest.raises(KeyReused), unit_of_work(engine, principal=system_principal()) as s:
        once_in_unit(s, space=space, key="k", body={"a": 2}, run=run, writes=writes)
    assert _count(engine, space) == 1


@pytest.mark.parametrize("writes", [True, False])
def test_a_refusal_leaves_the_key_free(engine: Engine, writes: bool) -> None:
    space = f"t/{uuid.uuid4().hex[:8]}"

    def refuse() -> dict[str, Any]:
        raise ValueError("refused")

    with pytest.raises(ValueError), unit_of_work(engine, principal=system_principal()) as s:
        once_in_unit(s, space=space, key="k", body={}, run=refuse, writes=writes)
    assert _count(engine, space) == 0
    with unit_of_work(engine, principal=system_principal()) as s:
        assert once_in_unit(s, space=space, key="k", body={}, run=lambda: {"ok": True}, writes=writes) == {"ok": True}


@pytest.mark.pg
def test_a_retry_in_flight_waits_for_the_first(pg_url: str) -> None:
    from yibao.core.db import make_engine

    engine = make_engine(pg_url)
    space, calls, answers = f"t/{uuid.uuid4().hex[:8]}", [], []

    def slow() -> dict[str, Any]:
        calls.append(1)
        time.sleep(0.5)
        return {"n": len(calls)}

    def send() -> None:
        with unit_of_work(engine, principal=system_principal()) as s:
            answers.append(once_in_unit(s, space=space, key="k", body={}, run=slow, writes=True))

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1] and answers == [{"n": 1}] * 3
    engine.dispose()


def test_a_reader_may_not_write(engine: Engine) -> None:
    from yibao.core.idempotency import ReaderWrote
    from yibao.core.meta import set_meta

    space = f"t/{uuid.uuid4().hex[:8]}"
    with pytest.raises(ReaderWrote), unit_of_work(engine, principal=system_principal()) as s:

        def writes_anyway() -> dict[str, Any]:
            set_meta(s, f"probe-{space}", "x")
            return {}

        once_in_unit(s, space=space, key="k", body={}, run=writes_anyway, writes=False)
    assert _count(engine, space) == 0
