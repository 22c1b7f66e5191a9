"""The officers' workflow as library functions: receive, decide with history, replay.

Nothing here knows about the command line. Every function takes an open ``Store``; each
submission and each decision is its own transaction, so a crash loses at most the one in flight.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import exists, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import QueryableAttribute, aliased, defer
from sqlalchemy.orm.interfaces import ORMOption
from sqlmodel import col

from engine.atomic import write_bytes_replacing
from engine.backends.rete.engine import ReteEngine
from engine.batch.readers import dumps_decision
from engine.contract.application import Application, History, loads_exact, parse_application, text_problem
from engine.contract.decision import Decision, HistoryBlock, Reason
from engine.contract.decision import with_history as extend_with_history
from engine.decimals import fmt_amount
from engine.errors import (
    INTERNAL_ERROR,
    AlreadyDecidedError,
    IntegrityFailure,
    InvalidApplicationError,
    InvalidTelemetryError,
    MeteringError,
    NotDecidableError,
    RecordError,
    ShuangtanError,
    UnknownApplicationError,
    internal_reason,
)
from engine.records.store.db import Store, as_utc, ensure_enterprise, now_utc
from engine.records.store.models import (
    DecisionOut,
    DecisionRow,
    FieldError,
    RulesetSnapshotRow,
    SubmissionIn,
    SubmissionOut,
    SubmissionRow,
    TelemetryIn,
    TelemetryOut,
    TelemetryRow,
    stored_id,
)
from engine.records.store.snapshot import dumps_files, loads_files
from engine.rulebook.loader import DEFAULT_RULES, Rulebook, compile_rulebook, digest_of

HISTORY_CODE = "HISTORY_FROM_RECORD"
#: history field -> the outcome whose cap or one-time rule reads it
HISTORY_OUTCOMES = {
    "storage_subsidy_granted_this_year_yuan": "storage_subsidy",
    "freight_subsidy_granted_this_year_yuan": "eco_packaging_freight_subsidy",
    "equipment_subsidy_received": "equipment_subsidy",
}


def default_person() -> str:
    return os.environ.get("USER") or getpass.getuser()


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


# --- receiving -------------------------------------------------------------------------
@dataclass
class Receipt:
    submission: SubmissionOut
    outcome: str  # new | new_version | unchanged | rejected
    note: str = ""


def declared_id(raw: bytes) -> str | None:
    """The application id as written, if the document is readable enough to have one."""
    try:
        doc = loads_exact(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    value = doc.get("application_id") if isinstance(doc, dict) else None
    if not isinstance(value, str) or not 0 < len(value) <= 200 or text_problem(value):
        return None  # not text a database keeps (NUL, a lone surrogate) or that reads as it is stored
    return value


def _next_version(latest: SubmissionRow | None) -> int:
    """The version a new submission of an application id takes: one past the latest, else 1."""
    if latest is None:
        return 1
    assert latest.version is not None, "a submission with an application id has a version"
    return latest.version + 1


def submit(store: Store, item: SubmissionIn, now: dt.datetime | None = None) -> Receipt:
    """Store the bytes first (own transaction), then validate and record the verdict."""
    raw, digest = bytes(item.raw), sha256(item.raw)
    app_id = declared_id(raw)
    for attempt in range(5):
        try:
            with store.session() as s:
                latest = _latest(s, app_id) if app_id else None
                if latest is not None and latest.sha256 == digest:
                    return Receipt(
                        _submission_out(s, latest),
                        "unchanged",
                        f"identical to version {latest.version} (sha256 {digest[:12]}…); nothing stored",
                    )
                row = SubmissionRow(
                    application_id=app_id,
                    version=_next_version(latest) if app_id else None,
                    raw=raw,
                    sha256=digest,
                    filename=item.filename,
                    received_at=now or now_utc(),
                    submitted_by=item.submitted_by,
                )
                s.add(row)
                s.flush()
                row_id, version = stored_id(row.id), row.version
            break
        except IntegrityError:
            if attempt == 4:
                raise
            continue  # a concurrent submission took this version number: take the next
    row = validate_submission(store, row_id)
    with store.reading() as s:
        out = _submission_out(s, s.get(SubmissionRow, row_id))
    if not row.valid:
        return Receipt(out, "rejected", f"{len(out.errors)} problem(s); kept on record as rejected")
    return Receipt(
        out,
        "new" if version == 1 else "new_version",
        "" if version == 1 else f"version {version} (earlier versions are kept)",
    )


def validate_submission(store: Store, submission_id: int) -> SubmissionRow:
    """Record the contract's verdict on a stored submission: valid, or rejected with every reason.

    Whatever validation raises rejects the submission with that reason (an unexpected error
    with the code INTERNAL_ERROR): a submission never stays ``received`` to stall the record.
    The document is read outside the write transaction, so a slow one blocks no other writer.
    """
    with store.reading() as s:
        row = s.get(SubmissionRow, submission_id)
        if row.validated:
            return row
        raw = row.raw
    app, errors = None, None
    try:
        app = parse_application(raw)
    except InvalidApplicationError as exc:
        errors = [{"path": p, "message": m} for p, m in exc.errors]
    except Exception as exc:  # a defect met on this document: refused, never left pending
        errors = [{"path": "(document)", "message": f"{INTERNAL_ERROR}: {internal_reason(exc)}"}]
    try:
        return _record_verdict(store, submission_id, app, errors)
    except DBAPIError as exc:
        if app is None or isinstance(exc, OperationalError):
            raise  # the record itself failed (disk full, connection lost): not this document's fault
        # the database refused what the contract let through: this document, not the record
        reason = [
            {
                "path": "(document)",
                "message": f"{INTERNAL_ERROR}: the record refuses it: {internal_reason(exc.orig or exc)}",
            }
        ]
        return _record_verdict(store, submission_id, None, reason)


def _record_verdict(store: Store, submission_id: int, app: Application | None, errors) -> SubmissionRow:
    with store.session() as s:
        row = s.get(SubmissionRow, submission_id)
        if row.validated:
            return row  # a concurrent validator recorded it first: the same verdict
        if app is None:
            row.valid, row.errors = False, json.dumps(errors, ensure_ascii=False)
        else:
            row.valid = True
            e = app.enterprise
            row.credit_code, row.region_code, row.enterprise_name = e.credit_code, e.region_code, e.name
            row.period_end = app.period.end
            ensure_enterprise(s, e.credit_code, e.name, e.region_code)
        row.validated = True
        return row


# --- deciding --------------------------------------------------------------------------
def unloaded(attribute: object) -> ORMOption:
    """A column left out of a query until read (inside the session): a blob nobody asked for.
    The cast: sqlmodel types a column attribute as its Python value, not as the attribute."""
    return defer(cast("QueryableAttribute[Any]", attribute))


def _latest(s, app_id: str) -> SubmissionRow | None:
    """The latest version; its raw bytes load only when read (inside the session)."""
    return (
        s.exec(
            select(SubmissionRow)
            .options(unloaded(SubmissionRow.raw))
            .where(col(SubmissionRow.application_id) == app_id)
            .order_by(col(SubmissionRow.version).desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def _not_superseded():
    later = aliased(DecisionRow)
    return ~exists(select(later.id).where(later.supersedes_id == DecisionRow.id))


def in_force(s, app_id: str) -> DecisionRow | None:
    return (
        s.exec(
            select(DecisionRow)
            .where(col(DecisionRow.application_id) == app_id, _not_superseded())
            .order_by(col(DecisionRow.id).desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def record_history(s, credit_code: str, year: int, exclude_app: str) -> History:
    """What the record says this enterprise already received (decisions in force, other applications)."""
    rows = (
        s.exec(
            select(DecisionRow)
            .options(unloaded(DecisionRow.document))  # the granted amounts are columns of their own
            .where(
                col(DecisionRow.credit_code) == credit_code,
                col(DecisionRow.application_id) != exclude_app,
                _not_superseded(),
            )
        )
        .scalars()
        .all()
    )
    this_year = [r for r in rows if r.period_year == year]
    return History(
        storage_subsidy_granted_this_year_yuan=sum(
            (Decimal(r.storage_granted_yuan) for r in this_year), Decimal("0.00")
        ),
        freight_subsidy_granted_this_year_yuan=sum(
            (Decimal(r.freight_granted_yuan) for r in this_year), Decimal("0.00")
        ),
        equipment_subsidy_received=any(r.equipment_granted for r in rows),
    )


def _shown(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else fmt_amount(Decimal(value), 2)


def with_history(decision: Decision, declared: History, record: History) -> Decision:
    """``decision`` saying which history was used, and where the declaration was overruled (a new document)."""
    differences = [f for f in HISTORY_OUTCOMES if getattr(declared, f) != getattr(record, f)]
    block: HistoryBlock = {
        "used": "record",
        "declared": {f: _shown(getattr(declared, f)) for f in HISTORY_OUTCOMES},
        "record": {f: _shown(getattr(record, f)) for f in HISTORY_OUTCOMES},
        "agrees": not differences,
        "differences": differences,
    }
    reasons: list[tuple[str, Reason]] = []
    for f in differences:
        d, r = _shown(getattr(declared, f)), _shown(getattr(record, f))
        reasons.append(
            (
                HISTORY_OUTCOMES[f],
                {
                    "code": HISTORY_CODE,
                    "rule": f"records.history.{f}",
                    "source": "record of decisions",
                    "clause": "企业已获补贴情况以备案决定记录为准，不以申报为准 (history is taken from the record of decisions)",
                    "message": f"declared history.{f} = {d}, but the record of decisions shows {r}; the record was used",
                    "message_zh": f"申报的 history.{f} 为 {d}，备案决定记录为 {r}，以备案记录为准",
                    "values": {"declared": d, "record": r},
                },
            )
        )
    return extend_with_history(decision, block, reasons)


def evaluate(book: Rulebook, app: Application, record: History, telemetry=None, system_id: str | None = None) -> dict:
    """The decision for ``app`` with its history replaced by the record and, when telemetry is
    given, its storage facts replaced by the meter's; as plain JSON data."""
    decided = app
    if telemetry is not None:
        from engine.telemetry.crosscheck import annotate, facts_for, metered_application

        facts = facts_for(book, app, telemetry, system_id)
        decided, comparisons = metered_application(book, app, facts)
    decision = ReteEngine.for_rulebook(book).decide(decided.model_copy(update={"history": record}))
    decision = with_history(decision, app.history, record)
    if telemetry is not None:
        decision = annotate(decision, book, app, facts, comparisons, telemetry)
    return json.loads(dumps_decision(decision))


