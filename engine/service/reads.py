"""Reads of an enterprise's data land in the audit chain, like every write.

A read appends a link with the action ``read`` to the row it showed: the application's current
version (entity ``submission``, fieldset ``received``, whose fields never change after receipt,
so the link's digest is the one the receipt recorded and ``audit verify`` checks it like any
other), or the notice handed out (``notice``/``issued``). No table or fieldset is added: the
chain already names rows by entity and id, and the summary says what was read through which
endpoint. A listing appends one link per application shown, in one statement.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from engine.records import audit
from engine.records.common import unloaded
from engine.records.store.db import Store
from engine.records.store.models import NoticeRow, SubmissionRow

ACTION = "read"


def _latest(s, app_ids: list[str]) -> dict[str, SubmissionRow]:
    rows = s.exec(
        select(SubmissionRow).options(unloaded(SubmissionRow.raw)).where(col(SubmissionRow.application_id).in_(app_ids))
    ).scalars()
    latest: dict[str, SubmissionRow] = {}
    for r in rows:
        assert r.application_id is not None
        if r.application_id not in latest or (r.version or 0) > (latest[r.application_id].version or 0):
            latest[r.application_id] = r
    return latest


def applications_read(store: Store, actor: str, app_ids: list[str], what: str) -> None:
    """One ``read`` link per application, on its latest version's receipt."""
    wanted = [a for a in dict.fromkeys(app_ids) if a]
    if not wanted:
        return
    with store.session() as s:
        latest = _latest(s, wanted)
        entries = [
            audit.Entry(actor, ACTION, "submission", latest[a], "received", f"{a}: {what}")
            for a in wanted
            if a in latest
        ]
        audit.append_many(s, entries)


def notice_read(store: Store, actor: str, notice_id: int, what: str) -> None:
    with store.session() as s:
        row = s.get(NoticeRow, notice_id)  # its content too: the link's digest covers it
        audit.append(s, actor, ACTION, "notice", row, "issued", what)
