"""How many processes settle on this machine: cores, partitions and memory decide."""

from __future__ import annotations

import pytest

from yibao.sim import processes
from yibao.sim.processes import WORKER_BASE_BYTES, WORKER_BYTES_PER_CLAIM, processes_for


def test_one_per_core_no_more_than_partitions_nor_than_memory_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "usable_cores", lambda: 8)
    monkeypatch.setattr(processes, "available_memory", lambda: 10**12)
    assert processes_for([1000] * 20, None) == 8
    assert processes_for([1000] * 3, None) == 3
    worker = WORKER_BASE_BYTES + WORKER_BYTES_PER_CLAIM * 2_000_000
    monkeypatch.setattr(processes, "available_memory", lambda: 3 * worker + 1)
    assert processes_for([1000, 2_000_000, 5] * 4, None) == 3  # the largest partition decides
    monkeypatch.setattr(processes, "available_memory", lambda: worker // 2)
    assert processes_for([2_000_000] * 4, None) == 1
    # Asked for, the number is taken as given (up to the partitions).
    assert processes_for([2_000_000] * 4, 4) == 4 and processes_for([2_000_000] * 4, 9) == 4
    monkeypatch.setattr(processes, "available_memory", lambda: None)
    assert processes_for([2_000_000] * 20, None) == 8
    assert processes_for([], None) == 1


def test_available_memory_is_read_on_linux() -> None:
    memory = processes.available_memory()
    assert memory is None or memory > 0
