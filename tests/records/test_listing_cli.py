"""The read-only commands: no migration, a clear refusal of a record they cannot read, paging,
and the same documents as the library; on SQLite and PostgreSQL."""

import json
import subprocess
import sys

import pytest
from appdoc import example
from repo import ROOT
from sqlalchemy import text

from engine.records import audit, views
from engine.records import service as records
from engine.records.store import db, direct, open_store, state
from engine.records.store.models import SubmissionIn

READ_ONLY = [
    ["list"],
    ["show", "R-1"],
    ["export"],
    ["audit", "log"],
    ["audit", "verify"],
    ["db", "status"],
]


def _put(store, app_id, **changes):
    records.submit(store, SubmissionIn(raw=example(app_id, **changes), filename="f.json", submitted_by="li"))


@pytest.fixture
def store(record_url):
    s = open_store(record_url)
    yield s
    s.dispose()


def _revision(url):
    engine = db.make_engine(url)
    try:
        with engine.connect() as c:
            return c.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()


def _downgrade(url, revision):
    from alembic import command

    engine = db.make_engine(url)
    with engine.begin() as conn:
        command.downgrade(db._alembic_config(conn), revision)
    engine.dispose()


def test_the_code_knows_its_head_revision_without_alembic():
    assert direct.head_revision() == db.head_revision()
    assert direct.revisions()[0] == "0001" and len(direct.revisions()) == len(set(direct.revisions()))


def test_read_only_commands_refuse_a_record_behind_the_code_and_leave_it_so(record_url, cli):
    _downgrade(record_url, "0007")
    head = direct.head_revision()
    for args in READ_ONLY:
        r = cli(*args, "--db", record_url)
        assert r.exit_code == 2, (args, r.output)
        assert f"at schema revision 0007, this shuangtan needs {head}" in r.output, (args, r.output)
        assert "shuangtan db upgrade" in r.output and "Traceback" not in r.output
    assert _revision(record_url) == "0007"  # nothing migrated it
    r = cli("db", "upgrade", "--db", record_url)
    assert r.exit_code == 0 and f"schema revision {head}" in r.output, r.output
    assert cli("list", "--db", record_url).exit_code == 0
    assert _revision(record_url) == head


def test_a_record_of_a_newer_shuangtan_is_refused(record_url, cli):
    engine = db.make_engine(record_url)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    r = cli("list", "--db", record_url)
    assert r.exit_code == 2 and "revision 0099, which this shuangtan does not know" in r.output, r.output


def test_read_only_commands_refuse_a_record_without_its_state_triggers(record_url, cli, book):
    store = open_store(record_url)
    _put(store, "R-1")
    engine = db.make_engine(record_url)
    with engine.begin() as c:
        state.uninstall(c)
        c.execute(text("DELETE FROM application_state"))
    engine.dispose()
    r = cli("list", "--db", record_url)
    assert r.exit_code == 2 and "lacks the application state" in r.output, r.output
    assert cli("db", "upgrade", "--db", record_url).exit_code == 0  # the triggers back, the table rebuilt
    r = cli("list", "--db", record_url)
    assert r.exit_code == 0 and "R-1" in r.output and "1 application(s)" in r.output, r.output
    store.dispose()


