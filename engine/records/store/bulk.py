"""Rows a batch writes by the chunk: plain objects with a table's columns, one INSERT for them all.

The ORM's instrumented rows (and their unit of work) would cost as much again as the insert
itself (decide and confirm on PostgreSQL, benchmarks/bench_record.py). The readers of such a row
(standing, the audit's fieldsets, decision_out) read attributes only.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert


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
        ids = s.execute(
            insert(self.table).returning(self.table.c.id, sort_by_parameter_order=True),
            [{c: getattr(r, c) for c in self.columns} for r in rows],
        ).scalars()
        for row, row_id in zip(rows, ids, strict=True):
            row.id = row_id
        rows.clear()
