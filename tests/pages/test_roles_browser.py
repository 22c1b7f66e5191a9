"""The signed-in pages in a real Chromium: an enterprise submits the worked example, one officer
proposes and another confirms it (two browser contexts), the notice is issued and opened; a
drafter browses the parameters and runs a reform; an auditor verifies the chain. One record for
the module, in this order."""

import re

import pytest
from conftest import EXAMPLE, shot, sign_in
from repo import ROOT

APP = "APP-2026-000123"
TELEMETRY = ROOT / "examples" / "telemetry" / "taiyuan-2026.csv"


@pytest.fixture(scope="module")
def tokens(served):
    return served[1]


def test_enterprise_submits_the_worked_example(open_page, tokens):
    page = open_page()
    sign_in(page, tokens["qinghe"])
    assert page.url.endswith("/applications")
    assert page.locator("h1").inner_text() == "我的申请"
    page.goto("/")
    page.set_input_files("#upload-file", str(EXAMPLE))
    page.click("form[action='/check/upload'] button")
    page.wait_for_selector('#answer [data-outcome="storage_subsidy"][data-status="granted"]')
    assert page.locator('[name="storage.discharged_kwh"]').input_value() == "350000"
    page.click("#submit")
    page.wait_for_url(f"**/applications/{APP}")
    assert page.locator("#app-state").inner_text() == "待审核"
    assert page.locator("#actions").count() == 0
    assert "太原市" in page.locator("h1 + p").inner_text()  # the region by its name
    shot(page, "10-enterprise-application-submitted")
    page.goto("/applications")
    assert page.locator(f'tr[data-application="{APP}"]').count() == 1
    shot(page, "11-enterprise-applications")


def test_the_platform_meters_it(served):
    """The provincial platform's metering of the storage system, kept with the application (as
    ``shuangtan telemetry attach`` keeps it): the decision is made on the meter's facts."""
    from engine.records import service as records
    from engine.records.store import open_store
    from engine.records.store.models import TelemetryIn
    from engine.rulebook.loader import load_rulebook

    store = open_store(served[2])
    try:
        item = TelemetryIn(raw=TELEMETRY.read_bytes(), filename=TELEMETRY.name, submitted_by="qinghe")
        assert records.attach_telemetry(store, APP, item, load_rulebook()).valid
    finally:
        store.dispose()


def test_officer_confirms_a_proposal_of_another(open_page, tokens):
    wang, li = open_page(), open_page()  # two browser contexts: two people, two sessions
    sign_in(wang, tokens["wang"])
    wang.select_option("#q-region", label="太原市")  # a region by its name
    wang.click(".filters button[type=submit]")
    assert wang.locator(f'tr[data-application="{APP}"]').count() == 1
    shot(wang, "12-officer-queue")
    wang.click(f'tr[data-application="{APP}"] a')
    wang.fill("#propose-opinion", "材料齐全，符合条件")
    wang.click("#propose")
    assert wang.locator("#done").inner_text() == "已提议，等待另一位审核员确认。"
    assert wang.locator("#decision-state").inner_text() == "待复核"
    wang.click("#confirm")  # four eyes: not one's own proposal
    refused = wang.locator("#refused").inner_text()
    assert "须由另一名经办人员或复核人员确认" in refused and "propos" not in refused  # the record's refusal, in Chinese
    assert wang.locator("#decision-state").inner_text() == "待复核"
    facts = wang.locator("#metered-facts")
    assert "申报期放电量" in facts.inner_text() and "千瓦时" in facts.inner_text()
    assert "{" not in wang.locator("#metering-facts").inner_text()  # a table, not the block's JSON
    shot(wang, "13-officer-own-proposal-refused")

    sign_in(li, tokens["li"])
    li.goto(f"/applications/{APP}")
    li.fill("#confirm-opinion", "同意")
    li.click("#confirm")
    assert li.locator("#done").inner_text() == "已确认，决定生效。"
    assert li.locator("#decision-state").inner_text() == "生效"
    amount = li.locator('[data-outcome="storage_subsidy"] .amount').inner_text()
    assert amount == "175,009.71 元"  # on the meter's discharge, not the 280,000.00 the declaration gives
    li.click("#issue")
    assert li.locator("#done").inner_text() == "通知书已出具。"
    number = li.locator("#notices tbody tr td").first.inner_text()
    assert re.search(r"〔2026〕\d+号", number)
    shot(li, "14-officer-confirmed-and-issued")
    with li.expect_navigation():
        li.locator("#notices a").first.click()
    assert "175,009.71" in li.content()
    shot(li, "15-notice")


def test_drafter_runs_a_reform(open_page, tokens):
    page = open_page()
    sign_in(page, tokens["ding"])
    assert page.url.endswith("/parameters")
    row = page.locator('tr[data-parameter="storage_subsidy.tier_30_rate"]')
    assert "第二档补贴标准" in row.inner_text() and "元/千瓦时" in row.inner_text()  # its label and unit, named
    assert "0.80" in row.inner_text() and "2027-01-01: 0.90" not in row.inner_text()
    shot(page, "20-drafter-parameters")
    page.goto("/reforms")
    page.fill("#reform", "name: Not A Name\n")
    page.click("#validate")
    assert page.locator("#reform-error").count() == 1
    page.goto("/reforms?from=tier30-0.90-from-2027")
    page.click("#validate")
    assert "tier30-0.90-from-2027" in page.locator("#reform-valid").inner_text()
    shot(page, "21-drafter-reform-valid")
    page.fill("#n", "300")
    page.click("#run")
    page.wait_for_url("**/jobs/*")
    page.wait_for_selector('#job[data-state="done"]', timeout=240_000)
    assert page.locator("#summary").count() == 1
    assert page.locator("#report a", has_text="report.md").count() == 1
    assert page.locator("#job-state").inner_text() == "已完成"
    assert page.locator('#money tr[data-outcome="storage_subsidy"] th').inner_text() == "用户侧储能度电补贴"
    assert "元" in page.locator('#money tr[data-outcome="storage_subsidy"]').inner_text()
    shot(page, "22-drafter-simulation-report")


def test_auditor_verifies_the_chain(open_page, tokens):
    page = open_page()
    sign_in(page, tokens["shen"])
    assert page.url.endswith("/audit")
    page.click("#verify")
    assert "审计链完整" in page.locator("#verified").inner_text()
    assert page.locator("#audit tbody tr").count() > 5
    actions = page.locator("#audit tbody td[data-action]").all_inner_texts()
    assert "确认认定" in actions and not {"read", "review.confirm", "notice.issue"} & set(actions)
    shot(page, "30-auditor-log-verified")


def test_sign_in_page_and_a_refused_token(open_page):
    page = open_page()
    page.goto("/signin")
    page.fill("#token", "st_wang_" + "0" * 64)
    page.click("button[type=submit]")
    assert page.locator("#signin-error").inner_text() == "令牌无效，或账户已停用。"
    shot(page, "05-signin-refused")
