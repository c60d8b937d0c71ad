"""Database rows of the medical catalogue (医保目录): one row per version of an item, dated like the policy pack.

A catalogue item (a drug, a herbal piece, a medical service, a consumable) is known by its national code
(``med_list_codg``, called ``hilist_code`` in transaction 1312). Its class (甲/乙/丙) and price ceiling change
over time, so each change is a new version with its own begin date; the versions of one code never overlap.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yibao.core.db import Base


class ListType(StrEnum):
    """目录类别 ``list_type`` of the national convention."""

    WESTERN_MEDICINE = "101"  # 西药中成药
    HERBAL_PIECES = "102"  # 中药饮片
    MEDICAL_SERVICE = "201"  # 医疗服务项目
    CONSUMABLE = "301"  # 医用耗材


class ChargeClass(StrEnum):
    """收费项目等级 ``chrgitm_lv``: what the fund covers of an item."""

    CLASS_A = "01"  # 甲类: wholly in scope
    CLASS_B = "02"  # 乙类: in scope after the class-B prepayment (inpatient stays)
    CLASS_C = "03"  # 丙类: wholly self-paid


LIST_TYPE_NAMES: dict[ListType, tuple[str, str]] = {
    ListType.WESTERN_MEDICINE: ("西药中成药", "western and patent medicines"),
    ListType.HERBAL_PIECES: ("中药饮片", "Chinese herbal pieces"),
    ListType.MEDICAL_SERVICE: ("医疗服务项目", "medical services"),
    ListType.CONSUMABLE: ("医用耗材", "medical consumables"),
}

CHARGE_CLASS_NAMES: dict[ChargeClass, tuple[str, str]] = {
    ChargeClass.CLASS_A: ("甲类", "class A"),
    ChargeClass.CLASS_B: ("乙类", "class B"),
    ChargeClass.CLASS_C: ("丙类", "class C (self-paid)"),
}

# 医疗收费项目类别 ``med_chrgitm_type`` of the national convention.
MED_CHARGE_TYPES: dict[str, str] = {
    "01": "床位费",
    "02": "诊察费",
    "03": "检查费",
    "04": "化验费",
    "05": "治疗费",
    "06": "手术费",
    "07": "护理费",
    "08": "卫生材料费",
    "09": "西药费",
    "10": "中药饮片费",
    "11": "中成药费",
    "12": "一般诊疗费",
    "13": "挂号费",
    "14": "其他费",
}

# The charge type an item gets when its row does not say: the one its list type implies (a service
# of unknown kind counts as 其他费).
DEFAULT_MED_CHARGE_TYPE: dict[ListType, str] = {
    ListType.WESTERN_MEDICINE: "09",
    ListType.HERBAL_PIECES: "10",
    ListType.MEDICAL_SERVICE: "14",
    ListType.CONSUMABLE: "08",
}

# Yes/no flags of a catalogue row ("0" no, "1" yes), "0" unless the catalogue says otherwise.
FLAGS: dict[str, str] = {
    "lmt_used_flag": "限制使用标志 / restricted use",
    "bas_medn_flag": "基本药物标志 / essential medicine",
    "hi_nego_drug_flag": "医保谈判药品标志 / negotiated drug",
    "chld_medc_flag": "儿童用药标志 / children's medicine",
    "list_sp_item_flag": "目录特项标志 / special item",
    "drt_reim_flag": "直接报销标志 / reimbursed directly",
}

CODE_MAX = 50
NAME_MAX = 200


class CatalogueItem(Base):
    """One version of a catalogue item: in force from ``begin`` to ``end`` (both included; no end: open)."""

    __tablename__ = "catalogue_items"
    __table_args__ = (
        UniqueConstraint("code", "begndate", name="uq_catalogue_items_code_begndate"),
        CheckConstraint("enddate IS NULL OR begndate <= enddate", name="dates_in_order"),
        CheckConstraint("list_type IN ('101', '102', '201', '301')", name="list_type_known"),
        CheckConstraint("chrgitm_lv IN ('01', '02', '03')", name="chrgitm_lv_known"),
        CheckConstraint("price_ceiling IS NULL OR price_ceiling >= 0", name="price_ceiling_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_MAX))  # med_list_codg / hilist_code
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    list_type: Mapped[str] = mapped_column(String(3))
    chrgitm_lv: Mapped[str] = mapped_column(String(2))
    med_chrgitm_type: Mapped[str] = mapped_column(String(6))
    price_ceiling: Mapped[int | None] = mapped_column(BigInteger)  # fen; pric_uplmt_amt; None: no ceiling
    begin: Mapped[date] = mapped_column("begndate", Date)
    end: Mapped[date | None] = mapped_column("enddate", Date)
    lmt_used_flag: Mapped[str] = mapped_column(String(1), default="0")
    bas_medn_flag: Mapped[str] = mapped_column(String(1), default="0")
    hi_nego_drug_flag: Mapped[str] = mapped_column(String(1), default="0")
    chld_medc_flag: Mapped[str] = mapped_column(String(1), default="0")
    list_sp_item_flag: Mapped[str] = mapped_column(String(1), default="0")
    drt_reim_flag: Mapped[str] = mapped_column(String(1), default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    def in_force(self, on: date) -> bool:
        """Whether this version applies on ``on``."""
        return self.begin <= on and (self.end is None or on <= self.end)
