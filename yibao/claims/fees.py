"""Fee lines (2204/2205 outpatient, 2301/2302 inpatient): valued against the catalogue on upload.

An upload is all or nothing: a line that is refused (amount not price × quantity, refund beyond what was
billed, a serial number sent twice) refuses the message, naming the line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import Update, bindparam, case, func, inspect, select, update
from sqlalchemy.orm import Session

from yibao.catalogue.models import FLAGS, CatalogueItem
from yibao.catalogue.service import items_on
from yibao.claims.errors import ClaimRefused
from yibao.claims.models import FeeLine, Visit, VisitKind, VisitState
from yibao.claims.valuation import CLASS_B, SELF_PAID, LineValue, Totals, format_cnt, prop_text, value_line
from yibao.claims.visits import aware, find_visit, require_state, utc
from yibao.core import clock
from yibao.core.dates import local_date
from yibao.core.errors import ValidationFailed
from yibao.core.money import format_yuan
from yibao.institutions.models import InstitutionView as Institution
from yibao.people.models import Person
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack

CLASS_B_SHARE = "resident.inpatient.class_b_prepay_ratio"
NO_CEILING = "999999"  # what platforms answer as pric_uplmt_amt for an item without a price ceiling


@dataclass(frozen=True, slots=True)
class LineIn:
    """One fee line as sent (money in fen, cnt in ten-thousandths, times aware)."""

    feedetl_sn: str
    med_list_codg: str
    fee_ocur_time: datetime
    amount: int
    cnt: int
    pric: int
    init_feedetl_sn: str | None = None
    chrg_bchno: str | None = None
    medins_list_codg: str | None = None


def class_b_share(visit: Visit, pack: Pack | None = None) -> Fraction | None:
    """The class-B prepay share of this visit: resident inpatient stays only (outpatient rules have none)."""
    if visit.kind != VisitKind.INPATIENT.value or visit.insutype != "390":
        return None
    share: Fraction = (pack or get_pack()).at(local_date(aware(visit.begntime))).ratio(CLASS_B_SHARE)
    return share


def upload(
    session: Session,
    *,
    institution: Institution,
    mdtrt_id: str,
    person: Person,
    lines: Sequence[LineIn],
    node: str = "feedetail",
    pack: Pack | None = None,
) -> list[dict[str, Any]]:
    """Value and store the lines; the answer has one ``result`` row per line."""
    visit = find_visit(session, institution=institution, mdtrt_id=mdtrt_id, person=person, lock=True)
    inpatient = visit.kind == VisitKind.INPATIENT.value
    open_states = (VisitState.ADMITTED, VisitState.DISCHARGED) if inpatient else (VisitState.REGISTERED,)
    require_state(visit, open_states, "上传费用明细")
    if not lines:
        raise ValidationFailed(node, "没有费用明细", "no fee lines")
    share = class_b_share(visit, pack)
    existing = {
        line.feedetl_sn: line
        for line in session.scalars(select(FeeLine).where(FeeLine.visit_id == visit.id, FeeLine.status == "active"))
    }
    new: dict[str, FeeLine] = {}
    answer = []
    now = clock.now()
    # One read of the catalogue for the whole upload (a refund is valued at its line's row; see below).
    rows = items_on(session, [(li.med_list_codg, local_date(li.fee_ocur_time)) for li in lines])
    for i, li in enumerate(lines):
        where = f"{node}[{i}]"
        if li.feedetl_sn in existing or li.feedetl_sn in new:
            raise ValidationFailed(
                f"{where}.feedetl_sn", f"费用明细流水号 {li.feedetl_sn} 已上传", "feedetl_sn already uploaded"
            )
        if li.fee_ocur_time < aware(visit.begntime):
            raise ValidationFailed(
                f"{where}.fee_ocur_time", "费用发生时间早于就诊（入院）时间", "fee_ocur_time is before the visit began"
            )
        code, on = li.med_list_codg, local_date(li.fee_ocur_time)
        if li.cnt < 0:
            original = _refunded(where, li, existing | new, inpatient)
            code, on = original.med_list_codg, local_date(aware(original.fee_ocur_time))
        elif li.cnt == 0:
            raise ValidationFailed(f"{where}.cnt", "数量不能为 0", "cnt must not be 0")
        elif li.init_feedetl_sn:
            raise ValidationFailed(
                f"{where}.init_feedetl_sn", "只有退费明细（数量为负）才填写原明细流水号", "only refund lines name one"
            )
        row = rows.get((code, on))
        if (code, on) not in rows:
            rows |= items_on(session, [(code, on)])
            row = rows[(code, on)]
        try:
            v = value_line(
                amount=li.amount,
                pric=li.pric,
                cnt=li.cnt,
                code=code,
                level=row.chrgitm_lv if row is not None else None,
                ceiling=row.price_ceiling if row is not None else None,
                class_b_share=share,
            )
        except ValidationFailed as exc:
            raise ValidationFailed(f"{where}.{exc.field}", _bare(exc), exc.message_en.split(": ", 1)[-1]) from None
        line = _line(visit, li, v, row, now)
        session.add(line)
        new[li.feedetl_sn] = line
        answer.append(result_row(line))
    visit.updated_at = now
    session.flush()
    return answer


def _bare(exc: ValidationFailed) -> str:
    return exc.message_zh.split("：", 1)[-1]


def _refunded(where: str, li: LineIn, known: dict[str, FeeLine], inpatient: bool) -> FeeLine:
    """The line a refund line refunds; refused unless it is this visit's, unsettled and not over-refunded."""
    if not inpatient:
        raise ValidationFailed(f"{where}.cnt", "门诊费用明细数量不能为负", "outpatient cnt must be positive")
    if not li.init_feedetl_sn:
        raise ValidationFailed(
            f"{where}.init_feedetl_sn", "退费明细（数量为负）须填写原费用明细流水号", "a refund line names its line"
        )
    original = known.get(li.init_feedetl_sn)
    if original is None or original.cnt < 0:
        raise ValidationFailed(
            f"{where}.init_feedetl_sn", f"未找到原费用明细 {li.init_feedetl_sn}", "no such line to refund"
        )
    if original.settlement_id is not None:
        raise ClaimRefused(
            f"{where}：原费用明细 {li.init_feedetl_sn} 已结算，不能退费（请先冲销结算）",
            f"{where}: line {li.init_feedetl_sn} is settled",
            code="claims.refund_settled",
        )
    if li.med_list_codg != original.med_list_codg:
        raise ValidationFailed(
            f"{where}.med_list_codg", "退费明细的医保目录编码与原明细不一致", "refund code differs from its line"
        )
    refunds = [x for x in known.values() if x.init_feedetl_sn == li.init_feedetl_sn]
    cnt_left = original.cnt + sum(x.cnt for x in refunds)
    amount_left = original.amount + sum(x.amount for x in refunds)
    if -li.cnt > cnt_left or -li.amount > amount_left:
        raise ValidationFailed(
            f"{where}.cnt",
            f"退费超过原明细剩余数量 {format_cnt(cnt_left)}、金额 {format_yuan(amount_left)} 元",
            "the refund exceeds what was billed",
        )
    return original


