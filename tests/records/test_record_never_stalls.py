"""The record never stalls (issue 12, item 3): a poison pill is rejected with its reason and
every other pending application is decided; text a database cannot keep is refused at
validation; locks are held per application; list and decide load no document they do not need."""

import copy
import json
import socket
import sqlite3
import uuid
from decimal import InvalidOperation
from pathlib import Path

import pytest
from click.testing import CliRunner
from people import seed_url
from sqlalchemy import event, insert

from engine.cli import main
from engine.records import deciding, submissions
from engine.records import service as records
from engine.records import views as records_view
from engine.records.store import open_store
from engine.records.store.db import now_utc
from engine.records.store.models import SubmissionIn, SubmissionRow
from engine.rulebook.loader import load_rulebook

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((ROOT / "examples/applications/taiyuan-pv-storage-warehouse.json").read_text())
BOOK = load_rulebook()
PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def _pg_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """A fresh record on SQLite, and on a throwaway PostgreSQL database (dropped afterwards)."""
    if request.param == "sqlite":
        yield seed_url(f"sqlite:///{tmp_path / 'record.db'}")
        return
    if not _pg_reachable():
        pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
    from sqlalchemy import create_engine

    name = f"shuangtan_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield seed_url(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}")
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def store(url):
    s = open_store(url)
    yield s
    s.dispose()


def app(app_id, **changes) -> bytes:
    doc = copy.deepcopy(EXAMPLE)
    doc["application_id"] = app_id
    for path, value in changes.items():
        node = doc
        *parts, last = path.split(".")
        for p in parts:
            node = node[p]
        node[last] = value
    return json.dumps(doc).encode()  # escapes: \\ud800 is valid JSON, not valid UTF-8


def submit(store, raw, name="a.json"):
    return records.submit(store, SubmissionIn(raw=raw, filename=name, submitted_by="li"))


def run(args):
    return CliRunner().invoke(main, [str(a) for a in args])


# --- poison pills ----------------------------------------------------------------------
def test_a_validation_that_raises_anything_rejects_with_that_reason(store, monkeypatch):
    real = submissions.parse_application

    def parse(doc):  # the document as parsed once on its way in (submissions.read_once)
        if "POISON" in json.dumps(doc, default=str):
            raise InvalidOperation("[<class 'decimal.InvalidOperation'>]")
        return real(doc)

    monkeypatch.setattr(submissions, "parse_application", parse)
    r = submit(store, app("POISON-1"))
    assert r.outcome == "rejected" and r.submission.status == "rejected"
    (err,) = r.submission.errors
    assert err.path == "(document)" and err.message.startswith("INTERNAL_ERROR: InvalidOperation")
    assert submit(store, app("GOOD-1")).outcome == "new"
    assert records.pending(store) == ["GOOD-1"]


def test_a_thirty_digit_money_value_is_rejected_not_received(store):
    raw = app("BIG-MONEY", **{"equipment.investment_yuan": "123456789012345678901234567890.125"})
    r = submit(store, raw)
    assert r.submission.status == "rejected"
    assert records.pending(store) == []


def test_decide_all_pending_decides_every_other_application(store, monkeypatch, url):
    for i in range(3):
        submit(store, app(f"A-{i}"))
    real = deciding.evaluated  # what proposal_document calls

    def evaluate(book, application, *a, **k):
        if application.application_id == "A-1":
            raise InvalidOperation("[<class 'decimal.InvalidOperation'>]")
        return real(book, application, *a, **k)

    monkeypatch.setattr(deciding, "evaluated", evaluate)
    r = run(["decide", "--db", url, "--all-pending", "--officer", "wang"])
    assert r.exit_code == 1
    assert "not decided  A-1: A-1: INTERNAL_ERROR: InvalidOperation" in r.output
    assert "2 proposed, 1 not decided" in r.output
    assert "Traceback" not in r.output
    # the explicit form goes on past it too
    assert run(["confirm", "--db", url, "A-0", "--by", "zhao"]).exit_code == 0
    r = run(["decide", "--db", url, "A-1", "A-0", "--again", "--officer", "wang"])
    assert r.exit_code == 1 and "INTERNAL_ERROR" in r.output
    assert "proposal 3 awaiting confirmation  A-0 (would replace decision 1)" in r.output


