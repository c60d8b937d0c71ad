"""What a settlement looks like to staff, the insured person and the hospital (over HTTP and in ``--json``).

Money is a yuan string, times are China time (``yyyy-MM-dd HH:mm:ss``) as the national interface writes
them. Diagnoses are personal data: their codes are kept, their names masked as ID numbers are, except for
the staff who see ID numbers in full.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Citation(BaseModel):
    """A policy parameter a step used, with the sentence it comes from."""

    path: str = Field(examples=["resident.inpatient.deductible"])
    value: str = Field(examples=["600"])
    effective_from: str = Field(examples=["2022-01-01"])
    source: str | None = Field(default=None, examples=["003_df4229da7f582ad6.txt"])
    quote: str | None = Field(default=None, description="政策原文 / the policy sentence")
    assumed: bool = False
    overlay: str | None = None
    note: str | None = None


class StepOut(BaseModel):
    """One step of the decision the settlement applied."""

    rule: str = Field(examples=["resident.inpatient.deductible"])
    description: str = Field(description="中文说明 / in Chinese")
    amount: str | None = Field(examples=["600.00"])
    citations: list[Citation]


class DiagnosisOut(BaseModel):
    """A diagnosis of the visit (the name masked unless the caller sees personal data in full)."""

    stage: str = Field(examples=["discharge"], description="outpatient / admission / discharge")
    diag_type: str | None = Field(examples=["1"])
    diag_code: str = Field(examples=["J18.900"])
    diag_name: str = Field(examples=["肺*"])
    main: bool
    valid: bool


class SettlementSummary(BaseModel):
    """A settlement in a list."""

    setl_id: str
    mdtrt_id: str
    state: str = Field(examples=["settled"], description="settled / reversed")
    setl_time: str = Field(examples=["2023-03-10 10:00:00"])
    fixmedins_code: str
    fixmedins_name: str | None
    med_type: str = Field(examples=["21"])
    med_type_name: str = Field(examples=["普通住院"])
    medfee_sumamt: str = Field(examples=["7300.00"])
    fund_pay_sumamt: str = Field(examples=["4340.00"])
    acct_pay: str
    psn_cash_pay: str


class SettlementOut(SettlementSummary):
    """A settlement with its answer, its diagnoses and the decision that explains it."""

    certno: str = Field(examples=["530102********1234"], description="身份证号（脱敏）/ masked ID number")
    psn_name: str
    insutype: str = Field(examples=["390"])
    clr_type: str
    clr_optins: str
    begntime: str
    endtime: str | None
    reversed_at: str | None
    setlinfo: dict[str, Any] = Field(description="结算应答 setlinfo（如当时所答）/ the setlinfo as answered")
    setldetail: list[dict[str, Any]] = Field(description="基金分项 / the funds' rows as answered")
    diagnoses: list[DiagnosisOut]
    steps: list[StepOut]
    refusal: str | None = Field(description="基金不予支付的原因 / why the funds pay nothing")
    assumptions: list[Citation] = Field(description="所用的推定或部署参数 / assumed or overlay parameters used")
    explanation: list[str] = Field(description="中文说明，逐句 / the explanation in Chinese, sentence by sentence")


class SettlementList(BaseModel):
    """A person's settlements, newest first."""

    certno: str = Field(description="身份证号（脱敏）/ masked ID number")
    settlements: list[SettlementSummary]
