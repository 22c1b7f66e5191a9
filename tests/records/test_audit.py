"""The audit chain: an untouched record verifies; whatever is changed behind its back with SQL
is named, the first thing wrong first; appenders in several processes keep one unbroken chain.

The record under test is built through the public library (``BUILD``); the tampering is plain
SQL on a connection of its own, as someone holding the database would do it. A new kind of row
is one more step in ``BUILD``: the column sweep then edits every one of its columns too.
"""

import datetime as dt
import json
import multiprocessing as mp
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from appdoc import example
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import String, create_engine, event, inspect, select, text, update
from sqlalchemy.engine import make_url
from sqlmodel.sql.sqltypes import AutoString

from engine.drafting.ruletests import TELEMETRY_HEADER, telemetry_day
from engine.records import accounts, audit
from engine.records import service as records
from engine.records.store import open_store
from engine.records.store.models import AccountRow, SubmissionIn, SubmissionRow, TelemetryIn
from engine.rulebook.loader import load_rulebook

CREDIT = "91140100MA0L3K2P5R"  # the worked example's enterprise
SPAWN = mp.get_context("spawn")


def _submit(store, raw, by, expect):
    receipt = records.submit(store, SubmissionIn(raw=raw, filename="application.json", submitted_by=by))
    assert receipt.outcome == expect, receipt


def _telemetry(store):
    csv = "\n".join([TELEMETRY_HEADER, *telemetry_day("2026-03-01")]) + "\n"
    item = TelemetryIn(raw=csv.encode(), filename="meter.csv", submitted_by="fang")
    records.attach_telemetry(store, "APP-A", item, load_rulebook())


#: (entity, step): the record under test, built in order through the library.
BUILD: list[tuple[str, Callable]] = [
    ("account", lambda st: accounts.add_account(st, "fang", "officer", "os:test", display_name="王芳")),
    ("account", lambda st: accounts.add_account(st, "ming", "reviewer", "os:test", display_name="李明")),
    ("account", lambda st: accounts.add_account(st, "acme", "enterprise", "os:test", credit_code=CREDIT)),
    ("submission", lambda st: _submit(st, example("APP-A"), "fang", "new")),  # submission 1
    ("submission", lambda st: _submit(st, example("APP-B", **{"period.end": "bad"}), "fang", "rejected")),  # 2
    ("submission", lambda st: _submit(st, example("APP-C"), "acme", "new")),  # submission 3
    ("telemetry", _telemetry),  # telemetry 1, on APP-A
    ("decision", lambda st: records.decide(st, "APP-C", load_rulebook(), "fang")),  # a proposal
    ("review", lambda st: records.confirm(st, "APP-C", load_rulebook(), "ming", opinion="同意")),
    ("notice", lambda st: records.issue_notices(st, "APP-C", tempfile.mkdtemp(), "fang")),
    ("notice_number", lambda st: None),  # allocated by the notices just issued
    ("account", lambda st: accounts.disable_account(st, "ming", "os:test")),  # a second link to one row
]


def build(url):
    store = open_store(url)
    for _, step in BUILD:
        step(store)
    return store


def tamper_engine(url):
    """A connection of the tamperer's own: no foreign keys in the way (PostgreSQL: as a superuser)."""
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _no_triggers(dbapi_conn, _record):
            with dbapi_conn.cursor() as cur:
                cur.execute("SET session_replication_role = replica")

    return engine


@dataclass
class Chain:
    """The untouched chain, to say which link a case expects to be named."""

    links: list  # (seq, entity, entity_id, fieldset), in order

    def seq(self, entity, entity_id, fieldset):
        return max(s for s, e, i, f in self.links if (e, i, f) == (entity, entity_id, fieldset))

    def at(self, seq):
        return next(link for link in self.links if link[0] == seq)


def chain_of(store) -> Chain:
    return Chain([(e.seq, e.entity, e.entity_id, e.fieldset) for e in audit.log(store)])


