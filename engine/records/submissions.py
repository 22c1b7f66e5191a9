"""Receiving: submissions and telemetry files, the bytes stored first, then the verdict.

Each submission is its own transaction, so a crash loses at most the one in flight.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
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
from engine.records.common import latest_submission, sha256, submission_out, submission_status, telemetry_out
from engine.records.store.db import Store, ensure_enterprise, now_utc
from engine.records.store.models import (
    AccountRow,
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
                require(s, item.submitted_by, "submit")
                latest = latest_submission(s, app_id) if app_id else None
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
                    corrects=item.corrects,
                )
                s.add(row)
                audit.append(s, item.submitted_by, "submit", "submission", row, "received", app_id)
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


def _claim_problems(s, row: SubmissionRow, app: Application) -> list[dict]:
    """What the record refuses in a valid document: a claim on another enterprise's application,
    an enterprise account submitting for another enterprise, a correction of nothing."""
    problems = []
    code = app.enterprise.credit_code
    owner = s.exec(
        select(col(SubmissionRow.credit_code), col(SubmissionRow.version))
        .where(
            col(SubmissionRow.application_id) == row.application_id,
            col(SubmissionRow.valid).is_(True),
            col(SubmissionRow.id) != row.id,
        )
        .order_by(col(SubmissionRow.version))
        .limit(1)
    ).first()
    if owner is not None and owner.credit_code != code:
        problems.append(
            {
                "path": "enterprise.credit_code",
                "message": f"application {row.application_id} belongs to enterprise {owner.credit_code} "
                f"(version {owner.version}); a new version must carry the same credit code",
            }
        )
    account = s.get(AccountRow, row.submitted_by)
    if account is not None and account.role == "enterprise" and account.credit_code != code:
        problems.append(
            {
                "path": "enterprise.credit_code",
                "message": f"account {account.name} submits for enterprise {account.credit_code} only",
            }
        )
    if row.corrects is not None:
        target = s.exec(
            select(col(SubmissionRow.credit_code))
            .where(col(SubmissionRow.application_id) == row.corrects, col(SubmissionRow.valid).is_(True))
            .limit(1)
        ).first()
        if row.corrects == row.application_id:
            problems.append(
                {"path": "(corrects)", "message": "an application cannot correct itself; submit a new version"}
            )
        elif target is None:
            problems.append(
                {"path": "(corrects)", "message": f"no valid application {row.corrects} on record to correct"}
            )
        elif target.credit_code != code:
            problems.append(
                {"path": "(corrects)", "message": f"application {row.corrects} belongs to another enterprise"}
            )
    return problems


def _record_verdict(store: Store, submission_id: int, app: Application | None, errors) -> SubmissionRow:
    with store.session() as s:
        row = s.get(SubmissionRow, submission_id)
        if row.validated:
            return row  # a concurrent validator recorded it first: the same verdict
        if app is not None:
            refused = _claim_problems(s, row, app)
            if refused:
                app, errors = None, refused
        if app is None:
            row.valid, row.errors = False, json.dumps(errors, ensure_ascii=False)
        else:
            row.valid = True
            e = app.enterprise
            row.credit_code, row.region_code, row.enterprise_name = e.credit_code, e.region_code, e.name
            row.period_start, row.period_end = app.period.start, app.period.end
            ensure_enterprise(s, e.credit_code, e.name, e.region_code)
        row.validated = True
        s.add(row)
        audit.append(s, "system", "validate", "submission", row, "verdict", "valid" if row.valid else "rejected")
        return row


def _submission_out(s, row: SubmissionRow) -> SubmissionOut:
    current = None
    if row.application_id:
        current = s.exec(
            select(func.max(col(SubmissionRow.version))).where(
                col(SubmissionRow.application_id) == row.application_id, col(SubmissionRow.valid).is_not(False)
            )
        ).scalar()
    decided = (
        s.exec(
            select(col(DecisionRow.id))
            .join(ReviewRow, col(ReviewRow.decision_id) == col(DecisionRow.id))
            .where(col(DecisionRow.submission_id) == row.id, col(ReviewRow.action) == "confirm")
            .limit(1)
        ).first()
        is not None
    )
    return submission_out(row, submission_status(row, current, decided))


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
        raise IntegrityFailure(f"telemetry {row.id} no longer matches its sha256")
    return read_telemetry(
        row.filename or f"telemetry-{row.id}.{row.format}",
        interval_minutes(book, app.period.end),
        data=row.raw,
        fmt=row.format,
    )