@pytest.mark.parametrize("args", READ_ONLY)
def test_a_read_only_command_creates_no_database_file(tmp_path, cli, args):
    path = tmp_path / "none.db"
    r = cli(*args, "--db", f"sqlite:///{path}")
    assert r.exit_code == 2 and f"{path} does not exist" in r.output, r.output
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_the_default_record_is_not_created_by_list(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHUANGTAN_DB", raising=False)
    r = cli("list")
    assert r.exit_code == 2 and "shuangtan.db does not exist" in r.output
    assert not (tmp_path / "shuangtan.db").exists()


def test_list_pages_newest_first_with_a_footer(store, record_url, runner):
    from engine.cli import main

    for i in range(7):
        _put(store, f"P-{i}")

    def run(*args):
        return runner.invoke(main, ["list", "--db", record_url, *args])

    r = run()
    lines = r.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == [f"P-{i}" for i in range(6, -1, -1)]
    assert lines[-1] == "7 application(s)"
    r = run("--limit", "3")
    assert [line.split()[0] for line in r.stdout.splitlines()[:-1]] == ["P-6", "P-5", "P-4"]
    assert r.stdout.splitlines()[-1].startswith("3 of 7 application(s) (newest first, from number 1); --offset 3")
    r = run("--limit", "3", "--offset", "6")
    assert [line.split()[0] for line in r.stdout.splitlines()[:-1]] == ["P-0"]
    assert r.stdout.splitlines()[-1].startswith("1 of 7 application(s) (newest first, from number 7)")
    assert run("--offset", "9").stdout.splitlines() == ["0 of 7 application(s): --offset 9 is past the last"]
    r = run("--all", "--limit", "3")
    assert r.exit_code == 2 and "--all lists every application" in r.output
    r = run("--format", "json", "--limit", "2", "--offset", "1")
    total, page = views.list_page(store, limit=2, offset=1, newest_first=True)
    assert r.stdout.splitlines() == [a.model_dump_json() for a in page]  # what the library's models write
    assert r.stderr.startswith("2 of 7 application(s)")
    r = run("--format", "json", "--all")
    assert len(r.stdout.splitlines()) == total == 7 and r.stderr == ""


def test_show_writes_what_the_library_shows(store, record_url, cli, book):
    _put(store, "S-1")
    records.decide(store, "S-1", book, "wang")
    records.confirm(store, "S-1", book, "zhao", "同意", ("storage_subsidy=denied",), "meter unread")
    _put(store, "S-1", **{"storage.discharged_kwh": "-1"})  # rejected: S-1 stands on v1
    r = cli("show", "--db", record_url, "S-1", "--format", "json")
    assert r.exit_code == 0 and r.output == views.show(store, "S-1").model_dump_json(indent=2) + "\n"
    shown = json.loads(r.output)
    assert shown["status"] == "decided" and shown["rejected_versions"] == [2]
    assert shown["decisions"][0]["statuses"]["storage_subsidy"] == "denied"
    r = cli("show", "--db", record_url, "S-1")
    assert "override storage_subsidy: granted" in r.output and "v2  submission" in r.output
    listed = cli("list", "--db", record_url).output
    assert "(v2 rejected)" in listed and "storage_subsidy" not in listed.split("granted:")[-1]
    r = cli("show", "--db", record_url, "NOPE")
    assert r.exit_code == 1 and "NOPE: no submission with this application id on record" in r.output


def test_list_and_show_import_neither_sqlalchemy_nor_pydantic(store, record_url, book):
    _put(store, "I-1")
    records.decide(store, "I-1", book, "wang")
    code = f"""
import sys
from engine.cli import main
for args in (["list", "--db", {record_url!r}], ["show", "I-1", "--db", {record_url!r}]):
    try:
        main(args, prog_name="shuangtan")
    except SystemExit as exc:
        assert not exc.code, exc.code
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"sqlalchemy", "sqlmodel", "pydantic", "alembic", "jinja2"}})
print("HEAVY", heavy)
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "I-1" in proc.stdout and "HEAVY []" in proc.stdout, proc.stdout


def test_an_edited_statuses_summary_breaks_the_audit_chain(store, record_url, book):
    _put(store, "T-1")
    proposal = records.decide(store, "T-1", book, "wang")
    assert audit.verify(store).ok
    engine = db.make_engine(record_url)
    with engine.begin() as c:
        c.execute(text("UPDATE decision SET statuses = replace(statuses, 'granted', 'denied')"))
    engine.dispose()
    report = audit.verify(store)
    assert not report.ok
    assert (report.first.kind, report.first.entity, report.first.entity_id) == ("changed", "decision", str(proposal.id))
