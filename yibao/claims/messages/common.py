"""What every settlement message shares: its access rules, the person it names, refusals, amounts out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from yibao.claims.visits import DiagnosisIn
from yibao.core.auth import Scope, rule
from yibao.core.errors import ValidationFailed
from yibao.nhsa import codes
from yibao.nhsa.registry import Context, FieldError, Input, PersonRecords
from yibao.people.models import Person

VISITS = rule(
    "claims.visits",
    "就诊登记、入出院办理 / register visits, admit and discharge (2201-2203, 2401-2405)",
    writes=True,
    institution=Scope.ANY,  # a patient may present at any designated institution
)
FEES = rule("claims.fees", "费用明细上传与撤销 / upload and withdraw fee lines", writes=True, institution=Scope.ANY)
PRESETTLE = rule("claims.presettle", "预结算 / pre-settlement (2206, 2303)", writes=False, institution=Scope.ANY)
SETTLE = rule(
    "claims.settle",
    "结算与冲销 / settle and reverse (2207, 2208, 2304, 2305, 2601)",
    writes=True,
    institution=Scope.ANY,
)
QUERY = rule("claims.query", "结算信息查询 / settlement query (5203)", writes=False, institution=Scope.ANY)
RECONCILE = rule("claims.reconcile", "对账 / reconciliation (3201)", writes=False, institution=Scope.ANY)
STATEMENTS = rule(
    "claims.statements",
    "对明细账：上传、比对、下载文件 / reconciliation of details: upload, compare, download (9101, 3202, 9102)",
    writes=True,
    institution=Scope.ANY,  # an institution's files are its own: the services find no other's
)
FILINGS = rule("claims.filings", "转诊与门诊慢特病备案 / filings (2501-2504)", writes=True, institution=Scope.ANY)

# Answer fields carrying money (two-decimal yuan strings inside yibao, exact JSON numbers on the wire).
MONEY_OUT = frozenset(
    {
        "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc",
        "hifp_pay", "pool_prop_selfpay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "hifdm_pay",
        "maf_pay", "oth_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay", "hosp_part_amt",
        "balc", "acct_mulaid_pay", "pdn_cash_pay", "psn_pay", "cash_payamt", "crt_payb_lmt_amt", "fund_payamt",
        "det_item_fee_sumamt", "pric", "pric_uplmt_amt", "overlmt_amt", "cnt", "selfpay_prop",
    }
)  # fmt: skip


def wire(value: Any) -> Any:
    """An answer with its amounts as Decimals (written as exact JSON numbers by the gateway)."""
    if isinstance(value, Mapping):
        return {k: Decimal(v) if k in MONEY_OUT and isinstance(v, str) and v else wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


@contextmanager
def refusals() -> Iterator[None]:
    """Bad input found by the services is answered naming ``input.<node>[i].<field>``."""
    try:
        yield
    except ValidationFailed as exc:
        path = exc.field if exc.field.startswith("input") else f"input.{exc.field}"
        raise FieldError(path, exc.message_zh.split("：", 1)[-1]) from None


def insured(ctx: Context, node: Input, *, insutype: str | None = None) -> Person:
    """The person a node's ``psn_no`` names (with the message's insutype, that scheme's pooling region)."""
    return insured_with_records(ctx, node, insutype=insutype).person


def insured_with_records(ctx: Context, node: Input, *, insutype: str | None = None) -> PersonRecords:
    """:func:`insured`, with the person's insurance records (read in the same query)."""
    scheme = codes.read_insutype(insutype, node.at("insutype")) if insutype is not None else None
    return ctx.person(node.text("psn_no", max_len=30), path=node.at("psn_no"), scheme=scheme)


def diagnoses(
    rows: list[Input], *, main_code: str | None = None, main_name: str | None = None
) -> tuple[DiagnosisIn, ...]:
    """``diseinfo[]`` rows as diagnoses (a row without a code is skipped; ``vali_flag`` 0 voids one)."""
    out = []
    if main_code:
        out.append(DiagnosisIn(main_code, main_name or main_code, main=True))
    for row in rows:
        code = row.text("diag_code", max_len=30, required=False)
        if code is None:
            continue
        out.append(
            DiagnosisIn(
                diag_code=code,
                diag_name=row.text("diag_name", max_len=200, required=False) or code,
                diag_type=row.text("diag_type", max_len=2, required=False),
                diag_srt_no=row.integer("diag_srt_no", lo=0, hi=999, required=False),
                main=row.text("maindiag_flag", max_len=1, required=False) == "1",
                valid=row.text("vali_flag", max_len=1, required=False) != "0",
            )
        )
    return tuple(out)


def details(node: Input, *names: str) -> dict[str, Any]:
    """The informative fields of a node that are given (department, doctor, bed ...), as text."""
    out = {}
    for name in names:
        value = node.text(name, max_len=200, required=False)
        if value is not None:
            out[name] = value
    return out
