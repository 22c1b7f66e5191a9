"""Notices: rendered from the decision in force (or a named one) under its stored ruleset,
written whole, and kept byte for byte on record."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from engine.atomic import write_bytes_replacing
from engine.contract.application import parse_application
from engine.errors import RecordError
from engine.records.common import sha256, storable_id
from engine.records.deciding import in_force, snapshot_book, stored_history
from engine.records.store.db import Store, as_utc, now_utc
from engine.records.store.models import DecisionRow, SubmissionRow, stored_id


@dataclass
class IssuedNotice:
    kind: str
    path: Path
    notice_id: int


def notice_documents(
    store: Store,
    app_id: str,
    lang: str = "zh",
    fmt: str = "html",
    notice_date: dt.date | None = None,
    decision_id: int | None = None,
) -> tuple[DecisionRow, list]:
    """Render (not yet issue) every notice the decision in force calls for: [(kind, text)]."""
    from engine.notices import render as notices

    if decision_id is not None and not storable_id(store, decision_id):
        raise RecordError(f"{app_id}: no decision {decision_id} for this application")
    with store.reading() as s:
        row = s.get(DecisionRow, decision_id) if decision_id is not None else in_force(s, app_id)
        if row is None or row.application_id != app_id:
            raise RecordError(
                f"{app_id}: no decision on record"
                if decision_id is None
                else f"{app_id}: no decision {decision_id} for this application"
            )
        sub = s.get(SubmissionRow, row.submission_id)
        book = snapshot_book(s, row.ruleset_digest)
    doc = json.loads(row.document)
    app = parse_application(sub.raw)
    app = app.model_copy(update={"history": stored_history(doc)})
    when = notice_date or dt.date.today()
    out = []
    for kind in notices.applicable_kinds(doc):
        try:
            ctx = notices.notice_context(
                kind,
                decision=doc,
                app=app,
                book=book,
                decision_id=stored_id(row.id),
                officer=row.officer,
                decided_at=as_utc(row.decided_at),
                notice_date=when,
                lang=lang,
            )
        except OverflowError:  # a deadline counted from the date falls after 9999-12-31
            raise RecordError(f"--date {when.isoformat()}: the deadlines it sets fall beyond the calendar") from None
        out.append((kind, notices.render(kind, ctx, "html" if fmt == "pdf" else fmt)))
    return row, out


def issue_notices(
    store: Store,
    app_id: str,
    out_dir,
    issued_by: str,
    lang: str = "zh",
    fmt: str = "html",
    notice_date: dt.date | None = None,
    decision_id: int | None = None,
) -> list[IssuedNotice]:
    """Write the notices that apply to ``out_dir`` and keep each one, byte for byte, on record."""
    from engine.notices import render as notices
    from engine.records.store.models import NoticeRow

    when = notice_date or dt.date.today()
    if fmt == "pdf":
        notices.require_font(lang)  # refused before any notice is written
    row, docs = notice_documents(store, app_id, lang, fmt, when, decision_id)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    issued = []
    for kind, text in docs:
        content = notices.to_pdf(text, lang) if fmt == "pdf" else text.encode("utf-8")
        path = out_dir / f"{app_id}.D{row.id}.{kind}.{lang}.{fmt}"
        write_bytes_replacing(path, content)  # whole or not at all, like every output
        with store.session() as s:
            n = NoticeRow(
                decision_id=stored_id(row.id),
                application_id=app_id,
                kind=kind,
                lang=lang,
                format=fmt,
                filename=path.name,
                sha256=sha256(content),
                content=content,
                notice_date=when,
                issued_at=now_utc(),
                issued_by=issued_by,
            )
            s.add(n)
            s.flush()
            issued.append(IssuedNotice(kind, path, stored_id(n.id)))
    return issued
