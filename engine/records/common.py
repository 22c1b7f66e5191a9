"""What the record's operations share: hashes, the latest version of an application, and the
output shapes of stored rows (also read by the views)."""

from __future__ import annotations

import getpass
import hashlib
import os
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import QueryableAttribute, defer
from sqlalchemy.orm.interfaces import ORMOption
from sqlmodel import col

from engine.records import browse
from engine.records.store.db import Store
from engine.records.store.models import (
    DecisionOut,
    DecisionRow,
    ReviewRow,
    SubmissionOut,
    SubmissionRow,
    TelemetryOut,
    TelemetryRow,
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


# --- output shapes (engine/records/browse.py builds their fields, for the commands that read
# without SQLAlchemy or pydantic: one definition of each) ------------------------------------
decision_state = browse.decision_state
submission_status = browse.submission_status


def decision_out(
    row: DecisionRow, superseded_by: int | None, review: ReviewRow | None, doc: dict | None = None
) -> DecisionOut:
    """A decision as shown: statuses and totals as in force (the review's overrides applied).
    ``doc``: the row's document already at hand (what was just stored), not read back."""
    return DecisionOut.model_validate(browse.decision_fields(row, superseded_by, review, doc))


def submission_out(row: SubmissionRow, status: str) -> SubmissionOut:
    return SubmissionOut.model_validate(browse.submission_fields(row, status))


def telemetry_out(row: TelemetryRow) -> TelemetryOut:
    return TelemetryOut.model_validate(browse.telemetry_fields(row))
