"""The officers' workflow as library functions: receive, decide with history, replay, notices.

Nothing here knows about the command line. Every function takes an open ``Store``; each
submission and each decision is its own transaction, so a crash loses at most the one in flight.

This module only gathers the names of ``submissions``, ``deciding``, ``replaying``, ``issuing``
and ``common`` (and the errors they raise) in one place for the CLI. To replace a function for a
test, patch it in the module that defines and calls it: patching it here changes no caller.
"""

from __future__ import annotations

from engine.errors import (
    AccountRefused,
    AlreadyDecidedError,
    AlreadyProposedError,
    FourEyesError,
    IntegrityFailure,
    InvalidApplicationError,
    InvalidTelemetryError,
    MeteringError,
    NotDecidableError,
    OverrideError,
    RecordError,
    ReviewError,
    ShuangtanError,
    UnknownApplicationError,
)
from engine.records.common import (
    decision_out,
    default_person,
    latest_submission,
    sha256,
    storable_id,
    submission_out,
    submission_status,
    telemetry_out,
    unloaded,
)
from engine.records.deciding import (
    HISTORY_CODE,
    HISTORY_OUTCOMES,
    BatchItem,
    decide,
    decide_pending,
    evaluate,
    in_force,
    pending,
    proposals,
    record_history,
    snapshot_book,
    store_snapshot,
    stored_history,
    with_history,
)
from engine.records.issuing import IssuedNotice, issue_notices, notice_documents
from engine.records.replaying import COMPARED, ReplayReport, replay, replay_target
from engine.records.reviewing import confirm, confirm_many, effective_document, return_proposal
from engine.records.submissions import (
    CHUNK,
    Receipt,
    attach_telemetry,
    declared_id,
    read_stored_telemetry,
    submit,
    submit_chunk,
    submit_many,
    validate_submission,
)

__all__ = [
    "CHUNK",
    "AccountRefused",
    "AlreadyProposedError",
    "FourEyesError",
    "OverrideError",
    "ReviewError",
    "confirm",
    "confirm_many",
    "effective_document",
    "return_proposal",
    "replay_target",
    "COMPARED",
    "HISTORY_CODE",
    "HISTORY_OUTCOMES",
    "AlreadyDecidedError",
    "BatchItem",
    "IntegrityFailure",
    "InvalidApplicationError",
    "InvalidTelemetryError",
    "IssuedNotice",
    "MeteringError",
    "NotDecidableError",
    "Receipt",
    "RecordError",
    "ReplayReport",
    "ShuangtanError",
    "UnknownApplicationError",
    "attach_telemetry",
    "decide",
    "decide_pending",
    "decision_out",
    "declared_id",
    "default_person",
    "evaluate",
    "in_force",
    "issue_notices",
    "latest_submission",
    "notice_documents",
    "pending",
    "proposals",
    "read_stored_telemetry",
    "record_history",
    "replay",
    "sha256",
    "snapshot_book",
    "storable_id",
    "store_snapshot",
    "stored_history",
    "submission_out",
    "submission_status",
    "submit",
    "submit_chunk",
    "submit_many",
    "telemetry_out",
    "unloaded",
    "validate_submission",
    "with_history",
]
