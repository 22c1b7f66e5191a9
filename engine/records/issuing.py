"""Notices as registered documents: issued only for confirmed decisions, numbered and dated once.

Issuing runs in three steps so that no lock is held while a notice is typeset:

1. one short transaction checks the issuer and the decision, and numbers every document not yet
   numbered (the decision's notices, and a 变更/撤销 notice for each earlier decision it
   replaced whose notices went out): ``numbering.allocate``;
2. each language and format not yet on record is rendered, outside any transaction;
3. one short transaction keeps the new renditions; a rendition already kept (a concurrent
   issuer's, or an earlier call's) wins, and its stored bytes are what is written out.

Asking again never renders a kept rendition anew: the bytes handed out are the bytes on record.
A decision no longer in force gets no new notice; its kept ones are handed out with a line saying
which notice varied or revoked them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from engine.atomic import write_bytes_replacing
from engine.authority import Authority, resolve_authority
from engine.contract.application import Application, parse_application
from engine.errors import RecordError
from engine.records import accounts, audit
from engine.records.common import sha256, storable_id
from engine.records.deciding import in_force, open_proposal, snapshot_book, stored_history
from engine.records.numbering import allocate
from engine.records.reviewing import effective_document
from engine.records.store.db import Store, as_utc, now_utc
from engine.records.store.models import (
    DecisionRow,
    NoticeNumberRow,
    NoticeRow,
    ReviewRow,
    SubmissionRow,
    stored_id,
)
from engine.rulebook.loader import Rulebook

REVOCATION = "revocation"
_RETRIES = 3


class NotConfirmedError(RecordError):
    """Notices were asked for a proposal that no reviewer has confirmed (awaiting, or returned)."""


class NoticeDateError(RecordError):
    """A notice date before today, or before the decision was confirmed (China Standard Time)."""


class SupersededError(RecordError):
    """A decision no longer in force: only notices already issued for it are handed out."""


@dataclass
class IssuedNotice:
    kind: str
    path: Path
    notice_id: int
    number: str
    notice_date: dt.date
    decision_id: int
    reissued: bool = False  # the bytes kept on record, written out again (not rendered now)
    superseded: str | None = None  # "已被 … 号通知书变更/撤销", for a decision no longer in force


@dataclass
class _Document:
    """One numbered document and what its renditions are made from."""

    number: NoticeNumberRow
    stored: NoticeRow | None = None  # the rendition asked for, if kept already
    context: dict | None = None  # what a new rendition says (engine/notices notice_context)
    content: bytes | None = None


@dataclass
class _Issue:
    decision_id: int
    documents: list[_Document] = field(default_factory=list)
    superseded: str | None = None


# --- who and what ---------------------------------------------------------------------
def _confirmation(s, decision_id: int) -> ReviewRow | None:
    return (
        s.exec(select(ReviewRow).where(col(ReviewRow.decision_id) == decision_id, col(ReviewRow.action) == "confirm"))
        .scalars()
        .first()
    )


def _replacer(s, decision_id: int) -> ReviewRow | None:
    """The confirmation that took ``decision_id`` out of force, if one did."""
    return (
        s.exec(select(ReviewRow).where(col(ReviewRow.replaces_id) == decision_id, col(ReviewRow.action) == "confirm"))
        .scalars()
        .first()
    )


def _not_confirmed(s, app_id: str, row: DecisionRow) -> NotConfirmedError:
    review = s.exec(select(ReviewRow).where(col(ReviewRow.decision_id) == row.id)).scalars().first()
    if review is not None:
        return NotConfirmedError(key="returned_not_confirmed", app=app_id, decision=row.id)
    return NotConfirmedError(key="proposal_not_confirmed", app=app_id, decision=row.id)


def _decision(s, app_id: str, decision_id: int | None) -> tuple[DecisionRow, ReviewRow]:
    """The confirmed decision asked for (default: the one in force) and its confirmation."""
    if decision_id is None:
        row = in_force(s, app_id)
        if row is None:
            latest = open_proposal(s, app_id) or _latest(s, app_id)
            if latest is None:
                raise RecordError(key="no_decision", app=app_id)
            if _confirmation(s, stored_id(latest.id)) is None:
                raise _not_confirmed(s, app_id, latest)
            # replaced by a correction filed under another application id
            raise SupersededError(key="replaced", app=app_id, decision=latest.id)
    else:
        row = s.get(DecisionRow, decision_id)
        if row is None or row.application_id != app_id:
            raise RecordError(key="no_such_decision", app=app_id, decision=decision_id)
    review = _confirmation(s, stored_id(row.id))
    if review is None:
        raise _not_confirmed(s, app_id, row)
    return row, review


def _latest(s, app_id: str) -> DecisionRow | None:
    return (
        s.exec(
            select(DecisionRow)
            .where(col(DecisionRow.application_id) == app_id)
            .order_by(col(DecisionRow.id).desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def _numbers(s, decision_id: int) -> list[NoticeNumberRow]:
    return list(s.exec(select(NoticeNumberRow).where(col(NoticeNumberRow.decision_id) == decision_id)).scalars().all())


def _legacy(s, decision_id: int) -> list[NoticeRow]:
    """Notices issued before they were numbered (revision 0005), oldest first."""
    return list(
        s.exec(
            select(NoticeRow)
            .where(col(NoticeRow.decision_id) == decision_id, col(NoticeRow.number_id).is_(None))
            .order_by(col(NoticeRow.id))
        )
        .scalars()
        .all()
    )


def _to_revoke(s, review: ReviewRow, seen: set[int]) -> list[DecisionRow]:
    """The earlier decisions this confirmation replaced, directly or through decisions never
    notified, whose notices went out and were not yet varied or revoked."""
    out = []
    prev_id = review.replaces_id
    while prev_id is not None and prev_id not in seen:
        seen.add(prev_id)
        numbers = _numbers(s, prev_id)
        if any(n.kind == REVOCATION for n in numbers):
            break  # revoked already, and whatever it had replaced along with it
        prev = s.get(DecisionRow, prev_id)
        if prev is None:
            break
        if any(n.kind != REVOCATION for n in numbers) or _legacy(s, prev_id):
            out.append(prev)
        prev_review = _confirmation(s, prev_id)
        prev_id = prev_review.replaces_id if prev_review is not None else None
    return out


def _longest_deadline(row: DecisionRow) -> int:
    """Days after its date of the last deadline a notice of ``row`` sets (行政复议, rectification)."""
    from engine.notices.render import RECONSIDERATION_DAYS

    outcomes = json.loads(row.document)["outcomes"].values()
    return max([RECONSIDERATION_DAYS] + [int(o["notice"]["deadline_days"]) for o in outcomes if o.get("notice")])


def _check_date(app_id: str, asked: dt.date | None, today: dt.date, confirmed: dt.date, row: DecisionRow) -> dt.date:
    when = asked or today
    if when < today or when < confirmed:
        raise NoticeDateError(
            key="notice_date_early",
            app=app_id,
            date=when.isoformat(),
            today=today.isoformat(),
            confirmed=confirmed.isoformat(),
        )
    if when > dt.date.max - dt.timedelta(days=_longest_deadline(row)):  # refused before a number is given
        raise NoticeDateError(key="notice_date_overflow", app=app_id, date=when.isoformat())
    return when


def _superseded_line(s, decision_id: int, replacer: ReviewRow) -> str:
    revoked = [n for n in _numbers(s, decision_id) if n.kind == REVOCATION]
    if revoked:
        number = revoked[0].number
        return f"已被{number}{'' if number.endswith('号') else '号'}通知书变更/撤销"
    return (
        f"已被决定 {replacer.decision_id} 取代，其变更/撤销通知书尚未发出 (replaced by decision {replacer.decision_id})"
    )


# --- step 1: number -------------------------------------------------------------------
def _kept_only(s, row: DecisionRow, lang: str, fmt: str, line: str) -> _Issue:
    """A decision no longer in force: its numbered documents, and renditions kept from before numbering."""
    did = stored_id(row.id)
    numbered = sorted((n for n in _numbers(s, did) if n.kind != REVOCATION), key=lambda n: n.seq)
    docs = [_Document(n) for n in numbered]
    have = {n.kind for n in numbered}
    latest: dict[str, NoticeRow] = {}
    for n in _legacy(s, did):
        if n.kind not in have and n.lang == lang and n.format == fmt:
            latest[n.kind] = n
    for kind, n in latest.items():
        shown = NoticeNumberRow(
            decision_id=did,
            application_id=n.application_id,
            kind=kind,
            year=n.notice_date.year,
            seq=0,
            number=_legacy_no(n),
            notice_date=n.notice_date,
            issued_at=n.issued_at,
            issued_by=n.issued_by,
            authority="",
        )
        docs.append(_Document(shown, stored=n))
    return _Issue(did, docs, line)


def _register(
    store: Store,
    app_id: str,
    issued_by: str,
    authority: Authority,
    asked: dt.date | None,
    decision_id: int | None,
    now: dt.datetime,
    lang: str,
    fmt: str,
) -> _Issue:
    with store.session() as s:
        accounts.require(s, issued_by, "issue")
        row, review = _decision(s, app_id, decision_id)
        did = stored_id(row.id)
        replacer = _replacer(s, did)
        if replacer is not None:  # no longer in force: nothing new is numbered for it
            return _kept_only(s, row, lang, fmt, _superseded_line(s, did, replacer))
        numbered = {n.kind: n for n in _numbers(s, did)}
        wanted = [k for k in _kinds(s, row, review) if k not in numbered]
        revoke = _to_revoke(s, review, {did})
        if asked is not None and numbered and not wanted and not revoke:
            first = min(numbered.values(), key=lambda n: n.seq)
            if asked != first.notice_date:
                raise NoticeDateError(
                    key="notice_keeps_date",
                    app=app_id,
                    decision=did,
                    notified=first.notice_date.isoformat(),
                    number=first.number,
                    date=asked.isoformat(),
                )
        if wanted or revoke:
            confirmed = authority.today(as_utc(review.reviewed_at))
            when = _check_date(app_id, asked, authority.today(now), confirmed, row)
            for kind in wanted:
                numbered[kind] = allocate(s, authority, row, kind, when, now, issued_by)
            for prev in revoke:
                allocate(s, authority, prev, REVOCATION, when, now, issued_by, replaced_by_id=did)
        revocations = s.exec(
            select(NoticeNumberRow)
            .where(col(NoticeNumberRow.replaced_by_id) == did, col(NoticeNumberRow.kind) == REVOCATION)
            .order_by(col(NoticeNumberRow.seq))
        ).scalars()
        docs = sorted(numbered.values(), key=lambda n: n.seq) + list(revocations)
        return _Issue(did, [_Document(n) for n in docs])


# --- step 2: render -------------------------------------------------------------------
@dataclass
class _Source:
    """A decision as its notices show it."""

    row: DecisionRow
    review: ReviewRow
    app: Application
    book: Rulebook
    officer: str
    confirmer: str


def _source(s, decision_id: int) -> _Source:
    row = s.get(DecisionRow, decision_id)
    review = _confirmation(s, decision_id)
    if row is None or review is None:
        raise RecordError(key="not_confirmed_id", decision=decision_id)
    sub = s.get(SubmissionRow, row.submission_id)
    doc = json.loads(row.document)
    app = parse_application(sub.raw).model_copy(update={"history": stored_history(doc)})
    names = accounts.display_names(s, [row.officer, review.reviewer])
    return _Source(row, review, app, snapshot_book(s, row.ruleset_digest), names[row.officer], names[review.reviewer])


def _old_notices(s, decision_id: int) -> list[tuple[str, str, dt.date]]:
    """What the enterprise was sent for a decision: (number, kind, date), numbered or from before numbering."""
    numbered = [n for n in _numbers(s, decision_id) if n.kind != REVOCATION]
    out = [(n.number, n.kind, n.notice_date) for n in sorted(numbered, key=lambda n: n.seq)]
    have = {n.kind for n in numbered}
    first: dict[str, NoticeRow] = {}
    for n in _legacy(s, decision_id):
        first.setdefault(n.kind, n)
    out += [(_legacy_no(n), n.kind, n.notice_date) for k, n in first.items() if k not in have]
    return out


def _legacy_no(n: NoticeRow) -> str:
    """The reference a notice issued before numbering was printed with."""
    return f"{n.application_id}-D{n.decision_id}-{n.kind.upper()}"


def _context(s, sources: dict, authority: Authority, number: NoticeNumberRow, lang: str) -> dict:
    from engine.notices import render as notices

    def source(decision_id: int) -> _Source:
        if decision_id not in sources:
            sources[decision_id] = _source(s, decision_id)
        return sources[decision_id]

    src = source(number.decision_id)
    revocation = None
    if number.kind == REVOCATION:
        assert number.replaced_by_id is not None, "a revocation names the decision that replaced"
        new = source(number.replaced_by_id)
        revocation = notices.revocation_view(
            old_notices=_old_notices(s, number.decision_id),
            old_totals={"subsidy_yuan": src.review.subsidy_yuan, "levy_yuan": src.review.levy_yuan},
            new_decision_id=stored_id(new.row.id),
            new_application_id=new.row.application_id,
            new_confirmed_at=as_utc(new.review.reviewed_at),
            new_totals={"subsidy_yuan": new.review.subsidy_yuan, "levy_yuan": new.review.levy_yuan},
            new_notices=[n.number for n in sorted(_numbers(s, stored_id(new.row.id)), key=lambda n: n.seq)],
            tz=authority.tz,
        )
    try:
        return notices.notice_context(
            number.kind,
            decision=effective_document(s, src.row, src.review),  # a reviewer's overrides applied
            app=src.app,
            book=src.book,
            decision_id=stored_id(src.row.id),
            officer=src.officer,
            decided_at=as_utc(src.row.decided_at),
            notice_date=number.notice_date,
            lang=lang,
            notice_no=number.number,
            authority=authority,
            authority_name=number.authority or None,  # the 发文机关 it was numbered under
            confirmer=src.confirmer,
            confirmed_at=as_utc(src.review.reviewed_at),
            tz=authority.tz,
            revocation=revocation,
        )
    except OverflowError:  # a deadline counted from the date falls after 9999-12-31
        raise RecordError(key="date_overflow", date=number.notice_date.isoformat()) from None


def _render(store: Store, issue: _Issue, authority: Authority, lang: str, fmt: str) -> None:
    from engine.notices import render as notices

    with store.reading() as s:
        for d in issue.documents:
            if d.stored is None:
                d.stored = _rendition(s, stored_id(d.number.id), lang, fmt)
        sources: dict = {}
        for d in issue.documents:
            if d.stored is None and issue.superseded is None:
                d.context = _context(s, sources, authority, d.number, lang)
    for d in issue.documents:  # typeset outside the transaction
        if d.context is not None:
            d.content = notices.document(d.number.kind, d.context, fmt)


def _rendition(s, number_id: int, lang: str, fmt: str) -> NoticeRow | None:
    return (
        s.exec(
            select(NoticeRow).where(
                col(NoticeRow.number_id) == number_id, col(NoticeRow.lang) == lang, col(NoticeRow.format) == fmt
            )
        )
        .scalars()
        .first()
    )


# --- step 3: keep ---------------------------------------------------------------------
def _keep(store: Store, issue: _Issue, issued_by: str, lang: str, fmt: str, now: dt.datetime) -> None:
    fresh = [d for d in issue.documents if d.stored is None and d.content is not None]
    if not fresh:
        return
    with store.session() as s:
        for d in fresh:
            n = d.number
            row = NoticeRow(
                decision_id=n.decision_id,
                application_id=n.application_id,
                kind=n.kind,
                lang=lang,
                format=fmt,
                filename=f"{n.application_id}.D{n.decision_id}.{n.kind}.{lang}.{fmt}",
                sha256=sha256(d.content or b""),
                content=d.content or b"",
                notice_date=n.notice_date,
                issued_at=now,
                issued_by=issued_by,
                number_id=n.id,
            )
            try:
                with s.begin_nested():
                    s.add(row)
            except IntegrityError:  # kept meanwhile by a concurrent issuer: theirs is the notice
                d.stored = _rendition(s, stored_id(n.id), lang, fmt)
                continue
            audit.append(s, issued_by, "notice.issue", "notice", row, "issued", n.number)
            d.stored = row


# --- the operations -----------------------------------------------------------------
def _kinds(s, row: DecisionRow, review: ReviewRow) -> list[str]:
    """The notices the decision as confirmed calls for (an override may change which)."""
    from engine.notices import render as notices

    return notices.applicable_kinds(effective_document(s, row, review))


def issue_notices(
    store: Store,
    app_id: str,
    out_dir,
    issued_by: str,
    lang: str = "zh",
    fmt: str = "html",
    notice_date: dt.date | None = None,
    decision_id: int | None = None,
    *,
    authority: Authority | None = None,
    now: dt.datetime | None = None,
) -> list[IssuedNotice]:
    """Issue the notices of a confirmed decision (default: the one in force) and write them to
    ``out_dir``: numbered and dated on first issue, the kept bytes on every later one.

    ``notice_date`` may only be today or later (China Standard Time), and not before the
    decision's confirmation; ``now`` stands for the present instant (tests).
    """
    from engine.notices import render as notices

    if decision_id is not None and not storable_id(store, decision_id):
        raise RecordError(key="no_such_decision", app=app_id, decision=decision_id)
    authority = authority or resolve_authority()
    now = now or now_utc()
    if fmt == "pdf":
        notices.require_font(lang)  # refused before anything is numbered
    for attempt in range(_RETRIES):
        try:
            issue = _register(store, app_id, issued_by, authority, notice_date, decision_id, now, lang, fmt)
            break
        except IntegrityError:  # the same document numbered at the same moment by another issuer
            if attempt == _RETRIES - 1:
                raise RecordError(key="issuing_elsewhere", app=app_id) from None
    if issue.superseded is not None and not issue.documents:
        raise SupersededError(
            key="superseded_never_issued", app=app_id, decision=issue.decision_id, superseded=issue.superseded
        )
    _render(store, issue, authority, lang, fmt)
    missing = [d.number.number for d in issue.documents if d.stored is None and d.content is None]
    if missing:
        raise SupersededError(
            key="superseded_not_as",
            app=app_id,
            decision=issue.decision_id,
            superseded=issue.superseded,
            numbers=", ".join(missing),
            form=f"{lang}/{fmt}",
        )
    reissued = {id(d) for d in issue.documents if d.stored is not None}
    _keep(store, issue, issued_by, lang, fmt, now)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for d in issue.documents:
        kept = d.stored
        assert kept is not None, "every document has a kept rendition by now"
        path = out_dir / kept.filename
        write_bytes_replacing(path, bytes(kept.content))  # whole or not at all, like every output
        out.append(
            IssuedNotice(
                kind=kept.kind,
                path=path,
                notice_id=stored_id(kept.id),
                number=d.number.number,
                notice_date=d.number.notice_date,
                decision_id=d.number.decision_id,
                reissued=id(d) in reissued,
                superseded=issue.superseded,
            )
        )
    return out


def notice_documents(
    store: Store,
    app_id: str,
    lang: str = "zh",
    fmt: str = "html",
    notice_date: dt.date | None = None,
    decision_id: int | None = None,
    *,
    authority: Authority | None = None,
) -> tuple[DecisionRow, list]:
    """A preview (nothing is numbered or kept): [(kind, text)] of the notices a confirmed decision
    calls for, with their 文号 where numbered and a draft mark where not (text for md and html,
    bytes for pdf and docx)."""
    from engine.notices import render as notices

    if decision_id is not None and not storable_id(store, decision_id):
        raise RecordError(key="no_such_decision", app=app_id, decision=decision_id)
    authority = authority or resolve_authority()
    with store.reading() as s:
        row, review = _decision(s, app_id, decision_id)
        numbered = {n.kind: n for n in _numbers(s, stored_id(row.id))}
        when = notice_date or authority.today(now_utc())
        draft = notices.labels()[lang.partition("-")[0]]["letter"]["draft_no"]
        sources: dict = {}
        contexts = []
        for kind in _kinds(s, row, review):
            number = numbered.get(kind) or NoticeNumberRow(
                decision_id=stored_id(row.id),
                application_id=app_id,
                kind=kind,
                year=when.year,
                seq=0,
                number=draft,
                notice_date=when,
                issued_at=now_utc(),
                issued_by="",
                authority=authority.name,
            )
            contexts.append((kind, _context(s, sources, authority, number, lang)))
    if fmt in notices.TEXT_FORMATS:
        return row, [(kind, notices.render(kind, context, fmt)) for kind, context in contexts]
    return row, [(kind, notices.document(kind, context, fmt)) for kind, context in contexts]  # outside the transaction
