"""A scenario: the deployment's pack, or the pack with a reform overlay on top, named for the report."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from yibao.policy.loader import default_overlays, load_pack
from yibao.policy.model import Pack

BASELINE = "现行政策 current policy"


@dataclass(frozen=True, slots=True)
class Scenario:
    """What a run settles under: the deployment overlays, then the reform overlay if any."""

    name: str
    overlays: tuple[str, ...]
    reform: str | None = None

    def pack(self) -> Pack:
        """The scenario's pack, loaded (and validated) once per process."""
        return _load(self.overlays)


@lru_cache(maxsize=16)
def _load(overlays: tuple[str, ...]) -> Pack:
    return load_pack("yunnan", overlays=[Path(p) for p in overlays])


def scenario(reform: Path | None = None) -> Scenario:
    """The deployment's policy, or it with ``reform`` applied (validated now, so errors come before any work)."""
    base = tuple(str(p.resolve()) for p in default_overlays())
    if reform is None:
        s = Scenario(BASELINE, base)
    else:
        s = Scenario(reform.stem, (*base, str(reform.resolve())), str(reform))
    s.pack()
    return s
