"""The record read through its database driver alone: what ``list`` and ``show`` start with.

SQLAlchemy and Alembic take longer to import than these commands may take in all, so a command
that only reads opens SQLite (the standard library's sqlite3, the file opened read-only: a
missing file is refused, never created) or PostgreSQL (psycopg2, else psycopg) itself, from the
same URL, and never migrates: a record whose schema is not this code's (``head_revision``, read
from the migration files' text) is refused with what to run. URLs this module does not know
(another dialect or driver, SQLite options) go to SQLAlchemy as before (``None`` from ``connect``).

``Reading`` is the one interface the read-only views use, over a connection opened here or one
borrowed from a SQLAlchemy engine (the library's ``Store``): SQL is written with ``:name``
parameters and rows come back as tuples.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

DEFAULT_URL = "sqlite:///shuangtan.db"
ENV_VAR = "SHUANGTAN_DB"
MIGRATIONS = Path(__file__).resolve().parent / "migrations" / "versions"

MESSAGES = {
    "no_file": "no record at {url}: {path} does not exist (a command that only reads creates none; "
    "`shuangtan db upgrade --db URL` or any writing command creates it)",
    "no_schema": "the record at {url} has no schema yet: run `shuangtan db upgrade --db URL` "
    "(or any command that writes)",
    "behind": "the record at {url} is at schema revision {current}, this shuangtan needs {head}: run "
    "`shuangtan db upgrade --db URL` (or any command that writes), then try again",
    "unknown": "the record at {url} is at schema revision {current}, which this shuangtan does not know "
    "(its newest is {head}): it was written by a newer shuangtan; upgrade shuangtan",
    "no_state": "the record at {url} lacks the application state this shuangtan keeps: run "
    "`shuangtan db upgrade --db URL`",
}


class SchemaMismatch(Exception):
    """The record cannot be read as it is (missing, no schema, another revision): the message says what to run."""


def resolve_url(url: str | None = None) -> str:
    """The record's URL: the option, else $SHUANGTAN_DB, else shuangtan.db in the working directory."""
    return url or os.environ.get(ENV_VAR) or DEFAULT_URL