# --- the cases: each tampers with SQL and says what verify must name first ----------------------
CASES: dict[str, Callable] = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


@case
def raw_byte_edited(c, chain):
    raw = bytearray(c.execute(text("SELECT raw FROM submission WHERE id = 1")).scalar_one())
    raw[len(raw) // 2] ^= 0x01
    c.execute(text("UPDATE submission SET raw = :raw WHERE id = 1"), {"raw": bytes(raw)})
    return "changed", chain.seq("submission", "1", "received"), "submission", "1", "raw bytes"


@case
def verdict_valid_flipped(c, chain):
    c.execute(text("UPDATE submission SET valid = NOT valid WHERE id = 2"))
    return "changed", chain.seq("submission", "2", "verdict"), "submission", "2", "verdict fields"


@case
def verdict_errors_cleared(c, chain):
    c.execute(text("UPDATE submission SET errors = '[]' WHERE id = 2"))
    return "changed", chain.seq("submission", "2", "verdict"), "submission", "2", "verdict fields"


@case
def telemetry_raw_edited(c, chain):
    c.execute(text("UPDATE telemetry SET raw = :raw WHERE id = 1"), {"raw": b"S1,2026-03-01T00:00,0,0,0,x\n"})
    return "changed", chain.seq("telemetry", "1", "received"), "telemetry", "1", "raw bytes"


@case
def link_deleted(c, chain):
    gone = chain.seq("submission", "1", "verdict")
    c.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": gone})
    _, entity, entity_id, _ = chain.at(gone + 1)
    return "link", gone + 1, entity, entity_id, f"link {gone} is missing"


@case
def last_link_deleted(c, chain):
    c.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": chain.links[-1][0]})
    return "head", chain.links[-2][0], None, None, "last links were deleted"


@case
def links_swapped(c, chain):
    a = chain.seq("submission", "3", "received")
    for old, new in ((a, -1), (a + 1, a), (-1, a + 1)):
        c.execute(text("UPDATE audit_log SET seq = :new WHERE seq = :old"), {"old": old, "new": new})
    _, entity, entity_id, _ = chain.at(a + 1)
    return "link", a, entity, entity_id, f"does not follow link {a - 1}"


@case
def link_actor_edited(c, chain):
    s = chain.seq("submission", "3", "received")
    c.execute(text("UPDATE audit_log SET actor = 'fang' WHERE seq = :s"), {"s": s})
    return "link", s, "submission", "3", "the link was edited"


@case
def row_and_its_digest_edited(c, chain):
    """Changing a row and writing its new digest into the link still breaks the link's hash."""
    c.execute(text("UPDATE account SET display_name = '张三' WHERE name = 'fang'"))
    table = AccountRow.__table__
    row = AccountRow(**c.execute(table.select().where(table.c.name == "fang")).one()._mapping)
    digest = audit.row_digest("account", "state", row)
    s = chain.seq("account", "fang", "state")
    c.execute(text("UPDATE audit_log SET digest = :d WHERE seq = :s"), {"d": digest, "s": s})
    return "link", s, "account", "fang", "the link was edited"


@case
def head_moved(c, chain):
    c.execute(text("UPDATE audit_head SET seq = seq - 1"))
    return "head", chain.links[-1][0], None, None, "past its head"


@case
def submission_deleted(c, chain):
    c.execute(text("DELETE FROM submission WHERE id = 2"))
    return "missing", chain.seq("submission", "2", "verdict"), "submission", "2", "the row is gone"


@case
def submission_inserted(c, chain):
    c.execute(
        text(
            "INSERT INTO submission (id, raw, sha256, received_at, submitted_by, validated) "
            "VALUES (99, :raw, :h, '2026-03-01 08:00:00', 'fang', true)"
        ),
        {"raw": b"{}", "h": records.sha256(b"{}")},
    )
    return "unlinked", None, "submission", "99", "no link records this row"


@case
def submission_renumbered(c, chain):
    c.execute(text("UPDATE submission SET id = 98 WHERE id = 2"))
    return "missing", chain.seq("submission", "2", "verdict"), "submission", "2", "the row is gone"


@case
def account_display_name_changed(c, chain):
    c.execute(text("UPDATE account SET display_name = '张三' WHERE name = 'fang'"))
    return "changed", chain.seq("account", "fang", "state"), "account", "fang", "state fields"


@case
def account_role_changed(c, chain):
    c.execute(text("UPDATE account SET role = 'officer' WHERE name = 'ming'"))
    return "changed", chain.seq("account", "ming", "state"), "account", "ming", "state fields"


@case
def account_reenabled(c, chain):
    """The latest link (the disabling) is what the row must match, not the first (the adding)."""
    c.execute(text("UPDATE account SET enabled = true WHERE name = 'ming'"))
    return "changed", chain.seq("account", "ming", "state"), "account", "ming", "state fields"


@case
def submitted_by_changed(c, chain):
    c.execute(text("UPDATE submission SET submitted_by = 'fang' WHERE id = 3"))
    return "changed", chain.seq("submission", "3", "received"), "submission", "3", "received fields"


@case
def received_at_changed(c, chain):
    c.execute(text("UPDATE submission SET received_at = '2026-01-01 00:00:00' WHERE id = 1"))
    return "changed", chain.seq("submission", "1", "received"), "submission", "1", "received fields"


@case
def two_rows_edited(c, chain):
    """The first named is the one whose link comes first, not the table read first (accounts:
    ming's last link, the disabling, comes after submission 1's)."""
    c.execute(text("UPDATE account SET display_name = '张三' WHERE name = 'ming'"))
    c.execute(text("UPDATE submission SET filename = 'other.json' WHERE id = 1"))
    return "changed", chain.seq("submission", "1", "received"), "submission", "1", "received fields"


@pytest.mark.parametrize("name", CASES)
def test_verify_names_the_first_thing_tampered_with(record_url, name):
    store = build(record_url)
    chain = chain_of(store)
    assert audit.verify(store).ok
    engine = tamper_engine(record_url)
    with engine.begin() as c:
        kind, seq, entity, entity_id, words = CASES[name](c, chain)
    engine.dispose()
    report = audit.verify(store)
    store.dispose()
    assert not report.ok
    first = report.first
    assert (first.kind, first.seq, first.entity, first.entity_id) == (kind, seq, entity, entity_id), report.findings
    assert words in first.message
    if seq is not None and kind != "head":
        assert first.message.startswith(f"link {seq} (")


def test_an_untouched_record_verifies(record_url):
    store = open_store(record_url)
    before = audit.verify(store)  # the fixture may start the record with accounts of its own
    assert before.ok
    for _, step in BUILD:
        step(store)
    report = audit.verify(store)
    assert report.ok and report.findings == []
    small = audit.verify(store, batch=2)  # many batches: each one's rows let go while reading the next
    assert small.ok and (small.links, small.rows) == (report.links, report.rows)
    with store.reading() as s:
        notices = s.execute(text("SELECT count(*) FROM notice")).scalar_one()
    assert notices >= 1
    # accounts, submissions (received + verdict), telemetry (both), disable, proposal, review,
    # and per notice its number and its rendition
    assert report.links == len(audit.log(store)) == before.links + 3 + 2 * 3 + 2 + 1 + 2 + 2 * notices
    assert report.rows == before.rows + 3 + 3 + 1 + 2 + 2 * notices
    assert report.head_seq == report.links
    store.dispose()


def test_every_kind_of_row_is_built(record_url):
    """The sweep below edits only rows the record under test holds: say which ENTITIES it lacks."""
    store = build(record_url)
    built = {entity for entity, _ in BUILD}
    assert built <= set(audit.ENTITIES)
    with store.reading() as s:
        for entity, (cls, _) in audit.ENTITIES.items():
            held = s.execute(text(f"SELECT count(*) FROM {cls.__tablename__}")).scalar_one()
            assert bool(held) == (entity in built), entity
    store.dispose()
    assert set(audit.ENTITIES) == built


def _python_type(column):
    """sqlmodel's strings say ``object``: the SQL type says str."""
    return str if isinstance(column.type, String | AutoString) else column.type.python_type


def _sample(python_type):
    return {
        str: "s",
        int: 7,
        bool: True,
        bytes: b"b",
        dt.date: dt.date(2026, 1, 2),
        dt.datetime: dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
    }[python_type]


def _other(value, python_type):
    """A different value of the column's type, the same length where a length is limited."""
    if value is None:
        return _sample(python_type)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 100_000  # clear of every key and unique column a real row holds
    if isinstance(value, str):
        return value[:-1] + ("y" if value[-1:] != "y" else "z") if value else "x"
    if isinstance(value, bytes):
        return value[:-1] + bytes([value[-1] ^ 1])
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(seconds=1)
    return value + dt.timedelta(days=1)


def test_every_column_of_every_row_is_covered(record_url):
    """Each column of each row in turn, edited with SQL: verify names that row at its last link
    for that column's fieldset; put back, the record verifies again."""
    store = build(record_url)
    chain = chain_of(store)
    engine = tamper_engine(record_url)
    swept = 0
    for entity, (cls, key_of) in audit.ENTITIES.items():
        table, key = cls.__table__, inspect(cls).primary_key[0]
        with store.reading() as s:
            rows = s.execute(select(cls)).scalars().all()
        for row in rows:
            row_key = key_of(row)
            for fieldset in (fs for e, fs in audit.FIELDSETS if e == entity):
                for name in audit.FIELDSETS[(entity, fieldset)](row):
                    if name == key.name:
                        continue
                    column = table.c[name]
                    with engine.begin() as c:
                        old = c.execute(table.select().where(key == getattr(row, key.name))).one()._mapping[name]
                        new = _other(old, _python_type(column))
                        c.execute(update(table).where(key == getattr(row, key.name)).values({name: new}))
                    first = audit.verify(store).first
                    assert first is not None, (entity, row_key, name)
                    expected = ("changed", chain.seq(entity, row_key, fieldset), entity, row_key)
                    assert (first.kind, first.seq, first.entity, first.entity_id) == expected, (name, first)
                    with engine.begin() as c:
                        c.execute(update(table).where(key == getattr(row, key.name)).values({name: old}))
                    assert audit.verify(store).ok, (entity, row_key, name)
                    swept += 1
    engine.dispose()
    store.dispose()
    assert swept > 40


@pytest.mark.parametrize("entity", audit.ENTITIES)
def test_every_column_is_in_a_fieldset(entity):
    """A column no fieldset covers could be changed unseen: each table's columns, all covered."""
    cls = audit.ENTITIES[entity][0]
    row = cls.model_construct(**{c.name: _sample(_python_type(c)) for c in cls.__table__.columns})
    covered = set().union(*(audit.FIELDSETS[(e, fs)](row) for e, fs in audit.FIELDSETS if e == entity))
    assert covered == {c.name for c in cls.__table__.columns}


def test_a_session_in_another_time_zone_reads_the_same_chain(pg_url):
    """PostgreSQL hands times back in the session's zone: digests and hashes are over UTC."""
    shanghai = make_url(pg_url).update_query_dict({"options": "-c timezone=Asia/Shanghai"})
    url = shanghai.render_as_string(hide_password=False)
    store = build(url)
    assert audit.verify(store).ok
    assert audit.log(store)[0].at.tzinfo == dt.UTC
    store.dispose()
    other = open_store(pg_url)
    assert audit.verify(other).ok
    other.dispose()


def test_a_submission_never_validated_verifies_and_its_verdict_fields_are_watched(record_url):
    """Received but never validated (a crash in between): no verdict link, and none needed while
    its verdict fields are a new row's; a verdict written with SQL is named."""
    store = build(record_url)
    with store.session() as s:
        row = SubmissionRow(
            raw=b"{}", sha256=records.sha256(b"{}"), received_at=dt.datetime.now(dt.UTC), submitted_by="fang"
        )
        s.add(row)
        audit.append(s, "fang", "submit", "submission", row, "received")
        new_id = row.id
    assert audit.verify(store).ok
    engine = tamper_engine(record_url)
    with engine.begin() as c:
        c.execute(text("UPDATE submission SET valid = true WHERE id = :i"), {"i": new_id})
    engine.dispose()
    first = audit.verify(store).first
    assert (first.kind, first.entity, first.entity_id) == ("unrecorded", "submission", str(new_id))
    store.dispose()


def test_log_filters_who_what_and_when(record_url):
    store = build(record_url)
    everything = audit.log(store)
    assert [e.seq for e in everything] == list(range(1, len(everything) + 1))
    fang = audit.log(store, actor="fang")
    assert fang and {e.actor for e in fang} == {"fang"} and {e.actor_name for e in fang} == {"王芳"}
    assert {e.actor_name for e in audit.log(store, actor="system")} == {"system"}
    sub3 = audit.log(store, entity="submission", entity_id="3")
    assert [(e.fieldset, e.actor) for e in sub3] == [("received", "acme"), ("verdict", "system")]
    first, last = everything[0].at, everything[-1].at
    assert len(audit.log(store, since=first, until=last)) == len(everything)
    assert audit.log(store, since=last + dt.timedelta(microseconds=1)) == []
    assert audit.log(store, until=first - dt.timedelta(microseconds=1)) == []
    day = first.astimezone(audit.CST).date()  # a date is a day in China Standard Time
    assert len(audit.log(store, since=day, until=day + dt.timedelta(days=1))) == len(everything)
    assert audit.log(store, until=day - dt.timedelta(days=1)) == []
    assert audit.log(store, since=day + dt.timedelta(days=2)) == []
    with pytest.raises(records.RecordError, match="entity 'decisions'"):
        audit.log(store, entity="decisions")
    store.dispose()


# --- several processes appending at once ------------------------------------------------------
def _appender(url, proc, n, barrier):
    store = open_store(url)
    barrier.wait(timeout=60)
    for i in range(n):
        raw = example(f"P{proc}-{i}")
        assert records.submit(store, SubmissionIn(raw=raw, submitted_by="fang")).outcome == "new"
    store.dispose()


def test_concurrent_appenders_keep_one_unbroken_chain(record_url):
    """4 processes x 10 submissions: every append takes the head's lock, so no two links share a
    number and none is lost (without the lock, PostgreSQL appenders collide on a number)."""
    store = open_store(record_url)
    accounts.add_account(store, "fang", "officer", "os:test")
    base = audit.verify(store)
    procs_n, each = 4, 10
    barrier = SPAWN.Barrier(procs_n)
    procs = [SPAWN.Process(target=_appender, args=(record_url, p, each, barrier)) for p in range(procs_n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0] * procs_n
    entries = audit.log(store)
    assert [e.seq for e in entries] == list(range(1, base.links + 2 * procs_n * each + 1))  # received + verdict
    assert sum(e.fieldset == "received" for e in entries) == procs_n * each
    report = audit.verify(store)
    assert report.ok, report.findings[:3]
    assert (report.links, report.rows) == (base.links + 2 * procs_n * each, base.rows + procs_n * each)
    store.dispose()


_VALUES = st.one_of(st.text(), st.integers(), st.booleans(), st.none(), st.decimals(allow_nan=False))


@given(st.dictionaries(st.text(), _VALUES))
def test_the_canonical_text_of_a_fieldset_is_json_dumps_sorted_and_compact(fields):
    """Every link ever made was hashed over json.dumps' text: the faster writer must not change a byte."""
    want = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    assert audit.canonical(fields) == want.encode("utf-8")
