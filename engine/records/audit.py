"""Tamper evidence: every write to the record appends a link to one hash chain.

A link names who did what to which row and carries the row's *digest* at that moment: the
SHA-256 of a canonical JSON of the fields that matter (a submission's raw bytes are hashed
themselves, never trusted from their stored ``sha256`` column). The link's ``hash`` covers its
own fields and the previous link's hash, so an edited row no longer matches its digest, and a
deleted, inserted or reordered link breaks the chain. ``verify`` walks both.

The chain has one head row that each appender locks (``SELECT ... FOR UPDATE`` on PostgreSQL;
SQLite already holds the file's write lock): appends are serialised, briefly, at the end of
each transaction, after the per-enterprise lock a decider already holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from engine.records.store.db import as_utc, now_utc
from engine.records.store.models import (
    AccountRow,
    AuditHeadRow,
    AuditRow,
    DecisionRow,
    NoticeNumberRow,
    NoticeRow,
    ReviewRow,
    SubmissionRow,
    TelemetryRow,
)

GENESIS = "0" * 64


def _t(value: dt.datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat(timespec="microseconds")


def _d(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _h(raw: bytes | None) -> str | None:
    return None if raw is None else hashlib.sha256(bytes(raw)).hexdigest()


#: (entity, fieldset) -> the row's fields that link covers. A row that changes state later
#: (a submission validated, an account disabled) has one fieldset per state change.
FIELDSETS: dict[tuple[str, str], Callable[[Any], dict]] = {
    ("account", "state"): lambda r: {
        "name": r.name,
        "role": r.role,
        "display_name": r.display_name,
        "credit_code": r.credit_code,
        "enabled": r.enabled,
        "secret_hash": r.secret_hash,
        "created_at": _t(r.created_at),
        "created_by": r.created_by,
    },
    ("submission", "received"): lambda r: {
        "id": r.id,
        "application_id": r.application_id,
        "version": r.version,
        "raw": _h(r.raw),
        "sha256": r.sha256,
        "filename": r.filename,
        "received_at": _t(r.received_at),
        "submitted_by": r.submitted_by,
        "corrects": r.corrects,
    },
    ("submission", "verdict"): lambda r: {
        "id": r.id,
        "validated": r.validated,
        "valid": r.valid,
        "errors": r.errors,
        "credit_code": r.credit_code,
        "region_code": r.region_code,
        "enterprise_name": r.enterprise_name,
        "period_start": _d(r.period_start),
        "period_end": _d(r.period_end),
    },
    ("telemetry", "received"): lambda r: {
        "id": r.id,
        "submission_id": r.submission_id,
        "application_id": r.application_id,
        "raw": _h(r.raw),
        "sha256": r.sha256,
        "filename": r.filename,
        "format": r.format,
        "system_id": r.system_id,
        "received_at": _t(r.received_at),
        "submitted_by": r.submitted_by,
    },
    ("telemetry", "verdict"): lambda r: {"id": r.id, "valid": r.valid, "errors": r.errors},
    ("decision", "proposal"): lambda r: {
        "id": r.id,
        "submission_id": r.submission_id,
        "application_id": r.application_id,
        "supersedes_id": r.supersedes_id,
        "replaces_id": r.replaces_id,
        "credit_code": r.credit_code,
        "period_year": r.period_year,
        "period_start": _d(r.period_start),
        "period_end": _d(r.period_end),
        "ruleset_version": r.ruleset_version,
        "ruleset_digest": r.ruleset_digest,
        "input_sha256": r.input_sha256,
        "officer": r.officer,
        "decided_at": _t(r.decided_at),
        "document": _h(r.document.encode("utf-8")),
        "storage_granted_yuan": r.storage_granted_yuan,
        "freight_granted_yuan": r.freight_granted_yuan,
        "equipment_granted": r.equipment_granted,
        "telemetry_id": r.telemetry_id,
        "opinion": r.opinion,
        "holds": r.holds,
    },
    ("review", "review"): lambda r: {
        "id": r.id,
        "decision_id": r.decision_id,
        "application_id": r.application_id,
        "action": r.action,
        "reviewer": r.reviewer,
        "opinion": r.opinion,
        "overrides": r.overrides,
        "reviewed_at": _t(r.reviewed_at),
        "replaces_id": r.replaces_id,
        "storage_granted_yuan": r.storage_granted_yuan,
        "freight_granted_yuan": r.freight_granted_yuan,
        "equipment_granted": r.equipment_granted,
        "subsidy_yuan": r.subsidy_yuan,
        "levy_yuan": r.levy_yuan,
    },
    ("notice", "issued"): lambda r: {
        "id": r.id,
        "decision_id": r.decision_id,
        "application_id": r.application_id,
        "kind": r.kind,
        "lang": r.lang,
        "format": r.format,
        "filename": r.filename,
        "sha256": r.sha256,
        "content": _h(r.content),
        "notice_date": _d(r.notice_date),
        "issued_at": _t(r.issued_at),
        "issued_by": r.issued_by,
        "number_id": r.number_id,
    },
    ("notice_number", "allocated"): lambda r: {
        "id": r.id,
        "decision_id": r.decision_id,
        "application_id": r.application_id,
        "kind": r.kind,
        "year": r.year,
        "seq": r.seq,
        "number": r.number,
        "notice_date": _d(r.notice_date),
        "issued_at": _t(r.issued_at),
        "issued_by": r.issued_by,
        "authority": r.authority,
        "replaced_by_id": r.replaced_by_id,
    },
}

#: entity -> (row class, how its key is written in the log)
ENTITIES: dict[str, tuple[type, Callable[[Any], str]]] = {
    "account": (AccountRow, lambda r: r.name),
    "submission": (SubmissionRow, lambda r: str(r.id)),
    "telemetry": (TelemetryRow, lambda r: str(r.id)),
    "decision": (DecisionRow, lambda r: str(r.id)),
    "review": (ReviewRow, lambda r: str(r.id)),
    "notice": (NoticeRow, lambda r: str(r.id)),
    "notice_number": (NoticeNumberRow, lambda r: str(r.id)),
}


def canonical(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def row_digest(entity: str, fieldset: str, row: Any) -> str:
    return hashlib.sha256(canonical(FIELDSETS[(entity, fieldset)](row))).hexdigest()


def link_hash(
    prev_hash: str, seq: int, at: str, actor: str, action: str, entity: str, entity_id: str, fieldset: str, digest: str
) -> str:
    fields = {
        "prev": prev_hash,
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "fieldset": fieldset,
        "digest": digest,
    }
    return hashlib.sha256(canonical(fields)).hexdigest()


def append(s, actor: str, action: str, entity: str, row: Any, fieldset: str, summary: str | None = None) -> AuditRow:
    """Chain a link for ``row`` (flushed first, so it has its key) inside the caller's transaction."""
    s.flush()
    head = s.exec(select(AuditHeadRow).where(col(AuditHeadRow.id) == 1).with_for_update()).scalars().one()
    seq, at = head.seq + 1, now_utc()
    entity_id = ENTITIES[entity][1](row)
    digest = row_digest(entity, fieldset, row)
    link = AuditRow(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        fieldset=fieldset,
        digest=digest,
        prev_hash=head.hash,
        hash=link_hash(head.hash, seq, _t(at) or "", actor, action, entity, entity_id, fieldset, digest),
        summary=summary,
    )
    s.add(link)
    head.seq, head.hash = seq, link.hash
    s.add(head)
    s.flush()
    return link