def _line(visit: Visit, li: LineIn, v: LineValue, row: CatalogueItem | None, now: datetime) -> FeeLine:
    return FeeLine(
        visit_id=visit.id,
        feedetl_sn=li.feedetl_sn,
        init_feedetl_sn=li.init_feedetl_sn,
        chrg_bchno=li.chrg_bchno,
        med_list_codg=li.med_list_codg,
        medins_list_codg=li.medins_list_codg,
        fee_ocur_time=utc(li.fee_ocur_time),
        cnt=li.cnt,
        pric=li.pric,
        amount=li.amount,
        known=row is not None,
        list_type=row.list_type if row is not None else None,
        med_chrgitm_type=row.med_chrgitm_type if row is not None else None,
        flags="".join(getattr(row, f) for f in FLAGS) if row is not None else "0" * len(FLAGS),
        chrgitm_lv=v.level,
        price_ceiling=row.price_ceiling if row is not None else None,
        fulamt_ownpay=v.fulamt_ownpay,
        overlmt=v.overlmt,
        preselfpay=v.preselfpay,
        inscp=v.inscp,
        selfpay_prop=prop_text(v.selfpay_prop),
        memo=v.memo,
        status="active",
        uploaded_at=now,
    )


def result_row(line: FeeLine) -> dict[str, Any]:
    """One ``result[]`` row: the line's valuation as the interface answers it."""
    return {
        "feedetl_sn": line.feedetl_sn,
        "det_item_fee_sumamt": format_yuan(line.amount),
        "cnt": format_cnt(line.cnt),
        "pric": format_yuan(line.pric),
        "pric_uplmt_amt": NO_CEILING if line.price_ceiling is None else format_yuan(line.price_ceiling),
        "selfpay_prop": line.selfpay_prop,
        "fulamt_ownpay_amt": format_yuan(line.fulamt_ownpay),
        "overlmt_amt": format_yuan(line.overlmt),
        "preselfpay_amt": format_yuan(line.preselfpay),
        "inscp_scp_amt": format_yuan(line.inscp),
        "chrgitm_lv": line.chrgitm_lv,
        "med_chrgitm_type": line.med_chrgitm_type or "",
        **dict(zip(FLAGS, line.flags, strict=True)),
        "memo": line.memo or ("" if line.chrgitm_lv != SELF_PAID else "丙类项目，全额自费"),
    }


