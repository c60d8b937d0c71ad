"""Decisions and their explanations.

Every amount the engine produces is a step: the rule it applies, a Chinese sentence saying what
was done, the amount, and the parameters it read (path, value, effective date, source, quote).
Steps are recorded as light tuples while computing and rendered to JSON only when asked, so that
explaining a decision costs little on the hospital-counter path. A decision lists the assumed and
deployment values it rests on (``assumptions``) and the reformed values it used (``reforms``).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from yibao.core.money import format_yuan
from yibao.policy.model import Bracket, ListItem, ParamValue, PolicyView, Unit
from yibao.policy.render import percent_text, render_value

ParamUse = tuple[ParamValue, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the fund pays nothing: a stable code and a message in Chinese and English."""

    code: str
    message: str
    message_en: str

    def to_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"code": self.code, "message": self.message, "message_en": self.message_en}


class _Formatter(string.Formatter):
    """``{x:y}`` renders fen as yuan ("600.00"), ``{r:p}`` a ratio as a percentage ("70%")."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "y":
            return format_yuan(value)
        if format_spec == "p":
            return percent_text(value)
        return str(super().format_field(value, format_spec))


_FORMATTER = _Formatter()


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a calculation; its Chinese description is rendered only when asked for."""

    rule: str
    template: str
    amount: int | None
    params: tuple[ParamUse, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def description(self) -> str:
        """The step in Chinese, with amounts in yuan."""
        return _FORMATTER.vformat(self.template, (), self.fields)

    def to_dict(self) -> dict[str, Any]:
        """JSON form with each parameter's citation."""
        return {
            "rule": self.rule,
            "description": self.description,
            "amount": None if self.amount is None else format_yuan(self.amount),
            "params": [pv.to_dict(key) for pv, key in self.params],
        }


@dataclass(slots=True)
class Trace:
    """Collects steps and the parameters read while deciding one claim."""

    view: PolicyView
    steps: list[Step] = field(default_factory=list)

    def money(self, path: str, *key: str) -> tuple[int, ParamUse]:
        """An amount in fen (optionally one cell of a table), with its use record."""
        pv = self.view.get(path)
        return pv.money(*key), (pv, key)

    def ratio(self, path: str, *key: str) -> tuple[Fraction, ParamUse]:
        """A ratio (optionally one cell of a table), with its use record."""
        pv = self.view.get(path)
        return pv.ratio(*key), (pv, key)

    def whole(self, path: str, *key: str) -> tuple[int, ParamUse]:
        """A whole number of days, months or years (optionally one cell of a table), with its use record."""
        pv = self.view.get(path)
        return pv.whole(*key), (pv, key)

    def items(self, path: str) -> tuple[tuple[ListItem, ...], ParamUse]:
        """A list parameter's entries, with its use record."""
        pv = self.view.get(path)
        return pv.items(), (pv, ())

    def scale(self, path: str) -> tuple[tuple[Bracket, ...], ParamUse]:
        """A marginal rate scale, with its use record."""
        pv = self.view.get(path)
        return pv.scale(), (pv, ())

    def bands_used(self, use: ParamUse, before: int, after: int, offset: int = 0) -> tuple[ParamUse, ...]:
        """The bands of a scale with their own citation (an assumed band) that moving from ``before`` to
        ``after`` reached, each as a use of its own: a band the amount never reached cannot change it."""
        pv, _ = use
        brackets = pv.scale()
        out: list[ParamUse] = []
        for i, b in enumerate(brackets):
            if b.citation is None:
                continue
            low = offset + b.threshold
            high = offset + brackets[i + 1].threshold if i + 1 < len(brackets) else None
            if after > before and after > low and (high is None or before < high):
                path = f"{pv.path}[{render_value(b.threshold, pv.unit)}]"
                out.append((ParamValue(path, b.rate, pv.start, Unit.RATIO, b.citation), ()))
        return tuple(out)

    def step(self, rule: str, template: str, amount: int | None, *params: ParamUse, **fields: Any) -> None:
        """Record a step; ``template`` is a str.format template over ``fields`` (``:y`` yuan, ``:p`` percent)."""
        self.steps.append(Step(rule, template, amount, params, fields))


@dataclass(frozen=True, slots=True)
class Decision:
    """What the fund pays for one claim, and why."""

    total: int
    fund_pay: int
    catastrophic_pay: int
    steps: tuple[Step, ...]
    refused: Refusal | None = None
    personal_pay_override: int | None = None
    ytd_after: dict[str, int] = field(default_factory=dict)

    @property
    def personal_pay(self) -> int:
        """What the insured person pays: total minus what the fund and catastrophic cover pay."""
        if self.personal_pay_override is not None:
            return self.personal_pay_override
        return self.total - self.fund_pay - self.catastrophic_pay

    def assumptions(self) -> list[dict[str, Any]]:
        """Assumed and deployment-overlay values this decision rests on (each once)."""
        seen: set[str] = set()
        out: list[dict[str, Any]] = []
        for s in self.steps:
            for pv, key in s.params:
                if not pv.citation.is_assumption:
                    continue
                d = pv.to_dict(key)
                if d["path"] in seen:
                    continue
                seen.add(d["path"])
                d["kind"] = "overlay" if pv.citation.overlay else "assumed"
                out.append(d)
        return out

    def reforms(self) -> list[dict[str, Any]]:
        """The reforms whose values this decision used: each reform once, with the parameters it changed."""
        found: dict[tuple[str, str], list[str]] = {}
        for s in self.steps:
            for pv, key in s.params:
                c = pv.citation
                if c.reform is None or c.overlay is None:
                    continue
                paths = found.setdefault((c.overlay, c.reform), [])
                path = pv.path + "".join(f"[{k}]" for k in key)
                if path not in paths:
                    paths.append(path)
        return [{"reform": name, "title": title, "params": paths} for (name, title), paths in found.items()]

    def to_dict(self) -> dict[str, Any]:
        """The CLI / API contract: money as two-decimal strings."""
        return {
            "fund_pay": format_yuan(self.fund_pay),
            "catastrophic_pay": format_yuan(self.catastrophic_pay),
            "personal_pay": format_yuan(self.personal_pay),
            "refused": None if self.refused is None else self.refused.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "assumptions": self.assumptions(),
            "reforms": self.reforms(),
            "ytd_after": {k: format_yuan(v) for k, v in self.ytd_after.items()},
        }
