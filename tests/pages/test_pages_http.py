"""The pages over plain HTTP (no browser, no JavaScript): CSRF, sign-in, who sees what, the
form posted and answered as a whole page, and the officers' four eyes."""

import json
import re

import pytest
from conftest import ACCOUNTS, EXAMPLE, add_staff, issue_tokens

from engine.service.pages.forms import values

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def world(make_client, sqlite_url):
    add_staff(sqlite_url)
    tokens = issue_tokens(sqlite_url, ACCOUNTS)

    def client():
        return make_client(sqlite_url, jobs_dir=None)

    return client, tokens


@pytest.fixture
def make_client():
    from fastapi.testclient import TestClient

    from engine.service.app import create_app
    from engine.service.settings import Settings

    opened = []

    def make(url, **settings):
        settings.setdefault("rate", 0)
        settings = {k: v for k, v in settings.items() if v is not None}
        c = TestClient(create_app(url, settings=Settings(**settings)), follow_redirects=False)
        c.__enter__()
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)


def csrf_of(client, path="/") -> str:
    return CSRF.search(client.get(path).text).group(1)


def signed_in(client, token: str):
    r = client.post("/signin", data={"csrf": csrf_of(client, "/signin"), "token": token, "next": ""})
    assert r.status_code == 303, r.text
    return client


