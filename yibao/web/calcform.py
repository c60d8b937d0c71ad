"""The calculator's form: every field of each claim model of ``POST /api/calc``, with plain-language labels.

The fields are read from the claim models themselves (so the form and the API's contract cannot drift
apart); this module only adds the words a person reads and turns a submitted form back into the JSON claim.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator

from yibao.engine.claims import CLAIM_MODELS
from yibao.policy.model import Pack

BENEFITS: dict[str, tuple[str, str]] = {
    "resident/inpatient": ("城乡居民 · 住院", "Resident · inpatient stay"),
    "resident/general_outpatient": ("城乡居民 · 普通门诊", "Resident · general outpatient"),
    "resident/special_outpatient": ("城乡居民 · 门诊特殊病", "Resident · special-disease outpatient"),
    "resident/maternity": ("城乡居民 · 生育费用补助", "Resident · maternity subsidy"),
    "resident/disability_aid": ("城乡居民 · 残疾人辅助器具补助", "Resident · disability aids"),
    "ncms/outpatient": ("新农合 · 门诊（2017年旧制度）", "NCMS · outpatient (legacy 2017)"),
    "ncms/inpatient": ("新农合 · 住院（2017年旧制度）", "NCMS · inpatient (legacy 2017)"),
}

# (Chinese label, English label, Chinese hint) of every field, by its path in the claim.
LABELS: dict[str, tuple[str, str, str]] = {
    "date": ("就医日期（住院为入院日期，补助为申请日期）", "Date (admission; application for subsidies)", ""),
    "person.birth_date": ("出生日期", "Date of birth", ""),
    "person.sex": ("性别", "Sex", ""),
    "person.group": ("人员类别", "Group", "在校学生、少年儿童的住院起付标准较低"),
    "person.enrolment_date": (
        "参保登记日期",
        "Enrolment date",
        "新生儿出生三个月内参保的，先天性疾病住院自出生之日起享受待遇",
    ),
    "hospital_level": ("医院级别", "Hospital level", "本地住院必填；异地住院按异地标准"),
    "offsite": ("是否异地住院", "Off-site stay", ""),
    "filed": ("已办理异地转院审批或急诊备案", "Off-site referral approved or emergency filed", ""),
    "filing_date": ("异地急诊电话备案日期", "Emergency filing date", "入院后3日内备案"),
    "designated": ("在定点医疗机构就医", "At a designated institution", ""),
    "admission_registered": ("已在医院办理医保住院手续", "Insured admission registered", ""),
    "discharge_date": ("出院日期", "Discharge date", ""),
    "application_date": ("报销申请日期", "Application date", "异地就医出院后一个月内申请"),
    "congenital": ("新生儿先天性疾病住院", "Newborn's congenital-disease stay", ""),
    "total": ("医疗费用总额（元）", "Total bill (yuan)", "如 12000.00"),
    "in_scope": ("其中医保范围内费用（元）", "Of which within the insurance scope (yuan)", ""),
    "class_b": ("其中乙类药品和诊疗项目费用（元）", "Of which class B items (yuan)", "乙类须个人先自付一定比例"),
    "ytd.fund_paid": ("本年度统筹基金已支付（元）", "Fund already paid this year (yuan)", "不填按本年度首次就医"),
    "ytd.catastrophic_base": (
        "本年度已累计的个人负担（大病保险）（元）",
        "Own burden counted for catastrophic cover (yuan)",
        "",
    ),
    "ytd.general_outpatient_paid": ("本年度普通门诊已报销（元）", "General outpatient paid this year (yuan)", ""),
    "ytd.month_used": ("本月该病种已计入限额的费用（元）", "Cost counted against this month's limit (yuan)", ""),
    "ytd.outpatient_paid": ("本年度门诊已补偿（元）", "Outpatient compensation this year (yuan)", ""),
    "ytd.inpatient_cost": ("本年度住院累计应报费用（元）", "Reimbursable inpatient cost this year (yuan)", ""),
    "facility": ("就诊机构", "Facility", ""),
    "disease": ("门诊特殊病病种", "Special disease", ""),
    "card": ("已持有该病种的特殊病门诊证", "Holds the special-disease card", ""),
    "delivery": ("分娩方式", "Delivery", ""),
    "family_planning": ("符合计划生育政策", "Within family-planning policy", ""),
    "documents_complete": ("材料齐全", "Documents complete", "有效证件、准生证、出生证明、发票、费用清单、出院小结"),
    "device": ("辅助器具", "Device", ""),
    "certificate": ("持有残疾证", "Holds a disability certificate", "下肢假肢须持证"),
    "last_subsidy_date": ("上次领取同类补助的日期", "Last subsidy of this kind", "假肢每5年一次"),
    "quantity": ("数量", "Quantity", ""),
    "drugs": ("药费（元）", "Drugs (yuan)", ""),
    "exams": ("检查费（元）", "Examinations (yuan)", ""),
    "surgery": ("手术费（元）", "Surgery (yuan)", ""),
    "tcm_cost": ("中药费（元）", "Chinese medicine (yuan)", ""),
    "tcm_doses": ("中药贴数", "Chinese medicine doses", ""),
    "tcm_prescription": ("中药附处方", "Chinese medicine with prescription", ""),
    "iv_prescription": ("卫生院医生临时补液处方", "Infusion prescribed by a township doctor", ""),
    "others": ("其他费用（元）", "Other costs (yuan)", ""),
    "dialysis_or_tumour": ("尿毒症透析或肿瘤放化疗门诊", "Dialysis or tumour radio/chemotherapy", ""),
    "bed_days": ("住院天数", "Days in hospital", ""),
}

# Words for the values of choice fields.
CHOICES: dict[str, tuple[str, str]] = {
    "M": ("男", "male"),
    "F": ("女", "female"),
    "general": ("普通居民", "general resident"),
    "student_child": ("在校学生、少年儿童", "student or child"),
    "1": ("一级医院", "level 1"),
    "2": ("二级医院", "level 2"),
    "3": ("三级医院", "level 3"),
    "none": ("本地住院", "local"),
    "referral": ("异地转院", "off-site referral"),
    "emergency": ("异地急诊", "off-site emergency"),
    "community_health_center": ("社区卫生服务中心", "community health centre"),
    "other": ("其他医疗机构", "elsewhere"),
    "natural": ("顺产（含助娩产）", "natural birth"),
    "caesarean": ("剖宫产", "caesarean"),
    "thigh_prosthesis": ("大腿假肢", "thigh prosthesis"),
    "lower_leg_prosthesis": ("小腿假肢", "lower-leg prosthesis"),
    "hearing_aid": ("助听器（7周岁以下听力障碍儿童）", "hearing aid (children 7 or under)"),
    "village_clinic": ("村卫生室", "village clinic"),
    "township": ("镇卫生院", "township hospital"),
    "level2": ("二级医院", "level 2 hospital"),
    "level3": ("三级医院", "level 3 hospital"),
    "true": ("是", "yes"),
    "false": ("否", "no"),
}


@dataclass(frozen=True, slots=True)
class Field:
    """One input of the calculator."""

    name: str  # path in the claim: "total", "person.birth_date", "ytd.fund_paid"
    kind: str  # date | money | bool | tristate | choice | int | disease
    required: bool
    default: str  # as the form shows it ("" for none)
    options: tuple[str, ...] = ()
    numeric: bool = False  # choice values that are numbers in the claim (hospital_level)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``| None``, and whether None was allowed."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0], len(args) < len(get_args(annotation))
    return annotation, False


def _is_money(annotation: Any, metadata: list[Any]) -> bool:
    if any(isinstance(m, BeforeValidator) for m in metadata):
        return True
    return get_origin(annotation) is Annotated and any(isinstance(m, BeforeValidator) for m in get_args(annotation)[1:])


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def fields(benefit: str) -> list[Field]:
    """Every input of a benefit's claim (scheme and benefit are the benefit choice itself)."""
    scheme, name = benefit.split("/")
    model = CLAIM_MODELS[(scheme, name)]
    return list(_fields(model, ""))


