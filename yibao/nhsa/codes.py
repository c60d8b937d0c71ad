"""Codes of the national interface as yibao speaks them (see the design file's "Codes")."""

from __future__ import annotations

from yibao.nhsa.errors import FieldError
from yibao.people.models import InsuranceRecord, Scheme, Status

# insutype: 310 employee basic insurance, 390 resident basic insurance.
INSUTYPE_OF: dict[Scheme, str] = {Scheme.EMPLOYEE: "310", Scheme.RESIDENT: "390"}
SCHEME_OF: dict[str, Scheme] = {v: k for k, v in INSUTYPE_OF.items()}
INSUTYPE_NAME = {"310": "职工基本医疗保险", "390": "城乡居民基本医疗保险"}

# psn_insu_stas (参保状态): 1 normal, 2 suspended, 4 terminated.
INSU_STAS: dict[Status, str] = {Status.NORMAL: "1", Status.SUSPENDED: "2", Status.TERMINATED: "4"}
STATUS_NAME = {Status.NORMAL: "正常参保", Status.SUSPENDED: "暂停参保", Status.TERMINATED: "终止参保"}

# gend: 1 male, 2 female.
GEND = {"M": "1", "F": "2"}

# mdtrt_cert_type: 01 electronic voucher (not supported), 02 resident ID card number, 03 social-security card.
CERT_VOUCHER, CERT_ID_CARD, CERT_SS_CARD = "01", "02", "03"

# med_type, with the aliases the design file accepts: 2101 is 21; 2106 and 2107 are 52 (natural, caesarean).
MED_TYPES = {"11": "普通门诊", "14": "门诊慢特病", "21": "普通住院", "52": "生育住院"}
MED_TYPE_ALIASES = {"2101": "21", "2106": "52", "2107": "52"}

# psn_type (人员类别), yibao's reading of its own records: employees 11 (在职), residents by population group.
PSN_TYPE_EMPLOYEE = "11"
PSN_TYPE_RESIDENT = {"general": "1401", "student_child": "1402"}

# fund_pay_type of each insutype's pooled fund.
POOLED_FUND = {"310": "310100", "390": "390100"}
FUND_NAME = {
    "310100": "职工基本医疗保险统筹基金",
    "390100": "城乡居民基本医疗保险基金",
    "390200": "城乡居民大病保险资金",
}


def insutype_of(record: InsuranceRecord) -> str:
    """The insutype of an insurance record."""
    return INSUTYPE_OF[Scheme(record.scheme)]


def psn_type_of(record: InsuranceRecord) -> str:
    """The person type (人员类别) of a record."""
    if record.scheme == Scheme.EMPLOYEE.value:
        return PSN_TYPE_EMPLOYEE
    return PSN_TYPE_RESIDENT.get(record.population_group, "1401")


def read_insutype(value: str, path: str) -> Scheme:
    """The scheme an insutype names, or a FieldError."""
    scheme = SCHEME_OF.get(value)
    if scheme is None:
        raise FieldError(path, f"险种类型 {value!r} 无效，应为 310（职工基本医疗保险）或 390（城乡居民基本医疗保险）")
    return scheme


def read_med_type(value: str, path: str) -> str:
    """A medical type (``11``, ``14``, ``21``, ``52``; ``2101``, ``2106``, ``2107`` read as the design says)."""
    code = MED_TYPE_ALIASES.get(value, value)
    if code not in MED_TYPES:
        raise FieldError(path, f"医疗类别 {value!r} 无效，应为 11、14、21（或2101）、52（或2106、2107）之一")
    return code
