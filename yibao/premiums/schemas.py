"""What premium collection looks like over HTTP and in ``--json`` output: years, payments, receipts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from yibao.people.models import Scheme
from yibao.policy.schemas import CitationOut


class PaymentIn(BaseModel):
    """缴纳城乡居民医保费 (self or 代他人缴费)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    insured_id_number: str = Field(examples=["530102199001011234"])
    insured_name: str = Field(examples=["张三"])
    year: int = Field(examples=[2023], ge=2000, le=2100)
    amount: str = Field(examples=["350.00"], description="元，两位小数 / yuan")
    channel: str = Field(examples=["banshitong_app"], description="resident.premium.channels 之一 / a pack channel")
    region: str = Field(examples=["530100"], description="所选经办机构（统筹区）/ chosen agency")
    payer_id_number: str | None = None
    payer_name: str | None = None
    collector: str | None = None


class ContributionYearOut(BaseModel):
    """A contribution year: the standard amount and the collection period, with their sources."""

    year: int = Field(examples=[2023])
    amount: str = Field(examples=["350.00"], description="元 / yuan")
    collection_opens: str = Field(examples=["2022-09-01"])
    collection_closes: str = Field(examples=["2022-12-31"])
    amount_source: CitationOut
    period_source: CitationOut


class Receipt(BaseModel):
    """The electronic receipt of a payment (电子缴费凭证); ID numbers masked."""

    receipt_no: str = Field(examples=["YB2023530100A1B2C3D4E5F6"])
    year: int = Field(examples=[2023])
    scheme: Scheme
    amount: str = Field(examples=["350.00"], description="元 / yuan")
    insured_name: str
    insured_id_number: str = Field(examples=["530102********1234"])
    payer_name: str
    payer_id_number: str = Field(examples=["530102********1234"])
    proxy: bool = Field(description="代他人缴费 / paid by someone else")
    region_code: str = Field(examples=["530100"])
    agency: str = Field(examples=["昆明市医疗保障经办机构"])
    channel: str = Field(examples=["banshitong_app"])
    channel_name: str = Field(examples=["一部手机办事通"])
    paid_at: str = Field(examples=["2022-10-08T02:00:00+00:00"])
