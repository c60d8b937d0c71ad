"""The portal in a real browser (Debian's Chromium driven by Playwright), against a real ``yibao serve``.

The main flows run on a phone (390 x 844) and a desktop viewport, on a fresh SQLite database with the demo
population, the server's clock in the 2023 collection period (``YIBAO_CLOCK``): log in (a wrong password
first, refused beside its field), see the balance, bind a relative (the unsigned commitment refused beside
its box), pay the relative's premium from the account and print the receipt, use the calculator and its
chart, ask a policy question. Every page gets a screenshot in ``docs/screenshots/`` and an axe-core check
with no serious or critical violation; no request may leave the server.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live import LiveServer
from yibao.core import migrate
from yibao.core.auth import system_principal
from yibao.core.db import make_engine
from yibao.core.unit import unit_of_work

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CLOCK = "2022-11-15T10:00:00+08:00"  # in the 2023 collection period (2022-09-01 to 2022-12-31)
PASSWORD = "Demo2023yb"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture(autouse=True)
def _chromium() -> None:
    """Debian's Chromium must be there (``.ci/run`` installs it); without it these tests fail under CI."""
    if not Path(CHROMIUM).exists():
        message = "Debian's chromium package is not installed (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def demo_server() -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """A server on a fresh SQLite database holding the demo population; the demo's ID numbers by key."""
    from yibao import demo

    folder = Path(tempfile.mkdtemp(prefix="yibao-web-"))
    url = f"sqlite:///{folder / 'portal.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine, principal=system_principal()) as s:
        ids = demo.seed(s)
    engine.dispose()
    try:
        with LiveServer(url, env={"YIBAO_CLOCK": CLOCK}) as server:
            yield server, ids
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Visit:
    """A browser page on the portal that screenshots and checks every page it shows."""

    def __init__(self, page: Any, base: str, viewport: str) -> None:
        self.page = page
        self.base = base
        self.viewport = viewport
        self.outside: list[str] = []
        self.violations: dict[str, list[str]] = {}
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        if not request.url.startswith((self.base, "data:", "blob:")):
            self.outside.append(request.url)

    def go(self, path: str) -> None:
        """Open a page of the portal."""
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")

    def check(self, name: str) -> None:
        """Screenshot the page as it stands and run axe-core on it (serious and critical findings fail)."""
        self.page.wait_for_load_state("networkidle")
        self.page.screenshot(path=str(SHOTS / f"{self.viewport}-{name}.png"), full_page=True)
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} @ {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            self.violations[name] = bad


def _login(v: Visit, id_number: str, password: str) -> None:
    v.page.fill("#f-id_number", id_number)
    v.page.fill("#f-password", password)
    v.page.click("form[action='/login'] button[type=submit]")
    v.page.wait_for_load_state("networkidle")


def _flows(v: Visit, ids: dict[str, str]) -> None:
    page = v.page
    holder, child = ids["zhang_wei"], ids["zhang_xin"]

    # Log in: a wrong password is refused beside the password field, what was typed stays.
    v.go("/")
    assert page.url.endswith("/login?next=/")
    v.check("login")
    _login(v, holder, "Wrong2023pw")
    assert page.locator("#e-password").inner_text().strip().endswith("身份证号或密码错误")
    assert page.locator("#f-password").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-id_number").input_value() == holder
    v.check("login-refused")
    _login(v, holder, PASSWORD)
    assert page.locator("h1").inner_text() == "您好，张伟"
    # The ID number is shown masked, as the API masks it.
    assert holder not in page.content()
    assert f"{holder[:6]}********{holder[-4:]}" in page.content()
    # Demo: 3 monthly credits of 250.00, and the father's 350.00 premium paid from the account.
    assert page.locator("#balance").inner_text() == "400.00"
    v.check("home")

    # The account: the balance and the records; the transfers-in tab swaps the table in place (htmx).
    v.go("/account")
    page.click("a[href='/account?kind=transfers_in']")
    page.wait_for_selector("a[aria-current='true'][href='/account?kind=transfers_in']")
    assert page.locator("#records tbody tr").count() == 3
    assert "250.00" in page.locator("#records tbody").inner_text()
    v.check("account")

    # Bind the daughter: without the signed commitment, refused beside the box; then bound.
    v.go("/family")
    v.check("family")
    page.fill("#f-relative_id_number", child)
    page.select_option("#f-relation", "child")
    page.click("form[action='/family/bind'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "须签署承诺书" in page.locator("#e-commitment_signed").inner_text()
    assert page.locator("#f-relative_id_number").input_value() == child
    v.check("family-refused")
    page.check("#f-commitment_signed")
    page.click("form[action='/family/bind'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "绑定成功" in page.locator(".notice").inner_text()
    assert "张欣" in page.locator("table").inner_text()

    # Pay her 2023 premium from the account; the receipt prints.
    v.go("/pay")
    v.check("pay")
    page.select_option("#f-relative", label=f"张欣（{child[:6]}********{child[-4:]}）")
    page.click("form[action='/pay/account'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/receipts/YB2023530100" in page.url
    receipt = page.locator("main table").inner_text()
    assert "张欣" in receipt and "350.00" in receipt and "医保账户支付" in receipt and "代缴" in receipt
    assert child not in page.content()
    v.check("receipt")
    page.emulate_media(media="print")
    assert not page.locator("nav.nav").is_visible()  # the printed receipt is the receipt alone
    page.screenshot(path=str(SHOTS / f"{v.viewport}-receipt-print.png"), full_page=True)
    page.emulate_media(media="screen")
    v.go("/")
    assert page.locator("#balance").inner_text() == "50.00"

    # Paying again for the same year is refused beside the relative's field, and nothing moves.
    v.go("/pay")
    page.click("form[action='/pay/account'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已缴纳" in page.locator("#e-relative").inner_text()
    v.check("pay-refused")

    for path, name in (("/enrol", "enrol"), ("/insurance", "insurance"), ("/withdraw", "withdraw")):
        v.go(path)
        v.check(name)

    # The calculator: the README's inpatient stay, the steps with their policy sentences, and the chart.
    v.go("/calc")
    page.fill("#f-date", "2016-03-01")
    page.fill("[id='f-person.birth_date']", "1970-05-20")
    page.select_option("[id='f-person.sex']", "F")
    page.select_option("#f-hospital_level", "3")
    page.fill("#f-total", "12000.00")
    page.fill("#f-in_scope", "10000.00")
    page.fill("#f-class_b", "1000.00")
    page.click("#calc-form button[type=submit]")
    page.wait_for_selector("#fund-pay")
    assert page.locator("#fund-pay").inner_text() == "6,510.00"
    assert page.locator("#personal-pay").inner_text() == "5,490.00"
    assert page.locator(".steps blockquote").count() >= 2  # each step quotes its policy sentence
    page.wait_for_selector(".chart[data-ready='1'] svg", state="attached")
    assert page.locator(".chart svg path").count() > 10  # axes, three series, their areas
    curve = json.loads(page.locator(".chart").get_attribute("data-curve") or "{}")
    assert curve["totals"][0] == 0 and curve["totals"][-1] == 40_000_000
    assert max(curve["fund"]) == 16_000_000  # the yearly fund ceiling, reached before 400,000
    v.check("calc")
    # A refusal beside its field: in-scope cost above the total.
    page.fill("#f-in_scope", "13000.00")
    page.click("#calc-form button[type=submit]")
    page.wait_for_selector("#e-in_scope")
    assert "医保范围内费用不能大于总费用" in page.locator("#e-in_scope").inner_text()
    assert page.locator("#f-in_scope").input_value() == "13000.00"  # what was typed stays
    v.check("calc-refused")

    # A policy question: the answer is the source sentence, with its source.
    v.go("/qa")
    page.fill("#f-q", "职工医保个人账户的钱可以给父母用吗")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("#qa-results .hits")
    answer = page.locator("#qa-results").inner_text()
    assert "可用于支付参保人员本人及其配偶、父母、子女在定点医疗机构就医" in answer
    assert "000_6d5edf291fad2543.txt" in answer
    v.check("qa")

    # English on request, and back.
    v.go("/lang/en?next=/")
    assert page.locator("h1").inner_text().startswith("Hello")
    v.check("home-en")
    v.go("/lang/zh?next=/")

    # An address no page has: a page saying so, in Chinese.
    v.go("/no-such-page")
    assert "页面不存在" in page.locator("main").inner_text()
    v.check("not-found")

    # The API documentation works offline too.
    v.go("/docs")
    page.wait_for_selector(".swagger-ui .information-container")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_portal_flows_in_chromium(demo_server: tuple[LiveServer, dict[str, str]], viewport: str) -> None:
    from playwright.sync_api import sync_playwright

    server, ids = demo_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            # bypass_csp: the test injects axe-core, which the portal's own policy would (rightly) refuse.
            context = browser.new_context(viewport=VIEWPORTS[viewport], locale="zh-CN", bypass_csp=True)
            v = Visit(context.new_page(), server.url, viewport)
            _flows(v, ids)
        finally:
            browser.close()
    assert v.outside == [], f"requests left the server: {v.outside[:5]}"
    assert v.violations == {}, json.dumps(v.violations, ensure_ascii=False, indent=1)
