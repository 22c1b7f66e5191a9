"""文号: the per-year sequence every notice document is numbered from, once, never reused.

Each year's counter is one row, locked by the allocating transaction (``SELECT ... FOR UPDATE``
on PostgreSQL; SQLite already holds the file's write lock), so the numbers of one issue are
consecutive and two issuers never take the same one. ``uq_notice_number_seq`` would refuse a
reused number even if the counter row were edited by hand.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from engine.authority import Authority
from engine.records import audit
from engine.records.store.models import DecisionRow, NoticeNumberRow, NoticeSequenceRow, stored_id


def _counter(s, year: int) -> NoticeSequenceRow:
    locked = (
        select(NoticeSequenceRow)
        .where(col(NoticeSequenceRow.year) == year)
        .with_for_update()
        # a row already in the session would otherwise keep the value read before the lock
        .execution_options(populate_existing=True)
    )
    row = s.exec(locked).scalars().first()
    if row is None:
        try:
            with s.begin_nested():
                s.add(NoticeSequenceRow(year=year, last=0))
        except IntegrityError:
            pass  # the first notice of the year, numbered at the same moment by another issuer
        row = s.exec(locked).scalars().one()
    return row


def allocate(
    s,
    authority: Authority,
    decision: DecisionRow,
    kind: str,
    notice_date: dt.date,
    issued_at: dt.datetime,
    issued_by: str,
    replaced_by_id: int | None = None,
) -> NoticeNumberRow:
    """Number the document (``decision``, ``kind``) with the next 文号 of its date's year, and chain it."""
    counter = _counter(s, notice_date.year)
    counter.last += 1
    s.add(counter)
    row = NoticeNumberRow(
        decision_id=stored_id(decision.id),
        application_id=decision.application_id,
        kind=kind,
        year=notice_date.year,
        seq=counter.last,
        number=authority.number(notice_date.year, counter.last),
        notice_date=notice_date,
        issued_at=issued_at,
        issued_by=issued_by,
        authority=authority.name,
        replaced_by_id=replaced_by_id,
    )
    s.add(row)
    audit.append(s, issued_by, "notice.issue", "notice_number", row, "allocated", row.number)
    return row
