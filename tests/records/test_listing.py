"""Listing in SQL says what reading every row said: status, filters, order, paging, the state table
the triggers keep; on SQLite and PostgreSQL."""

import datetime as dt
import json
import random
import typing
from unittest import mock

import listing_reference as reference
import pytest
from appdoc import example
from sqlalchemy import insert, select, text

from engine.contract.decision import Status
from engine.errors import ShuangtanError
from engine.records import audit, browse, views
from engine.records import service as records
from engine.records.browse import APPLICABLE, STATUSES
from engine.records.store import db, open_store, state
from engine.records.store.models import DecisionRow, SubmissionIn

OTHER = {"enterprise.region_code": "140200", "enterprise.credit_code": "91140200MA0HW2NB8C"}
PERIODS = [
    {"period.start": "2026-01-01", "period.end": "2026-06-30"},
    {"period.start": "2026-07-01", "period.end": "2026-12-31"},
    {"period.start": "2026-01-01", "period.end": "2026-12-31"},
]
INVALID = {"storage.discharged_kwh": "-1"}
# received around the end of a day in China Standard Time (16:00 UTC), a day apart
DAY0 = dt.datetime(2026, 3, 1, 15, 59, 59, tzinfo=dt.UTC)
OUTCOMES = [
    "storage_subsidy",
    "storage_subsidy=granted",
    "storage_subsidy=denied",
    "equipment_subsidy",
    "equipment_subsidy=granted",
    "packaging_levy=levied",
    "packaging_levy=exempt",
    "reporting_compliance=",
    "no_such_outcome",
    "Storage_Subsidy=granted",  # names are matched exactly, in any database
]


@pytest.fixture
def store(record_url):
    s = open_store(record_url)
    yield s
    s.dispose()


