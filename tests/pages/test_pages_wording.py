"""What the pages say (issues 16 and 19): reasons worded as the notices word them, no engine
code nor unit code in Chinese; contract problems and the record's refusals in the page's
language; the queue's filters as choices with regions by name; metered facts as a table; the
Excel template; and the typed form kept through signing in."""

import re
from io import BytesIO

import test_pages_http
from conftest import ROOT
from test_pages_http import csrf_of, example_form, signed_in

# the plain-HTTP pages' fixtures: a seeded record with its accounts, and clients of it
world, make_client = test_pages_http.world, test_pages_http.make_client

APP = "/applications/APP-2026-000123"
TELEMETRY = ROOT / "examples" / "telemetry" / "taiyuan-2026.csv"


def _reasons(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r'<ul class="reasons">(.*?)</ul>', html, re.S)]


def test_self_check_reasons_say_no_codes_and_no_unit_codes(world):
    client, _ = world
    c = client()
    page = c.post("/check", data=example_form(c)).text
    said = " ".join(_reasons(page))
    assert "日间削峰比例为30%，适用0.80元/千瓦时的标准" in said
    assert "包装回收率为25%" in said
    for code in ("tier_30", "yuan/kWh", "yuan", "0.25 低于"):
        assert code not in said, code
    english = c.post("/check?lang=en", data=example_form(c)).text
    assert "the rate of 0.80 yuan/kWh applies" in " ".join(_reasons(english))


def test_a_partial_self_check_words_its_reasons_too(world):
    client, _ = world
    c = client()
    form = {**example_form(c), "storage.discharged_kwh": "", "enterprise.energy_consumption_tce": ""}
    page = c.post("/check", data=form).text
    said = " ".join(_reasons(page))
    assert "包装回收率为25%，低于包装回收率目标50%" in said
    assert "tier_" not in said and "yuan" not in said


def test_an_amount_with_no_upper_bound_says_so(world):
    client, _ = world
    c = client()
    page = c.post("/check", data={**example_form(c), "packaging.order_value_yuan": ""}).text
    levy = re.search(r'data-outcome="packaging_levy".*?<span class="amount">(.*?)</span>', page, re.S).group(1)
    assert "0.00 起，无上限" in levy and "000,000,000" not in levy, levy


def test_contract_problems_are_said_in_chinese(world):
    client, _ = world
    c = client()
    form = {**example_form(c), "storage.cycle_life": "many"}
    answer = c.post("/check", data=form, headers={"HX-Request": "true"}).text
    errors = re.search(r'<div class="errors".*?</div>', answer, re.S).group(0)
    assert "必须是整数" in errors and "must be" not in errors, errors


def test_the_queue_filters_are_choices_and_regions_names(world):
    client, tokens = world
    ent = signed_in(client(), tokens["qinghe"])
    ent.post("/check/submit", data=example_form(ent))
    wang = signed_in(client(), tokens["wang"])
    q = wang.get("/applications").text
    assert '<select id="q-outcome" name="outcome"' in q and '<select id="q-region" name="region"' in q
    assert '<option value="storage_subsidy=granted">用户侧储能度电补贴：给予补贴</option>' in q
    assert '<option value="140100">太原市</option>' in q
    row = re.search(r'<tr data-application="APP-2026-000123">.*?</tr>', q, re.S).group(0)
    assert "<td>太原市</td>" in row and "<td>140100</td>" not in row
    assert wang.get("/applications?outcome=storage_subsidy%3Dgranted").status_code == 200
    bad = wang.get("/applications?outcome=nonsense")
    assert bad.status_code == 400 and 'id="q-outcome" name="outcome" aria-invalid="true"' in bad.text
    shown = wang.get("/applications?region=140100").text
    assert '<option value="140100" selected>太原市</option>' in shown


def test_metered_facts_are_a_table(world):
    from engine.records import service as records
    from engine.records.store.models import TelemetryIn

    client, tokens = world
    ent = signed_in(client(), tokens["qinghe"])
    ent.post("/check/submit", data=example_form(ent))
    wang = signed_in(client(), tokens["wang"])
    state = wang.app.state.service
    item = TelemetryIn(raw=TELEMETRY.read_bytes(), filename="taiyuan-2026.csv", submitted_by="qinghe")
    records.attach_telemetry(state.store, "APP-2026-000123", item, state.book)
    r = wang.post(f"{APP}/propose", data={"csrf": csrf_of(wang, APP), "opinion": "符合条件"})
    assert r.status_code == 303
    page = wang.get(APP).text
    assert '"used"' not in page and "<pre>" not in page  # no raw JSON
    table = re.search(r'<table class="list" id="metered-facts">.*?</table>', page, re.S).group(0)
    row = re.search(r'<tr data-fact="discharged_kwh".*?</tr>', table, re.S).group(0)
    assert "申报期放电量" in row and "千瓦时" in row and "kWh<" not in row.replace("（kWh）", "")
    facts = re.search(r'<dl class="facts" id="metering-facts">.*?</dl>', page, re.S).group(0)
    assert "2026-01-01 至 2026-12-31" in facts and "taiyuan-2026.csv" in facts
    assert 'id="metering-gaps"' in facts
    params = re.search(r'<li data-parameter="storage_subsidy.tier_30_rate">(.*?)</li>', page, re.S).group(1)
    assert "第二档补贴标准" in params and "元/千瓦时" in params and "yuan" not in params


