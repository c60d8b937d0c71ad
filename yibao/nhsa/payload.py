"""A typed view of a message's ``input``: fields read by path, each refusal naming ``input.<node>[i].<field>``.

The string ``"null"`` (any case) and ``""`` count as absent in every field, as real clients send them.
Fields nobody reads are ignored, never refused. Readers for required fields return the value or raise
:class:`~yibao.nhsa.errors.FieldError`; with ``required=False`` they return None when the field is absent.
"""

from __future__ import annotations

import builtins
import datetime as dt
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, Literal, overload

from yibao.api.guard import _bad_char
from yibao.nhsa import money
from yibao.nhsa.errors import FieldError

MISSING = "必填项缺失"


def absent(value: object) -> bool:
    """Whether a value counts as not given: missing, JSON null, ``""`` or the string ``"null"`` (any case)."""
    if value is None:
        return True
    if isinstance(value, str):
        s = value.strip()
        return s == "" or (len(s) == 4 and s.lower() == "null")
    return False


def check_text(value: object, path: str, *, max_len: int, min_len: int = 1, pattern: str | None = None) -> str:
    """A text field: a string (or a whole number, read as its digits), trimmed, within its length, no control characters."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise FieldError(path, "应为字符串")
    text = value.strip()
    if len(text) > max_len:
        raise FieldError(path, f"长度不能超过{max_len}个字符")
    if len(text) < min_len:
        raise FieldError(path, f"长度不能少于{min_len}个字符")
    bad = _bad_char(text)
    if bad is not None:
        raise FieldError(path, f"含有不可见或控制字符 U+{ord(bad):04X}")
    if pattern is not None and not re.fullmatch(pattern, text):
        if not text.isascii():
            money._non_ascii(text, path)
        raise FieldError(path, f"格式不正确：{text!r}")
    return text


class Input:
    """One node of ``input`` (an object), with readers for its fields."""

    __slots__ = ("data", "path")

    def __init__(self, data: dict[str, Any], path: str = "input") -> None:
        self.data = data
        self.path = path

    def at(self, name: str) -> str:
        """The path of a field of this node (``input.data.psn_no``)."""
        return f"{self.path}.{name}"

    def raw(self, name: str) -> Any:
        """The field as sent (None when absent, including ``""`` and ``"null"``)."""
        value = self.data.get(name)
        return None if absent(value) else value

    def has(self, name: str) -> bool:
        """Whether the field is given."""
        return self.raw(name) is not None

    def _get(self, name: str, required: bool) -> Any:
        value = self.raw(name)
        if value is None and required:
            raise FieldError(self.at(name), MISSING)
        return value

    # ---- nodes -------------------------------------------------------------------------------

    @overload
    def node(self, name: str, *, required: Literal[True] = ...) -> Input: ...
    @overload
    def node(self, name: str, *, required: Literal[False]) -> Input | None: ...
    def node(self, name: str, *, required: bool = True) -> Input | None:
        """A nested object (a one-element list is read as its element: some clients wrap every node)."""
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, dict):
            raise FieldError(self.at(name), "应为对象（JSON object）")
        return Input(value, self.at(name))

    def list(self, name: str, *, required: bool = True, max_items: int = 10_000) -> builtins.list[Input]:
        """A list of objects (a lone object is read as a list of one); absent and not required: empty."""
        value = self._get(name, required)
        if value is None:
            return []
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            raise FieldError(self.at(name), "应为数组（JSON array）")
        if required and not value:
            raise FieldError(self.at(name), "不能为空数组")
        if len(value) > max_items:
            raise FieldError(self.at(name), f"最多{max_items}条")
        out = []
        for i, item in enumerate(value):
            path = f"{self.at(name)}[{i}]"
            if not isinstance(item, dict):
                raise FieldError(path, "应为对象（JSON object）")
            out.append(Input(item, path))
        return out

    # ---- fields ------------------------------------------------------------------------------

    @overload
    def text(
        self,
        name: str,
        *,
        max_len: int,
        required: Literal[True] = ...,
        min_len: int = ...,
        pattern: str | None = ...,
        choices: Sequence[str] | None = ...,
    ) -> str: ...
    @overload
    def text(
        self,
        name: str,
        *,
        max_len: int,
        required: Literal[False],
        min_len: int = ...,
        pattern: str | None = ...,
        choices: Sequence[str] | None = ...,
    ) -> str | None: ...
    def text(
        self,
        name: str,
        *,
        max_len: int,
        required: bool = True,
        min_len: int = 1,
        pattern: str | None = None,
        choices: Sequence[str] | None = None,
    ) -> str | None:
        """A string of at most ``max_len`` characters (a ``pattern`` to match, or one of ``choices``)."""
        value = self._get(name, required)
        if value is None:
            return None
        text = check_text(value, self.at(name), max_len=max_len, min_len=min_len, pattern=pattern)
        if choices is not None and text not in choices:
            raise FieldError(self.at(name), f"取值 {text!r} 无效，应为 {'、'.join(choices)} 之一")
        return text

    @overload
    def money(self, name: str, *, required: Literal[True] = ..., negative: bool = ...) -> int: ...
    @overload
    def money(self, name: str, *, required: Literal[False], negative: bool = ...) -> int | None: ...
    def money(self, name: str, *, required: bool = True, negative: bool = False) -> int | None:
        """An amount in yuan, read exactly, as integer fen (see :func:`yibao.nhsa.money.read_money`)."""
        value = self._get(name, required)
        return None if value is None else money.read_money(value, self.at(name), negative=negative)

    @overload
    def quantity(self, name: str, *, required: Literal[True] = ..., negative: bool = ...) -> Decimal: ...
    @overload
    def quantity(self, name: str, *, required: Literal[False], negative: bool = ...) -> Decimal | None: ...
    def quantity(self, name: str, *, required: bool = True, negative: bool = False) -> Decimal | None:
        """A quantity with at most four decimals."""
        value = self._get(name, required)
        return None if value is None else money.read_quantity(value, self.at(name), negative=negative)

    @overload
    def decimal(self, name: str, *, places: int, required: Literal[True] = ..., negative: bool = ...) -> Decimal: ...
    @overload
    def decimal(self, name: str, *, places: int, required: Literal[False], negative: bool = ...) -> Decimal | None: ...
    def decimal(self, name: str, *, places: int, required: bool = True, negative: bool = False) -> Decimal | None:
        """An exact decimal with at most ``places`` decimals (a unit price, a ratio)."""
        value = self._get(name, required)
        if value is None:
            return None
        return money.read_decimal(value, self.at(name), places=places, negative=negative)

    @overload
    def integer(self, name: str, *, lo: int, hi: int, required: Literal[True] = ...) -> int: ...
    @overload
    def integer(self, name: str, *, lo: int, hi: int, required: Literal[False]) -> int | None: ...
    def integer(self, name: str, *, lo: int, hi: int, required: bool = True) -> int | None:
        """A whole number between ``lo`` and ``hi`` (a JSON number or a string of ASCII digits)."""
        value = self._get(name, required)
        if value is None:
            return None
        path = self.at(name)
        if isinstance(value, Decimal) and value == value.to_integral_value() and abs(value) < 10**12:
            value = int(value)
        if isinstance(value, str):
            money._non_ascii(value.strip(), path)
            if not re.fullmatch(r"[+-]?[0-9]{1,12}", value.strip()):
                raise FieldError(path, f"应为整数：{value!r}")
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(path, "应为整数")
        if not lo <= value <= hi:
            raise FieldError(path, f"应在 {lo} 至 {hi} 之间")
        return value

    @overload
    def date(self, name: str, *, required: Literal[True] = ...) -> dt.date: ...
    @overload
    def date(self, name: str, *, required: Literal[False]) -> dt.date | None: ...
    def date(self, name: str, *, required: bool = True) -> dt.date | None:
        """A date ``yyyy-MM-dd``."""
        value = self._get(name, required)
        return None if value is None else money.read_date(value, self.at(name))

    @overload
    def datetime(self, name: str, *, required: Literal[True] = ...) -> dt.datetime: ...
    @overload
    def datetime(self, name: str, *, required: Literal[False]) -> dt.datetime | None: ...
    def datetime(self, name: str, *, required: bool = True) -> dt.datetime | None:
        """A time ``yyyy-MM-dd HH:mm:ss`` in China time, as an aware instant (a bare date is midnight)."""
        value = self._get(name, required)
        return None if value is None else money.read_datetime(value, self.at(name))

    @overload
    def month(self, name: str, *, required: Literal[True] = ...) -> dt.date: ...
    @overload
    def month(self, name: str, *, required: Literal[False]) -> dt.date | None: ...
    def month(self, name: str, *, required: bool = True) -> dt.date | None:
        """A month ``yyyyMM``, as its first day."""
        value = self._get(name, required)
        return None if value is None else money.read_month(value, self.at(name))

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)
