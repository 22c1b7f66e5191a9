"""The pages under test: the service on a loopback port (uvicorn in a thread) over a seeded record,
a token per account, and Debian's Chromium driven by Playwright (never Playwright's own browser).

Every browser page collects its console messages and uncaught errors; a test fails if any of
them is an error. Screenshots go to out/screenshots/ at 1280×800.
"""

import importlib.util
import socket
import threading
import time
from pathlib import Path

import pytest
from repo import ROOT

# the service tests' helpers (accounts beyond tests/people.py, cheap tokens), loaded by path: both
# files are called conftest
_spec = importlib.util.spec_from_file_location("service_conftest", ROOT / "tests" / "service" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_service = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_service)
add_staff, issue_tokens = _service.add_staff, _service.issue_tokens

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "out" / "screenshots"
EXAMPLE = ROOT / "examples" / "applications" / "taiyuan-pv-storage-warehouse.json"
ACCOUNTS = ["wang", "li", "zhao", "qinghe", "ding", "shen", "dongfang"]


def pytest_configure(config):
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with `starlette.testclient`")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL, tokens by account, the record's URL) of a service running for this module."""
    import uvicorn
    from people import seed_url

    from engine.service.app import create_app
    from engine.service.settings import Settings

    folder = tmp_path_factory.mktemp("pages")
    url = seed_url(f"sqlite:///{folder / 'record.db'}")
    add_staff(url)
    tokens = issue_tokens(url, ACCOUNTS)
    app = create_app(url, settings=Settings(rate=0, jobs_dir=str(folder / "jobs")))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", tokens, url
    server.should_exit = True
    thread.join(20)


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the [test] extra installs playwright")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


class Console:
    """A page's console errors and uncaught exceptions. A page answered with an error status on
    purpose (the 404 of another's application, the 409 of four eyes) makes Chromium log "Failed
    to load resource" for the document itself: that one is the page's answer, not a fault, so it
    is left out; the same message for a script, stylesheet, image or htmx request is kept."""

    def __init__(self):
        self.errors: list[str] = []
        self.documents: set[str] = set()

    def _console(self, m):
        if m.type != "error":
            return
        where = (m.location or {}).get("url", "")
        if m.text.startswith("Failed to load resource") and where in self.documents:
            return
        self.errors.append(f"console {m.type}: {m.text} ({where})")

    def _response(self, r):
        if r.status >= 400 and r.request.is_navigation_request():
            self.documents.add(r.url)

    def watch(self, page):
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        return page


@pytest.fixture
def open_page(browser, served):
    """``open_page(lang="zh")``: a page in a fresh browser context (its own cookies); after the
    test, no page may have logged an error."""
    base = served[0]
    console = Console()
    contexts = []

    def make(lang: str = "zh"):
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base, locale="zh-CN")
        contexts.append(ctx)
        return console.watch(ctx.new_page())

    yield make
    for ctx in contexts:
        ctx.close()
    assert console.errors == [], "\n".join(console.errors)


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def sign_in(page, token: str):
    page.goto("/signin")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_load_state()
