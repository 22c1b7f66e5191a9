"""Open the record: an engine from a URL, the schema migrated to head, per-enterprise locks.

The default is a SQLite file ``shuangtan.db`` in the working directory (no set-up); any
SQLAlchemy URL works through ``--db`` or ``SHUANGTAN_DB``. On SQLite every transaction starts
with ``BEGIN IMMEDIATE``, so writers queue one behind another; on PostgreSQL a decider locks
its enterprise's row (``SELECT ... FOR UPDATE``) so two deciders of one enterprise queue while
different enterprises proceed in parallel.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from engine.records.store import state
from engine.records.store.direct import DEFAULT_URL, ENV_VAR, resolve_url  # noqa: F401  (named here too)
from engine.records.store.models import EnterpriseRow

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 0x5348_5541_4E47  # "SHUANG": one migrator at a time on PostgreSQL


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """Every stored time is UTC: SQLite hands it back naive, PostgreSQL in the session's zone."""
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record):
            # Let SQLAlchemy's begin event issue BEGIN IMMEDIATE instead of pysqlite's deferred BEGIN.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # Readers take no write lock (WAL lets them read beside a writer); writers queue.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")

        return engine
    options = {}
    if make_url(url).get_dialect().driver == "psycopg2":
        # an UPDATE of many rows (a chunk's verdicts) in pages, not a round trip per row: half the time
        options["executemany_mode"] = "values_plus_batch"
    return create_engine(url, pool_pre_ping=True, **options)


@dataclass
class Store:
    """The record behind one URL. ``session()`` is one transaction, committed on success."""

    engine: Engine
    url: str

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self):
        """A writing transaction (on SQLite it holds the database's write lock from the start)."""
        with Session(self.engine, expire_on_commit=False) as s:
            with s.begin():
                yield s

    @contextlib.contextmanager
    def reading(self):
        """A read-only transaction that never waits for, nor blocks, a writer on SQLite."""
        with Session(self.engine.execution_options(read_only=True), expire_on_commit=False) as s:
            with s.begin():
                yield s

    def lock_enterprise(self, s: Session, credit_code: str, name: str, region_code: str) -> None:
        """Hold the enterprise until the transaction ends (a no-op where the whole file is locked)."""
        ensure_enterprise(s, credit_code, name, region_code)
        if self.dialect != "sqlite":
            s.execute(
                select(col(EnterpriseRow.credit_code))
                .where(col(EnterpriseRow.credit_code) == credit_code)
                .with_for_update()
            )

    def lock_enterprises(self, s: Session, enterprises: set[tuple[str, str | None, str | None]]) -> None:
        """``lock_enterprise`` for many (credit code, name, region code) at once, in credit-code
        order: two transactions locking overlapping sets never wait for each other in a circle."""
        codes = sorted({code for code, _, _ in enterprises})
        if not codes:
            return
        known = set(
            s.execute(select(col(EnterpriseRow.credit_code)).where(col(EnterpriseRow.credit_code).in_(codes))).scalars()
        )
        for code, name, region in sorted(enterprises):
            if code not in known:
                ensure_enterprise(s, code, name or "", region or "")
                known.add(code)
        if self.dialect != "sqlite":
            s.execute(
                select(col(EnterpriseRow.credit_code))
                .where(col(EnterpriseRow.credit_code).in_(codes))
                .order_by(col(EnterpriseRow.credit_code))
                .with_for_update()
            )

    def dispose(self):
        self.engine.dispose()


def ensure_enterprise(s: Session, credit_code: str, name: str, region_code: str) -> None:
    if s.get(EnterpriseRow, credit_code) is not None:
        return
    try:
        with s.begin_nested():
            s.add(EnterpriseRow(credit_code=credit_code, name=name, region_code=region_code, first_seen=now_utc()))
    except IntegrityError:
        pass  # another transaction created it first: that row is as good as ours


def ensure_enterprises(s: Session, found: dict[str, tuple[str, str]]) -> None:
    """``ensure_enterprise`` for many: credit code -> (name, region code), the missing ones
    inserted in one statement, in credit-code order (as deciders take their locks)."""
    if not found:
        return
    have = set(
        s.execute(select(col(EnterpriseRow.credit_code)).where(col(EnterpriseRow.credit_code).in_(found))).scalars()
    )
    at = now_utc()
    missing = [
        {"credit_code": code, "name": found[code][0], "region_code": found[code][1], "first_seen": at}
        for code in sorted(found)
        if code not in have
    ]
    if not missing:
        return
    dialect = s.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        for code in sorted(found):
            if code not in have:
                ensure_enterprise(s, code, *found[code])
        return
    from sqlalchemy.dialects import postgresql, sqlite

    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    # another transaction may create one first: that row is as good as ours
    s.execute(insert(EnterpriseRow).on_conflict_do_nothing(index_elements=["credit_code"]), missing)


def open_store(url: str | None = None, migrate: bool = True) -> Store:
    url = resolve_url(url)
    store = Store(make_engine(url), url)
    if migrate:
        upgrade(store.engine)
    return store


def _alembic_config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_by_name() -> str:
    """The head revision as the migration files are named (``NNNN_what.py`` holds revision NNNN),
    read without importing alembic: a record already at head opens without it."""
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def stamped_revision(engine: Engine) -> str | None:
    """The revision the record says it is at, by plain SQL (None: no schema yet)."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "alembic_version"):
            return None
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` inside one transaction; concurrent openers wait, then see head.

    At head, the application state's triggers (state.py) are installed and its table rebuilt
    whenever a migration ran or the installed triggers are not this code's. A record already at
    head with this code's triggers opens without importing alembic.
    """
    if revision == "head" and stamped_revision(engine) == head_by_name() and state_current(engine):
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    head = head_revision()
    target = head if revision == "head" else revision
    if current_revision(engine) == target and (target != head or state_current(engine)):
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(_alembic_config(conn), revision)
        if target == head and (before != head or not state.current(conn)):
            state.install(conn)


def state_current(engine: Engine) -> bool:
    with engine.connect() as conn:
        return state.current(conn)
