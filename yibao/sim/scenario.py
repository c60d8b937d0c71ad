"""A scenario: the deployment's policy, or it with a reform overlay on top, named for the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yibao.policy.loader import get_pack
from yibao.policy.model import Pack

BASELINE = "现行政策 current policy"


@dataclass(frozen=True, slots=True)
class Scenario:
    """What a run settles under. The pack travels with it (it pickles), so workers need no policy files."""

    name: str
    pack: Pack
    reform: str | None = None  # the overlay file laid over the deployment's overlays


def scenario(overlay: Path | None = None) -> Scenario:
    """The deployment's policy, or it with ``overlay`` applied: loaded and validated now, before any work.

    The overlay is read like any other (``docs/overlays.md``): a reform (``reform: true`` and a ``title``) may
    change cited values; an overlay that is not one may set only the deployment's ``overlay: true`` values.
    """
    if overlay is None:
        return Scenario(BASELINE, get_pack())
    pack = get_pack(extra=[overlay.resolve()])
    mine = [r for r in pack.reforms if Path(r.file).resolve() == overlay.resolve()]
    name = mine[0].title if mine else overlay.stem
    return Scenario(name, pack, str(overlay))
