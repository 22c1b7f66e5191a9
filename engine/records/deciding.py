"""Deciding: the latest version of an application, with the enterprise's history from the record.

Each decision is its own transaction; the ruleset it was decided under is kept as a snapshot,
so replay and notices read the rules of the decision, not the current ones.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import exists, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
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
    spoken,
)
from engine.records import audit
from engine.records.accounts import require
from engine.records.adjusting import no_zero_grants, one_payment
from engine.records.common import decision_out, latest_submission, sha256, unloaded
from engine.records.standing import enterprises_rows, history_of, overlapping, standing
from engine.records.store import state
from engine.records.store.bulk import FLUSH, Bulk
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
    return in_force_rows(s, [app_id]).get(app_id)


def open_proposal(s, app_id: str) -> DecisionRow | None:
    """The proposal of ``app_id`` awaiting review, if any (there is at most one)."""
    return open_proposal_rows(s, [app_id]).get(app_id)


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
    return evaluated(book, app, record, telemetry, system_id)[0]


def evaluated(
    book: Rulebook, app: Application, record: History, telemetry=None, system_id: str | None = None
) -> tuple[dict, str]:
    """``evaluate``'s document and its JSON text: serialised once, the text what is stored.

    The engine's decision holds JSON's values only (text, booleans, integers, None: amounts are
    decimal text), so it is the data its text decodes to, and decoding 10 kB back would cost a
    quarter of deciding (tests/records hold the two equal on every rule test's case). Documents
    are values: every step after this one makes a new dict (engine.contract.decision). The
    metering block's figures come from another path, so a metered decision is decoded as stored."""
    decided = app
    if telemetry is not None:
        from engine.telemetry.crosscheck import annotate, facts_for, metered_application

        facts = facts_for(book, app, telemetry, system_id)
        decided, comparisons = metered_application(book, app, facts)
    decision = ReteEngine.for_rulebook(book).decide(decided.model_copy(update={"history": record}))
    decision = with_history(decision, app.history, record)
    if telemetry is not None:
        decision = annotate(decision, book, app, facts, comparisons, telemetry)
    text = dumps_decision(decision)
    return (orjson.loads(text) if telemetry is not None else cast(dict, decision)), text


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
        raise RecordError(key="no_snapshot", digest=digest)
    files = loads_files(snap.files)
    if digest_of(files) != digest:
        raise IntegrityFailure(key="snapshot_tampered", digest=digest)
    return compile_rulebook(DEFAULT_RULES, files)


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
    ((_, result),) = proposals(store, [app_id], book, officer, again, now, opinion)
    if isinstance(result, Exception):
        raise result
    return result


#: at most this many applications, or this much work, per transaction: a batch commits as it
#: goes (a killed decider loses one chunk's work, which stays pending) and holds its locks briefly
CHUNK = 200
CHUNK_SECONDS = 0.5
ATTEMPTS = 5


def proposals(
    store: Store,
    app_ids: list[str],
    book: Rulebook,
    officer: str,
    again: bool = False,
    now: dt.datetime | None = None,
    opinion: str | None = None,
    chunk: int = CHUNK,
    seconds: float = CHUNK_SECONDS,
) -> Iterator[tuple[str, DecisionOut | ShuangtanError]]:
    """Propose on each of ``app_ids``, a chunk per transaction: (app id, its proposal or what
    refused it), each yielded once its chunk is committed. An application never stops the
    others; the record failing ends them all.

    Within a chunk the enterprises are locked in a stable order before anything that counts is
    read, so concurrent deciders of one enterprise queue and deciders of different ones never
    deadlock. A chunk stops taking applications after ``seconds`` of work; an application whose
    version moved between reading and locking goes round again (at most ATTEMPTS times).
    """
    todo = list(dict.fromkeys(app_ids))
    tries: dict[str, int] = {}
    while todo:
        part, todo = todo[:chunk], todo[chunk:]
        results: dict[str, DecisionOut | ShuangtanError] = {}
        try:
            again_ = _propose(store, part, book, officer, again, now, opinion, seconds, results)
        except DBAPIError as exc:
            if isinstance(exc, OperationalError):
                raise  # the record itself failed (disk full, connection lost)
            # the database refused something of this chunk: each alone, so only that one fails
            results, again_ = {}, []
            for a in part:
                try:
                    again_ += _propose(store, [a], book, officer, again, now, opinion, seconds, results)
                except DBAPIError as one:
                    if isinstance(one, OperationalError):
                        raise
                    results[a] = RecordError(
                        key="internal_refused", app=a, code=INTERNAL_ERROR, reason=internal_reason(one.orig or one)
                    )
        yield from ((a, results[a]) for a in part if a in results)
        back = []
        for a in again_:
            tries[a] = tries.get(a, 0) + 1
            if tries[a] >= ATTEMPTS:
                yield a, RecordError(key="versions_arriving", app=a)
            else:
                back.append(a)
        todo = back + todo


def _propose(store, app_ids, book, officer, again, now, opinion, seconds, results) -> list[str]:
    """One transaction over ``app_ids``; fills ``results``; returns the applications to try again."""
    started = time.monotonic()
    made: list[tuple[str, DecisionRow, dict]] = []
    retry: list[str] = []
    with store.session() as s:
        require(s, officer, "propose")
        seen = _current_submissions(s, app_ids, raw=False)  # what to lock: keys, no documents
        store.lock_enterprises(
            s, {(r.credit_code, r.enterprise_name, r.region_code) for r in seen.values() if r.credit_code}
        )
        subs = _current_submissions(s, app_ids, raw=True)
        corrects = {sub.corrects for sub in subs.values() if sub.corrects}
        waiting = open_proposal_rows(s, app_ids, documents=False)
        current = in_force_rows(s, [*app_ids, *corrects])
        rows = enterprises_rows(s, sorted({sub.credit_code for sub in subs.values() if sub.credit_code}))
        telemetry = _telemetry_of(s, [a for a in app_ids if a in subs])
        unflushed: set[str] = set()
        unsent: list[DecisionRow] = []
        store_snapshot(s, book)
        # PostgreSQL: the rows go to the server as they are made; it inserts one while the next
        # is worked out. Not when an application needs the session meanwhile (one not on record,
        # telemetry to read).
        streamed = s.get_bind().dialect.name == "postgresql" and all(a in subs and a not in telemetry for a in app_ids)

        def made_rows() -> Iterator[DecisionRow | object]:  # object: FLUSH
            for k, app_id in enumerate(app_ids):
                if seconds is not None and k and time.monotonic() - started > seconds:
                    retry.extend(app_ids[k:])
                    break
                try:
                    sub, app = _decidable(s, app_id, subs.get(app_id))
                    e = app.enterprise
                    before = seen.get(app_id)
                    if before is None or before.id != sub.id and before.credit_code != e.credit_code:
                        retry.append(app_id)  # a new version (of another enterprise?) arrived unlocked
                        continue
                    if app_id in waiting:
                        raise AlreadyProposedError(app_id, stored_id(waiting[app_id].id))
                    cur = current.get(app_id)
                    if cur is not None and cur.submission_id == sub.id and not again:
                        raise AlreadyDecidedError(app_id, stored_id(cur.id))
                    corrected = current.get(sub.corrects) if sub.corrects else None
                    if e.credit_code in unflushed:  # an earlier proposal of this chunk counts: it needs its id
                        if streamed:
                            yield FLUSH
                        else:
                            _insert(s, unsent)
                        unflushed.clear()
                    mine = rows.setdefault(e.credit_code, [])
                    counting = standing(
                        s, e.credit_code, {app_id} | ({sub.corrects} if sub.corrects else set()), rows=mine
                    )
                    tel = telemetry.get(app_id)
                    try:
                        tel_data = read_stored_telemetry(tel, book, app) if tel is not None else None
                        doc, holds, text = proposal_document(
                            book, app, counting, tel_data, tel.system_id if tel else None
                        )
                    except (InvalidTelemetryError, MeteringError) as exc:
                        assert tel is not None, "only a telemetry file raises these"
                        raise NotDecidableError(
                            key="telemetry_unusable", app=app_id, telemetry=tel.id, filename=tel.filename, problem=exc
                        ) from None
                    replaced = cur if cur is not None else corrected
                    row = _new_decision(
                        submission_id=stored_id(sub.id),
                        application_id=app_id,
                        replaces_id=replaced.id if replaced is not None else None,
                        credit_code=e.credit_code,
                        period_year=app.period.end.year,
                        period_start=app.period.start,
                        period_end=app.period.end,
                        ruleset_version=book.version,
                        ruleset_digest=book.digest,
                        input_sha256=sub.sha256,
                        officer=officer,
                        decided_at=now or now_utc(),
                        document=text,
                        statuses=state.document_statuses(doc, text),
                        **granted_columns(doc),
                        telemetry_id=tel.id if tel is not None else None,
                        opinion=opinion or None,
                        holds=json.dumps(holds, ensure_ascii=False) if holds else None,
                    )
                except ShuangtanError as exc:
                    results[app_id] = exc
                    continue
                except OperationalError:
                    raise  # the record itself failed: nothing of the chunk is kept
                except Exception as exc:  # a defect met on this application: reported, the others go on
                    results[app_id] = RecordError(
                        key="internal", app=app_id, code=INTERNAL_ERROR, reason=internal_reason(exc)
                    )
                    continue
                if not streamed:
                    unsent.append(row)
                unflushed.add(e.credit_code)
                mine.append((row, None))
                made.append((app_id, row, doc))
                yield row

        if streamed:
            _DECISIONS.stream(s, made_rows(), _ids_of)
        else:
            for _ in made_rows():
                pass
            _insert(s, unsent)
        audit.append_many(s, [audit.Entry(officer, "decide.propose", "decision", r, "proposal", a) for a, r, _ in made])
    for app_id, row, doc in made:
        results[app_id] = decision_out(row, superseded_by=None, review=None, doc=doc)
    return retry


_DECISIONS = Bulk(DecisionRow)


def _ids_of(s, rows: list) -> None:
    """The ids the server gave the proposals just streamed: each application's newest decision,
    which is its proposal's, as the chunk holds the locks of its enterprises (a concurrent
    decider of it waits); each one's version is checked all the same."""
    by_app = {r.application_id: r for r in rows}
    found = s.execute(
        select(col(DecisionRow.id), col(DecisionRow.application_id), col(DecisionRow.submission_id)).where(
            col(DecisionRow.id).in_(
                select(func.max(col(DecisionRow.id)))
                .where(col(DecisionRow.application_id).in_(list(by_app)))
                .group_by(col(DecisionRow.application_id))
            )
        )
    ).all()
    for row_id, app_id, sub_id in found:
        if by_app[app_id].submission_id != sub_id:
            raise RuntimeError(f"the newest decision of {app_id} is not the proposal just written")
        by_app[app_id].id = row_id
    if len(found) != len(rows):
        raise RuntimeError("a proposal just written is not on record")


def _new_decision(**values) -> DecisionRow:
    """A decision row to insert with the chunk's others (engine/records/store/bulk.py)."""
    return cast(DecisionRow, _DECISIONS.row(**values))


_insert = _DECISIONS.insert


def _decidable(s, app_id: str, sub: SubmissionRow | None) -> tuple[SubmissionRow, Application]:
    """The application a proposal is made on: its current version, intact and valid."""
    if sub is None:
        if latest_submission(s, app_id) is None:
            raise UnknownApplicationError(key="unknown_application", app=app_id)
        raise NotDecidableError(key="all_rejected", app=app_id)
    if sha256(sub.raw) != sub.sha256:
        raise IntegrityFailure(key="version_tampered", app=app_id, version=sub.version)
    try:
        app = parse_application(sub.raw)
    except InvalidApplicationError as exc:
        raise NotDecidableError(key="version_rejected", app=app_id, version=sub.version, problem=exc) from None
    if app.application_id != app_id:
        raise NotDecidableError(key="version_other_id", app=app_id, version=sub.version)
    return sub, app


def _current_submissions(s, app_ids: list[str], raw: bool) -> dict[str, Any]:
    """app id -> the version it stands on (see ``current_submission``), for many at once: the
    row's columns a proposal reads, its raw document among them (plain rows, not ORM objects), or
    (``raw=False``) its id and enterprise columns alone."""
    latest = (
        select(col(SubmissionRow.application_id).label("app"), func.max(col(SubmissionRow.version)).label("v"))
        .where(col(SubmissionRow.application_id).in_(app_ids), col(SubmissionRow.valid).is_not(False))
        .group_by(col(SubmissionRow.application_id))
        .subquery()
    )
    on = (col(SubmissionRow.application_id) == latest.c.app) & (col(SubmissionRow.version) == latest.c.v)
    if not raw:  # the columns that say whom to lock, as plain rows: no ORM objects to build
        keys = select(
            col(SubmissionRow.id),
            col(SubmissionRow.application_id),
            col(SubmissionRow.credit_code),
            col(SubmissionRow.enterprise_name),
            col(SubmissionRow.region_code),
        ).join(latest, on)
        return {r.application_id: r for r in s.execute(keys)}
    # the columns a proposal reads, as plain rows: an ORM object per version costs more than its query
    rows = select(*(col(getattr(SubmissionRow, c)) for c in _PROPOSED_FROM)).join(latest, on)
    return {r.application_id: r for r in s.execute(rows)}


#: what a proposal reads of the version it is made on
_PROPOSED_FROM = ("id", "application_id", "version", "raw", "sha256", "corrects", "credit_code")


def open_proposal_rows(s, app_ids: list[str], documents: bool = True) -> dict[str, DecisionRow]:
    """app id -> its proposal awaiting review (``open_proposal``), for many at once."""
    stmt = select(DecisionRow).where(col(DecisionRow.application_id).in_(app_ids), _unreviewed())
    if not documents:
        stmt = stmt.options(unloaded(DecisionRow.document))
    return {row.application_id: row for row in s.exec(stmt.order_by(col(DecisionRow.id))).scalars()}


def in_force_rows(s, app_ids: list[str]) -> dict[str, DecisionRow]:
    """app id -> its decision in force (``in_force``), for many at once; a document loads when read."""
    stmt = (
        select(DecisionRow)
        .options(unloaded(DecisionRow.document))
        .where(col(DecisionRow.application_id).in_(app_ids), _confirmed(), _not_superseded())
        .order_by(col(DecisionRow.id))
    )
    return {row.application_id: row for row in s.exec(stmt).scalars()}  # the latest wins


class Proposal(NamedTuple):
    doc: dict  # the decision document as data (decimals as their text)
    holds: list[dict]  # the plausibility checks that hold it for a reviewer's override
    text: str  # the document as stored: ``dumps_decision(doc)``


def proposal_document(book: Rulebook, app: Application, counting, telemetry=None, system_id=None) -> Proposal:
    """The engine's result with the history the counting decisions make, the record's own rules
    applied (one payment per period, no zero grants), and the plausibility checks that hold it.
    Deciding and replaying both come here."""
    record = history_of(counting, app.period.end.year)
    engine_doc, text = evaluated(book, app, record, telemetry, system_id)
    doc = no_zero_grants(one_payment(engine_doc, overlapping(counting, app.period.start, app.period.end)))
    if doc is not engine_doc:  # the record's rules changed it (they return what they were given otherwise)
        text = dumps_decision(doc)
    return Proposal(doc, plausibility_holds(book, app, doc), text)


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
    error: str | None = None  # English, as logged
    said: str | None = None  # the error in the language in force, as a person reads it


def decide_pending(
    store: Store, book: Rulebook, officer: str, opinion: str | None = None, chunk: int = CHUNK
) -> Iterator[BatchItem]:
    """Decide every pending application, a chunk per transaction; skip what another officer took.

    One application never stops the others: whatever fails on it is reported with its reason
    (an unexpected error with the code INTERNAL_ERROR) and the batch goes on. A version never
    validated (received before a crash) is validated first, and recorded rejected if it is.
    Only the record itself failing (disk full, connection lost) ends the batch. Each item is
    yielded once its chunk is committed.
    """
    todo: list[str] = []
    for app_id, sub_id, validated in _pending(store):
        if not validated:
            try:
                if not validate_submission(store, sub_id).valid:
                    rejected = NotDecidableError(key="latest_rejected", app=app_id)
                    yield BatchItem(app_id, error=str(rejected), said=rejected.said())
                    continue
            except ShuangtanError as exc:
                yield BatchItem(app_id, error=str(exc), said=spoken(exc))
                continue
        todo.append(app_id)
    for app_id, result in proposals(store, todo, book, officer, opinion=opinion, chunk=chunk):
        if isinstance(result, (AlreadyDecidedError, AlreadyProposedError)):
            continue  # proposed meanwhile by a concurrent officer
        if isinstance(result, AccountRefused):
            raise result  # the officer, not the application: nothing else would be decided either
        if isinstance(result, ShuangtanError):
            yield BatchItem(app_id, error=str(result), said=spoken(result))
        else:
            yield BatchItem(app_id, result)


def _telemetry_of(s, app_ids: list[str]) -> dict[str, TelemetryRow]:
    """app id -> the latest telemetry attached to it, whichever version it came with: a
    corrected version must not silently lose its metering. An invalid one blocks the decision."""
    found: dict[str, TelemetryRow] = {}
    if not app_ids:
        return found
    stmt = select(TelemetryRow).where(col(TelemetryRow.application_id).in_(app_ids)).order_by(col(TelemetryRow.id))
    for row in s.exec(stmt).scalars():
        found[row.application_id] = row  # the latest wins
    return found
