"""Rows a batch writes by the chunk: plain objects with a table's columns, one INSERT for them all.

Also: updates of many rows by key in one statement (``update_by_id``).

The ORM's instrumented rows (and their unit of work) would cost as much again as the insert
itself (decide and confirm on PostgreSQL, benchmarks/bench_record.py). The readers of such a row
(standing, the audit's fieldsets, decision_out) read attributes only.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import cast, column, insert, text, update, values


class Bulk:
    """The rows of one table model (``DecisionRow``, ``ReviewRow``) as a batch inserts them."""

    def __init__(self, model: Any):
        self.name = model.__tablename__
        self.table = model.__table__  # SQLModel sets it on table models
        self.columns = tuple(c.name for c in self.table.columns if c.name != "id")
        self._json_sql: Any = None

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
        ids = self._insert_json(s, rows) if s.get_bind().dialect.name == "postgresql" else None
        if ids is None:
            ids = s.execute(
                insert(self.table).returning(self.table.c.id, sort_by_parameter_order=True),
                [{c: getattr(r, c) for c in self.columns} for r in rows],
            ).scalars()
        for row, row_id in zip(rows, ids, strict=True):
            row.id = row_id
        rows.clear()

    def _insert_json(self, s, rows: list) -> list[int] | None:
        """PostgreSQL: the ids drawn from the table's sequence, then the rows as one JSON
        parameter that the server itself reads into records (``json_to_recordset``): a 200-row
        VALUES list is 4,000 placeholders that the driver splits in Python on every chunk (a
        tenth of ``decide --all-pending``). None, with nothing written, when the rows are not
        JSON (orjson: a lone surrogate; the VALUES list takes them)."""
        ids = sorted(
            s.execute(
                text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                {"t": self.name, "n": len(rows)},
            ).scalars()
        )
        try:
            data = orjson.dumps([{"id": i, **{c: getattr(r, c) for c in self.columns}} for i, r in zip(ids, rows)])
        except TypeError:
            return None  # (the ids drawn stay unused: a sequence has gaps anyway)
        s.execute(self._from_json(s.get_bind().dialect), {"rows": data.decode()})
        return ids

    def _from_json(self, dialect):
        if self._json_sql is None:
            names = ("id", *self.columns)
            spec = ", ".join(f"{n} {self.table.c[n].type.compile(dialect=dialect)}" for n in names)
            cols = ", ".join(names)
            self._json_sql = text(
                f"INSERT INTO {self.name} ({cols}) SELECT {cols} FROM json_to_recordset(CAST(:rows AS json)) AS x({spec})"
            )
        return self._json_sql


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
