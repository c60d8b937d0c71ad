"""家庭共济: read the commitment, bind a close relative to the personal account, see the bindings, unbind online."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from yibao.accounts.models import Channel
from yibao.core.clock import today
from yibao.core.errors import AppError, NotFound
from yibao.core.ids import mask_id
from yibao.people.models import Relation
from yibao.policy.loader import get_pack
from yibao.policy.model import ParamValue
from yibao.web.domain import relatives, sharing
from yibao.web.forms import Form, blank, read_form
from yibao.web.render import page, redirect
from yibao.web.routing import act, me, need_login, page_router
from yibao.web.session import lang_of

router = page_router()
BIND_FIELDS = ("relative_id_number", "relation", "commitment_signed")
# The portal is the web face of the 云南医保 service, the channel the seed names for binding online.
CHANNEL = Channel.YUNNAN_YIBAO_MINIAPP
# What the holder commits to: the rules of seed 000 that the binding rests on, quoted from the pack.
COMMITMENT = (
    "employee.account.close_relatives",
    "employee.account.sharing_region",
    "employee.account.allowed_uses",
    "employee.account.excluded_uses",
    "employee.account.relative_premium_balance",
)
# Refusals that name no field but concern the relative typed in.
CODES = {
    "accounts.cross_region": "relative_id_number",
    "accounts.not_normal": "relative_id_number",
    "accounts.already_bound": "relative_id_number",
    "people.not_found": "relative_id_number",
    "accounts.not_close_relative": "relation",
}


def commitment() -> list[ParamValue]:
    """The commitment's sentences, as the pack quotes them today."""
    view = get_pack().at(today())
    return [view.get(p) for p in COMMITMENT]


def relation_options(lang: str) -> list[tuple[str, str]]:
    """Close relatives as the pack lists them (近亲属)."""
    items = get_pack().at(today()).items("employee.account.close_relatives")
    from yibao.web.labels import RELATIONS, name

    return [(i.code, i.name if lang != "en" else name(RELATIONS, i.code, lang)) for i in items]


def _bindings(session: Session) -> list[Any]:
    return list(sharing.bindings_of(session, me(session).login))


def _render(request: Request, form: Form, bindings: list[Any], status: int = 200, **extra: Any) -> Response:
    lang = lang_of(request)
    return page(
        request,
        "family.html",
        status,
        form=form,
        bindings=bindings,
        commitment=commitment(),
        relations=relation_options(lang),
        **extra,
    )


@router.get("/family")
async def family(request: Request, done: str = "") -> Response:
    """The commitment, the binding form and the binding records (as holder or as user)."""
    if (go := need_login(request)) is not None:
        return go
    bindings = await act(request, _bindings)
    return _render(request, blank(*BIND_FIELDS), bindings, done=done[:16])


@router.post("/family/bind")
async def bind(request: Request) -> Response:
    """个人账户共济绑定申请: the relative, the relation, the signed commitment."""
    form = await read_form(request, *BIND_FIELDS)
    lang = lang_of(request)
    if form.need("relative_id_number", "relation", lang=lang) and form.get("relation") not in {
        r.value for r in Relation
    }:
        form.errors["relation"] = "Choose a relation" if lang == "en" else "请选择亲属关系"

    def work(session: Session) -> None:
        who = me(session)
        sharing.bind(
            session,
            holder_id_number=who.login,
            relative_id_number=form.get("relative_id_number"),
            relation=Relation(form.get("relation")),
            commitment_signed=form.checked("commitment_signed"),
            channel=CHANNEL,
        )

    if form.ok:
        try:
            await act(request, work)
            return redirect("/family?done=bound")
        except AppError as exc:
            if exc.code.startswith("auth."):
                raise
            form.refuse(exc, lang, codes=CODES)
    bindings = await act(request, _bindings)
    return _render(request, form, bindings, 422, done="")


def relative_by_mask(session: Session, holder: str, masked: str, name: str) -> str:
    """The full ID number of the holder's declared relative shown as ``masked`` and ``name`` (pages show
    masked numbers only, as the API does; the server finds the person again among the holder's relatives)."""
    for person, _ in relatives(session, holder):
        if mask_id(person.id_number) == masked and person.name == name:
            return person.id_number
    raise NotFound("没有该亲属", "no such relative", code="accounts.no_binding")


@router.post("/family/unbind")
async def unbind(request: Request) -> Response:
    """解除绑定 online (the unbinding is recorded like the binding)."""
    form = await read_form(request, "user")
    lang = lang_of(request)

    def work(session: Session) -> None:
        who = me(session)
        relative = relative_by_mask(session, who.login, form.get("user_id"), form.get("user_name"))
        sharing.unbind(session, holder_id_number=who.login, relative_id_number=relative, channel=CHANNEL)

    try:
        await act(request, work)
        return redirect("/family?done=unbound")
    except AppError as exc:
        if exc.code.startswith("auth."):
            raise
        form.refuse(exc, lang)
    bindings = await act(request, _bindings)
    return _render(request, form, bindings, 422, done="")