def _fields(model: type[BaseModel], prefix: str) -> list[Field]:
    out: list[Field] = []
    for fname, info in model.model_fields.items():
        if not prefix and fname in ("scheme", "benefit"):
            continue
        path = f"{prefix}{fname}"
        annotation, optional = _unwrap(info.annotation)
        required = info.is_required()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.extend(_fields(annotation, f"{path}."))
            continue
        default = "" if required else _shown(info.default)
        if _is_money(annotation, list(info.metadata)):
            out.append(Field(path, "money", required, "" if default == "0" else default))
        elif annotation is date:
            out.append(Field(path, "date", required, default))
        elif annotation is bool:
            out.append(Field(path, "tristate" if optional else "bool", required, default))
        elif get_origin(annotation) is Literal:
            values = get_args(annotation)
            numeric = all(isinstance(v, int) for v in values)
            out.append(Field(path, "choice", required, default, tuple(str(v) for v in values), numeric))
        elif isinstance(annotation, type) and issubclass(annotation, Enum):
            out.append(Field(path, "choice", required, default, tuple(str(e.value) for e in annotation)))
        elif annotation is int:
            out.append(Field(path, "int", required, default))
        else:
            out.append(Field(path, "disease", required, default))
    return out


def diseases(pack: Pack, day: date) -> list[tuple[str, str]]:
    """The special diseases of the pack (code, Chinese name) on ``day``."""
    view = pack.at(day)
    if not view.has("resident.special_outpatient.diseases"):
        return []
    return [(i.code, i.name) for i in view.items("resident.special_outpatient.diseases")]


def to_claim(benefit: str, form: dict[str, str], ticked: set[str]) -> dict[str, Any]:
    """The JSON claim a submitted form stands for (empty optional fields left out, so defaults apply)."""
    scheme, name = benefit.split("/")
    claim: dict[str, Any] = {"scheme": scheme, "benefit": name}
    for f in fields(benefit):
        if f.kind == "bool":
            value: Any = f.name in ticked
        else:
            raw = form.get(f.name, "").strip()
            if not raw:
                continue
            if f.kind == "tristate":
                value = raw == "true"
            elif (f.kind == "choice" and f.numeric and raw.isascii() and raw.isdigit()) or (
                f.kind == "int" and raw.isascii() and raw.isdigit()
            ):
                value = int(raw)
            else:
                value = raw  # money stays a yuan string, as the API takes it
        head, _, leaf = f.name.partition(".")
        if leaf:
            claim.setdefault(head, {})[leaf] = value
        else:
            claim[head] = value
    return claim