def _when(step: int) -> dt.datetime:
    return DAY0 + dt.timedelta(days=step // 2, seconds=step % 2)


class Bureau:
    """A record built by random steps through the library, as officers and enterprises use it."""

    def __init__(self, store, book, rng):
        self.store, self.book, self.rng, self.apps, self.step = store, book, rng, [], 0

    def submit(self, app_id, corrects=None, **changes):
        raw = example(app_id, **changes) if app_id else b"{}"
        item = SubmissionIn(raw=raw, filename="f.json", submitted_by="li", corrects=corrects)
        records.submit(self.store, item, now=_when(self.step))

    def act(self):
        self.step += 1
        rng, apps = self.rng, self.apps
        choice = rng.choice(
            ["new", "new", "version", "invalid", "unreadable", "decide", "decide", "confirm", "confirm"]
            + ["return", "again", "override", "correction"]
        )
        app = rng.choice(apps) if apps else None
        try:
            if choice == "new" or app is None:
                app_id = f"L-{len(apps) + 1}"
                apps.append(app_id)
                self.submit(app_id, **rng.choice(PERIODS), **(OTHER if rng.random() < 0.4 else {}))
            elif choice == "version":
                self.submit(app, **rng.choice(PERIODS), **{"storage.discharged_kwh": str(rng.randint(1, 9) * 10000)})
            elif choice == "invalid":
                self.submit(app, **INVALID)
            elif choice == "unreadable":
                self.submit(None)
            elif choice == "decide":
                records.decide(self.store, app, self.book, "wang")
            elif choice == "again":
                records.decide(self.store, app, self.book, "wang", again=True)
            elif choice == "confirm":
                records.confirm(self.store, app, self.book, "zhao")
            elif choice == "override":
                records.confirm(self.store, app, self.book, "zhao", None, ("storage_subsidy=denied",), "checked")
            elif choice == "return":
                records.return_proposal(self.store, app, "zhao", "not yet")
            elif choice == "correction":
                app_id = f"L-{len(apps) + 1}"
                apps.append(app_id)
                self.submit(app_id, corrects=app, **PERIODS[2])
        except ShuangtanError:
            pass  # refused as an officer would be: nothing to decide, already proposed, ...


def filters(store):
    days = [(DAY0 + dt.timedelta(days=d, hours=8)).date() for d in range(-1, 4)]
    out = [{}] + [{"status": s} for s in STATUSES] + [{"region": "140200"}, {"region": "999999"}]
    out += [{"outcome": o} for o in OUTCOMES]
    out += [{"since": d} for d in days] + [{"until": d} for d in days] + [{"since": days[1], "until": days[2]}]
    out += [{"status": "decided", "region": "140100", "outcome": "storage_subsidy"}]
    return out


def assert_lists_agree(store):
    for f in filters(store):
        got = [a.model_dump() for a in views.list_applications(store, **f)]
        want = [a.model_dump() for a in reference.list_applications(store, **f)]
        assert got == want, f
        for walk in (False, True):  # an outcome's page found both ways (browse._walk chooses on SQLite)
            with mock.patch.object(browse, "_walk", lambda *_, walk=walk: walk):
                total, newest = views.list_page(store, views.Filters(**f), limit=3, offset=1, newest_first=True)
            assert total == len(want) and [a.model_dump() for a in newest] == want[::-1][1:4], (f, walk)


def assert_state_is_rebuilt_state(store):
    """What the triggers kept, row by row, is what recomputing from scratch gives."""
    columns = ", ".join(state.COLUMNS)
    with store.engine.connect() as c:
        kept = sorted(c.exec_driver_sql(f"SELECT {columns} FROM application_state").all(), key=lambda r: r[0])
        rebuilt = sorted(
            c.exec_driver_sql(state.EVERY_STATE).all(),
            key=lambda r: r[0],
        )
    assert [tuple(r) for r in kept] == [tuple(r) for r in rebuilt]
    assert_outcomes_are_the_states_statuses(store)


def assert_outcomes_are_the_states_statuses(store):
    """application_outcome holds, for each state row, the status shown of each outcome: its
    review's override, else its decision's."""
    with store.engine.connect() as c:
        rows = c.exec_driver_sql("SELECT submission_id, statuses, override_statuses FROM application_state").all()
        kept = sorted(
            tuple(r) for r in c.exec_driver_sql("SELECT submission_id, outcome, status FROM application_outcome")
        )
    shown = sorted(
        (sub, name, status)
        for sub, statuses, overrides in rows
        for name, status in (json.loads(statuses or "{}") | json.loads(overrides or "{}")).items()
    )
    assert kept == shown


@pytest.mark.parametrize("seed", [1, 2])
def test_random_records_list_as_reading_every_row_did(store, book, seed):
    bureau = Bureau(store, book, random.Random(seed))
    for i in range(28):
        bureau.act()
        if i % 4 == 3:
            assert_lists_agree(store)
    assert_lists_agree(store)
    assert_state_is_rebuilt_state(store)
    for app_id in bureau.apps:
        assert views.show(store, app_id).model_dump() == reference.application(store, app_id).model_dump()
    statuses = {a.status for a in views.list_applications(store)}
    assert {"decided", "proposed", "rejected"} <= statuses, statuses  # the walk met the cases that matter


def test_the_applicable_statuses_are_the_contracts_but_not_applicable():
    assert set(APPLICABLE) == set(typing.get_args(Status)) - {"not_applicable"}
    assert len(APPLICABLE) == len(set(APPLICABLE))


def test_a_correction_shows_the_corrected_application_as_corrected(store, book):
    bureau = Bureau(store, book, random.Random(0))
    bureau.submit("K-1", **PERIODS[2])
    records.decide(store, "K-1", book, "wang")
    records.confirm(store, "K-1", book, "zhao")
    bureau.submit("K-2", corrects="K-1", **PERIODS[2], **{"storage.discharged_kwh": "300000"})
    records.decide(store, "K-2", book, "wang")
    assert [a.status for a in views.list_applications(store)] == ["decided", "proposed"]
    records.confirm(store, "K-2", book, "zhao")
    assert [(a.application_id, a.status) for a in views.list_applications(store)] == [
        ("K-1", "corrected"),
        ("K-2", "decided"),
    ]
    assert_lists_agree(store)
    assert_state_is_rebuilt_state(store)


def test_an_override_is_what_the_list_shows_and_filters(store, book):
    Bureau(store, book, random.Random(0)).submit("O-1")
    records.decide(store, "O-1", book, "wang")
    assert views.list_applications(store, outcome="storage_subsidy=granted")[0].proposal_id
    records.confirm(store, "O-1", book, "zhao", None, ("storage_subsidy=denied",), "meter unread")
    assert views.list_applications(store, outcome="storage_subsidy=granted") == []
    (shown,) = views.list_applications(store, outcome="storage_subsidy=denied")
    assert shown.statuses["storage_subsidy"] == "denied" and shown.statuses["equipment_subsidy"] == "granted"
    assert_lists_agree(store)


def test_a_record_from_before_the_outcome_table_lists_by_outcome_once_upgraded(store, book):
    """0009 adds application_outcome; the upgrade's rebuild fills it from the decisions there are."""
    Bureau(store, book, random.Random(0)).submit("U-1")
    records.decide(store, "U-1", book, "wang")
    records.confirm(store, "U-1", book, "zhao", None, ("storage_subsidy=denied",), "meter unread")
    with store.engine.begin() as c:  # the record as 0008 left it: no outcome table, older triggers
        state.uninstall(c)
        c.exec_driver_sql("DROP TABLE application_outcome")
        c.exec_driver_sql("UPDATE alembic_version SET version_num = '0008'")
    db.upgrade(store.engine)
    assert db.current_revision(store.engine) == db.head_revision() and db.state_current(store.engine)
    assert [a.application_id for a in views.list_applications(store, outcome="storage_subsidy=denied")] == ["U-1"]
    assert views.list_applications(store, outcome="storage_subsidy=granted") == []
    assert_state_is_rebuilt_state(store)


def test_a_decision_inserted_in_bulk_gets_its_summary_and_its_state(store, book):
    Bureau(store, book, random.Random(0)).submit("B-1")
    proposal = records.decide(store, "B-1", book, "wang")
    with store.engine.begin() as c:
        table = DecisionRow.__table__
        row = dict(c.execute(select(table).where(table.c.id == proposal.id)).mappings().one())
        row.pop("statuses")
        c.execute(text("DELETE FROM decision WHERE id = :i"), {"i": proposal.id})
        c.execute(insert(DecisionRow.__table__), [row])  # Core, as a batch writer would
        got = c.execute(text("SELECT statuses FROM decision WHERE id = :i"), {"i": proposal.id}).scalar_one()
    assert got == state.decision_statuses(row["document"]) and '"storage_subsidy":"granted"' in got
    assert views.list_applications(store, status="proposed")[0].statuses["storage_subsidy"] == "granted"
    assert_state_is_rebuilt_state(store)


def test_one_statement_over_many_applications_refreshes_each_of_them(store, book):
    """On PostgreSQL the state is refreshed once per statement, over all the rows it wrote: a
    multi-row update or delete by plain SQL leaves each application it touched right."""
    bureau = Bureau(store, book, random.Random(0))
    for i in range(4):
        bureau.submit(f"M-{i}")
    for i in range(3):
        records.decide(store, f"M-{i}", book, "wang")
    with store.engine.begin() as c:
        c.execute(text("DELETE FROM decision WHERE application_id IN ('M-0', 'M-1')"))
        c.execute(text("UPDATE submission SET valid = FALSE WHERE application_id IN ('M-1', 'M-3')"))
    got = {a.application_id: a.status for a in views.list_applications(store)}
    assert got == {"M-0": "pending", "M-1": "rejected", "M-2": "proposed", "M-3": "rejected"}
    assert_state_is_rebuilt_state(store)


def test_text_with_tabs_newlines_and_backslashes_is_stored_as_written(store, book):
    """(PostgreSQL takes a chunk's decisions by COPY, whose text format escapes these)"""
    Bureau(store, book, random.Random(0)).submit("T-1")
    said = "第一行\t制表\n第二行 \\N 反斜杠\\\r结束"
    proposal = records.decide(store, "T-1", book, "wang", opinion=said)
    with store.engine.connect() as c:
        opinion, document = c.execute(
            text("SELECT opinion, document FROM decision WHERE id = :i"), {"i": proposal.id}
        ).one()
    assert opinion == said and '"application_id":"T-1"' in document
    assert audit.verify(store).ok


def test_paging_counts_in_sql(store, book):
    bureau = Bureau(store, book, random.Random(0))
    for i in range(7):
        bureau.step = i
        bureau.submit(f"P-{i}", **(OTHER if i % 2 else {}))
    total, rows = views.list_page(store, limit=3, offset=0, newest_first=True)
    assert total == 7 and [a.application_id for a in rows] == ["P-6", "P-5", "P-4"]
    total, rows = views.list_page(store, views.Filters(region="140200"), limit=2, offset=2, newest_first=True)
    assert total == 3 and [a.application_id for a in rows] == ["P-1"]
    assert views.list_page(store, limit=5, offset=7)[1] == []
    assert [a.application_id for a in views.list_page(store, offset=5)[1]] == ["P-5", "P-6"]


def test_two_writers_of_one_application_leave_its_state_right_on_postgresql(pg_url, book):
    """A confirmation and a new version of one application, in two transactions at once: the
    second refresh waits for the first to commit, then reads it (without the per-application
    lock it would write what it computed before, the proposal still open)."""
    import threading

    store = open_store(pg_url)
    Bureau(store, book, random.Random(0)).submit("X-1")
    proposal = records.decide(store, "X-1", book, "wang")
    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    a, b = store.engine.connect(), store.engine.connect()
    ta = a.begin()
    a.execute(
        text(
            "INSERT INTO review (decision_id, application_id, action, reviewer, reviewed_at, storage_granted_yuan, "
            "freight_granted_yuan, equipment_granted, subsidy_yuan, levy_yuan) "
            "VALUES (:d, 'X-1', 'confirm', 'zhao', :t, '0.00', '0.00', false, '0.00', '0.00')"
        ),
        {"d": proposal.id, "t": now},
    )

    def new_version():
        with b.begin():
            b.execute(
                text(
                    "INSERT INTO submission (application_id, version, raw, sha256, received_at, submitted_by, "
                    "validated) VALUES ('X-1', 2, :raw, 'x', :t, 'li', false)"
                ),
                {"raw": b"{}", "t": now},
            )

    second = threading.Thread(target=new_version)
    second.start()
    second.join(timeout=2)
    assert second.is_alive(), "the second refresh waits for the first transaction"
    ta.commit()
    second.join(timeout=30)
    a.close(), b.close()
    (got,) = views.list_applications(store)
    assert (got.status, got.current_version, got.decision_id, got.proposal_id) == ("received", 2, proposal.id, None)
    assert_state_is_rebuilt_state(store)
    store.dispose()