# --- the code's schema revision ------------------------------------------------------------
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(?:['\"]([^'\"]*)['\"]|None)", re.M)


def revisions() -> list[str]:
    """The migration chain, oldest first, read from the files' text (nothing is imported or run)."""
    down_of: dict[str, str | None] = {}
    for path in MIGRATIONS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        named, down = _REVISION.search(text), _DOWN.search(text)
        if named and down:
            down_of[named.group(1)] = down.group(1) or None
    heads = set(down_of) - {d for d in down_of.values() if d}
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads ({sorted(heads)}), not one")
    chain: list[str] = []
    rev: str | None = heads.pop()
    while rev is not None:
        chain.append(rev)
        rev = down_of.get(rev)
    return chain[::-1]


def head_revision() -> str:
    return revisions()[-1]


def schema_problem(current: str | None, url: str) -> str | None:
    """Why a record at revision ``current`` cannot be read by this code (None: it can)."""
    chain = revisions()
    if current == chain[-1]:
        return None
    if current is None:
        return MESSAGES["no_schema"].format(url=url)
    key = "behind" if current in chain else "unknown"
    return MESSAGES[key].format(url=url, current=current, head=chain[-1])


# --- URLs ----------------------------------------------------------------------------------
_URL = re.compile(
    r"^(?P<name>[\w+]+)://(?:(?P<user>[^:/]*)(?::(?P<password>[^@]*))?@)?"
    r"(?:(?:\[(?P<ipv6>[^/?]+)\]|(?P<host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?"
    r"(?:/(?P<database>[^?]*))?(?:\?(?P<query>.*))?$",
    re.S,
)


@dataclass(frozen=True)
class Url:
    dialect: str
    driver: str | None
    user: str | None
    password: str | None
    host: str | None
    port: int | None
    database: str | None
    query: dict[str, str]


def parse_url(url: str) -> Url | None:
    """SQLAlchemy's URL form (``dialect+driver://user:password@host:port/database?k=v``), or None."""
    m = _URL.match(url)
    if not m:
        return None
    dialect, _, driver = m["name"].partition("+")
    query = {}
    for pair in filter(None, (m["query"] or "").split("&")):
        key, _, value = pair.partition("=")
        query[unquote(key)] = unquote(value)
    port = m["port"]
    return Url(
        dialect,
        driver or None,
        unquote(m["user"]) if m["user"] else None,
        unquote(m["password"]) if m["password"] is not None else None,
        m["ipv6"] or m["host"] or None,
        int(port) if port and port.isdigit() else None,
        m["database"] or None,
        query,
    )


def masked(url: str) -> str:
    """The URL as it may be shown: its password, if any, as ***."""
    return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL (None: not SQLite, or in memory)."""
    u = parse_url(url)
    if u is None or u.dialect != "sqlite" or u.database in (None, ":memory:"):
        return None
    return u.database.removeprefix("file:").partition("?")[0]


def refuse_missing_file(url: str) -> None:
    """A read-only command must not create the SQLite file it was pointed at."""
    path = sqlite_file(url)
    if path is not None and not os.path.exists(path):
        raise SchemaMismatch(MESSAGES["no_file"].format(url=masked(url), path=path))


# --- reading -------------------------------------------------------------------------------
_PARAM = re.compile(r"(?<![:\w]):(\w+)")


class Reading:
    """One read-only transaction on a DB-API connection: ``rows(sql, **params)`` with ``:name`` parameters."""

    def __init__(self, conn: Any, dialect: str):
        self.conn, self.dialect = conn, dialect
        self._sqlite = dialect == "sqlite"
        self._sql: dict[str, str] = {}

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        return self._run(sql, params)[1]

    def dicts(self, sql: str, **params: Any) -> list[dict]:
        """Rows as dicts keyed by column name."""
        names, rows = self._run(sql, params)
        return [dict(zip(names, row)) for row in rows]

    def _run(self, sql: str, params: dict) -> tuple[list[str], list[tuple]]:
        if not self._sqlite:
            sql = self._sql.get(sql) or self._sql.setdefault(sql, _PARAM.sub(r"%(\1)s", sql))
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
            return [d[0] for d in cur.description or ()], cur.fetchall()
        finally:
            cur.close()

    def time(self, value: Any) -> dt.datetime:
        """A stored time as aware UTC: SQLite keeps the text SQLAlchemy wrote, PostgreSQL a timestamptz."""
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)

    def time_param(self, value: dt.datetime) -> Any:
        """``value`` (aware) as the database compares stored times: SQLite's text, or the datetime."""
        if self._sqlite:
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return value

    def date(self, value: Any) -> dt.date | None:
        return dt.date.fromisoformat(value) if isinstance(value, str) else value

    def schema_problem(self, url: str) -> str | None:
        """Why this code cannot read the record (None: it can): its revision, then the state triggers."""
        from engine.records.store import state

        if self._sqlite:
            has_table = self.rows("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")
            probe = "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = :name"
        else:
            has_table = self.rows("SELECT 1 WHERE to_regclass('alembic_version') IS NOT NULL")
            probe = "SELECT 1 FROM pg_trigger WHERE tgname = :name"
        versions = self.rows("SELECT version_num FROM alembic_version") if has_table else []
        problem = schema_problem(versions[0][0] if len(versions) == 1 else None, masked(url))
        if problem is None and not self.rows(probe, name=state.PROBE):
            problem = MESSAGES["no_state"].format(url=masked(url))
        return problem


def connect(url: str) -> Any | None:
    """A DB-API connection for reading the record at ``url`` (None: SQLAlchemy must open this one).

    Raises SchemaMismatch for a SQLite file that does not exist, ModuleNotFoundError for a
    PostgreSQL driver that is not installed, and the driver's own error for a server that refuses.
    """
    u = parse_url(url)
    if u is None:
        return None
    if u.dialect == "sqlite" and u.driver in (None, "pysqlite") and not u.query and u.host is None:
        import sqlite3

        refuse_missing_file(url)
        path = sqlite_file(url)
        if path is None:
            return None  # in memory: nothing to read, SQLAlchemy says so as before
        return sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=60, isolation_level=None)
    if u.dialect in ("postgresql", "postgres") and u.driver in (None, "psycopg2", "psycopg"):
        kwargs: dict[str, Any] = {
            k: v
            for k, v in {"host": u.host, "port": u.port, "user": u.user, "password": u.password}.items()
            if v is not None
        }
        kwargs |= u.query
        if u.database:
            kwargs["dbname"] = u.database
        if u.driver != "psycopg":
            try:
                import psycopg2
            except ModuleNotFoundError:
                if u.driver == "psycopg2":
                    raise
            else:
                pg2 = psycopg2.connect(**kwargs)
                pg2.set_session(readonly=True)
                return pg2
        import psycopg

        pg3 = psycopg.connect(**kwargs)
        pg3.read_only = True
        return pg3
    return None


@contextlib.contextmanager
def reading(conn: Any, dialect: str) -> Iterator[Reading]:
    """One read-only transaction on ``conn`` (every query of a listing sees the same record)."""
    if dialect == "sqlite":
        conn.execute("BEGIN")
    try:
        yield Reading(conn, dialect)
    finally:
        if dialect == "sqlite":
            conn.execute("COMMIT")
        else:
            conn.rollback()


@contextlib.contextmanager
def from_store(store: Any) -> Iterator[Reading]:
    """A read-only transaction on a connection borrowed from a library ``Store``'s engine."""
    raw = store.engine.raw_connection()
    try:
        with reading(raw.driver_connection, store.dialect) as r:
            yield r
    finally:
        raw.close()
