"""The record's schema: migrations reach the models, an upgrade keeps every record, URLs resolve."""

import datetime as dt
import json

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import SQLModel

from engine.records.store import db, state
from engine.records.store.snapshot import dumps_files, loads_files
from engine.rulebook.loader import compile_rulebook, digest_of


def _schema_diff(engine):
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)


def test_migrations_build_exactly_the_models(record_url):
    store = db.open_store(record_url)
    try:
        assert db.current_revision(store.engine) == db.head_revision()
        assert _schema_diff(store.engine) == []
    finally:
        store.dispose()


def test_the_head_read_from_file_names_is_alembics_head(record_url):
    """The fast path that skips alembic for a record already at head names the same revision."""
    store = db.open_store(record_url)
    try:
        assert db.head_by_name() == db.head_revision()
        assert db.stamped_revision(store.engine) == db.head_revision()
    finally:
        store.dispose()


def test_upgrade_from_the_first_revision_keeps_every_record(bare_sqlite_url):
    engine = db.make_engine(bare_sqlite_url)
    db.upgrade(engine, "0001")
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO submission (application_id, version, raw, sha256, received_at, submitted_by, "
                "validated) VALUES ('A-1', 1, :raw, 'abc', :t, 'li', 0)"
            ),
            {"raw": b"\x00raw bytes\xff", "t": now},
        )
        c.execute(text("INSERT INTO ruleset_snapshot VALUES ('sha256:x', '2026.1', '{}', :t)"), {"t": now})
        c.execute(
            text(
                "INSERT INTO decision (submission_id, application_id, credit_code, period_year, ruleset_version, "
                "ruleset_digest, input_sha256, officer, decided_at, document, storage_granted_yuan, "
                "freight_granted_yuan, equipment_granted) VALUES (1, 'A-1', 'C', 2026, '2026.1', 'sha256:x', "
                "'abc', 'wang', :t, '{\"k\": 1}', '1.00', '0.00', 1)"
            ),
            {"t": now},
        )
    db.upgrade(engine)  # 0001 -> head
    assert db.current_revision(engine) == db.head_revision() != "0001"
    with engine.connect() as c:
        assert c.execute(text("SELECT raw FROM submission")).scalar_one() == b"\x00raw bytes\xff"
        assert c.execute(text("SELECT document, storage_granted_yuan FROM decision")).one() == ('{"k": 1}', "1.00")
        assert c.execute(text("SELECT count(*) FROM notice")).scalar_one() == 0
        # a decision made before four-eyes review was final: it stays in force, confirmed by its officer
        assert c.execute(text("SELECT action, reviewer, subsidy_yuan FROM review")).one() == ("confirm", "wang", "1.00")
    assert _schema_diff(engine) == []
    engine.dispose()
    from engine.records import audit

    store = db.open_store(bare_sqlite_url)
    report = audit.verify(store)  # rows from before the chain are chained by the upgrade
    assert report.ok and report.links == 3, report.findings  # submission, decision, review
    store.dispose()


def test_opening_twice_is_harmless(sqlite_url):
    db.open_store(sqlite_url).dispose()
    db.open_store(sqlite_url).dispose()


def test_url_comes_from_the_option_then_the_environment_then_the_default(monkeypatch):
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    assert db.resolve_url() == "sqlite:///shuangtan.db"
    monkeypatch.setenv(db.ENV_VAR, "sqlite:///from-env.db")
    assert db.resolve_url() == "sqlite:///from-env.db"
    assert db.resolve_url("sqlite:///given.db") == "sqlite:///given.db"


def test_default_database_is_a_file_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    db.open_store().dispose()
    assert (tmp_path / "shuangtan.db").is_file()


def test_ruleset_snapshot_recompiles_to_the_same_digest(book):
    files = loads_files(dumps_files(book.files))
    assert digest_of(files) == book.digest
    assert compile_rulebook(book.root, files).digest == book.digest


def test_snapshot_keeps_decimals_exact():
    from decimal import Decimal

    files = {"parameters/x.yaml": {"rate": Decimal("0.10"), "n": 3, "on": True, "when": "2026-01-01"}}
    back = loads_files(dumps_files(files))
    assert back == files and isinstance(back["parameters/x.yaml"]["rate"], Decimal)
    assert str(back["parameters/x.yaml"]["rate"]) == "0.10"


def test_large_texts_are_lz4_compressed_on_postgresql(pg_url):
    store = db.open_store(pg_url)
    try:
        with store.engine.connect() as c:
            got = c.execute(
                text(
                    "SELECT attname, attcompression FROM pg_attribute "
                    "WHERE attrelid = 'decision'::regclass AND attname = 'document'"
                )
            ).one()
        assert got == ("document", "l")
    finally:
        store.dispose()


@given(st.dictionaries(st.text(), st.text()))
def test_a_statuses_summary_is_the_json_text_the_list_filters_expect(statuses):
    """(orjson writes it; the filters and the rows made before were written by json.dumps)"""
    assert state.brief(statuses) == json.dumps(statuses, ensure_ascii=False, separators=(",", ":"))