def test_the_excel_template_is_served(world):
    from openpyxl import load_workbook

    client, _ = world
    c = client()
    assert 'href="/template.xlsx"' in c.get("/").text
    r = c.get("/template.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''%E7%94%B3%E6%8A%A5%E6%A8%A1%E6%9D%BF.xlsx" in r.headers["content-disposition"]
    sheet = load_workbook(BytesIO(r.content)).worksheets[0]
    headers = [cell.value for cell in sheet[1] if cell.value]
    assert any("application_id" in str(h) for h in headers), headers
    assert "application-template.xlsx" in c.get("/template.xlsx?lang=en").headers["content-disposition"]


def test_signing_in_keeps_the_typed_form(world):
    client, tokens = world
    c = client()
    form = {**example_form(c), "storage.discharged_kwh": "350001"}
    r = c.post("/check/signin", data=form)
    assert r.status_code == 200 and 'id="draft-kept"' in r.text
    draft = re.search(r'name="draft" value="([^"]+)"', r.text).group(1)
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    back = c.post("/signin", data={"csrf": csrf, "token": tokens["qinghe"], "next": "/", "draft": _unescape(draft)})
    assert back.status_code == 200
    assert 'value="350001"' in back.text and 'id="submit"' in back.text
    again = c.post("/check/submit", data={**_form_of(back.text), "csrf": csrf_of(c)})
    assert again.status_code == 303, again.text
    doc = c.get(f"{APP}").text
    assert "APP-2026-000123" in doc


def test_a_refusal_of_the_record_is_said_in_chinese(world):
    client, tokens = world
    ent = signed_in(client(), tokens["qinghe"])
    ent.post("/check/submit", data=example_form(ent))
    wang = signed_in(client(), tokens["wang"])
    wang.post(f"{APP}/propose", data={"csrf": csrf_of(wang, APP), "opinion": "符合条件"})
    r = wang.post(f"{APP}/propose", data={"csrf": csrf_of(wang, APP), "opinion": "again"})
    assert r.status_code == 409
    refused = re.search(r'<p class="error" role="alert" id="refused">(.*?)</p>', r.text, re.S).group(1)
    assert "拟定意见待复核" in refused and "awaits" not in refused, refused
    r = wang.post(f"{APP}/confirm", data={"csrf": csrf_of(wang, APP)})
    refused = re.search(r'id="refused">(.*?)</p>', r.text, re.S).group(1)
    assert "须由另一名经办人员或复核人员确认" in refused and "another" not in refused, refused


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def _form_of(page: str) -> dict:
    """The self-check form's fields as the page shows them (inputs and selected options)."""
    import html

    shown = {
        name: html.unescape(v) for name, v in re.findall(r'<input[^>]*name="([a-z_.]+)"[^>]*value="([^"]*)"', page)
    }
    for name, body in re.findall(r'<select[^>]*name="([a-z_.]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        if chosen:
            shown[name] = chosen.group(1)
    sections = re.findall(r'name="sections" value="(\w+)" checked', page)
    return {**shown, "sections": sections}


def test_the_region_is_chosen_and_shown_by_name(world):
    client, _ = world
    c = client()
    empty = c.get("/").text
    assert 'list="regions"' in empty and '<option value="140100">太原市</option>' in empty
    page = c.post("/check", data=example_form(c)).text
    assert re.search(r'<span id="region-name">太原市</span>', page)
    bad = c.post("/check", data={**example_form(c), "storage.cycle_life": "many"})
    help_ = re.search(r'<p class="help" id="f-storage.cycle_life-help">(.*?)</p>', bad.text, re.S).group(1)
    assert "必须是整数" in help_ and "must be" not in help_


def test_a_malformed_reform_is_refused_in_the_pages_language(world):
    client, tokens = world
    ding = signed_in(client(), tokens["ding"])
    bad = ding.post(
        "/reforms",
        data={"csrf": csrf_of(ding, "/reforms"), "reform": "name: x\ndescription: d\n", "action": "validate"},
    )
    assert bad.status_code == 422
    said = re.search(r'id="reform-error"><strong>[^<]*</strong>: (.*?)</p>', bad.text, re.S).group(1)
    assert "reform.yaml（reference）" in said and "required key" not in said, said


def test_a_simulation_on_an_uploaded_population(world, tmp_path):
    import html
    import time

    from engine.drafting.population import generate, write_population

    client, tokens = world
    ding = signed_in(client(), tokens["ding"])
    editor = ding.get("/reforms?from=tier30-0.90-from-2027").text
    assert 'type="file" id="population"' in editor and 'enctype="multipart/form-data"' in editor
    text = html.unescape(editor.split('name="reform"', 1)[1].split(">", 1)[1].split("</textarea>")[0])
    form = {"csrf": csrf_of(ding, "/reforms"), "reform": text, "action": "run"}
    bad = ding.post("/reforms", data=form, files={"population": ("people.txt", b"x", "text/plain")})
    assert bad.status_code == 422 and "people.txt：样本文件应为以下格式之一" in bad.text
    broken = ding.post("/reforms", data=form, files={"population": ("people.csv", b"a,b\n1,2\n", "text/csv")})
    assert broken.status_code == 422 and "people.csv：无法读取" in broken.text
    path = tmp_path / "people.csv"
    write_population(generate(37, 5, 2027), path)
    r = ding.post("/reforms", data=form, files={"population": ("people.csv", path.read_bytes(), "text/csv")})
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    deadline = time.monotonic() + 180
    while 'data-state="done"' not in (page := ding.get(r.headers["location"]).text) and time.monotonic() < deadline:
        assert 'data-state="failed"' not in page, page[-1500:]
        time.sleep(0.5)
    assert re.search(r"模拟申请数</t[dh]>\s*<td[^>]*>37<", page), page[-3000:]
