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

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import String, cast, exists, func, inspect, select
from sqlmodel import Session, col

from engine.cst import CST, shown_time
from engine.errors import RecordError
from engine.records.store import state
from engine.records.store.bulk import insert_rows
from engine.records.store.db import Store, as_utc, now_utc
from engine.records.store.models import (
    AccountRow,
    AuditEntryOut,
    AuditHeadRow,
    AuditRow,
    DecisionRow,
    NoticeNumberRow,
    NoticeRow,
    ReviewRow,
    SubmissionRow,
    TelemetryRow,
    stored_id,
)

GENESIS = "0" * 64


def _t(value: dt.datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat(timespec="microseconds")


def _d(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _h(raw: bytes | None) -> str | None:
    return None if raw is None else hashlib.sha256(bytes(raw)).hexdigest()


def _summary(name: str, value: str | None, derive: Callable[[Any], str | None], source: Any) -> dict:
    """A summary kept beside the column it is derived from (state.py), covered only where it is
    not what that column says: an honest row keeps the digest its link was made with (links from
    before the summaries existed included), and a summary edited behind the record's back no longer
    matches."""
    try:
        expected = derive(source)
    except Exception:  # a source that cannot be read: the summary is covered as it is
        return {name: value}
    return {} if value == expected else {name: value}


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
        # only where set: links made before batch files keep the digest they were made with
        **({"source": r.source} if r.source is not None else {}),
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
        **_summary("statuses", r.statuses, state.decision_statuses, r.document),
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
        **_summary("statuses", r.statuses, state.override_statuses, r.overrides),
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


_PLAIN = (str, int, bool, type(None))


def canonical(data: dict) -> bytes:
    """The fields as ``json.dumps(sort_keys=True, ensure_ascii=False, compact, default=str)``
    writes them, in UTF-8: every link ever made was hashed over that text. orjson writes the same
    bytes for plain text, integers, booleans and nulls, several times faster (a batch hashes two
    fieldsets a row; ``audit verify`` every row); anything else goes through ``json`` itself."""
    if all(type(v) in _PLAIN for v in data.values()):
        try:
            return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits, a lone surrogate
            pass
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


def append(s, actor: str, action: str, entity: str, row: Any, fieldset: str, summary: str | None = None) -> None:
    """Chain a link for ``row`` (flushed first, so it has its key) inside the caller's transaction."""
    append_many(s, [Entry(actor, action, entity, row, fieldset, summary)])


@dataclass(frozen=True)
class Entry:
    """One link to chain: who did what to which (flushed) row, under which fieldset."""

    actor: str
    action: str
    entity: str
    row: Any
    fieldset: str
    summary: str | None = None


def append_many(s, entries: list[Entry]) -> None:
    """Chain a link for each entry, in order, inside the caller's transaction: the head is
    locked once and the links inserted in one statement (a batch's chunk, not one row at a time)."""
    if not entries:
        return
    s.flush()
    head = s.exec(select(AuditHeadRow).where(col(AuditHeadRow.id) == 1).with_for_update()).scalars().one()
    seq, prev, at = head.seq, head.hash, now_utc()
    stamp = _t(at) or ""
    values = []
    for e in entries:
        seq += 1
        entity_id = ENTITIES[e.entity][1](e.row)
        digest = row_digest(e.entity, e.fieldset, e.row)
        h = link_hash(prev, seq, stamp, e.actor, e.action, e.entity, entity_id, e.fieldset, digest)
        values.append(
            {
                "seq": seq,
                "at": at,
                "actor": e.actor,
                "action": e.action,
                "entity": e.entity,
                "entity_id": entity_id,
                "fieldset": e.fieldset,
                "digest": digest,
                "prev_hash": prev,
                "hash": h,
                "summary": e.summary,
            }
        )
        prev = h
    insert_rows(s, AuditRow, values)
    head.seq, head.hash = seq, prev
    s.add(head)
    s.flush()


# --- reading the chain -------------------------------------------------------------------
#: China has kept one offset, with no summer time, since 1991: no time-zone database needed.
BATCH = 200  # rows held at once while verifying: a submission's raw bytes can be megabytes


@dataclass
class Finding:
    """One thing wrong: ``kind`` is link | head | unknown (the chain), changed | missing |
    unrecorded | unlinked (a row against the chain). ``seq`` is the link it concerns, if any."""

    kind: str
    message: str
    seq: int | None = None
    entity: str | None = None
    entity_id: str | None = None


@dataclass
class AuditReport:
    ok: bool
    links: int
    rows: int
    head_seq: int | None
    head_hash: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None


def verify(store: Store, batch: int = BATCH) -> AuditReport:
    """Walk the chain, then every row of every chained table against it, in one snapshot.

    Findings come in order: the chain's (by link), its head, then the rows' (by the link that
    vouched for them; rows no link records last). The first one is where to start looking.
    """
    with _snapshot(store) as s:
        chain, links, last = _check_chain(s, batch)
        head = s.get(AuditHeadRow, 1)
        chain += _check_head(head, last)
        head_seq, head_hash = (head.seq, head.hash) if head else (None, None)
        rows, found = _check_rows(s, batch)
    found.sort(key=lambda f: (f.seq is None, f.seq or 0))  # stable: rows with no link keep table order
    findings = chain + found
    return AuditReport(
        ok=not findings,
        links=links,
        rows=rows,
        head_seq=head_seq,
        head_hash=head_hash,
        findings=findings,
    )


@contextlib.contextmanager
def _snapshot(store: Store) -> Iterator[Session]:
    """One consistent view: appends committed while verifying must not look like tampering.
    (SQLite's read transaction in WAL mode already is one; PostgreSQL's default is per statement.)"""
    if store.dialect == "postgresql":
        engine = store.engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with Session(engine) as s, s.begin():
            yield s
    else:
        with store.reading() as s:
            yield s


def _about(link) -> str:
    return f"link {link.seq} ({link.entity} {link.entity_id}, {link.action} by {link.actor} at {shown_time(link.at)})"


def _check_chain(s: Session, batch: int) -> tuple[list[Finding], int, tuple[int, str]]:
    findings: list[Finding] = []
    n, prev_seq, prev_hash = 0, 0, GENESIS
    stmt = select(AuditRow).order_by(col(AuditRow.seq)).execution_options(yield_per=batch)
    for part in s.execute(stmt).scalars().partitions():
        for link in part:
            n += 1
            problems = []
            if link.seq != prev_seq + 1:
                missing = (
                    f"link {prev_seq + 1} is"
                    if link.seq == prev_seq + 2
                    else f"links {prev_seq + 1}-{link.seq - 1} are"
                )
                problems.append(
                    f"{missing} missing before it"
                    if link.seq > prev_seq
                    else f"numbered out of order after link {prev_seq}"
                )
            if link.prev_hash != prev_hash:
                problems.append(
                    f"it does not follow link {prev_seq} (a link removed, inserted or moved)"
                    if prev_seq
                    else "it does not start from the genesis hash"
                )
            fields = (link.entity, link.entity_id, link.fieldset, link.digest)
            if link_hash(link.prev_hash, link.seq, _t(link.at) or "", link.actor, link.action, *fields) != link.hash:
                problems.append("its fields no longer match its hash (the link was edited)")
            if problems:
                findings.append(Finding("link", f"{_about(link)}: " + "; ".join(problems), link.seq, *fields[:2]))
            prev_seq, prev_hash = link.seq, link.hash
        for link in part:  # bounded memory: the identity map would keep every link read
            s.expunge(link)  # (one by one: expunge_all would swap the map under yield_per's loader)
    return findings, n, (prev_seq, prev_hash)


def _check_head(head: AuditHeadRow | None, last: tuple[int, str]) -> list[Finding]:
    seq, last_hash = last
    if head is None:
        problem = "the chain head (audit_head row 1) is missing"
    elif head.seq > seq:
        problem = f"the chain head is link {head.seq} but the chain ends at link {seq}: its last links were deleted"
    elif head.seq < seq:
        problem = f"the chain runs to link {seq}, past its head (link {head.seq}): links were added behind its back"
    elif head.hash != last_hash:
        problem = f"the chain head's hash is not link {seq}'s hash"
    else:
        return []
    return [Finding("head", problem, seq or None)]


def _key(cls: type):
    return inspect(cls).primary_key[0]


def _check_rows(s: Session, batch: int) -> tuple[int, list[Finding]]:
    findings: list[Finding] = []
    kinds = select(col(AuditRow.entity), col(AuditRow.fieldset), func.min(col(AuditRow.seq))).group_by(
        col(AuditRow.entity), col(AuditRow.fieldset)
    )
    for entity, fieldset, first in s.execute(kinds):
        if (entity, fieldset) not in FIELDSETS:
            findings.append(
                Finding("unknown", f"link {first}: names {entity} {fieldset}, which no table has", first, entity)
            )
    n = 0
    for entity, (cls, key_of) in ENTITIES.items():
        fieldsets = [fs for e, fs in FIELDSETS if e == entity]
        key = _key(cls)
        for part in s.execute(select(cls).order_by(key).execution_options(yield_per=batch)).scalars().partitions():
            keys = [key_of(r) for r in part]
            latest = _latest_links(s, entity, keys)
            for row, row_key in zip(part, keys):
                n += 1
                findings += _check_row(entity, row_key, row, fieldsets, latest, key.name)
            for row in part:
                s.expunge(row)
        findings += _missing_rows(s, entity, key)
    return n, findings


def _latest_links(s: Session, entity: str, keys: list[str]) -> dict:
    """(entity_id, fieldset) -> the last link recording it, for one batch of rows."""
    a = AuditRow
    stmt = (
        select(
            col(a.seq),
            col(a.at),
            col(a.actor),
            col(a.action),
            col(a.entity),
            col(a.entity_id),
            col(a.fieldset),
            col(a.digest),
        )
        .where(col(a.entity) == entity, col(a.entity_id).in_(keys))
        .order_by(col(a.seq))
    )
    return {(link.entity_id, link.fieldset): link for link in s.execute(stmt)}


def _check_row(entity: str, key: str, row: Any, fieldsets: list[str], latest: dict, key_name: str) -> list[Finding]:
    if not any((key, fs) in latest for fs in fieldsets):
        return [
            Finding(
                "unlinked",
                f"{entity} {key}: no link records this row (written behind the record's back)",
                None,
                entity,
                key,
            )
        ]
    found = []
    for fs in fieldsets:
        link = latest.get((key, fs))
        if link is None:
            if not _as_new(entity, fs, row, key_name):
                found.append(
                    Finding(
                        "unrecorded",
                        f"{entity} {key}: its {fs} fields were never chained, yet they differ from a new row's "
                        f"({', '.join(_fields(entity, fs, row, key_name))})",
                        None,
                        entity,
                        key,
                    )
                )
        elif link.digest != row_digest(entity, fs, row):
            found.append(
                Finding(
                    "changed",
                    f"{_about(link)}: the row no longer matches its digest: {_what_changed(entity, fs, row, key_name)}",
                    link.seq,
                    entity,
                    key,
                )
            )
    return found


def _fields(entity: str, fieldset: str, row: Any, key_name: str) -> list[str]:
    return [name for name in FIELDSETS[(entity, fieldset)](row) if name != key_name]


def _what_changed(entity: str, fieldset: str, row: Any, key_name: str) -> str:
    """Which field changed is beyond knowing without the old values; a blob beside its own hash is not."""
    values = FIELDSETS[(entity, fieldset)](row)
    for blob in ("raw", "content"):
        if blob in values and "sha256" in values and values[blob] != values["sha256"]:
            return f"its {blob} bytes no longer hash to its sha256 (one of the two changed)"
    return f"one of its {fieldset} fields changed ({', '.join(_fields(entity, fieldset, row, key_name))})"


def _as_new(entity: str, fieldset: str, row: Any, key_name: str) -> bool:
    """Whether a fieldset never chained (a submission not yet validated) holds a new row's defaults."""
    model_fields = ENTITIES[entity][0].model_fields  # type: ignore[attr-defined]
    for name in _fields(entity, fieldset, row, key_name):
        info = model_fields.get(name)
        if (
            info is not None
            and not info.is_required()
            and getattr(row, name) != info.get_default(call_default_factory=True)
        ):
            return False
    return True


def _missing_rows(s: Session, entity: str, key) -> list[Finding]:
    """Links whose row is gone, each named by the last link that vouched for it."""
    a = AuditRow
    stmt = (
        select(func.max(col(a.seq)))
        .where(col(a.entity) == entity, ~exists(select(key).where(cast(key, String) == col(a.entity_id))))
        .group_by(col(a.entity_id))
        .order_by(func.max(col(a.seq)))
    )
    found = []
    for (seq,) in s.execute(stmt):
        link = s.get(AuditRow, seq)
        assert link is not None
        found.append(Finding("missing", f"{_about(link)}: the row is gone", seq, entity, link.entity_id))
    return found


# --- the log -------------------------------------------------------------------------------
def _utc(value: dt.date | dt.datetime, day_after: bool = False) -> dt.datetime:
    """A bound as a UTC instant: a date is a day in China Standard Time (the bureau's day), a
    datetime an instant (naive: UTC). SQLite compares the wall time bound, so it must be UTC."""
    if isinstance(value, dt.datetime):
        return as_utc(value)
    day = value + dt.timedelta(days=1) if day_after else value
    return dt.datetime.combine(day, dt.time(), CST).astimezone(dt.UTC)


def log(
    store: Store,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
    actor: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
) -> list[AuditEntryOut]:
    """Who did what to which row and when, oldest first; ``since``/``until`` are inclusive."""
    from engine.records.accounts import display_names  # accounts appends through this module

    if entity is not None and entity not in ENTITIES:
        raise RecordError(key="bad_entity", entity=repr(entity), entities=", ".join(ENTITIES))
    a = AuditRow
    stmt = select(a).order_by(col(a.seq))
    if since is not None:
        stmt = stmt.where(col(a.at) >= _utc(since))
    if until is not None:
        is_day = not isinstance(until, dt.datetime)
        stmt = stmt.where(col(a.at) < _utc(until, True) if is_day else col(a.at) <= _utc(until))
    for column, value in ((a.actor, actor), (a.entity, entity), (a.entity_id, entity_id)):
        if value is not None:
            stmt = stmt.where(col(column) == value)
    with store.reading() as s:
        links = s.execute(stmt).scalars().all()
        names = display_names(s, {link.actor for link in links})
    return [
        AuditEntryOut(
            seq=stored_id(link.seq),
            at=as_utc(link.at),
            actor=link.actor,
            actor_name=names.get(link.actor, link.actor),
            action=link.action,
            entity=link.entity,
            entity_id=link.entity_id,
            fieldset=link.fieldset,
            summary=link.summary,
            digest=link.digest,
            hash=link.hash,
        )
        for link in links
    ]