def example_form(client) -> dict:
    shown, declared = values(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    return {**shown, "sections": sorted(declared), "csrf": csrf_of(client)}


def test_every_post_form_needs_the_csrf_token(world):
    client, tokens = world
    c = client()
    form = example_form(c)
    for path in ("/check", "/check/download", "/check/submit", "/signin", "/signout", "/applications/X/propose"):
        r = c.post(path, data={k: v for k, v in form.items() if k != "csrf"})
        assert r.status_code == 403, path
        assert "安全令牌" in r.text
    other = client()  # another visitor's token is not this session's
    r = other.post("/check", data={**form, "csrf": csrf_of(other) + "x"})
    assert r.status_code == 403


def test_the_form_without_javascript(world):
    """POST the form, get the whole page with the answer: the worked example's amounts."""
    client, _ = world
    c = client()
    r = c.post("/check", data=example_form(c))
    assert r.status_code == 200
    assert r.text.startswith("<!doctype html>")
    assert re.search(r'data-outcome="storage_subsidy" data-status="granted"', r.text)
    assert "280,000.00 元" in r.text and "640,000.00 元" in r.text
    assert 'value="350000"' in r.text  # the form comes back as typed


def test_htmx_gets_only_the_answer_and_bad_fields_are_named(world):
    client, _ = world
    c = client()
    form = {**example_form(c), "storage.cycle_life": "many", "enterprise.region_code": "14"}
    r = c.post("/check", data=form, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text
    assert 'href="#f-storage.cycle_life"' in r.text and "必须是整数" in r.text
    assert 'href="#f-enterprise.region_code"' in r.text
    page = c.post("/check", data=form)
    assert page.status_code == 422
    assert 'id="f-storage.cycle_life" name="storage.cycle_life"' in page.text
    assert re.search(r'name="storage.cycle_life"[^>]*aria-invalid="true"', page.text, re.S)


def test_download_and_upload_round_trip(world):
    client, _ = world
    c = client()
    r = c.post("/check/download", data=example_form(c))
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    doc = json.loads(r.content)
    assert doc == json.loads(EXAMPLE.read_text(encoding="utf-8"))
    up = c.post("/check/upload", data={"csrf": csrf_of(c)}, files={"application": ("a.json", r.content)})
    assert up.status_code == 200 and "280,000.00 元" in up.text
    bad = c.post("/check/upload", data={"csrf": csrf_of(c)}, files={"application": ("a.json", b"{nope")})
    assert bad.status_code == 400 and "无法读取该文件" in bad.text


def test_sign_in_failures(world):
    client, tokens = world
    c = client()
    for token in ("", "not-a-token", tokens["wang"][:-1] + ("0" if tokens["wang"][-1] != "0" else "1")):
        r = c.post("/signin", data={"csrf": csrf_of(c, "/signin"), "token": token})
        assert r.status_code == 401, token
        assert "令牌无效" in r.text
    assert c.get("/applications").status_code == 303  # still not signed in: sent to sign in
    ok = signed_in(c, tokens["wang"])
    assert ok.get("/applications").status_code == 200
    cookie = next(h for h in ok.cookies.jar if h.name == "shuangtan_session")
    assert cookie.has_nonstandard_attr("HttpOnly")


def test_a_revoked_token_ends_the_session(world, sqlite_url):
    from engine.records.store import open_store
    from engine.service import tokens as tokens_mod

    client, tokens = world
    c = signed_in(client(), tokens["wang"])
    assert c.get("/applications").status_code == 200
    store = open_store(sqlite_url)
    tokens_mod.revoke(store, "wang", "os:test")
    store.dispose()
    assert c.get("/applications").status_code == 303


def test_an_open_redirect_is_not_followed(world):
    client, tokens = world
    c = client()
    r = c.post("/signin", data={"csrf": csrf_of(c, "/signin"), "token": tokens["wang"], "next": "//evil.example/"})
    assert r.headers["location"] == "/applications"


def test_enterprise_sees_its_own_and_404_for_another(world):
    client, tokens = world
    mine = signed_in(client(), tokens["qinghe"])
    r = mine.post("/check/submit", data=example_form(mine))
    assert r.status_code == 303 and r.headers["location"] == "/applications/APP-2026-000123"
    page = mine.get("/applications/APP-2026-000123")
    assert page.status_code == 200 and "APP-2026-000123" in page.text
    assert 'id="actions"' not in page.text  # an enterprise does not propose
    other = signed_in(client(), tokens["dongfang"])
    assert other.get("/applications/APP-2026-000123").status_code == 404
    assert other.get("/applications/NO-SUCH-ONE").status_code == 404
    assert "APP-2026-000123" not in other.get("/applications").text
    assert "APP-2026-000123" in mine.get("/applications").text


def test_four_eyes(world):
    client, tokens = world
    ent = signed_in(client(), tokens["qinghe"])
    ent.post("/check/submit", data=example_form(ent))
    wang = signed_in(client(), tokens["wang"])
    app = "/applications/APP-2026-000123"
    r = wang.post(f"{app}/propose", data={"csrf": csrf_of(wang, app), "opinion": "符合条件"})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=propose")
    r = wang.post(f"{app}/confirm", data={"csrf": csrf_of(wang, app)})
    assert r.status_code == 409 and 'id="refused"' in r.text
    li = signed_in(client(), tokens["li"])
    r = li.post(f"{app}/confirm", data={"csrf": csrf_of(li, app), "opinion": "同意"})
    assert r.status_code == 303
    page = li.get(r.headers["location"])
    assert 'id="done"' in page.text and "决定生效" in page.text
    assert 'data-outcome="storage_subsidy" data-status="granted"' in page.text
    r = li.post(f"{app}/notices", data={"csrf": csrf_of(li, app), "lang": "zh"})
    assert r.status_code == 303
    page = li.get(app).text
    link = re.search(r'href="(/notices/[^"]+)"', page).group(1)
    notice = li.get(link)
    assert notice.status_code == 200 and notice.headers["content-type"].startswith("text/html")
    assert "280,000.00" in notice.text or "280000.00" in notice.text
    assert signed_in(client(), tokens["dongfang"]).get(link).status_code == 404


def test_drafter_and_auditor_pages_are_theirs_only(world):
    client, tokens = world
    ding = signed_in(client(), tokens["ding"])
    page = ding.get("/parameters")
    assert page.status_code == 200 and 'data-parameter="storage_subsidy.tier_30_rate"' in page.text
    editor = ding.get("/reforms?from=levy-per-order")
    assert editor.status_code == 200 and "name: levy-per-order" in editor.text
    bad = ding.post("/reforms", data={"csrf": csrf_of(ding, "/reforms"), "reform": "name: x\n", "action": "validate"})
    assert bad.status_code == 422 and 'id="reform-error"' in bad.text
    text = editor.text.split('name="reform"', 1)[1].split(">", 1)[1].split("</textarea>")[0]
    import html

    good = ding.post(
        "/reforms", data={"csrf": csrf_of(ding, "/reforms"), "reform": html.unescape(text), "action": "validate"}
    )
    assert good.status_code == 200 and 'id="reform-valid"' in good.text
    saved = ding.get("/reforms/files/levy-per-order.yaml")
    assert saved.status_code == 200 and saved.text.startswith("#") and "levy-per-order" in saved.text
    assert ding.get("/jobs/" + "0" * 32).status_code == 404
    assert ding.get("/audit").status_code == 403
    shen = signed_in(client(), tokens["shen"])
    log = shen.get("/audit?verify=1")
    assert log.status_code == 200 and 'id="verified"' in log.text and "审计链完整" in log.text
    assert shen.get("/parameters").status_code == 403
    wang = signed_in(client(), tokens["wang"])
    assert wang.get("/audit").status_code == 403 and wang.get("/reforms").status_code == 403
    assert wang.get("/applications?region=14&since=yesterday").status_code == 400


def test_every_catalogue_key_a_template_names_exists():
    from engine.i18n import catalogue
    from engine.resources import bundled

    known = set(catalogue()["zh"])
    used = {
        (m, path.name)
        for path in (bundled("templates") / "pages").glob("*.j2")
        for m in re.findall(r't\("(pages\.[a-z0-9_.]+)"\s*[,)]', path.read_text(encoding="utf-8"))
    }
    assert used and not sorted(f"{where}: {key}" for key, where in used if key not in known)


def test_a_simulation_from_the_editor_to_its_report(world):
    import time

    client, tokens = world
    ding = signed_in(client(), tokens["ding"])
    editor = ding.get("/reforms?from=tier30-0.90-from-2027").text
    import html

    text = html.unescape(editor.split('name="reform"', 1)[1].split(">", 1)[1].split("</textarea>")[0])
    r = ding.post("/reforms", data={"csrf": csrf_of(ding, "/reforms"), "reform": text, "n": "50", "action": "run"})
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    deadline = time.monotonic() + 180
    while True:
        page = ding.get(r.headers["location"])
        assert page.status_code == 200, page.text[-2000:]
        if 'data-state="done"' in page.text or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert 'id="money"' in page.text and "storage_subsidy" in page.text
    chart = re.search(r'<img src="([^"]+\.png)"', page.text)
    assert chart and ding.get(chart.group(1)).headers["content-type"] == "image/png"