def store_snapshot(s, book: Rulebook) -> None:
    if s.get(RulesetSnapshotRow, book.digest) is not None:
        return
    try:
        with s.begin_nested():
            s.add(
                RulesetSnapshotRow(
                    digest=book.digest, version=book.version, files=dumps_files(book.files), stored_at=now_utc()
                )
            )
    except IntegrityError:
        pass  # stored by a concurrent decider: same digest, same content


class _Moved(Exception):
    """A newer version arrived between reading and locking: start again."""


def decide(
    store: Store, app_id: str, book: Rulebook, officer: str, again: bool = False, now: dt.datetime | None = None
) -> DecisionOut:
    """Decide the latest version of ``app_id`` with the enterprise's history from the record."""
    for _ in range(5):
        try:
            return _decide_once(store, app_id, book, officer, again, now)
        except _Moved:
            continue
    raise RecordError(f"{app_id}: new versions keep arriving; try again")


def _decide_once(store, app_id, book, officer, again, now):
    with store.session() as s:
        sub = _latest(s, app_id)
        if sub is None:
            raise UnknownApplicationError(f"{app_id}: no submission with this application id on record")
        if sha256(sub.raw) != sub.sha256:
            raise IntegrityFailure(f"{app_id}: version {sub.version} no longer matches its sha256")
        try:
            app = parse_application(sub.raw)
        except InvalidApplicationError as exc:
            raise NotDecidableError(f"{app_id}: version {sub.version} was rejected, nothing to decide: {exc}") from None
        if app.application_id != app_id:
            raise NotDecidableError(f"{app_id}: version {sub.version} does not carry this application id")
        e = app.enterprise
        store.lock_enterprise(s, e.credit_code, e.name, e.region_code)
        if _latest(s, app_id).id != sub.id:
            raise _Moved()
        current = in_force(s, app_id)
        if current is not None and current.submission_id == sub.id and not again:
            raise AlreadyDecidedError(app_id, current.id)
        record = record_history(s, e.credit_code, app.period.end.year, app_id)
        tel_row = _telemetry_of(s, app_id)
        try:
            telemetry = _read_stored(tel_row, book, app) if tel_row is not None else None
            doc = evaluate(book, app, record, telemetry, tel_row.system_id if tel_row is not None else None)
        except (InvalidTelemetryError, MeteringError) as exc:
            raise NotDecidableError(f"{app_id}: telemetry {tel_row.id} ({tel_row.filename}): {exc}") from None
        store_snapshot(s, book)
        outs = doc["outcomes"]
        row = DecisionRow(
            submission_id=sub.id,
            application_id=app_id,
            supersedes_id=current.id if current else None,
            credit_code=e.credit_code,
            period_year=app.period.end.year,
            ruleset_version=book.version,
            ruleset_digest=book.digest,
            input_sha256=sub.sha256,
            officer=officer,
            decided_at=now or now_utc(),
            document=json.dumps(doc, ensure_ascii=False),
            storage_granted_yuan=_granted(outs["storage_subsidy"]),
            freight_granted_yuan=_granted(outs["eco_packaging_freight_subsidy"]),
            equipment_granted=outs["equipment_subsidy"]["status"] == "granted",
            telemetry_id=tel_row.id if tel_row is not None else None,
        )
        s.add(row)
        s.flush()
        return decision_out(row, superseded_by=None)


