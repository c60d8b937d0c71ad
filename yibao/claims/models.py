"""Database rows of visits, their diagnoses and fee lines, settlements, yearly accumulators, filings and the
files of detail reconciliation (9101 / 3202 / 9102).

Every row is keyed so that it can be distributed by the insured person (``person_id``); a settlement
that uses a relative's account through family sharing is the only one touching two persons.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.core.db import Base


class VisitKind(StrEnum):
    """Outpatient visit (门诊) or inpatient stay (住院)."""

    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"


class VisitState(StrEnum):
    """Where a visit stands; see :mod:`yibao.claims.visits` for the moves allowed."""

    REGISTERED = "registered"  # 2201: an outpatient visit, open for diagnoses and fee lines
    ADMITTED = "admitted"  # 2401: an inpatient stay, open for fee lines
    DISCHARGED = "discharged"  # 2402: awaiting settlement (fee lines may still be corrected)
    SETTLED = "settled"  # 2207 / 2304: closed; a reversal opens it again
    CANCELLED = "cancelled"  # 2202 / 2404 / 2601: as if it never happened


class Visit(Base):
    """One outpatient visit or inpatient stay (就诊) of one person at one institution."""

    __tablename__ = "claim_visits"
    __table_args__ = (
        Index("ix_claim_visits_person_institution", "person_id", "institution_code"),
        Index("ix_claim_visits_opened_msgid", "institution_code", "opened_msgid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mdtrt_id: Mapped[str] = mapped_column(String(30), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    institution_code: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(12))
    insutype: Mapped[str] = mapped_column(String(3))
    med_type: Mapped[str | None] = mapped_column(String(2))  # 11, 14, 21, 52 (normalised)
    matn_type: Mapped[str | None] = mapped_column(String(1))
    ipt_otp_no: Mapped[str] = mapped_column(String(30))
    mdtrt_cert_type: Mapped[str] = mapped_column(String(3))
    begntime: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    endtime: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dscg_way: Mapped[str | None] = mapped_column(String(2))
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON: department, doctor, bed ... as sent
    opened_msgid: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Diagnosis(Base):
    """A diagnosis of a visit: personal data, masked in views and audited when read."""

    __tablename__ = "claim_diagnoses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("claim_visits.id"), index=True)
    stage: Mapped[str] = mapped_column(String(12))  # outpatient | admission | discharge
    diag_type: Mapped[str | None] = mapped_column(String(2))
    diag_srt_no: Mapped[int | None] = mapped_column(Integer)
    diag_code: Mapped[str] = mapped_column(String(30))
    diag_name: Mapped[str] = mapped_column(String(200))
    main: Mapped[bool] = mapped_column(Boolean, default=False)
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FeeLine(Base):
    """One uploaded fee line (费用明细) with its valuation against the catalogue (fen, quantities in 1/10000)."""

    __tablename__ = "claim_fee_lines"
    __table_args__ = (
        # A withdrawn line's serial number may be sent again; an active one only once per visit.
        Index(
            "uq_claim_fee_lines_active_sn",
            "visit_id",
            "feedetl_sn",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        # A visit's lines not yet settled are what a settlement sums and links: found by this index alone.
        # With one on visit_id and one on settlement_id, PostgreSQL could combine both (the second scanning
        # every unsettled line of every open visit), a cost growing with the province's open visits.
        Index("ix_claim_fee_lines_visit_settlement", "visit_id", "settlement_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("claim_visits.id"))
    feedetl_sn: Mapped[str] = mapped_column(String(30))
    init_feedetl_sn: Mapped[str | None] = mapped_column(String(30))
    chrg_bchno: Mapped[str | None] = mapped_column(String(30))
    med_list_codg: Mapped[str] = mapped_column(String(50))
    medins_list_codg: Mapped[str | None] = mapped_column(String(50))
    fee_ocur_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cnt: Mapped[int] = mapped_column(BigInteger)  # ten-thousandths: 1.5 boxes = 15000
    pric: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)  # det_item_fee_sumamt
    known: Mapped[bool] = mapped_column(Boolean)  # the code is in the catalogue on that day
    list_type: Mapped[str | None] = mapped_column(String(3))
    med_chrgitm_type: Mapped[str | None] = mapped_column(String(6))
    flags: Mapped[str] = mapped_column(String(8), default="000000")  # the catalogue's flags, in FLAGS order
    chrgitm_lv: Mapped[str] = mapped_column(String(2))
    price_ceiling: Mapped[int | None] = mapped_column(BigInteger)
    fulamt_ownpay: Mapped[int] = mapped_column(BigInteger)
    overlmt: Mapped[int] = mapped_column(BigInteger)
    preselfpay: Mapped[int] = mapped_column(BigInteger)
    inscp: Mapped[int] = mapped_column(BigInteger)
    selfpay_prop: Mapped[str] = mapped_column(String(12))
    memo: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | withdrawn
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("claim_settlements.id"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SettlementState(StrEnum):
    """A settlement stands or has been reversed (冲销)."""

    SETTLED = "settled"
    REVERSED = "reversed"


class Settlement(Base):
    """A settlement (结算) with its answer, its decision's steps and what it added to the accumulators."""

    __tablename__ = "claim_settlements"
    __table_args__ = (
        Index("ix_claim_settlements_institution_time", "institution_code", "setl_time"),
        Index("ix_claim_settlements_msgid", "institution_code", "msgid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    setl_id: Mapped[str] = mapped_column(String(30), unique=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("claim_visits.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    institution_code: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(12))
    msgid: Mapped[str] = mapped_column(String(30))  # medins_setl_id
    invono: Mapped[str | None] = mapped_column(String(30))  # the hospital's invoice number, as sent
    setl_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    insutype: Mapped[str] = mapped_column(String(3))
    med_type: Mapped[str] = mapped_column(String(2))
    clr_type: Mapped[str] = mapped_column(String(2))
    clr_optins: Mapped[str] = mapped_column(String(6))
    benefit_year: Mapped[date | None] = mapped_column(Date)  # first day of the benefit year counted in
    medfee_sumamt: Mapped[int] = mapped_column(BigInteger)
    fund_pay_sumamt: Mapped[int] = mapped_column(BigInteger)
    acct_pay: Mapped[int] = mapped_column(BigInteger)
    acct_mulaid_pay: Mapped[int] = mapped_column(BigInteger)
    psn_cash_pay: Mapped[int] = mapped_column(BigInteger)
    # What this settlement added to the person's accumulators, taken back exactly by a reversal.
    add_fund_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    add_catastrophic_base: Mapped[int] = mapped_column(BigInteger, default=0)
    add_general_outpatient_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    add_month_used: Mapped[int] = mapped_column(BigInteger, default=0)
    month: Mapped[str | None] = mapped_column(String(6))  # yyyyMM of add_month_used
    disease: Mapped[str | None] = mapped_column(String(48))
    acct_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    mulaid_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    mulaid_holder_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    setlinfo: Mapped[str] = mapped_column(Text)  # JSON, as answered
    setldetail: Mapped[str] = mapped_column(Text)  # JSON
    steps: Mapped[str] = mapped_column(Text)  # JSON: the decision's steps with their citations
    refusal: Mapped[str | None] = mapped_column(Text)  # JSON: why the fund pays nothing
    reversed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reversal_msgid: Mapped[str | None] = mapped_column(String(30))


class Accumulator(Base):
    """A person's counters of one benefit year: locked while a settlement of that person is made."""

    __tablename__ = "claim_accumulators"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    year_start: Mapped[date] = mapped_column(Date, primary_key=True)
    fund_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    catastrophic_base: Mapped[int] = mapped_column(BigInteger, default=0)
    general_outpatient_paid: Mapped[int] = mapped_column(BigInteger, default=0)


class MonthAccumulator(Base):
    """Special-disease in-scope cost counted in one month, per disease (the monthly limit is per disease)."""

    __tablename__ = "claim_month_accumulators"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(6), primary_key=True)  # yyyyMM
    disease: Mapped[str] = mapped_column(String(48), primary_key=True)
    used: Mapped[int] = mapped_column(BigInteger, default=0)