def withdraw(
    session: Session,
    *,
    institution: Institution,
    mdtrt_id: str,
    person: Person,
    chrg_bchno: str | None = None,
    feedetl_sns: Sequence[str] = (),
) -> int:
    """2205 / 2302: withdraw unsettled lines (a batch, named lines, or ``0000`` for all); returns how many."""
    visit = find_visit(session, institution=institution, mdtrt_id=mdtrt_id, person=person, lock=True)
    inpatient = visit.kind == VisitKind.INPATIENT.value
    open_states = (VisitState.ADMITTED, VisitState.DISCHARGED) if inpatient else (VisitState.REGISTERED,)
    require_state(visit, open_states, "撤销费用明细")
    active = list(
        session.scalars(
            select(FeeLine).where(
                FeeLine.visit_id == visit.id, FeeLine.status == "active", FeeLine.settlement_id.is_(None)
            )
        )
    )
    everything = chrg_bchno == "0000" or "0000" in feedetl_sns
    if everything:
        chosen = active
    elif chrg_bchno is not None:
        chosen = [x for x in active if x.chrg_bchno == chrg_bchno]
        if not chosen:
            raise ValidationFailed("data.chrg_bchno", f"没有未结算的收费批次 {chrg_bchno}", "no such unsettled batch")
    else:
        by_sn = {x.feedetl_sn: x for x in active}
        missing = [sn for sn in feedetl_sns if sn not in by_sn]
        if missing:
            raise ValidationFailed(
                "data.feedetl_sn", f"没有未结算的费用明细 {'、'.join(missing)}", "no such unsettled line"
            )
        chosen = [by_sn[sn] for sn in feedetl_sns]
    names = {x.feedetl_sn for x in chosen}
    # A refund goes with the line it refunds: it would refund nothing otherwise.
    chosen += [x for x in active if x.init_feedetl_sn in names and x.feedetl_sn not in names]
    for x in chosen:
        x.status = "withdrawn"
    visit.updated_at = clock.now()
    session.flush()
    return len(chosen)