def _granted(outcome: dict) -> str:
    return outcome["amount"] if outcome["status"] == "granted" else "0.00"


def _pending(store: Store) -> list[tuple[str, int, bool]]:
    """(application id, latest submission id, validated) of every application awaiting a
    decision; read as columns: no submitted document is loaded to find them."""
    with store.reading() as s:
        subs = s.exec(
            select(
                col(SubmissionRow.id),
                col(SubmissionRow.application_id),
                col(SubmissionRow.version),
                col(SubmissionRow.valid),
                col(SubmissionRow.validated),
            )
            .where(col(SubmissionRow.application_id).is_not(None))
            .order_by(col(SubmissionRow.id))
        ).all()
        decided = set(s.exec(select(col(DecisionRow.submission_id))).scalars().all())
    latest: dict = {}
    for sub in subs:
        if sub.application_id not in latest or sub.version > latest[sub.application_id].version:
            latest[sub.application_id] = sub
    return [(a, sub.id, sub.validated) for a, sub in latest.items() if sub.valid is not False and sub.id not in decided]


def pending(store: Store) -> list[str]:
    """Application ids whose latest version is valid (or not yet validated) and not yet decided."""
    return [app_id for app_id, _, _ in _pending(store)]


@dataclass
class BatchItem:
    application_id: str
    decision: DecisionOut | None = None
    error: str | None = None


