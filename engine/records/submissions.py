"""Receiving: submissions and telemetry files, the bytes stored first, then the verdict.

Submissions come in chunks (one, or up to CHUNK of a batch): one transaction stores a chunk's
bytes, one records its verdicts, so a crash loses at most the chunk in flight, never part of one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from engine.contract.application import Application, loads_exact, parse_application, text_problem
from engine.errors import (
    INTERNAL_ERROR,
    IntegrityFailure,
    InvalidApplicationError,
    InvalidTelemetryError,
    ShuangtanError,
    UnknownApplicationError,
    internal_reason,
)
from engine.records import audit
from engine.records.accounts import require
from engine.records.claims import Claims
from engine.records.common import (
    latest_submission,
    sha256,
    submission_out,
    submission_status,
    telemetry_out,
    unloaded,
)
from engine.records.store.bulk import update_by_id
from engine.records.store.db import Store, ensure_enterprises, now_utc
from engine.records.store.models import (
    DecisionRow,
    ReviewRow,
    SubmissionIn,
    SubmissionOut,
    SubmissionRow,
    TelemetryIn,
    TelemetryOut,
    TelemetryRow,
    stored_id,
)
from engine.rulebook.loader import Rulebook

CHUNK = 200  # submissions per transaction: what a crash can lose in flight, and what one lock covers
_RETRIES = 5


@dataclass
class Receipt:
    submission: SubmissionOut
    outcome: str  # new | new_version | unchanged | rejected
    note: str = ""


def read_once(raw: bytes) -> Any:
    """The document parsed, once for both its id and its validation; the bytes themselves when
    they are not JSON the contract reads (validating them again then names why)."""
    try:
        return loads_exact(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return raw


def declared_id(raw: bytes) -> str | None:
    """The application id as written, if the document is readable enough to have one."""
    return _id_of(read_once(raw))


def _id_of(doc: Any) -> str | None:
    value = doc.get("application_id") if isinstance(doc, dict) else None
    if not isinstance(value, str) or not 0 < len(value) <= 200 or text_problem(value):
        return None  # not text a database keeps (NUL, a lone surrogate) or that reads as it is stored
    return value


@dataclass
class _Incoming:
    """One submission of a chunk on its way in."""

    item: SubmissionIn
    raw: bytes
    digest: str
    doc: Any  # read_once(raw)
    app_id: str | None
    row: SubmissionRow | None = None  # stored by this chunk
    same_as: _Incoming | SubmissionRow | None = None  # unchanged: the version it repeats (of this chunk, or on record)
    version: int | None = None


def submit(store: Store, item: SubmissionIn, now: dt.datetime | None = None) -> Receipt:
    """Store the bytes first (own transaction), then validate and record the verdict."""
    return submit_chunk(store, [item], now)[0]


def submit_many(
    store: Store, items: Iterable[SubmissionIn], now: dt.datetime | None = None, size: int = CHUNK
) -> Iterator[Receipt]:
    """``submit`` of each item, ``size`` at a time (``submit_chunk``): one receipt per item, in order."""
    chunk: list[SubmissionIn] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield from submit_chunk(store, chunk, now)
            chunk = []
    if chunk:
        yield from submit_chunk(store, chunk, now)


def submit_chunk(store: Store, items: Sequence[SubmissionIn], now: dt.datetime | None = None) -> list[Receipt]:
    """Receive ``items`` in two transactions: their bytes and audit links first, then (each
    document validated outside any transaction) their verdicts and links. A version left
    ``received`` between the two is validated by whoever decides it. Two items of one
    application id become two versions; one identical to its application's latest version
    stores nothing. One receipt per item, in order."""
    incoming = []
    for item in items:
        raw = bytes(item.raw)
        doc = read_once(raw)
        incoming.append(_Incoming(item, raw, sha256(raw), doc, None if item.refused is not None else _id_of(doc)))
    at = now or now_utc()
    for attempt in range(_RETRIES):
        try:
            repeated = _store(store, incoming, at)
            break
        except IntegrityError:
            if attempt < _RETRIES - 1:
                continue  # a concurrent submission took one of these version numbers: read the latest again
            if len(items) == 1:
                raise
            return [r for item in items for r in submit_chunk(store, [item], now)]
    fresh = [p for p in incoming if p.row is not None and not p.row.validated]
    recorded = _record_verdicts(store, [(p.row, *_validated(p.doc)) for p in fresh if p.row is not None])
    final = {id(p): p.row for p in incoming if p.row is not None}
    final.update((id(p), row) for p, row in zip(fresh, recorded))
    receipts = []
    for p in incoming:
        if p.row is not None:
            receipts.append(_receipt(final[id(p)]))
        elif isinstance(p.same_as, _Incoming):
            out = _receipt(final[id(p.same_as)]).submission
            receipts.append(Receipt(out, "unchanged", _unchanged(out, p.digest)))
        else:
            assert p.same_as is not None
            out = repeated[stored_id(p.same_as.id)]
            receipts.append(Receipt(out, "unchanged", _unchanged(out, p.digest)))
    return receipts


def _unchanged(out: SubmissionOut, digest: str) -> str:
    return f"identical to version {out.version} (sha256 {digest[:12]}…); nothing stored"


def _store(store: Store, incoming: list[_Incoming], at: dt.datetime) -> dict[int, SubmissionOut]:
    """The chunk's new rows and their links, in one transaction; the versions on record that
    unchanged items repeat, as shown."""
    with store.session() as s:
        for who in sorted({p.item.submitted_by for p in incoming}):
            require(s, who, "submit")
        on_record = _latest(s, {p.app_id for p in incoming if p.app_id})
        latest: dict[str, _Incoming | SubmissionRow] = dict(on_record)
        new: list[_Incoming] = []
        for p in incoming:
            p.row = p.same_as = None
            last = latest.get(p.app_id) if p.app_id else None
            if last is not None and (last.digest if isinstance(last, _Incoming) else last.sha256) == p.digest:
                p.same_as = last
                continue
            p.version = (last.version or 0) + 1 if last is not None else 1 if p.app_id else None
            new.append(p)
            if p.app_id:
                latest[p.app_id] = p
        # inserted in bulk, each row read back as stored (no object built field by field)
        rows = (
            s.execute(
                insert(SubmissionRow)
                .returning(SubmissionRow, sort_by_parameter_order=True)
                .options(unloaded(SubmissionRow.raw)),
                [_new_row(p, at) for p in new],
            )
            .scalars()
            .all()
            if new
            else []
        )
        for p, row in zip(new, rows):
            set_committed_value(row, "raw", p.raw)  # what was just inserted: its link hashes these bytes
            p.row = row
        entries = [audit.Entry(r.submitted_by, "submit", "submission", r, "received", r.application_id) for r in rows]
        entries += [
            audit.Entry("system", "validate", "submission", r, "verdict", "rejected") for r in rows if r.validated
        ]
        audit.append_many(s, entries)
        repeated = {id(p.same_as) for p in incoming if p.same_as is not None}
        return _outs(s, [r for r in on_record.values() if id(r) in repeated])


def _new_row(p: _Incoming, at: dt.datetime) -> dict:
    item = p.item
    refused = item.refused is not None
    return {
        "application_id": p.app_id,
        "version": p.version,
        "raw": p.raw,
        "sha256": p.digest,
        "filename": item.filename,
        "received_at": at,
        "submitted_by": item.submitted_by,
        "corrects": item.corrects,
        "source": None if item.source is None else json.dumps(item.source, ensure_ascii=False),
        # a row its reader could not read is rejected as it is received: no parse could say more
        "validated": refused,
        "valid": False if refused else None,
        "errors": json.dumps(item.refused, ensure_ascii=False) if refused else None,
    }


def _latest(s, app_ids: set[str]) -> dict[str, SubmissionRow]:
    """Application id -> its latest version on record (raw bytes not loaded)."""
    if not app_ids:
        return {}
    top = (
        select(col(SubmissionRow.application_id), func.max(col(SubmissionRow.version)).label("version"))
        .where(col(SubmissionRow.application_id).in_(app_ids))
        .group_by(col(SubmissionRow.application_id))
        .subquery()
    )
    found = s.execute(
        select(SubmissionRow)
        .options(unloaded(SubmissionRow.raw))
        .join(
            top,
            and_(
                col(SubmissionRow.application_id) == top.c.application_id,
                col(SubmissionRow.version) == top.c.version,
            ),
        )
    ).scalars()
    return {r.application_id: r for r in found}


def _receipt(row: SubmissionRow) -> Receipt:
    """A version this chunk stored, as of its verdict: then the latest of its application."""
    if not row.valid:
        out = submission_out(row, "rejected")
        return Receipt(out, "rejected", f"{len(out.errors)} problem(s); kept on record as rejected")
    out = submission_out(row, "pending")
    if row.version == 1:
        return Receipt(out, "new")
    return Receipt(out, "new_version", f"version {row.version} (earlier versions are kept)")


def _validated(doc: Any) -> tuple[Application | None, list[dict] | None]:
    """The contract's verdict on a document (bytes, or as parsed): the application, or every reason it is refused.
    Whatever validation raises refuses it with that reason (an unexpected error with the code
    INTERNAL_ERROR): a submission never stays ``received`` to stall the record."""
    try:
        return parse_application(doc), None
    except InvalidApplicationError as exc:
        return None, [{"path": p, "message": m} for p, m in exc.errors]
    except Exception as exc:  # a defect met on this document: refused, never left pending
        return None, [{"path": "(document)", "message": f"{INTERNAL_ERROR}: {internal_reason(exc)}"}]


def validate_submission(store: Store, submission_id: int) -> SubmissionRow:
    """Record the contract's verdict on a stored submission: valid, or rejected with every reason.
    The document is read outside the write transaction, so a slow one blocks no other writer."""
    with store.reading() as s:
        row = s.get(SubmissionRow, submission_id)
        if row.validated:
            return row
        raw = row.raw
    return _record_verdicts(store, [(row, *_validated(raw))])[0]


#: (a stored submission, the application | None, the reasons it is refused | None)
Verdict = tuple[SubmissionRow, Application | None, list[dict] | None]


def _record_verdicts(store: Store, verdicts: list[Verdict]) -> list[SubmissionRow]:
    """The verdicts in one transaction, else (the database refusing one) one at a time: a
    document the database refuses though the contract let it through is rejected, saying so.
    The rows as recorded, in order."""
    if not verdicts:
        return []
    try:
        return _verdicts_at_once(store, verdicts)
    except DBAPIError as exc:
        if isinstance(exc, OperationalError):
            raise  # the record itself failed (disk full, connection lost): not these documents' fault
        if len(verdicts) > 1:
            return [row for v in verdicts for row in _record_verdicts(store, [v])]
        row, app, _ = verdicts[0]
        if app is None:
            raise
        reason = f"{INTERNAL_ERROR}: the record refuses it: {internal_reason(exc.orig or exc)}"
        return _verdicts_at_once(store, [(row, None, [{"path": "(document)", "message": reason}])])


_VERDICT_FIELDS = ("valid", "errors", "credit_code", "region_code", "enterprise_name", "period_start", "period_end")


def _verdicts_at_once(store: Store, verdicts: list[Verdict]) -> list[SubmissionRow]:
    ids = [stored_id(row.id) for row, _, _ in verdicts]
    with store.session() as s:
        # locked in one order: two validators of overlapping chunks queue, never deadlock
        locked = s.execute(
            select(col(SubmissionRow.id), col(SubmissionRow.validated))
            .where(col(SubmissionRow.id).in_(ids))
            .order_by(col(SubmissionRow.id))
            .with_for_update()
        ).all()
        done = {key for key, validated in locked if validated}
        # what a concurrent validator recorded first stands: the same verdict
        todo = [(row, app, errors) for row, app, errors in verdicts if row.id not in done]
        claims = Claims(s, [row for row, app, _ in todo if app is not None])
        enterprises: dict[str, tuple[str, str]] = {}
        changes: list[dict] = []
        summaries: list[str] = []
        for row, app, errors in todo:
            if app is not None:
                refused = claims.problems(row, app)
                if refused:
                    app, errors = None, refused
            if app is None:
                values = dict.fromkeys(_VERDICT_FIELDS)
                values.update(valid=False, errors=json.dumps(errors, ensure_ascii=False))
            else:
                e = app.enterprise
                values = {
                    "valid": True,
                    "errors": None,
                    "credit_code": e.credit_code,
                    "region_code": e.region_code,
                    "enterprise_name": e.name,
                    "period_start": app.period.start,
                    "period_end": app.period.end,
                }
                enterprises.setdefault(e.credit_code, (e.name, e.region_code))
                claims.accept(row, app)
            changes.append({"id": row.id, "validated": True, **values})
            summaries.append("valid" if values["valid"] else "rejected")
        update_by_id(s, SubmissionRow, changes)
        rows = {
            r.id: r
            for r in s.execute(
                select(SubmissionRow)
                .options(unloaded(SubmissionRow.raw))
                .where(col(SubmissionRow.id).in_(ids))
                .execution_options(populate_existing=True)
            ).scalars()
        }
        ensure_enterprises(s, enterprises)
        audit.append_many(
            s,
            [
                audit.Entry("system", "validate", "submission", rows[c["id"]], "verdict", summary)
                for c, summary in zip(changes, summaries)
            ],
        )
        return [rows[i] for i in ids]


def _outs(s, rows: list[SubmissionRow]) -> dict[int, SubmissionOut]:
    """Versions on record as shown, the statuses of all of them read in two queries."""
    if not rows:
        return {}
    app_ids = {r.application_id for r in rows if r.application_id}
    current = dict(
        s.execute(
            select(col(SubmissionRow.application_id), func.max(col(SubmissionRow.version)))
            .where(col(SubmissionRow.application_id).in_(app_ids), col(SubmissionRow.valid).is_not(False))
            .group_by(col(SubmissionRow.application_id))
        ).all()
    )
    decided = set(
        s.execute(
            select(col(DecisionRow.submission_id))
            .join(ReviewRow, col(ReviewRow.decision_id) == col(DecisionRow.id))
            .where(col(DecisionRow.submission_id).in_([r.id for r in rows]), col(ReviewRow.action) == "confirm")
        ).scalars()
    )
    return {
        stored_id(r.id): submission_out(r, submission_status(r, current.get(r.application_id), r.id in decided))
        for r in rows
    }


# --- telemetry -------------------------------------------------------------------------
def attach_telemetry(
    store: Store, app_id: str, item: TelemetryIn, book: Rulebook, now: dt.datetime | None = None
) -> TelemetryOut:
    """Keep a telemetry file with the latest version of ``app_id``: the bytes first (own
    transaction), then the verdict. Every later decision of the application uses the latest file."""
    raw = bytes(item.raw)
    with store.session() as s:
        require(s, item.submitted_by, "submit")
        sub = latest_submission(s, app_id)
        if sub is None:
            raise UnknownApplicationError(key="unknown_application", app=app_id)
        row = TelemetryRow(
            submission_id=stored_id(sub.id),
            application_id=app_id,
            raw=raw,
            sha256=sha256(raw),
            filename=item.filename,
            format=item.format,
            system_id=item.system_id,
            received_at=now or now_utc(),
            submitted_by=item.submitted_by,
            valid=False,
        )
        s.add(row)
        audit.append(s, item.submitted_by, "telemetry.attach", "telemetry", row, "received", app_id)
        row_id, sub_raw = row.id, sub.raw
    problems = []
    try:
        app = parse_application(sub_raw)
    except InvalidApplicationError as exc:
        problems = [f"the application it is attached to is invalid: {exc}"]
    else:
        try:
            from engine.telemetry.crosscheck import facts_for

            with store.reading() as s:
                facts_for(book, app, read_stored_telemetry(s.get(TelemetryRow, row_id), book, app), item.system_id)
        except InvalidTelemetryError as exc:
            problems = [f"{w}: {c + ': ' if c else ''}{m}" for w, c, m in exc.problems]
        except ShuangtanError as exc:  # MeteringError, IntegrityFailure, a date no rule covers
            problems = [str(exc)]
    with store.session() as s:
        row = s.get(TelemetryRow, row_id)
        row.valid, row.errors = not problems, json.dumps(problems, ensure_ascii=False) if problems else None
        s.add(row)
        audit.append(s, "system", "validate", "telemetry", row, "verdict", "valid" if row.valid else "invalid")
        return telemetry_out(row)


def read_stored_telemetry(row: TelemetryRow, book: Rulebook, app: Application):
    """A stored telemetry file read as the meter's intervals, after checking its bytes' hash."""
    from engine.telemetry.crosscheck import interval_minutes
    from engine.telemetry.reader import read_telemetry

    if sha256(row.raw) != row.sha256:
        raise IntegrityFailure(key="telemetry_tampered", telemetry=row.id)
    return read_telemetry(
        row.filename or f"telemetry-{row.id}.{row.format}",
        interval_minutes(book, app.period.end),
        data=row.raw,
        fmt=row.format,
    )
