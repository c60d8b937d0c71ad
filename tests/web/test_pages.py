"""The portal in-process: sessions, CSRF, access through the same rules as the API, errors as pages, no outside loads."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.factories import new_id
from yibao.core import clock
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work
from yibao.engine.claims import CLAIM_MODELS
from yibao.identity import logins
from yibao.people import enrolment
from yibao.web import calcform
from yibao.web.i18n_en import EN

WEB = Path(__file__).resolve().parents[2] / "yibao" / "web"
PASSWORD = "Portal2023pw"
IN_PERIOD = datetime(2022, 11, 15, 2, 0, tzinfo=UTC)


def _person(engine: Engine, name: str = "网页测试") -> str:
    idn = new_id(born=date(1985, 3, 3))
    with unit_of_work(engine, principal=system_principal()) as s:
        enrolment.register_resident(s, id_number=idn, name=name, region="530100", on=date(2022, 9, 1))
        logins.set_person_password(s, id_number=idn, new_password=PASSWORD)
    return idn


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, html[:500]
    return found.group(1)


def _login(client: Any, idn: str, password: str = PASSWORD) -> Any:
    token = _csrf(client.get("/login").text)
    return client.post(
        "/login", data={"csrf": token, "id_number": idn, "password": password, "next": "/"}, follow_redirects=False
    )


def test_login_sets_an_httponly_samesite_session_and_logout_ends_it(api_client: Any, engine: Engine) -> None:
    idn = _person(engine)
    r = _login(api_client, idn)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("yb_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    home = api_client.get("/")
    assert home.status_code == 200 and "网页测试" in home.text
    assert idn not in home.text and f"{idn[:6]}********{idn[-4:]}" in home.text  # masked as the API masks
    token = api_client.cookies.get("yb_session")
    out = api_client.post("/logout", data={"csrf": _csrf(home.text)}, follow_redirects=False)
    assert out.status_code == 303
    # The token was revoked on the server, not only forgotten by the browser.
    assert api_client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_wrong_password_is_shown_beside_its_field_and_the_id_number_kept(api_client: Any, engine: Engine) -> None:
    idn = _person(engine)
    r = _login(api_client, idn, "Wrong2023pw")
    assert r.status_code == 401
    assert 'id="e-password"' in r.text and "身份证号或密码错误" in r.text
    assert f'value="{idn}"' in r.text and "Wrong2023pw" not in r.text
    assert "Traceback" not in r.text


def test_a_form_without_its_csrf_token_is_refused(api_client: Any, engine: Engine) -> None:
    idn = _person(engine)
    r = api_client.post("/login", data={"id_number": idn, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403 and "页面已过期" in r.text
    assert "yb_session" not in r.headers.get("set-cookie", "")
    _login(api_client, idn)
    forged = api_client.post("/family/bind", data={"csrf": "0" * 64, "relative_id_number": idn, "relation": "child"})
    assert forged.status_code == 403


def test_pages_need_a_session(api_client: Any) -> None:
    for path in ("/", "/account", "/family", "/pay", "/enrol", "/insurance", "/withdraw"):
        r = api_client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    assert api_client.get("/calc").status_code == 200  # public, like POST /api/calc
    assert api_client.get("/qa").status_code == 200


def test_a_stale_session_goes_back_to_login(api_client: Any) -> None:
    api_client.cookies.set("yb_session", "not-a-token")
    r = api_client.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/account"


def test_another_persons_receipt_is_refused_as_the_api_refuses_it(api_client: Any, engine: Engine) -> None:
    from yibao.premiums import payments as premiums

    owner, stranger = _person(engine, "回执本人"), _person(engine, "旁人")
    with unit_of_work(engine, principal=system_principal()) as s:
        req = premiums.PaymentRequest(
            insured_id_number=owner,
            insured_name="回执本人",
            year=2023,
            amount=35_000,
            channel="banshitong_app",
            region="530100",
            idempotency_key=f"web-{owner}",
        )
        no = premiums.pay_premium(s, req, now=IN_PERIOD).receipt_no
    _login(api_client, stranger)
    r = api_client.get(f"/receipts/{no}")
    assert r.status_code == 403 and "无权" in r.text and "<html" in r.text
    api_client.cookies.clear()
    _login(api_client, owner)
    mine = api_client.get(f"/receipts/{no}")
    assert mine.status_code == 200 and "350.00" in mine.text and owner not in mine.text


def test_paying_outside_the_collection_period_is_refused_beside_nothing_but_said(
    api_client: Any, engine: Engine
) -> None:
    idn = _person(engine)
    _login(api_client, idn)
    with clock.use(clock.FixedClock(datetime(2023, 3, 1, 2, 0, tzinfo=UTC))):
        page = api_client.get("/pay")
        form = {"csrf": _csrf(page.text), "who": "self", "region": "530100", "channel": "banshitong_app", "key": "k1"}
        r = api_client.post("/pay", data=form)
    assert r.status_code == 422
    assert "当前不在缴费期内" in r.text and "办理建议" in r.text


def test_every_page_has_the_security_headers_and_loads_nothing_from_outside(api_client: Any, engine: Engine) -> None:
    _login(api_client, _person(engine))
    for path in ("/", "/pay", "/enrol", "/calc", "/qa?q=起付标准", "/family", "/withdraw", "/no-such-page"):
        r = api_client.get(path)
        assert "default-src 'self'" in r.headers["content-security-policy"], path
        assert r.headers["x-content-type-options"] == "nosniff"
        # No script, style, image or frame from another origin (links to documents are not loads either).
        assert not re.search(r'(src|href)="(https?:)?//', r.text), path
    for f in (WEB / "templates").glob("*.html"):
        assert not re.search(r'(src|href)="(https?:)?//', f.read_text(encoding="utf-8")), f.name


def test_docs_are_served_from_local_files(api_client: Any) -> None:
    html = api_client.get("/docs").text
    assert "/static/vendor/swagger-ui-dist-5.35.0/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "fastapi.tiangolo.com" not in html
    assert '"validatorUrl": null' in html
    assert api_client.get("/static/vendor/swagger-ui-dist-5.35.0/swagger-ui-bundle.js").status_code == 200
    assert api_client.get("/redoc").status_code == 404


def test_unknown_addresses(api_client: Any) -> None:
    page = api_client.get("/no-such-page")
    assert (
        page.status_code == 404 and "页面不存在" in page.text and page.headers["content-type"].startswith("text/html")
    )
    api = api_client.get("/api/no-such-thing")
    assert api.status_code == 404 and api.json()["code"] == "http_404"  # the API keeps its JSON errors


def test_english_on_request(api_client: Any) -> None:
    r = api_client.get("/lang/en?next=/calc", follow_redirects=True)
    assert "Benefit calculator" in r.text and 'lang="en"' in r.text
    assert api_client.get("/lang/en?next=https://elsewhere.example/", follow_redirects=False).headers["location"] == "/"


def test_every_template_text_has_its_english() -> None:
    missing = set()
    for f in (WEB / "templates").glob("*.html"):
        for text in re.findall(r"(?<![\w.])t\(\s*[\"']([^\"']+)[\"']\s*\)", f.read_text(encoding="utf-8")):
            if text not in EN:
                missing.add(text)
    from yibao.web.render import NAV

    missing |= {label for _, label in NAV if label not in EN}
    assert not missing, sorted(missing)


@pytest.mark.parametrize("benefit", list(calcform.BENEFITS))
def test_the_calculator_asks_every_field_of_the_api_with_a_label(benefit: str) -> None:
    scheme, name = benefit.split("/")
    model = CLAIM_MODELS[(scheme, name)]
    schema = model.model_json_schema()
    expected = set()
    for field, prop in schema["properties"].items():
        if field in ("scheme", "benefit"):
            continue
        ref = prop.get("$ref") or next((a.get("$ref") for a in prop.get("allOf", []) if "$ref" in a), None)
        sub = schema["$defs"][ref.rsplit("/", 1)[1]] if ref else {}
        if "properties" in sub:  # a nested object (person, ytd); an enum is one field
            expected |= {f"{field}.{leaf}" for leaf in sub["properties"]}
        else:
            expected.add(field)
    fields = calcform.fields(benefit)
    assert {f.name for f in fields} == expected
    assert all(f.name in calcform.LABELS for f in fields)
    assert all(o in calcform.CHOICES for f in fields if f.kind == "choice" for o in f.options)


def test_the_calculator_decides_as_the_api_and_draws_the_curve(api_client: Any) -> None:
    page = api_client.get("/calc")
    form = {
        "csrf": _csrf(page.text),
        "benefit": "resident/inpatient",
        "date": "2016-03-01",
        "person.birth_date": "1970-05-20",
        "person.sex": "F",
        "person.group": "general",
        "hospital_level": "3",
        "offsite": "none",
        "filed": "1",
        "designated": "1",
        "admission_registered": "1",
        "total": "12000.00",
        "in_scope": "10000.00",
        "class_b": "1000.00",
    }
    r = api_client.post("/calc", data=form, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="fund-pay">6,510.00<' in r.text and "data-curve=" in r.text
    api = api_client.post(
        "/api/calc",
        json={
            "scheme": "resident",
            "benefit": "inpatient",
            "date": "2016-03-01",
            "person": {"birth_date": "1970-05-20", "sex": "F", "group": "general"},
            "hospital_level": 3,
            "total": "12000.00",
            "in_scope": "10000.00",
            "class_b": "1000.00",
        },
    ).json()
    assert api["fund_pay"] == "6510.00"
    bad = api_client.post("/calc", data={**form, "in_scope": "13000.00"}, headers={"HX-Request": "true"})
    assert bad.status_code == 422 and 'id="e-in_scope"' in bad.text and "医保范围内费用不能大于总费用" in bad.text
    assert 'value="13000.00"' in bad.text  # what was typed stays


def test_a_control_character_in_a_form_is_refused_naming_the_field(api_client: Any) -> None:
    page = api_client.get("/calc")
    r = api_client.post(
        "/calc", data={"csrf": _csrf(page.text), "benefit": "resident/inpatient", "total": "12\u202e00"}
    )
    assert r.status_code == 422 and 'id="e-total"' in r.text and "U+202E" in r.text
