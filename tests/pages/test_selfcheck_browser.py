"""The self-check in a real Chromium: filled field by field from the worked example, by mouse and
by keyboard only, with the answer following each field (htmx)."""

import json

from conftest import EXAMPLE, shot

from engine.contract.application import FIELDS
from engine.service.pages.forms import values


def _example():
    return values(json.loads(EXAMPLE.read_text(encoding="utf-8")))[0]


def _fill(page, path: str, value: str):
    locator = page.locator(f'[name="{path}"]')
    if FIELDS[path] in ("boolean", "label"):
        locator.select_option(value)
    else:
        locator.fill(value)


def _amount(page, outcome: str) -> str:
    return page.locator(f'#answer [data-outcome="{outcome}"] .amount').inner_text().strip()


def test_worked_example_field_by_field(open_page):
    page = open_page()
    page.goto("/")
    assert page.locator("h1").inner_text() == "补贴与合规自查"
    shot(page, "01-selfcheck-empty")
    shown = _example()
    seen_statuses = []
    for path in FIELDS:
        if path not in shown:
            continue
        with page.expect_response(lambda r: r.url.endswith("/check") and r.status == 200):
            _fill(page, path, shown[path])
        if path == "period.end":  # the first answer: every outcome depends on what is still unknown
            page.wait_for_selector('#answer [data-outcome="storage_subsidy"][data-status="undetermined"]')
            shot(page, "02-selfcheck-period-only")
        if page.locator('#answer [data-outcome="storage_subsidy"]').count():
            seen_statuses.append(page.locator('#answer [data-outcome="storage_subsidy"]').get_attribute("data-status"))
    page.wait_for_selector('#answer [data-outcome="equipment_subsidy"][data-status="granted"]')
    page.wait_for_selector("#all-settled")
    assert _amount(page, "storage_subsidy") == "280,000.00 元"
    assert _amount(page, "equipment_subsidy") == "640,000.00 元"
    assert page.locator("#all-settled").count() == 1
    assert "undetermined" in seen_statuses and seen_statuses[-1] == "granted"
    page.locator('[data-outcome="packaging_certification"] details summary').click()  # fetched when opened
    why = page.locator('[data-outcome="packaging_certification"] details .why li')
    why.first.wait_for()
    assert "包装回收率：0.25 → 0.5" in why.first.inner_text()
    shot(page, "03-selfcheck-worked-example")


def test_keyboard_only(open_page):
    """Tab from the top of the page to each field, type, Enter: the form is sent without a mouse."""
    page = open_page()
    page.goto("/")
    shown = _example()
    page.keyboard.press("Tab")  # the skip link
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")  # into the main content
    filled: set[str] = set()
    for _ in range(200):
        page.keyboard.press("Tab")
        name = page.evaluate("document.activeElement.name || ''")
        tag = page.evaluate("document.activeElement.tagName")
        if name in shown and name not in filled and tag == "INPUT":
            page.keyboard.type(shown[name])
            filled.add(name)
        elif name in shown and name not in filled and tag == "SELECT":
            for _ in range({"true": 1, "false": 2, "sme": 1, "large": 2}[shown[name]]):
                page.keyboard.press("ArrowDown")  # the options: (not filled in), then the values
            filled.add(name)
        if name == "history.equipment_subsidy_received":
            break
    assert filled == set(shown)
    page.locator('[name="storage.discharged_kwh"]').focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # a plain submit: the whole page comes back with the answer
    assert page.locator("#answer .errors").count() == 0, page.locator("#answer").inner_text()
    assert _amount(page, "storage_subsidy") == "280,000.00 元"
    assert _amount(page, "equipment_subsidy") == "640,000.00 元"
    assert page.locator('[name="storage.discharged_kwh"]').input_value() == "350000"


def test_english_switch(open_page):
    page = open_page()
    page.goto("/")
    page.click("a.lang")
    assert page.locator("h1").inner_text() == "Subsidy and compliance self-check"
    page.goto("/")  # the cookie keeps the choice
    assert page.locator("html").get_attribute("lang") == "en"
    shown = _example()
    for path in ("period.start", "period.end", "enterprise.is_ecommerce"):
        _fill(page, path, shown[path])
    page.wait_for_selector('#answer [data-outcome="storage_subsidy"]')
    assert "not settled yet" in page.locator("#answer").inner_text()
    shot(page, "04-selfcheck-english")


def test_signing_in_keeps_what_was_typed(open_page, served):
    """Type the example, sign in from the self-check: the form comes back as typed, and is submitted."""
    page = open_page()
    page.goto("/")
    shown = _example()
    for path, value in shown.items():
        _fill(page, path, value)
    for section in ("storage", "equipment", "packaging"):
        page.check(f'input[name="sections"][value="{section}"]')
    _fill(page, "storage.discharged_kwh", "350000")
    page.click("#signin-to-submit")
    page.wait_for_selector("#draft-kept")
    shot(page, "06-signin-keeps-the-form")
    page.fill("#token", served[1]["qinghe"])
    page.click("form[action='/signin'] button[type=submit]")
    page.wait_for_selector('#answer [data-outcome="storage_subsidy"][data-status="granted"]')
    assert page.locator('[name="storage.discharged_kwh"]').input_value() == "350000"
    assert page.locator('[name="enterprise.name"]').input_value() == shown["enterprise.name"]
    assert _amount(page, "storage_subsidy") == "280,000.00 元"
    page.click("#submit")
    page.wait_for_url("**/applications/APP-2026-000123")
    assert page.locator("#app-state").inner_text() == "待审核"