def decide_pending(store: Store, book: Rulebook, officer: str) -> Iterator[BatchItem]:
    """Decide every pending application, each in its own transaction; skip what another officer took.

    One application never stops the others: whatever fails on it is reported with its reason
    (an unexpected error with the code INTERNAL_ERROR) and the batch goes on. A version never
    validated (received before a crash) is validated first, and recorded rejected if it is.
    Only the record itself failing (disk full, connection lost) ends the batch.
    """
    for app_id, sub_id, validated in _pending(store):
        try:
            if not validated and not validate_submission(store, sub_id).valid:
                yield BatchItem(app_id, error=f"{app_id}: its latest version is rejected (now on record as such)")
                continue
            yield BatchItem(app_id, decide(store, app_id, book, officer))
        except AlreadyDecidedError:
            continue  # decided meanwhile by a concurrent officer
        except ShuangtanError as exc:
            yield BatchItem(app_id, error=str(exc))
        except OperationalError:
            raise
        except Exception as exc:  # a defect met on this application: reported, the others go on
            yield BatchItem(app_id, error=f"{app_id}: {INTERNAL_ERROR}: {internal_reason(exc)}")


# --- telemetry -------------------------------------------------------------------------
def attach_telemetry(
    store: Store, app_id: str, item: TelemetryIn, book: Rulebook, now: dt.datetime | None = None
) -> TelemetryOut:
    """Keep a telemetry file with the latest version of ``app_id``: the bytes first (own
    transaction), then the verdict. Every later decision of the application uses the latest file."""
    raw = bytes(item.raw)
    with store.session() as s:
        sub = _latest(s, app_id)
        if sub is None:
            raise UnknownApplicationError(f"{app_id}: no submission with this application id on record")
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
        s.flush()
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
                facts_for(book, app, _read_stored(s.get(TelemetryRow, row_id), book, app), item.system_id)
        except InvalidTelemetryError as exc:
            problems = [f"{w}: {c + ': ' if c else ''}{m}" for w, c, m in exc.problems]
        except ShuangtanError as exc:  # MeteringError, IntegrityFailure, a date no rule covers
            problems = [str(exc)]
    with store.session() as s:
        row = s.get(TelemetryRow, row_id)
        row.valid, row.errors = not problems, json.dumps(problems, ensure_ascii=False) if problems else None
        return telemetry_out(row)