def test_a_submission_left_received_by_a_crash_is_validated_then_rejected(store, url):
    """A submission stored by an earlier version that crashed while validating it stays
    ``received``; decide --all-pending now records it rejected and decides the rest."""
    with store.session() as s:
        s.execute(
            insert(SubmissionRow).values(
                application_id="STUCK-1",
                version=1,
                raw=b'{"application_id": "STUCK-1", "period": 5}',
                sha256="0" * 64,
                received_at=now_utc(),
                submitted_by="li",
                validated=False,
            )
        )
    submit(store, app("OK-1"))
    r = run(["decide", "--db", url, "--all-pending", "--officer", "wang"])
    assert "1 proposed, 1 not decided" in r.output, r.output
    assert "STUCK-1" in r.output
    stuck = records_view.show(store, "STUCK-1")
    assert stuck.status == "rejected" and stuck.versions[0].errors
    assert records.pending(store) == []


# --- text a database cannot keep --------------------------------------------------------
@pytest.mark.parametrize(
    "field, value, code",
    [
        ("enterprise.name", "太原\u0000青禾", "U+0000"),
        ("enterprise.name", "太原\u202e青禾", "U+202E"),
        ("enterprise.name", "太原\u2066青禾", "U+2066"),
        ("enterprise.name", "\ud800", "U+D800"),
    ],
)
def test_unsafe_text_is_refused_at_validation_naming_the_field(store, field, value, code):
    r = submit(store, app("TXT-1", **{field: value}))
    assert r.outcome == "rejected"
    assert [(e.path, code in e.message) for e in r.submission.errors] == [(field, True)]
    assert records.pending(store) == []


def test_a_nul_in_the_application_id_is_rejected_not_a_crash(store):
    r = submit(store, app("A\u0000B"))
    assert r.outcome == "rejected" and r.submission.application_id is None
    assert any("U+0000" in e.message for e in r.submission.errors)


def test_check_names_the_field_holding_a_bidi_override(tmp_path):
    f = tmp_path / "a.json"
    f.write_bytes(app("BIDI-1", **{"enterprise.name": "abc\u202edef"}))
    r = run(["check", f])
    assert r.exit_code == 2 and "(enterprise.name): must not contain U+202E" in r.output


# --- locks and loading ------------------------------------------------------------------
def test_another_writer_gets_in_between_two_decisions(tmp_path):
    path = tmp_path / "record.db"
    store = open_store(seed_url(f"sqlite:///{path}"))
    try:
        for i in range(3):
            submit(store, app(f"L-{i}"))
        got_in = []
        for item in records.decide_pending(store, BOOK, "wang"):
            assert item.error is None
            other = sqlite3.connect(path, timeout=0.5, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the batch held the lock
            other.execute("ROLLBACK")
            other.close()
            got_in.append(item.application_id)
        assert got_in == ["L-0", "L-1", "L-2"]
    finally:
        store.dispose()


def _statements(store):
    seen = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _log(conn, cursor, statement, params, context, executemany):
        seen.append(" ".join(statement.split()))

    return seen


def test_list_and_decide_load_no_raw_document_they_do_not_need(store):
    for i in range(4):
        submit(store, app(f"R-{i}"))
    seen = _statements(store)
    list(records.decide_pending(store, BOOK, "wang"))
    raw_reads = [s for s in seen if "submission.raw" in s and s.startswith("SELECT")]
    # the documents being decided, once, in one query for the chunk: only each one's current version
    assert len(raw_reads) == 1, raw_reads
    assert "max(submission.version)" in raw_reads[0] and "submission.application_id IN" in raw_reads[0]
    assert not [s for s in seen if s.startswith("SELECT") and "decision.document" in s and "credit_code" in s]
    seen.clear()
    apps = records_view.list_applications(store)
    assert len(apps) == 4 and all(a.statuses for a in apps)
    assert not [s for s in seen if "submission.raw" in s]
    assert all("WHERE decision.id IN" in s for s in seen if "decision.document" in s)