class FilingKind(StrEnum):
    """What an institution filed for a person."""

    REFERRAL = "referral"  # 2501 异地转诊备案
    SPECIAL_DISEASE = "special_disease"  # 2503 门诊慢特病备案 (the special-disease card)


class Filing(Base):
    """A filing (备案) made by an institution for a person; cancelled, never deleted."""

    __tablename__ = "claim_filings"
    __table_args__ = (UniqueConstraint("trt_dcla_detl_sn", name="uq_claim_filings_sn"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trt_dcla_detl_sn: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    institution_code: Mapped[str] = mapped_column(String(12))
    insutype: Mapped[str] = mapped_column(String(3))
    diag_code: Mapped[str] = mapped_column(String(48))  # the disease (pack code for a special disease)
    diag_name: Mapped[str] = mapped_column(String(200))
    begndate: Mapped[date] = mapped_column(Date)
    enddate: Mapped[date | None] = mapped_column(Date)
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the other fields as sent
    status: Mapped[str] = mapped_column(String(12))  # active | cancelled
    msgid: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_memo: Mapped[str | None] = mapped_column(Text)


class StatementFileKind(StrEnum):
    """An institution's uploaded detail file (9101) or the result of comparing it (3202, read by 9102)."""

    UPLOAD = "upload"
    RESULT = "result"


class StatementFile(Base):
    """A file of detail reconciliation (对明细账), kept for its institution until ``dld_endtime``."""

    __tablename__ = "claim_statement_files"
    __table_args__ = (
        UniqueConstraint("file_qury_no", name="uq_claim_statement_files_file_qury_no"),
        Index("ix_claim_statement_files_institution_end", "institution_code", "dld_endtime"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_qury_no: Mapped[str] = mapped_column(String(30))
    institution_code: Mapped[str] = mapped_column(String(12))  # only this institution may use or read it
    kind: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)  # the zip, as uploaded or as answered
    rows: Mapped[int] = mapped_column(Integer)  # data lines in the zip's text file
    source: Mapped[str | None] = mapped_column(String(30))  # a result's uploaded file (its file_qury_no)
    msgid: Mapped[str] = mapped_column(String(30))  # the message that made it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dld_endtime: Mapped[datetime] = mapped_column(DateTime(timezone=True))
