"""The record's refusals (engine/errors.py RecordError) in the language in force: every one is
raised with a key of templates/messages/records.yaml, and in Chinese holds no English sentence,
as the CLI prints it and as a page shows it (issues 16 and 19)."""

from __future__ import annotations

import ast
import re

import pytest
from click.testing import CliRunner
from repo import ROOT, WORKED_EXAMPLE
from test_no_english import english_words

from engine import errors
from engine.cli import main
from engine.i18n import catalogue, t
from engine.i18n.catalogue import PLACEHOLDER

#: where the record's refusals are raised
RAISERS = [*sorted((ROOT / "engine" / "records").glob("*.py")), ROOT / "engine" / "service" / "tokens.py"]
FAMILY = {
    name for name, value in vars(errors).items() if isinstance(value, type) and issubclass(value, errors.RecordError)
} | {"NotConfirmedError", "NoticeDateError", "SupersededError"}


def _raised() -> list[tuple[str, int, ast.Call]]:
    found = []
    for path in RAISERS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FAMILY:
                found.append((path.name, node.lineno, node))
    return found


def test_every_refusal_is_raised_by_a_key_that_exists():
    raised = _raised()
    assert len(raised) > 50  # the walk finds the raise sites
    keys = catalogue()["en"]
    for where, line, call in raised:
        if call.func.id in ("AlreadyDecidedError", "AlreadyProposedError"):
            continue  # keyed inside the class
        key = next((k.value for k in call.keywords if k.arg == "key"), None)
        assert not call.args, f"{where}:{line}: a refusal worded in place, not by its key"
        assert isinstance(key, ast.Constant) and f"records.{key.value}" in keys, f"{where}:{line}"


def test_every_refusal_in_chinese_holds_no_english():
    zh = catalogue()["zh"]
    for key, pattern in zh.items():
        if not key.startswith("records.") or key.startswith("records.term.") or key == "records.or":
            continue
        filled = t(key, "zh", **{name: "X1" for name in PLACEHOLDER.findall(pattern)})
        assert _words(filled) == [], (key, _words(filled))


def test_a_refusal_speaks_the_language_asked_and_str_stays_english():
    exc = errors.FourEyesError(key="four_eyes_submitted", app="APP-1", name="wang", version=1)
    assert str(exc) == "APP-1: wang submitted version 1; another officer confirms"
    assert exc.said("zh") == "APP-1：wang 提交了第 1 版；须由另一名经办人员确认"
    refused = errors.AccountRefused(
        key="wrong_role", name="ding", terms={"act": ["review"], "role": ["drafter"], "needs": ["officer", "reviewer"]}
    )
    assert str(refused) == "review: account ding is a drafter account; this needs the role officer or reviewer"
    assert _words(refused.said("zh")) == []


def _words(text: str) -> list[str]:
    """The English words of ``text`` once its options (``--by``) and account names (data) are out."""
    return english_words(re.sub(r"--[\w-]+|\b(?:wang|ding|li)\b", " ", text))


def _cli(*args) -> str:
    result = CliRunner().invoke(main, ["--lang", "zh", *map(str, args)], prog_name="shuangtan")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.output


@pytest.fixture
def proposed(tmp_path):
    from people import seed_url

    db = seed_url(f"sqlite:///{tmp_path / 'record.db'}")
    _cli("submit", "--db", db, "--by", "li", WORKED_EXAMPLE)
    _cli("decide", "--db", db, "--all-pending", "--officer", "wang")
    return db


def test_the_cli_says_a_refusal_in_chinese(proposed):
    app = "APP-2026-000123"
    said = _cli("confirm", "--db", proposed, app, "--by", "wang")  # the proposer: four eyes
    line = next(x for x in said.splitlines() if x.startswith("未确认"))
    assert "须由另一名经办人员" in line and _words(line) == [], line
    again = _cli("decide", "--db", proposed, app, "--officer", "wang")  # awaiting review already
    line = next(x for x in again.splitlines() if x.startswith("未认定"))
    assert "待复核" in line and _words(line) == [], line
    wrong = _cli("confirm", "--db", proposed, app, "--by", "ding")  # a drafter
    assert "错误" in wrong and _words(wrong) == [], wrong


def test_a_page_says_a_refusal_in_chinese(proposed):
    """The officer who proposed confirms it on the application's page: the record refuses, in Chinese."""
    from argon2 import PasswordHasher
    from fastapi.testclient import TestClient

    from engine.records.store import open_store
    from engine.service import tokens
    from engine.service.app import create_app
    from engine.service.settings import Settings

    store = open_store(proposed)
    try:
        token = tokens.issue(store, "wang", "os:test", hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    finally:
        store.dispose()
    page = "/applications/APP-2026-000123"
    with TestClient(create_app(proposed, settings=Settings(rate=0)), follow_redirects=False) as c:
        csrf = re.compile(r'name="csrf" value="([^"]+)"')
        signin = csrf.search(c.get("/signin").text).group(1)
        assert c.post("/signin", data={"csrf": signin, "token": token, "next": ""}).status_code == 303
        r = c.post(f"{page}/confirm", data={"csrf": csrf.search(c.get(page).text).group(1)})
    assert r.status_code == 409
    refused = re.search(r'id="refused">(.*?)</p>', r.text, re.S).group(1)
    assert "须由另一名经办人员" in refused and _words(refused) == [], refused
