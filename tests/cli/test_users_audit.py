"""shuangtan users (add, list, disable) and shuangtan audit (verify, log), on SQLite and PostgreSQL."""

import datetime as dt
import json

import pytest
from appdoc import example
from sqlalchemy import create_engine, text

from engine.records import service as records
from engine.records.store import open_store
from engine.records.store.models import SubmissionIn

CREDIT = "91140100MA0L3K2P5R"  # the worked example's enterprise
CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def record(record_url, cli, monkeypatch):
    """Accounts added on the command line by the operating-system user ``deploy``; one submission."""
    monkeypatch.setenv("USER", "deploy")
    for args in (
        ("wang", "--role", "officer", "--display-name", "王芳"),
        ("ent", "--role", "enterprise", "--credit-code", CREDIT),
    ):
        r = cli("users", "add", *args, "--db", record_url)
        assert r.exit_code == 0, r.output
    store = open_store(record_url)
    receipt = records.submit(store, SubmissionIn(raw=example("APP-A"), filename="a.json", submitted_by="wang"))
    assert receipt.outcome == "new"
    store.dispose()
    return record_url


def _lines(result):
    return result.output.strip().splitlines()


def test_users_add_list_disable(record, cli):
    r = cli("users", "list", "--db", record)
    assert r.exit_code == 0, r.output
    lines = _lines(r)
    assert lines[-1] == "2 account(s)"
    ent, wang = lines[0].split(), lines[1].split()
    assert (ent[0], ent[1], ent[2], ent[3]) == ("ent", "enterprise", "enabled", CREDIT)
    assert (wang[0], wang[1], wang[2], wang[-1]) == ("wang", "officer", "enabled", "王芳")
    assert "by os:deploy" in lines[1]

    listed = [json.loads(line) for line in _lines(cli("users", "list", "--format", "json", "--db", record))]
    assert [(a["name"], a["role"], a["enabled"], a["created_by"]) for a in listed] == [
        ("ent", "enterprise", True, "os:deploy"),
        ("wang", "officer", True, "os:deploy"),
    ]
    # stored UTC, shown in China Standard Time
    created = dt.datetime.fromisoformat(listed[1]["created_at"])
    assert created.utcoffset() == dt.timedelta(0)
    assert f"added {created.astimezone(CST):%Y-%m-%d %H:%M:%S} CST" in lines[1]

    r = cli("users", "disable", "wang", "--db", record)
    assert (r.exit_code, r.output) == (0, "wang is disabled\n")
    assert "DISABLED" in _lines(cli("users", "list", "--db", record))[1]


@pytest.mark.parametrize(
    "args, message",
    [
        (("add", "wang", "--role", "reviewer"), "account wang already exists"),
        (("add", "acme", "--role", "enterprise"), "needs --credit-code"),
        (("add", "acme", "--role", "enterprise", "--credit-code", "123"), "not a valid unified social credit code"),
        (("add", "li", "--role", "officer", "--credit-code", CREDIT), "--credit-code belongs to enterprise accounts"),
        (("add", "Li Ming", "--role", "officer"), "account name 'Li Ming'"),
        (("disable", "nobody"), "no account nobody"),
    ],
)
def test_users_refusals_are_one_line_exit_2(record, cli, args, message):
    r = cli("users", *args, "--db", record)
    assert r.exit_code == 2, r.output
    assert len(_lines(r)) == 1 and message in r.output and "Traceback" not in r.output


def test_audit_verify_intact_then_names_the_first_change(record, cli):
    r = cli("audit", "verify", "--db", record)
    assert r.exit_code == 0, r.output
    assert len(_lines(r)) == 1
    assert r.output.startswith("audit chain intact: 4 links, 3 rows; head ")

    engine = create_engine(record)
    with engine.begin() as c:
        c.execute(text("UPDATE submission SET submitted_by = 'ent' WHERE id = 1"))
        c.execute(text("UPDATE account SET role = 'auditor' WHERE name = 'ent'"))
    engine.dispose()
    r = cli("audit", "verify", "--db", record)
    assert r.exit_code == 1, r.output
    lines = _lines(r)
    assert lines[0].startswith("audit chain BROKEN: 2 finding(s) in 4 links, 3 rows")
    # ent was added second (link 2), the submission received third (link 3)
    assert lines[1].startswith("first: link 2 (account ent, account.add by os:deploy at ")
    assert "the row no longer matches its digest" in lines[1]
    assert lines[2].strip().startswith("link 3 (submission 1, submit by wang at ")


def test_audit_log_filters_and_formats(record, cli):
    r = cli("audit", "log", "--db", record)
    assert r.exit_code == 0, r.output
    lines = _lines(r)
    assert lines[-1] == "4 link(s)"
    assert lines[0].split()[3:7] == ["CST", "os:deploy", "account.add", "account"]
    assert "wang (王芳)" in lines[2] and "submit" in lines[2]

    entries = [json.loads(line) for line in _lines(cli("audit", "log", "--format", "json", "--db", record))]
    assert [(e["seq"], e["actor"], e["action"], e["entity"], e["entity_id"]) for e in entries] == [
        (1, "os:deploy", "account.add", "account", "wang"),
        (2, "os:deploy", "account.add", "account", "ent"),
        (3, "wang", "submit", "submission", "1"),
        (4, "system", "validate", "submission", "1"),
    ]
    at = dt.datetime.fromisoformat(entries[0]["at"])
    assert at.utcoffset() == dt.timedelta(0)
    assert lines[0].split()[:3] == ["1", f"{at.astimezone(CST):%Y-%m-%d}", f"{at.astimezone(CST):%H:%M:%S}"]

    def seqs(*args):
        r = cli("audit", "log", "--format", "json", *args, "--db", record)
        assert r.exit_code == 0, r.output
        return [json.loads(line)["seq"] for line in _lines(r)]

    assert seqs("--actor", "wang") == [3]
    assert seqs("--entity", "submission") == [3, 4]
    assert seqs("--entity", "account", "--id", "ent") == [2]
    today = at.astimezone(CST).date()
    assert seqs("--since", f"{today}", "--until", f"{today + dt.timedelta(days=1)}") == [1, 2, 3, 4]
    assert seqs("--until", f"{today - dt.timedelta(days=1)}") == []
    assert seqs("--since", f"{today + dt.timedelta(days=1)}") == []
    after_first = (at + dt.timedelta(microseconds=1)).astimezone(CST).replace(tzinfo=None)
    assert 1 not in seqs("--since", after_first.isoformat())


@pytest.mark.parametrize(
    "args, message",
    [
        (("--since", "yesterday"), "'yesterday' is not YYYY-MM-DD"),
        (("--entity", "decisions"), "'decisions' is not one of"),
        (("--id", "1"), "--id goes with --entity"),
    ],
)
def test_audit_log_bad_options_exit_2(record, cli, args, message):
    r = cli("audit", "log", *args, "--db", record)
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output
