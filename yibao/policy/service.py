"""Reading the policy: one parameter or the whole tree on a date, and checking a pack."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from yibao.core.errors import NotFound
from yibao.policy.loader import OVERLAYS_DIR, Defect, PackError, get_pack, load_pack
from yibao.policy.model import Pack, Parameter
from yibao.policy.quotes import verify_quotes
from yibao.policy.render import render_value


def _param(pack: Pack, path: str) -> Parameter:
    p = pack.parameters.get(path)
    if p is None:
        raise NotFound(f"没有名为 {path} 的政策参数", f"no policy parameter named {path}", code="policy.unknown")
    return p


def describe(param: Parameter, day: date, *, history: bool = True) -> dict[str, Any]:
    """A parameter's value on ``day`` with its citation (and, optionally, its whole history)."""
    dv = param.value_at(day)
    out: dict[str, Any] = {
        "path": param.path,
        "description": param.description,
        "unit": str(param.unit),
        "kind": str(param.kind),
        "date": day.isoformat(),
        "value": None if dv is None else render_value(dv.value, param.unit),
        "effective_from": None if dv is None else dv.start.isoformat(),
        "citation": None if dv is None else dv.citation.to_dict(),
    }
    if param.note:
        out["note"] = param.note
    if param.overlay_slot:
        out["overlay_slot"] = True
    if history:
        out["history"] = [
            {"from": h.start.isoformat(), "value": render_value(h.value, param.unit), **h.citation.to_dict()}
            for h in param.history
        ]
    return out


def show_parameter(path: str, day: date, pack: Pack | None = None) -> dict[str, Any]:
    """One parameter on ``day``."""
    pack = pack or get_pack()
    return describe(_param(pack, path), day)


def list_parameters(day: date, prefix: str = "", pack: Pack | None = None) -> list[dict[str, Any]]:
    """Every parameter (under ``prefix``) with its value on ``day``."""
    pack = pack or get_pack()
    items = [describe(p, day, history=False) for k, p in pack.parameters.items() if k.startswith(prefix)]
    if prefix and not items:
        raise NotFound(f"没有以 {prefix} 开头的政策参数", f"no policy parameter under {prefix}", code="policy.unknown")
    return items


def show(path: str | None, day: date, pack: Pack | None = None) -> dict[str, Any] | list[dict[str, Any]]:
    """One parameter when ``path`` names one, else every parameter under ``path`` as a prefix."""
    pack = pack or get_pack()
    if path and path in pack.parameters:
        return describe(pack.parameters[path], day)
    return list_parameters(day, prefix=path or "", pack=pack)


def check(overlays: list[Path] | None = None, name: str = "yunnan") -> tuple[Pack | None, list[Defect]]:
    """Load a pack with overlays and verify every quote; returns the pack (if it loads) and its defects."""
    overlays = overlays if overlays is not None else [OVERLAYS_DIR / "demo.yaml"]
    try:
        pack = load_pack(name, overlays=overlays)
    except PackError as exc:
        return None, exc.defects
    return pack, verify_quotes(pack)
