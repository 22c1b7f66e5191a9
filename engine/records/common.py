"""What the record's operations share: hashes, the latest version of an application, and the
output shapes of stored rows (also read by the views)."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import QueryableAttribute, defer
from sqlalchemy.orm.interfaces import ORMOption
from sqlmodel import col

from engine.records.store.db import Store, as_utc
from engine.records.store.models import (
    DecisionOut,
    DecisionRow,
    FieldError,
    ReviewRow,
    SubmissionOut,
    SubmissionRow,
    TelemetryOut,
    TelemetryRow,
    stored_id,
)


def default_person() -> str:
    return os.environ.get("USER") or getpass.getuser()


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def unloaded(attribute: object) -> ORMOption:
    """A column left out of a query until read (inside the session): a blob nobody asked for.
    The cast: sqlmodel types a column attribute as its Python value, not as the attribute."""
    return defer(cast("QueryableAttribute[Any]", attribute))


def latest_submission(s, app_id: str) -> SubmissionRow | None:
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


def storable_id(store: Store, row_id: int) -> bool:
    """Whether ``row_id`` fits the record's integer keys (32 bits on PostgreSQL, 64 on SQLite):
    a larger number names no row, and asking the database for it would be an error, not a miss."""
    return 0 < row_id < (2**31 if store.dialect == "postgresql" else 2**63)


# --- output shapes ---------------------------------------------------------------------
def decision_state(review: ReviewRow | None, superseded_by: int | None) -> str:
    if review is None:
        return "proposed"
    if review.action != "confirm":
        return "returned"
    return "superseded" if superseded_by is not None else "in_force"


def decision_out(
    row: DecisionRow, superseded_by: int | None, review: ReviewRow | None, doc: dict | None = None
) -> DecisionOut:
    """A decision as shown: statuses and totals as in force (the review's overrides applied).
    ``doc``: the row's document already at hand (what was just stored), not read back."""
    from engine.records.adjusting import apply_overrides

    doc = json.loads(row.document) if doc is None else doc
    overrides = json.loads(review.overrides) if review is not None and review.overrides else []
    if overrides:
        doc = apply_overrides(doc, overrides)
    state = decision_state(review, superseded_by)
    return DecisionOut(
        id=stored_id(row.id),
        application_id=row.application_id,
        submission_id=row.submission_id,
        supersedes_id=row.replaces_id if row.replaces_id is not None else row.supersedes_id,
        superseded_by=superseded_by,
        in_force=state == "in_force",
        state=state,
        opinion=row.opinion,
        reviewer=review.reviewer if review is not None else None,
        review_opinion=review.opinion if review is not None else None,
        reviewed_at=as_utc(review.reviewed_at) if review is not None else None,
        overrides=overrides,
        holds=json.loads(row.holds) if row.holds else [],
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


def submission_status(row: SubmissionRow, current_version: int | None, decided: bool) -> str:
    """A version's status: rejected versions stay rejected; of the others, all but the current
    one (the latest not rejected) are superseded."""
    if not row.validated:
        return "received"
    if not row.valid:
        return "rejected"
    if row.application_id is not None and row.version != current_version:
        return "superseded"
    return "decided" if decided else "pending"


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
