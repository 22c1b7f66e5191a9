"""--db URL for every command on the record: opened to write (migrated first), or only to read.

A command that writes opens the record through SQLAlchemy and brings its schema to this code's
(``with_store``). A command that only reads never migrates: ``reading_store`` (SQLAlchemy, for
export and the audit commands) and ``with_reading`` (the database driver alone, for list and
show, which must start in a fraction of a second) refuse a record of another schema revision,
or a SQLite file that does not exist, naming what to run; exit 2.

The URL's password is never shown: every message names the record with ``***`` in its place.
A failure of the record itself (a full disk, a lost connection) is one line, not a traceback.
"""

from __future__ import annotations

import functools
import re

import click

from engine.cli.common import InputError
from engine.cli.extras import MissingExtraError, needs_extras
from engine.errors import internal_reason
from engine.i18n.catalogue import t
from engine.records.store.direct import ENV_VAR, SchemaMismatch, parse_url, resolve_url

DB_HELP = f"Database URL (SQLAlchemy); default sqlite:///shuangtan.db in the working directory, or ${ENV_VAR}."

db_option = click.option("--db", "db_url", envvar=ENV_VAR, default=None, metavar="URL", help=DB_HELP)


def first_line(exc: BaseException) -> str:
    """Type and first line: SQLAlchemy appends the statement and its parameters (raw bytes) below."""
    return internal_reason(exc)


def masked_url(url: str) -> str:
    """The database URL as it may be shown: ``postgresql://user:***@host/db``."""
    return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


def hide_password(text: str, url: str) -> str:
    """``text`` with the URL's password (as written, and as decoded) replaced by ***."""
    secrets = set()
    parsed = parse_url(url)
    if parsed is not None and parsed.password:
        secrets.add(parsed.password)
    found = re.search(r"//[^:/@]*:([^@]*)@", url)
    if found:
        secrets.add(found.group(1))
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _say(key: str, url: str, exc: BaseException) -> click.ClickException:
    return click.ClickException(
        hide_password(t(f"record_cli.opening.{key}", url=masked_url(url), why=first_line(exc)), url)
    )


def _open(url: str, migrate: bool):
    from engine.records.store import open_store

    try:
        with needs_extras():  # postgresql:// without the [postgres] extra
            return open_store(url, migrate=migrate)
    except MissingExtraError:
        raise
    except Exception as exc:  # a bad URL or an unreachable server is the user's to fix
        raise _say("cannot_open", url, exc) from None


def _run(fn, args, kwargs, url: str, store):
    from sqlalchemy.exc import DBAPIError

    try:
        return fn(*args, store=store, **kwargs)
    except DBAPIError as exc:
        raise _say("failed", url, exc.orig or exc) from None
    finally:
        store.dispose()


def with_store(fn):
    """--db URL, opened (and migrated to the current schema) before the command runs."""

    @db_option
    @functools.wraps(fn)
    def wrapper(*args, db_url=None, **kwargs):
        url = resolve_url(db_url)
        return _run(fn, args, kwargs, url, _open(url, migrate=True))

    return wrapper


def refuse(problem: str | None) -> None:
    if problem:
        raise InputError(problem)


def reading_store(fn):
    """--db URL opened without migrating (through SQLAlchemy): a record of another schema
    revision, or a SQLite file that does not exist, is refused (exit 2) naming what to run."""

    @db_option
    @functools.wraps(fn)
    def wrapper(*args, db_url=None, **kwargs):
        from engine.records.store.direct import from_store, refuse_missing_file

        url = resolve_url(db_url)
        try:
            refuse_missing_file(url)
        except SchemaMismatch as exc:
            raise InputError(str(exc)) from None
        store = _open(url, migrate=False)
        try:
            with from_store(store) as r:
                refuse(r.schema_problem(url))
        except click.ClickException:
            store.dispose()
            raise
        except Exception as exc:
            store.dispose()
            raise _say("cannot_open", url, exc) from None
        return _run(fn, args, kwargs, url, store)

    return wrapper


def with_reading(fn):
    """--db URL read through its database driver alone (engine/records/store/direct.py), in one
    read-only transaction handed to the command as ``reading``; the schema checked as by
    ``reading_store``. A URL the driver path does not know goes through SQLAlchemy."""

    @db_option
    @functools.wraps(fn)
    def wrapper(*args, db_url=None, **kwargs):
        from engine.records.store import direct

        url = resolve_url(db_url)
        try:
            with needs_extras():
                conn = direct.connect(url)
        except SchemaMismatch as exc:
            raise InputError(str(exc)) from None
        except (MissingExtraError, ModuleNotFoundError):
            raise
        except Exception as exc:
            raise _say("cannot_open", url, exc) from None
        if conn is None:
            return reading_store(_borrowing(fn))(*args, db_url=url, **kwargs)
        dialect = "sqlite" if parse_url(url).dialect == "sqlite" else "postgresql"
        try:
            with direct.reading(conn, dialect) as r:
                refuse(r.schema_problem(url))
                return fn(*args, reading=r, **kwargs)
        except Exception as exc:
            if isinstance(exc, direct_errors()):  # the record itself: a lost connection, a locked file
                raise _say("failed", url, exc) from None
            raise
        finally:
            conn.close()

    return wrapper


def _borrowing(fn):
    """``fn`` taking ``reading`` run on a SQLAlchemy ``store`` (a URL the driver path does not know)."""

    @functools.wraps(fn)
    def wrapper(*args, store, **kwargs):
        from engine.records.store.direct import from_store

        with from_store(store) as r:
            return fn(*args, reading=r, **kwargs)

    return wrapper


def direct_errors() -> tuple[type[BaseException], ...]:
    """The drivers' own error classes (DB-API ``Error``) of the drivers already imported."""
    import sys

    out: list[type[BaseException]] = []
    for name in ("sqlite3", "psycopg2", "psycopg"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "Error"):
            out.append(module.Error)
    return tuple(out)
