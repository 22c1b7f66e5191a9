"""Deciding: the latest version of an application, with the enterprise's history from the record.

Each decision is its own transaction; the ruleset it was decided under is kept as a snapshot,
so replay and notices read the rules of the decision, not the current ones.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import aliased
from sqlmodel import col

from engine.backends.rete.engine import ReteEngine
from engine.batch.readers import dumps_decision
from engine.contract.application import Application, History, parse_application
from engine.contract.decision import Decision, HistoryBlock, Reason
from engine.contract.decision import with_history as extend_with_history
from engine.decimals import fmt_amount
from engine.errors import (
    INTERNAL_ERROR,
    AccountRefused,
    AlreadyDecidedError,
    AlreadyProposedError,
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
from engine.records import audit
from engine.records.accounts import require
from engine.records.adjusting import no_zero_grants, one_payment
from engine.records.common import decision_out, latest_submission, sha256, unloaded
from engine.records.standing import history_of, overlapping, standing
from engine.records.store.db import Store, now_utc
from engine.records.store.models import (
    DecisionOut,
    DecisionRow,
    ReviewRow,
    RulesetSnapshotRow,
    SubmissionRow,
    TelemetryRow,
    stored_id,
)
from engine.records.store.snapshot import dumps_files, loads_files
from engine.records.submissions import read_stored_telemetry, validate_submission
from engine.rulebook.loader import DEFAULT_RULES, Rulebook, compile_rulebook, digest_of

HISTORY_CODE = "HISTORY_FROM_RECORD"
#: history field -> the outcome whose cap or one-time rule reads it
HISTORY_OUTCOMES = {
    "storage_subsidy_granted_this_year_yuan": "storage_subsidy",
    "freight_subsidy_granted_this_year_yuan": "eco_packaging_freight_subsidy",
    "equipment_subsidy_received": "equipment_subsidy",
}


def _confirmed():
    return exists(
        select(ReviewRow.id).where(col(ReviewRow.decision_id) == DecisionRow.id, col(ReviewRow.action) == "confirm")
    )


def _not_superseded():
    """Not taken out of force by a later confirmation (of its own application or a correction)."""
    later = aliased(ReviewRow)
    return ~exists(select(later.id).where(later.replaces_id == DecisionRow.id))


def _unreviewed():
    return ~exists(select(ReviewRow.id).where(col(ReviewRow.decision_id) == DecisionRow.id))


def in_force(s, app_id: str) -> DecisionRow | None:
    """The confirmed decision of ``app_id`` that no later confirmation replaced, if any."""
    return (
        s.exec(
            select(DecisionRow)
            .where(col(DecisionRow.application_id) == app_id, _confirmed(), _not_superseded())
            .order_by(col(DecisionRow.id).desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def open_proposal(s, app_id: str) -> DecisionRow | None:
    """The proposal of ``app_id`` awaiting review, if any (there is at most one)."""
    return (
        s.exec(
            select(DecisionRow)
            .where(col(DecisionRow.application_id) == app_id, _unreviewed())
            .order_by(col(DecisionRow.id).desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def record_history(s, credit_code: str, year: int, exclude_app: str) -> History:
    """What the record says this enterprise already received or has reserved (other applications)."""
    return history_of(standing(s, credit_code, {exclude_app}), year)


def current_submission(s, app_id: str) -> SubmissionRow | None:
    """The version an application stands on: its latest that is not rejected. A rejected
    resubmission never hides the version before it, nor that version's decisions."""
    return (
        s.exec(
            select(SubmissionRow)
            .options(unloaded(SubmissionRow.raw))
            .where(col(SubmissionRow.application_id) == app_id, col(SubmissionRow.valid).is_not(False))
            .order_by(col(SubmissionRow.version).desc())
            .limit(1)
        )
        .scalars()
        .first()
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


def stored_history(doc: dict) -> History:
    """The record's history as the decision document stored it (decimal strings, "true"/"false")."""
    values: dict[str, Any] = {  # Decimal or bool by field: mypy cannot pair a ** dict with fields
        f: (v == "true") if f == "equipment_subsidy_received" else Decimal(v)
        for f, v in doc["history"]["record"].items()
    }
    return History(**values)


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


def snapshot_book(s, digest: str) -> Rulebook:
    snap = s.get(RulesetSnapshotRow, digest)
    if snap is None:
        raise RecordError(f"no ruleset snapshot {digest} on record")
    files = loads_files(snap.files)
    if digest_of(files) != digest:
        raise IntegrityFailure(f"ruleset snapshot {digest} no longer matches its digest")
    return compile_rulebook(DEFAULT_RULES, files)


class _Moved(Exception):
    """A newer version arrived between reading and locking: start again."""


def decide(
    store: Store,
    app_id: str,
    book: Rulebook,
    officer: str,
    again: bool = False,
    now: dt.datetime | None = None,
    opinion: str | None = None,
) -> DecisionOut:
    """Propose a decision on the current version of ``app_id``: the engine's result with the
    enterprise's history, periods and claims taken from the record. In force once confirmed."""
    for _ in range(5):
        try:
            return _decide_once(store, app_id, book, officer, again, now, opinion)
        except _Moved:
            continue
    raise RecordError(f"{app_id}: new versions keep arriving; try again")


def _decide_once(store, app_id, book, officer, again, now, opinion):
    with store.session() as s:
        require(s, officer, "propose")
        sub = current_submission(s, app_id)
        if sub is None:
            if latest_submission(s, app_id) is None:
                raise UnknownApplicationError(f"{app_id}: no submission with this application id on record")
            raise NotDecidableError(f"{app_id}: every version was rejected, nothing to decide")
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
        if current_submission(s, app_id).id != sub.id:
            raise _Moved()
        waiting = open_proposal(s, app_id)
        if waiting is not None:
            raise AlreadyProposedError(app_id, stored_id(waiting.id))
        current = in_force(s, app_id)
        if current is not None and current.submission_id == sub.id and not again:
            raise AlreadyDecidedError(app_id, stored_id(current.id))
        corrected = in_force(s, sub.corrects) if sub.corrects else None
        counting = standing(s, e.credit_code, {app_id} | ({sub.corrects} if sub.corrects else set()))
        tel_row = _telemetry_of(s, app_id)
        try:
            telemetry = read_stored_telemetry(tel_row, book, app) if tel_row is not None else None
            doc, holds = proposal_document(
                book, app, counting, telemetry, tel_row.system_id if tel_row is not None else None
            )
        except (InvalidTelemetryError, MeteringError) as exc:
            raise NotDecidableError(f"{app_id}: telemetry {tel_row.id} ({tel_row.filename}): {exc}") from None
        store_snapshot(s, book)
        row = DecisionRow(
            submission_id=sub.id,
            application_id=app_id,
            replaces_id=current.id if current is not None else corrected.id if corrected is not None else None,
            credit_code=e.credit_code,
            period_year=app.period.end.year,
            period_start=app.period.start,
            period_end=app.period.end,
            ruleset_version=book.version,
            ruleset_digest=book.digest,
            input_sha256=sub.sha256,
            officer=officer,
            decided_at=now or now_utc(),
            document=json.dumps(doc, ensure_ascii=False),
            **granted_columns(doc),
            telemetry_id=tel_row.id if tel_row is not None else None,
            opinion=opinion or None,
            holds=json.dumps(holds, ensure_ascii=False) if holds else None,
        )
        s.add(row)
        audit.append(s, officer, "decide.propose", "decision", row, "proposal", app_id)
        return decision_out(row, superseded_by=None, review=None)


def proposal_document(book: Rulebook, app: Application, counting, telemetry=None, system_id=None):
    """(decision document, holds): the engine's result with the history the counting decisions
    make, the record's own rules applied (one payment per period, no zero grants), and the
    plausibility checks that hold it. Deciding and replaying both come here."""
    record = history_of(counting, app.period.end.year)
    doc = evaluate(book, app, record, telemetry, system_id)
    doc = no_zero_grants(one_payment(doc, overlapping(counting, app.period.start, app.period.end)))
    return doc, plausibility_holds(book, app, doc)


def granted_columns(doc: dict) -> dict:
    """The amounts caps are later counted from, as the decision row keeps them."""
    outs = doc["outcomes"]
    return {
        "storage_granted_yuan": _granted(outs["storage_subsidy"]),
        "freight_granted_yuan": _granted(outs["eco_packaging_freight_subsidy"]),
        "equipment_granted": outs["equipment_subsidy"]["status"] == "granted",
    }


def plausibility_holds(book: Rulebook, app: Application, doc: dict) -> list[dict]:
    """The rulebook's plausibility checks that failed on an outcome this proposal pays or levies:
    such an outcome needs a reviewer's explicit override to be confirmed."""
    try:
        from engine.rulebook.plausibility import holds as failed_checks
    except ImportError:  # a rulebook module without plausibility checks
        return []
    out = []
    for h in failed_checks(book, app):
        if doc["outcomes"].get(h.outcome, {}).get("status") in ("granted", "levied"):
            out.append(
                {
                    "code": h.code,
                    "outcome": h.outcome,
                    "rule": h.rule,
                    "clause": h.clause,
                    "source": h.source,
                    "message": h.message,
                    "message_zh": h.message_zh,
                    "values": h.values,
                }
            )
    return out


def _granted(outcome: dict) -> str:
    return outcome["amount"] if outcome["status"] == "granted" else "0.00"


def _pending(store: Store) -> list[tuple[str, int, bool]]:
    """(application id, current submission id, validated) of every application awaiting a
    proposal; read as columns: no submitted document is loaded to find them.

    An application's current version is its latest not rejected; it awaits a proposal unless a
    proposal of it is awaiting review or was confirmed (a returned one asks for a new proposal).
    """
    with store.reading() as s:
        subs = s.exec(
            select(
                col(SubmissionRow.id),
                col(SubmissionRow.application_id),
                col(SubmissionRow.version),
                col(SubmissionRow.valid),
                col(SubmissionRow.validated),
            )
            .where(col(SubmissionRow.application_id).is_not(None), col(SubmissionRow.valid).is_not(False))
            .order_by(col(SubmissionRow.id))
        ).all()
        taken = set(
            s.exec(
                select(col(DecisionRow.submission_id))
                .join(ReviewRow, col(ReviewRow.decision_id) == col(DecisionRow.id), isouter=True)
                .where((col(ReviewRow.id).is_(None)) | (col(ReviewRow.action) == "confirm"))
            )
            .scalars()
            .all()
        )
    latest: dict = {}
    for sub in subs:
        if sub.application_id not in latest or sub.version > latest[sub.application_id].version:
            latest[sub.application_id] = sub
    return [(a, sub.id, sub.validated) for a, sub in latest.items() if sub.id not in taken]


def pending(store: Store) -> list[str]:
    """Application ids whose latest version is valid (or not yet validated) and not yet decided."""
    return [app_id for app_id, _, _ in _pending(store)]


@dataclass
class BatchItem:
    application_id: str
    decision: DecisionOut | None = None
    error: str | None = None


def decide_pending(store: Store, book: Rulebook, officer: str, opinion: str | None = None) -> Iterator[BatchItem]:
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
            yield BatchItem(app_id, decide(store, app_id, book, officer, opinion=opinion))
        except (AlreadyDecidedError, AlreadyProposedError):
            continue  # proposed meanwhile by a concurrent officer
        except AccountRefused:
            raise  # the officer, not the application: nothing else would be decided either
        except ShuangtanError as exc:
            yield BatchItem(app_id, error=str(exc))
        except OperationalError:
            raise
        except Exception as exc:  # a defect met on this application: reported, the others go on
            yield BatchItem(app_id, error=f"{app_id}: {INTERNAL_ERROR}: {internal_reason(exc)}")


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