# The lines a settlement takes: the visit's active lines not yet settled. Settlement reads them as sums and
# links them with one statement each (no line is loaded): both run under the visit's lock, which every
# upload and withdrawal also takes, so the lines linked are the lines summed.
_UNSETTLED = (
    (FeeLine.visit_id == bindparam("of_visit")) & (FeeLine.status == "active") & FeeLine.settlement_id.is_(None)
)
_SUMS = select(
    func.count(),
    func.coalesce(func.sum(FeeLine.amount), 0),
    func.coalesce(func.sum(FeeLine.fulamt_ownpay), 0),
    func.coalesce(func.sum(FeeLine.overlmt), 0),
    # Class-B lines that carried a prepayment share (resident stays): their in-scope part before it.
    func.coalesce(
        func.sum(
            case(
                ((FeeLine.chrgitm_lv == CLASS_B) & (FeeLine.selfpay_prop != "0"), FeeLine.amount - FeeLine.overlmt),
                else_=0,
            )
        ),
        0,
    ),
    func.coalesce(func.sum(case((FeeLine.chrg_bchno == bindparam("batch"), 1), else_=0)), 0),
).where(_UNSETTLED)


def link_statement(settlement_id: Any) -> Update:
    """The statement linking a visit's (``of_visit``) unsettled lines to a settlement (a value or an expression)."""
    return update(FeeLine).where(_UNSETTLED).values(settlement_id=settlement_id)


_LINK = link_statement(bindparam("by_settlement"))
_UNLINK = update(FeeLine).where(FeeLine.settlement_id == bindparam("of_settlement")).values(settlement_id=None)


@dataclass(frozen=True, slots=True)
class Unsettled:
    """A visit's unsettled lines, summed (fen): what a settlement settles."""

    totals: Totals
    in_batch: int  # how many of them belong to the charge batch asked about


def unsettled_sums(session: Session, visit: Visit, chrg_bchno: str | None = None) -> Unsettled:
    """The visit's unsettled lines summed in one statement; ``class_b`` as :class:`Totals` counts it."""
    row = session.connection().execute(_SUMS, {"of_visit": visit.id, "batch": chrg_bchno}).one()
    n, medfee, fulamt, overlmt, class_b, in_batch = (int(x) for x in row)  # PostgreSQL sums bigints as numeric
    return Unsettled(Totals(medfee, fulamt, overlmt, medfee - fulamt - overlmt, class_b, n), in_batch)


def link(session: Session, visit: Visit, settlement_id: int) -> int:
    """Mark the visit's unsettled lines as settled by ``settlement_id`` (one statement); returns how many."""
    n: int = session.connection().execute(_LINK, {"of_visit": visit.id, "by_settlement": settlement_id}).rowcount
    linked(session, visit)
    return n


def linked(session: Session, visit: Visit) -> None:
    """After a statement linked the visit's lines: the lines this session holds read their link again."""
    _reread(session, lambda loaded: loaded.get("visit_id", visit.id) == visit.id)


def unlink(session: Session, settlement_id: int) -> int:
    """A reversal: the settlement's lines are unsettled again (one statement); returns how many."""
    n: int = session.connection().execute(_UNLINK, {"of_settlement": settlement_id}).rowcount
    _reread(session, lambda loaded: loaded.get("settlement_id", settlement_id) == settlement_id)
    return n


def _reread(session: Session, concerned: Callable[[dict[str, Any]], bool]) -> None:
    """Lines this session already holds read their settlement link again: a statement changed it behind them.

    A message's session holds none; a command or a test that uploaded lines in the same session does.
    """
    for obj in list(session.identity_map.values()):
        if isinstance(obj, FeeLine) and concerned(inspect(obj).dict):
            session.expire(obj, ["settlement_id"])


def unsettled(session: Session, visit: Visit) -> list[FeeLine]:
    """The visit's active lines not yet settled, in upload order."""
    return list(
        session.scalars(
            select(FeeLine)
            .where(FeeLine.visit_id == visit.id, FeeLine.status == "active", FeeLine.settlement_id.is_(None))
            .order_by(FeeLine.id)
        )
    )
