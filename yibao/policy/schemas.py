"""What policy parameters look like over HTTP: values on a date, their history and their sources."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class CitationOut(BaseModel):
    """Where a value comes from."""

    source: str | None = Field(examples=["003_df4229da7f582ad6.txt"])
    quote: str | None = Field(examples=["由2022年的320元提高到2023年的350元"])
    url: str | None = None
    assumed: bool = False
    overlay: str | None = None
    example: bool = False
    note: str | None = None


class HistoryOut(CitationOut):
    """One dated value."""

    from_: str = Field(alias="from", examples=["2023-01-01"])
    value: Any


class ParameterOut(BaseModel):
    """A parameter's value on the asked date."""

    path: str = Field(examples=["resident.premium.individual"])
    description: str = Field(examples=["城乡居民基本医疗保险个人缴费标准（按缴费年度）"])
    unit: str = Field(examples=["CNY"])
    kind: str = Field(examples=["scalar"])
    date: str = Field(examples=["2023-06-01"])
    value: Any = Field(examples=["350.00"])
    effective_from: str | None = Field(examples=["2023-01-01"])
    citation: CitationOut | None
    note: str | None = None
    overlay_slot: bool = False


class ParameterDetailOut(ParameterOut):
    """A parameter with its whole history."""

    history: list[HistoryOut]
