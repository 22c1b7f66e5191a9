"""Rows a batch writes by the chunk: plain objects with a table's columns, one statement for them all.

Also: updates of many rows by key in one statement (``update_by_id``).

The ORM's instrumented rows (and their unit of work) would cost as much again as the insert
itself (decide and confirm on PostgreSQL, benchmarks/bench_record.py). The readers of such a row
(standing, the audit's fieldsets, decision_out) read attributes only.
"""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace
from typing import Any

from sqlalchemy import cast, column, insert, text, update, values


class Bulk:
    """The rows of one table model (``DecisionRow``, ``ReviewRow``) as a batch inserts them."""

    def __init__(self, model: Any):
        self.name = model.__tablename__
        self.table = model.__table__  # SQLModel sets it on table models
        self.columns = tuple(c.name for c in self.table.columns if c.name != "id")

    def row(self, **values) -> Any:
        """A row to insert: every column, ``None`` where not given; an unknown column is a defect."""
        unknown = values.keys() - set(self.columns)
        if unknown:
            raise TypeError(f"no {self.name} column {sorted(unknown)}")
        return SimpleNamespace(id=None, **{c: values.get(c) for c in self.columns})

    def insert(self, s, rows: list) -> None:
        """Insert ``rows`` in one statement, give each its id, and empty the list."""
        if not rows:
            return
        ids = self._insert_copy(s, rows) if s.get_bind().dialect.name == "postgresql" else None
        if ids is None:
            ids = s.execute(
                insert(self.table).returning(self.table.c.id, sort_by_parameter_order=True),
                [{c: getattr(r, c) for c in self.columns} for r in rows],
            ).scalars()
        for row, row_id in zip(rows, ids, strict=True):
            row.id = row_id
        rows.clear()

    def _insert_copy(self, s, rows: list) -> list[int] | None:
        """PostgreSQL: the ids drawn from the table's sequence, then the rows in one ``COPY ... FROM
        STDIN`` (its text format, written here: a few ``str.replace`` a value). A 200-row VALUES
        list is 4,000 placeholders that the driver splits in Python on every chunk (a tenth of
        ``decide --all-pending``); COPY is also what the server reads fastest, and fires the
        statement's triggers as an INSERT does. None, with nothing written, when a value is of a
        type this writer does not know (the VALUES list takes them)."""
        ids = sorted(
            s.execute(
                text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                {"t": self.name, "n": len(rows)},
            ).scalars()
        )
        columns = ("id", *self.columns)
        if not copy_rows(
            s, self.name, columns, ([i, *(getattr(r, c) for c in self.columns)] for i, r in zip(ids, rows, strict=True))
        ):
            return None  # (the ids drawn stay unused: a sequence has gaps anyway)
        return ids

    def stream(self, s, rows, ids_of) -> None:
        """PostgreSQL: the rows ``rows`` yields by ``COPY``, each sent as it is made, so that the
        server inserts one while the next is being worked out; their ids are the sequence's, as an
        INSERT takes them (no id is drawn for a row never made). ``FLUSH`` from ``rows`` ends the
        statement there: ``ids_of(s, rows)`` gives the rows sent so far their ids before ``rows``
        goes on (and once more at the end). Nothing else may use the session meanwhile."""
        s.flush()  # the session's pending rows first: the COPY goes by the driver, past the session
        segment = _Segment(iter(rows), self.columns)
        while segment.more:
            segment.start()
            copy_lines(s, self.name, self.columns, segment.lines())
            if segment.sent:
                ids_of(s, segment.sent)


class _Segment:
    """The rows of one COPY statement of ``Bulk.stream``: up to a FLUSH or the end."""

    def __init__(self, rows, columns):
        self.rows, self.columns = rows, columns
        self.more, self.sent = True, []

    def start(self) -> None:
        self.more, self.sent = False, []

    def lines(self):
        for r in self.rows:
            if r is FLUSH:
                self.more = True
                return
            self.sent.append(r)
            yield _copy_line([getattr(r, c) for c in self.columns])


#: what ``Bulk.stream``'s rows yield where the rows before must have their ids
FLUSH = object()


def insert_rows(s, model: Any, rows: list[dict]) -> None:
    """Insert ``rows``, each naming the same columns, its key included (no ids are drawn): one
    ``COPY`` on PostgreSQL (see ``Bulk``), else the ORM's bulk insert."""
    if not rows:
        return
    columns = tuple(rows[0])
    if s.get_bind().dialect.name == "postgresql":
        if copy_rows(s, model.__tablename__, columns, ([r[c] for c in columns] for r in rows)):
            return
    s.execute(insert(model.__table__), rows)


def copy_rows(s, table: str, columns: tuple[str, ...], rows) -> bool:
    """``rows`` (sequences of ``columns``' values) into ``table`` by one ``COPY ... FROM STDIN`` in
    the session's transaction; False, with nothing written, when a value is of a type this
    writer does not know."""
    try:
        data = "".join(_copy_line(r) for r in rows)
    except TypeError:
        return False
    copy_lines(s, table, columns, [data])
    return True


def _copy_line(values) -> str:
    return "\t".join([_copy_text(v) for v in values]) + "\n"


class _Lines(io.TextIOBase):
    """The file psycopg2's ``copy_expert`` reads: the lines of an iterator, as they come."""

    def __init__(self, lines):
        self.lines = iter(lines)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        return next(self.lines, "")


def copy_lines(s, table: str, columns: tuple[str, ...], lines) -> None:
    """COPY's text ``lines`` (an iterator; each one row) into ``table`` in the session's transaction."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    raw = s.connection().connection.driver_connection  # the session's own transaction
    cur = raw.cursor()
    try:
        if hasattr(cur, "copy_expert"):  # psycopg2
            cur.copy_expert(sql, _Lines(lines))
        else:  # psycopg (3)
            with cur.copy(sql) as copy:
                for line in lines:
                    copy.write(line)
    finally:
        cur.close()


def _copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise TypeError(f"no COPY text for {type(value).__name__}")


#: rows per UPDATE statement: PostgreSQL takes at most 65,535 parameters in one
UPDATE_PAGE = 1000


def update_by_id(s, model: Any, changes: list[dict]) -> None:
    """Set each change's values on the row of its ``id`` (every change naming the same columns).

    On PostgreSQL one ``UPDATE ... FROM (VALUES ...)`` a page: the application state's triggers
    run once per statement over all its rows (state.py), not once per row as an executemany
    would have them. SQLite has no such form, and its triggers run per row either way.
    """
    if not changes:
        return
    table = model.__table__
    if s.get_bind().dialect.name != "postgresql":
        s.execute(update(model), changes)  # the ORM's bulk update by primary key: an executemany
        return
    names = list(changes[0])
    if "id" not in names:
        raise TypeError("update_by_id: every change names its row's id")
    for start in range(0, len(changes), UPDATE_PAGE):
        page = changes[start : start + UPDATE_PAGE]
        rows = values(*(column(n, table.c[n].type) for n in names), name="v").data(
            [tuple(c[n] for n in names) for c in page]
        )
        # CAST: a column of NULLs only would otherwise reach PostgreSQL as text
        stmt = update(table).where(table.c.id == rows.c.id)
        s.execute(stmt.values({n: cast(rows.c[n], table.c[n].type) for n in names if n != "id"}))
