"""What personal accounts take and answer over HTTP and in `--json` output (never the ORM rows).

Money is a yuan string with two decimals (``"1234.56"``); instants are UTC ISO text. Answers of
money-moving requests are also what the idempotency store keeps and replays, so their shapes must
keep reading the answers stored before them.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from yibao.accounts.models import (
    AccountStatus,
    BindingStatus,
    Channel,
    EntryKind,
    SharingBinding,
    WithdrawalStatus,
)
from yibao.core.dates import utc_iso
from yibao.core.ids import mask_id
from yibao.people.models import Person, Relation

# ---- requests ----------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CreditIn(_In):
    """资金划入."""

    amount: str = Field(examples=["300.00"])
    period: str = Field(examples=["2023-05"])


class PaymentIn(_In):
    """个人账户支付."""

    amount: str = Field(examples=["58.50"])
    category: str = Field(examples=["designated_pharmacy"])
    institution: str = Field(examples=["昆明某定点药店"])
    beneficiary_id_number: str | None = None


class BindIn(_In):
    """共济绑定申请."""

    relative_id_number: str
    relation: Relation
    commitment_signed: bool
    channel: Channel = Channel.YUNNAN_YIBAO_MINIAPP


class UnbindIn(_In):
    """解除绑定."""

    relative_id_number: str
    channel: Channel
    clerk: str | None = None
    proof: str | None = None


class RelativePremiumIn(_In):
    """用个人账户为近亲属缴纳居民医保费."""

    relative_id_number: str
    relative_name: str
    year: int = Field(ge=2000, le=2100)


class InsuranceIn(_In):
    """购买重大疾病商业补充保险."""

    insured_id_number: str
    product: str = Field(
        examples=["jirui_ankang"], description="产品代码（政策参数 employee.account.insurance_products）/ product code"
    )
    shares: int = Field(ge=1, description="份数，上限见 employee.account.insurance.max_shares / shares")


class WithdrawalIn(_In):
    """提取申请."""

    case: str = Field(examples=["settle_abroad"], description="特殊情形（employee.account.withdrawal_cases）/ case")
    documents: list[str] = Field(examples=[["身份证", "出国定居证明"]])
    heir_id_number: str | None = None


class DecisionIn(_In):
    """经办机构审核."""

    approve: bool
    clerk: str
    note: str = ""


class RecordKind(StrEnum):
    """Which records of an account to list."""

    ALL = "all"
    SPENDING = "spending"  # 消费: every debit
    TRANSFERS_IN = "transfers_in"  # 资金划入: contributions credited
    PROXY = "proxy"  # 代缴: relatives' resident premiums paid from the account


# ---- answers -----------------------------------------------------------------------------------


class BalanceOut(BaseModel):
    """账户余额: the holder (ID number masked), the balance and whether the account is open."""

    id_number: str = Field(title="身份证号", examples=["530102********1234"])
    name: str = Field(title="姓名")
    balance: str = Field(title="余额", examples=["1234.56"])
    status: AccountStatus = Field(title="状态")


class EntryOut(BaseModel):
    """One journal entry as the holder sees it: what it added to (or, negative, took from) the account."""

    entry_id: int = Field(title="分录号")
    kind: EntryKind = Field(title="类型")
    category: str | None = Field(title="类别")
    amount: str = Field(title="金额", examples=["-58.50"])
    reference: str | None = Field(title="摘要", description="机构、所属期、回执号 / institution, period, receipt")
    at: str = Field(title="时间", examples=["2023-05-06T02:00:00+00:00"])


class RecordsPage(BaseModel):
    """One page of an account's records, newest first."""

    page: int
    per_page: int
    has_more: bool
    items: list[EntryOut]


class PersonRef(BaseModel):
    """A person named in a record: name and masked ID number."""

    name: str
    id_number: str = Field(examples=["530102********1234"])

    @classmethod
    def of(cls, p: Person) -> PersonRef:
        """The reference to ``p`` (ID number masked)."""
        return cls(name=p.name, id_number=mask_id(p.id_number))


class BindingOut(BaseModel):
    """共济授权记录: one binding, seen by the holder or the user."""

    holder: PersonRef = Field(title="授权人")
    user: PersonRef = Field(title="使用人")
    relation: Relation = Field(title="关系")
    status: BindingStatus = Field(title="状态")
    channel: Channel = Field(title="绑定渠道")
    bound_at: str = Field(title="绑定时间")
    unbound_at: str | None = Field(title="解绑时间")
    unbound_channel: Channel | None = Field(title="解绑渠道")

    @classmethod
    def of(cls, b: SharingBinding, holder: Person, user: Person) -> BindingOut:
        """The record of binding ``b`` between ``holder`` and ``user``."""
        return cls(
            holder=PersonRef.of(holder),
            user=PersonRef.of(user),
            relation=Relation(b.relation),
            status=b.status,
            channel=b.channel,
            bound_at=utc_iso(b.bound_at),
            unbound_at=utc_iso(b.unbound_at) if b.unbound_at else None,
            unbound_channel=b.unbound_channel,
        )


class CrossRegionBinding(BaseModel):
    """An active binding whose holder and user are insured in different pooling regions (to be ended)."""

    binding_id: int = Field(title="绑定号")
    holder: PersonRef = Field(title="授权人")
    user: PersonRef = Field(title="使用人")
    relation: Relation = Field(title="关系")
    holder_region: str | None = Field(title="授权人统筹区")
    user_regions: list[str] = Field(title="使用人统筹区")
    bound_at: str = Field(title="绑定时间")


class InsurancePolicyOut(BaseModel):
    """A commercial critical-illness insurance policy bought from the account."""

    policy_id: int = Field(title="保单号")
    product: str = Field(title="产品")
    shares: int = Field(title="份数")
    yearly_premium: str = Field(title="年缴保费", examples=["500.00"])
    maturity_year: int = Field(title="期满年份")


class WithdrawalOut(BaseModel):
    """An application to withdraw the balance and where it stands."""

    request_id: int = Field(title="申请号")
    status: WithdrawalStatus = Field(title="状态")


class WithdrawalDecisionOut(WithdrawalOut):
    """The agency's decision: the amount paid out (0.00 when rejected)."""

    amount: str = Field(title="提取金额", examples=["800.00"])


class Verification(BaseModel):
    """The ledger checked: every balance equals its journal, every entry balances, all balances sum to zero."""

    ok: bool
    accounts: int
    entries: int
    total: int = Field(description="所有账户余额之和（分），应为 0 / sum of all balances in fen, 0 when balanced")
    problems: list[str]
