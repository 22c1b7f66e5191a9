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
    """Accounts added on the command line by the operating-system user ``deploy``, then one
    submission; the record may start with accounts of its own (they come first in the chain)."""
    monkeypatch.setenv("USER", "deploy")
    for args in (
        ("fang", "--role", "officer", "--display-name", "王芳"),
        ("acme", "--role", "enterprise", "--credit-code", CREDIT),
    ):
        r = cli("users", "add", *args, "--db", record_url)
        assert r.exit_code == 0, r.output
    store = open_store(record_url)
    receipt = records.submit(store, SubmissionIn(raw=example("APP-A"), filename="a.json", submitted_by="fang"))
    assert receipt.outcome == "new"
    store.dispose()
    return record_url


def _lines(result):
    return result.output.strip().splitlines()


def _log(cli, record, *args):
    r = cli("audit", "log", "--format", "json", *args, "--db", record)
    assert r.exit_code == 0, r.output
    return [json.loads(line) for line in _lines(r)]


def test_users_add_list_disable(record, cli):
    r = cli("users", "list", "--db", record)
    assert r.exit_code == 0, r.output
    lines = {line.split()[0]: line for line in _lines(r)}
    listed = [json.loads(line) for line in _lines(cli("users", "list", "--format", "json", "--db", record))]
    assert _lines(r)[-1] == f"{len(listed)} account(s)"
    acme, fang = lines["acme"].split(), lines["fang"].split()
    assert acme[:4] == ["acme", "enterprise", "enabled", CREDIT]
    assert (fang[:3], fang[-1]) == (["fang", "officer", "enabled"], "王芳")
    assert "by os:deploy" in lines["fang"]
    mine = {a["name"]: a for a in listed if a["name"] in ("acme", "fang")}
    assert [(a["role"], a["enabled"], a["created_by"]) for a in mine.values()] == [
        ("enterprise", True, "os:deploy"),
        ("officer", True, "os:deploy"),
    ]
    # stored UTC, shown in China Standard Time
    created = dt.datetime.fromisoformat(mine["fang"]["created_at"])
    assert created.utcoffset() == dt.timedelta(0)
    assert f"added {created.astimezone(CST):%Y-%m-%d %H:%M:%S} CST" in lines["fang"]

    r = cli("users", "disable", "fang", "--db", record)
    assert (r.exit_code, r.output) == (0, "fang is disabled\n")
    assert "DISABLED" in next(line for line in _lines(cli("users", "list", "--db", record)) if line.startswith("fang"))
    assert _log(cli, record, "--entity", "account", "--id", "fang")[-1]["action"] == "account.disable"


@pytest.mark.parametrize(
    "args, message",
    [
        (("add", "fang", "--role", "reviewer"), "account fang already exists"),
        (("add", "acme2", "--role", "enterprise"), "needs --credit-code"),
        (("add", "acme2", "--role", "enterprise", "--credit-code", "123"), "not a valid unified social credit code"),
        (("add", "ming", "--role", "officer", "--credit-code", CREDIT), "--credit-code belongs to enterprise accounts"),
        (("add", "Li Ming", "--role", "officer"), "account name 'Li Ming'"),
        (("disable", "nobody"), "no account nobody"),
    ],
)
def test_users_refusals_are_one_line_exit_2(record, cli, args, message):
    r = cli("users", *args, "--db", record)
    assert r.exit_code == 2, r.output
    assert len(_lines(r)) == 1 and message in r.output and "Traceback" not in r.output


def test_audit_verify_intact_then_names_the_first_change(record, cli):
    links = _log(cli, record)
    n_rows = len(_log(cli, record, "--entity", "account")) + 1  # every account has one link here, and 1 submission
    r = cli("audit", "verify", "--db", record)
    assert r.exit_code == 0, r.output
    assert len(_lines(r)) == 1
    assert r.output.startswith(f"audit chain intact: {len(links)} links, {n_rows} rows; head {links[-1]['hash']}")

    engine = create_engine(record)
    with engine.begin() as c:
        c.execute(text("UPDATE submission SET submitted_by = 'acme' WHERE id = 1"))
        c.execute(text("UPDATE account SET role = 'auditor' WHERE name = 'acme'"))
    engine.dispose()
    r = cli("audit", "verify", "--db", record)
    assert r.exit_code == 1, r.output
    lines = _lines(r)
    assert lines[0].startswith(f"audit chain BROKEN: 2 finding(s) in {len(links)} links, {n_rows} rows")
    acme = next(e["seq"] for e in links if e["entity_id"] == "acme")
    received = next(e["seq"] for e in links if e["entity"] == "submission")
    assert acme < received  # the account was added before the submission: named first
    assert lines[1].startswith(f"first: link {acme} (account acme, account.add by os:deploy at ")
    assert "the row no longer matches its digest" in lines[1]
    assert lines[2].strip().startswith(f"link {received} (submission 1, submit by fang at ")


def test_audit_log_filters_and_formats(record, cli):
    entries = _log(cli, record)
    mine = [(e["actor"], e["action"], e["entity"], e["entity_id"]) for e in entries[-4:]]
    assert mine == [
        ("os:deploy", "account.add", "account", "fang"),
        ("os:deploy", "account.add", "account", "acme"),
        ("fang", "submit", "submission", "1"),
        ("system", "validate", "submission", "1"),
    ]
    seqs = [e["seq"] for e in entries]
    assert seqs == list(range(1, len(entries) + 1))
    fang_added, acme_added, received, verdict = seqs[-4:]

    r = cli("audit", "log", "--db", record)
    assert r.exit_code == 0, r.output
    lines = _lines(r)
    assert lines[-1] == f"{len(entries)} link(s)"
    at = dt.datetime.fromisoformat(entries[-4]["at"])
    assert at.utcoffset() == dt.timedelta(0)  # stored and given out in UTC, shown in CST
    shown = [str(fang_added), f"{at.astimezone(CST):%Y-%m-%d}", f"{at.astimezone(CST):%H:%M:%S}", "CST"]
    assert lines[-5].split()[:7] == [*shown, "os:deploy", "account.add", "account"]
    assert "fang (王芳)" in lines[-3] and "submit" in lines[-3]

    def only(*args):
        return [e["seq"] for e in _log(cli, record, *args)]

    assert only("--actor", "fang") == [received]
    assert only("--entity", "submission") == [received, verdict]
    assert only("--entity", "account", "--id", "acme") == [acme_added]
    today = at.astimezone(CST).date()
    assert only("--since", f"{today}", "--until", f"{today + dt.timedelta(days=1)}")[-4:] == seqs[-4:]
    assert only("--until", f"{today - dt.timedelta(days=1)}") == []
    assert only("--since", f"{today + dt.timedelta(days=1)}") == []
    after = (at + dt.timedelta(microseconds=1)).astimezone(CST).replace(tzinfo=None)
    assert only("--since", after.isoformat()) == [acme_added, received, verdict]


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