def telemetry_out(row: TelemetryRow) -> TelemetryOut:
    return TelemetryOut(
        id=stored_id(row.id),
        submission_id=row.submission_id,
        application_id=row.application_id,
        sha256=row.sha256,
        filename=row.filename,
        system_id=row.system_id,
        received_at=as_utc(row.received_at),
        valid=row.valid,
        problems=json.loads(row.errors) if row.errors else [],
    )


def _telemetry_of(s, app_id: str) -> TelemetryRow | None:
    """The latest telemetry attached to the application, whichever version it came with: a
    corrected version must not silently lose its metering. An invalid one blocks the decision."""
    return (
        s.exec(
            select(TelemetryRow)
            .where(col(TelemetryRow.application_id) == app_id)
            .order_by(col(TelemetryRow.id).desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def _read_stored(row: TelemetryRow, book: Rulebook, app: Application):
    from engine.telemetry.crosscheck import interval_minutes
    from engine.telemetry.reader import read_telemetry

    if sha256(row.raw) != row.sha256:
        raise IntegrityFailure(f"telemetry {row.id} no longer matches its sha256")
    return read_telemetry(
        row.filename or f"telemetry-{row.id}.{row.format}",
        interval_minutes(book, app.period.end),
        data=row.raw,
        fmt=row.format,
    )


# --- replay ----------------------------------------------------------------------------
COMPARED = (
    "every key of the decision document except `trace` (contract, application_id, evaluated_on, "
    "ruleset, outcomes with statuses, amounts, reasons and parameters, totals, history, metering); "
    "the trace is compared separately"
)


@dataclass
class ReplayReport:
    decision_id: int
    application_id: str
    stored_digest: str
    current_digest: str | None
    identical: bool
    trace_identical: bool
    differences: list[str] = field(default_factory=list)
    compared: str = COMPARED

    @property
    def ruleset_changed(self) -> bool:
        return self.current_digest is not None and self.current_digest != self.stored_digest


def _diff(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}")
            else:
                out += _diff(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _diff(x, y, f"{path}/{i}")]
    return [] if a == b else [path or "/"]


def snapshot_book(s, digest: str) -> Rulebook:
    snap = s.get(RulesetSnapshotRow, digest)
    if snap is None:
        raise RecordError(f"no ruleset snapshot {digest} on record")
    files = loads_files(snap.files)
    if digest_of(files) != digest:
        raise IntegrityFailure(f"ruleset snapshot {digest} no longer matches its digest")
    return compile_rulebook(DEFAULT_RULES, files)


def storable_id(store: Store, row_id: int) -> bool:
    """Whether ``row_id`` fits the record's integer keys (32 bits on PostgreSQL, 64 on SQLite):
    a larger number names no row, and asking the database for it would be an error, not a miss."""
    return 0 < row_id < (2**31 if store.dialect == "postgresql" else 2**63)


def replay(store: Store, decision_id: int, current: Rulebook | None = None) -> ReplayReport:
    """Re-evaluate a stored decision under its stored ruleset, input and record history."""
    if not storable_id(store, decision_id):
        raise RecordError(f"no decision {decision_id} on record")
    with store.reading() as s:
        row = s.get(DecisionRow, decision_id)
        if row is None:
            raise RecordError(f"no decision {decision_id} on record")
        sub = s.get(SubmissionRow, row.submission_id)
        book = snapshot_book(s, row.ruleset_digest)
    if sha256(sub.raw) != row.input_sha256:
        raise IntegrityFailure(f"decision {decision_id}: the stored input no longer matches its sha256")
    stored = json.loads(row.document)
    record = _record_history(stored)
    app, telemetry, system_id = parse_application(sub.raw), None, None
    if row.telemetry_id is not None:
        with store.reading() as s:
            tel_row = s.get(TelemetryRow, row.telemetry_id)
        if tel_row is None or tel_row.sha256 != stored.get("metering", {}).get("telemetry", {}).get("sha256"):
            raise IntegrityFailure(f"decision {decision_id}: the telemetry it used no longer matches its sha256")
        telemetry, system_id = _read_stored(tel_row, book, app), tel_row.system_id  # checks the bytes' hash
    again = evaluate(book, app, record, telemetry, system_id)
    diffs = _diff({k: v for k, v in stored.items() if k != "trace"}, {k: v for k, v in again.items() if k != "trace"})
    return ReplayReport(
        decision_id,
        row.application_id,
        row.ruleset_digest,
        current.digest if current is not None else None,
        not diffs,
        stored.get("trace") == again.get("trace"),
        diffs,
    )


# --- output shapes ---------------------------------------------------------------------
def decision_out(row: DecisionRow, superseded_by: int | None) -> DecisionOut:
    doc = json.loads(row.document)
    return DecisionOut(
        id=stored_id(row.id),
        application_id=row.application_id,
        submission_id=row.submission_id,
        supersedes_id=row.supersedes_id,
        superseded_by=superseded_by,
        in_force=superseded_by is None,
        credit_code=row.credit_code,
        officer=row.officer,
        decided_at=as_utc(row.decided_at),
        ruleset_version=row.ruleset_version,
        ruleset_digest=row.ruleset_digest,
        input_sha256=row.input_sha256,
        statuses={k: v["status"] for k, v in doc["outcomes"].items()},
        totals=doc["totals"],
        history_agrees=doc.get("history", {}).get("agrees"),
        telemetry_id=row.telemetry_id,
        metering_agrees=doc.get("metering", {}).get("agrees"),
    )


def submission_status(row: SubmissionRow, latest_version: int | None, decided: bool) -> str:
    if row.application_id is not None and row.version != latest_version:
        return "superseded"
    if not row.validated:
        return "received"
    if not row.valid:
        return "rejected"
    return "decided" if decided else "pending"


def _submission_out(s, row: SubmissionRow) -> SubmissionOut:
    newest = _latest(s, row.application_id) if row.application_id else None
    latest = newest.version if newest else None
    decided = (
        s.exec(select(col(DecisionRow.id)).where(col(DecisionRow.submission_id) == row.id).limit(1)).first() is not None
    )
    return submission_out(row, submission_status(row, latest, decided))


def submission_out(row: SubmissionRow, status: str) -> SubmissionOut:
    errors = [FieldError(**e) for e in json.loads(row.errors)] if row.errors else []
    return SubmissionOut(
        id=stored_id(row.id),
        application_id=row.application_id,
        version=row.version,
        sha256=row.sha256,
        filename=row.filename,
        received_at=as_utc(row.received_at),
        submitted_by=row.submitted_by,
        status=status,
        errors=errors,
        credit_code=row.credit_code,
        region_code=row.region_code,
        enterprise_name=row.enterprise_name,
    )


# --- notices ---------------------------------------------------------------------------
@dataclass
class IssuedNotice:
    kind: str
    path: Path
    notice_id: int


def _record_history(doc: dict) -> History:
    """The record's history as the decision document stored it (decimal strings, "true"/"false")."""
    values: dict[str, Any] = {  # Decimal or bool by field: mypy cannot pair a ** dict with fields
        f: (v == "true") if f == "equipment_subsidy_received" else Decimal(v)
        for f, v in doc["history"]["record"].items()
    }
    return History(**values)


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
    app = app.model_copy(update={"history": _record_history(doc)})
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
