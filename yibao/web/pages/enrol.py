"""参保登记: a resident (oneself, or on someone's behalf), a student of a provincial university in Kunming
(choose the school, accept the commitment), a newborn by the guardian."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from yibao.core.clock import today
from yibao.core.errors import AppError
from yibao.people.regions import REGIONS
from yibao.web.domain import enrolment, people_schemas, student_schools
from yibao.web.forms import Form, blank, read_form
from yibao.web.render import page
from yibao.web.routing import act, me, need_login, page_router
from yibao.web.session import lang_of

router = page_router()
RESIDENT = ("who", "id_number", "name", "region", "phone")
STUDENT = ("s_id_number", "s_name", "school", "commitment_accepted", "s_phone")
NEWBORN = ("n_id_number", "n_name", "n_region")
CODES = {"people.already_enrolled": "id_number", "auth.forbidden": "id_number"}


def _render(request: Request, status: int = 200, **forms: Any) -> Response:
    values = {
        "resident": blank(*RESIDENT, who="self"),
        "student": blank(*STUDENT),
        "newborn": blank(*NEWBORN),
        "done": None,
        **forms,
    }
    return page(
        request,
        "enrol.html",
        status,
        regions=sorted((c, n) for c, n in REGIONS.items() if c != "530000"),
        schools=[(s, s) for s in student_schools()],
        **values,
    )


@router.get("/enrol")
def enrol_page(request: Request) -> Response:
    """The three registrations."""
    return need_login(request) or _render(request)


def _done(session: Session, enrolled: people_schemas.PersonOut) -> people_schemas.PersonOut:
    """The new record as the person sees it (the enrolment answers it masked for a person)."""
    return enrolled


async def _submit(request: Request, form: Form, which: str, work: Any, fields: dict[str, str]) -> Response:
    lang = lang_of(request)
    if form.ok:
        try:
            done = await act(request, work)
            return _render(request, 201, done=done, **{which: blank(*form.known)})
        except AppError as exc:
            if exc.code == "auth.unauthenticated":
                raise
            form.refuse(exc, lang, fields=fields, codes={k: fields.get(v, v) for k, v in CODES.items()})
    return _render(request, 422, **{which: form})


@router.post("/enrol/resident")
async def enrol_resident(request: Request) -> Response:
    """城乡居民医保参保登记 for oneself, or on someone's behalf (the registrant is recorded)."""
    form = await read_form(request, *RESIDENT)
    other = form.get("who") == "other"
    form.need(*(("id_number", "name") if other else ()), "region", lang=lang_of(request))

    def work(session: Session) -> people_schemas.PersonOut:
        who = me(session)
        enrolled = enrolment.register_resident(
            session,
            id_number=form.get("id_number") if other else who.login,
            name=form.get("name") if other else who.name,
            region=form.get("region"),
            on=today(),
            phone=form.get("phone") or None,
            on_behalf_by=who.login if other else None,
        )
        return _done(session, enrolled)

    return await _submit(request, form, "resident", work, {})


@router.post("/enrol/student")
async def enrol_student(request: Request) -> Response:
    """省属在昆高校大学生医保参保."""
    form = await read_form(request, *STUDENT)
    form.need("s_id_number", "s_name", "school", lang=lang_of(request))

    def work(session: Session) -> people_schemas.PersonOut:
        enrolled = enrolment.register_student(
            session,
            id_number=form.get("s_id_number"),
            name=form.get("s_name"),
            school=form.get("school"),
            commitment_accepted=form.checked("commitment_accepted"),
            on=today(),
            phone=form.get("s_phone") or None,
        )
        return _done(session, enrolled)

    fields = {"id_number": "s_id_number", "name": "s_name", "phone": "s_phone"}
    return await _submit(request, form, "student", work, fields)


@router.post("/enrol/newborn")
async def enrol_newborn(request: Request) -> Response:
    """新生儿参保, registered by the logged-in guardian."""
    form = await read_form(request, *NEWBORN)
    form.need("n_id_number", "n_name", "n_region", lang=lang_of(request))

    def work(session: Session) -> people_schemas.PersonOut:
        who = me(session)
        enrolled = enrolment.register_newborn(
            session,
            id_number=form.get("n_id_number"),
            name=form.get("n_name"),
            guardian_id_number=who.login,
            region=form.get("n_region"),
            on=today(),
        )
        return _done(session, enrolled)

    fields = {"id_number": "n_id_number", "name": "n_name", "region": "n_region", "guardian_id_number": "n_id_number"}
    return await _submit(request, form, "newborn", work, fields)
