"""报销计算器: a stay or visit in, the decision with every step and its policy sentence out, and how the payment
grows with the bill from 0 to 400,000 (the batch engine, in the same request). Nothing is read or stored."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from yibao.core.clock import today
from yibao.core.errors import ValidationFailed
from yibao.engine import decide, parse_claim
from yibao.engine.curve import pay_curve, supports
from yibao.policy.loader import get_pack
from yibao.web import calcform
from yibao.web.calcform import BENEFITS
from yibao.web.forms import Form, read_form
from yibao.web.i18n import label
from yibao.web.render import page
from yibao.web.routing import page_router
from yibao.web.session import lang_of

router = page_router()
DEFAULT = "resident/inpatient"


def _form(benefit: str, values: dict[str, str] | None = None) -> Form:
    specs = calcform.fields(benefit)
    initial = {f.name: f.default for f in specs if f.default and f.kind != "bool"}
    initial["date"] = today().isoformat()
    ticked = {f.name: "1" for f in specs if f.kind == "bool" and f.default == "true"}
    form = Form(values={**initial, **ticked, **(values or {}), "benefit": benefit})
    form.known = frozenset(f.name for f in specs)
    return form


def _render(request: Request, benefit: str, form: Form, status: int = 200, **result: Any) -> Response:
    lang = lang_of(request)
    template = "_calc_body.html" if request.headers.get("hx-request") == "true" else "calc.html"
    return page(
        request,
        template,
        status,
        benefit=benefit,
        benefits=[(k, label(BENEFITS, k, lang)) for k in BENEFITS],
        specs=calcform.fields(benefit),
        labels_calc=calcform.LABELS,
        choices=calcform.CHOICES,
        diseases=calcform.diseases(get_pack(), today()),
        form=form,
        **result,
    )


@router.get("/calc")
def calc_page(request: Request, benefit: str = DEFAULT) -> Response:
    """The calculator for one kind of stay or visit (htmx swaps the fields when the kind changes)."""
    benefit = benefit if benefit in BENEFITS else DEFAULT
    if request.headers.get("hx-request") == "true":
        return page(
            request,
            "_calc_fields.html",
            specs=calcform.fields(benefit),
            labels_calc=calcform.LABELS,
            choices=calcform.CHOICES,
            diseases=calcform.diseases(get_pack(), today()),
            form=_form(benefit),
            benefit=benefit,
        )
    return _render(request, benefit, _form(benefit), decision=None, curve=None)


def curve_data(claim: Any, lang: str) -> dict[str, Any] | None:
    """The chart's series (fen) and labels, or None when the batch engine does not settle this kind of claim."""
    if not supports(claim):
        return None
    curve = pay_curve(claim, get_pack())
    en = lang == "en"
    return {
        **curve.to_dict(),
        "marker": claim.total if claim.total <= curve.totals[-1] else None,
        "labels": {
            "fund": "Fund" if en else "统筹基金支付",
            "catastrophic": "Catastrophic cover" if en else "大病保险支付",
            "personal": "Personal" if en else "个人负担",
            "x": "Total bill (yuan)" if en else "医疗费用总额（元）",
            "unit": "yuan" if en else "元",
            "wan": "0k" if en else "万",
            "marker": "This bill" if en else "本次费用",
        },
    }


@router.post("/calc")
async def calculate(request: Request) -> Response:
    """Decide the claim the form describes; the result (and the chart) replace the result panel."""
    raw = await read_form(request)
    benefit = raw.get("benefit") if raw.get("benefit") in BENEFITS else DEFAULT
    lang = lang_of(request)
    form = _form(benefit, {k: v for k, v in raw.values.items() if k not in ("csrf", "key")})
    for f in calcform.fields(benefit):
        if f.kind == "bool" and f.name not in raw.values:
            form.values.pop(f.name, None)
    form.errors.update(raw.errors)
    if not form.ok:
        return _render(request, benefit, form, 422, decision=None, curve=None)
    ticked = {f.name for f in calcform.fields(benefit) if f.kind == "bool" and f.name in raw.values}
    try:
        claim = parse_claim(calcform.to_claim(benefit, form.values, ticked))
        decision = decide(claim)
    except ValidationFailed as exc:
        form.refuse(exc, lang)
        return _render(request, benefit, form, 422, decision=None, curve=None)
    result = decision.to_dict()
    curve = curve_data(claim, lang) if result["refused"] is None else None
    return _render(request, benefit, form, 200, decision=result, curve=curve)
