"""What designated institutions look like over HTTP and in ``--json`` output (never the ORM rows, never a secret)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from yibao.core import clock
from yibao.institutions.models import Institution, view_of
from yibao.people.regions import REGIONS


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class InstitutionIn(_In):
    """登记定点医药机构 / register a designated institution."""

    code: str = Field(min_length=12, max_length=12, examples=["H53010000001"])
    name: str = Field(min_length=1, max_length=64, examples=["昆明市示例定点医院"])
    kind: Literal["hospital", "community_health_center", "pharmacy"]
    level: int | None = Field(default=None, ge=1, le=3, description="医院1-3级；社区卫生服务中心默认1级；药店无")
    region: str = Field(min_length=6, max_length=6, examples=["530100"])
    designated_from: date | None = Field(default=None, description="定点起始日期，默认今天")
    designated_until: date | None = Field(default=None, description="定点终止日期（含当日）")
    paasid: str | None = Field(default=None, max_length=64, description="接入账号，默认 yb_<code>")
    infcode_string: bool = Field(default=False, description='infcode 以字符串 "0"/"-1" 应答')


class EndIn(_In):
    """终止定点：自该日起不再是定点机构 / the designation ends on this day."""

    on: date | None = Field(default=None, description="默认今天 / default today")


class SuspendIn(_In):
    """暂停医保服务 / suspend."""

    reason: str = Field(min_length=1, max_length=200)


class InstitutionOut(BaseModel):
    """A designated institution (its secret is never shown again)."""

    code: str
    name: str
    kind: str
    level: int | None
    region: str
    region_name: str
    designated_from: date
    designated_until: date | None
    designated_today: bool
    paasid: str
    infcode_string: bool
    status: str
    status_reason: str | None
    secret_version: int


class CredentialsOut(BaseModel):
    """The institution's app account and secret, shown once: configure them in the hospital software."""

    code: str
    paasid: str
    secret: str


def institution_out(row: Institution) -> InstitutionOut:
    """API form of an institution."""
    return InstitutionOut(
        code=row.code,
        name=row.name,
        kind=row.kind,
        level=row.level,
        region=row.region,
        region_name=REGIONS.get(row.region, row.region),
        designated_from=row.designated_from,
        designated_until=row.designated_until,
        designated_today=view_of(row).refusal(clock.today()) is None,
        paasid=row.paasid,
        infcode_string=row.infcode_string,
        status=row.status,
        status_reason=row.status_reason,
        secret_version=row.secret_version,
    )
