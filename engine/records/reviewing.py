"""Four eyes: a second officer confirms or returns each proposal.

Money leaves on a confirmed decision only. The confirming officer (or reviewer) is neither the
proposer nor the submitter of the decided version; one officer may confirm a proposal alone
only when its subsidy total is below ``review.single_officer_max_yuan`` (a rulebook parameter,
0 by default: never). A reviewer may override an outcome with a written reason; the override is
kept beside the engine's result, and what is in force (caps, notices, exports) is the overridden
result. A proposal held by a plausibility check is confirmed only with an explicit override of
each held outcome.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from engine.decimals import fmt_amount
from engine.errors import FourEyesError, OverrideError, RecordError, ReviewError, spoken
from engine.records import audit
from engine.records.accounts import require
from engine.records.adjusting import apply_overrides
from engine.records.common import decision_out, unloaded
from engine.records.deciding import (
    CHUNK,
    BatchItem,
    granted_columns,
    in_force,
    in_force_rows,
    open_proposal,
    open_proposal_rows,
    snapshot_book,
)
from engine.records.standing import history_of, standing
from engine.records.store import state
from engine.records.store.bulk import Bulk
from engine.records.store.db import Store, as_utc, now_utc
from engine.records.store.models import DecisionOut, DecisionRow, ReviewRow, SubmissionRow, stored_id
from engine.rulebook.loader import Rulebook

SINGLE_OFFICER = "review.single_officer_max_yuan"
#: capped outcome -> (cap parameter, the history field the cap is counted against)
CAPS = {
    "storage_subsidy": ("storage_subsidy.annual_cap", "storage_subsidy_granted_this_year_yuan"),
    "eco_packaging_freight_subsidy": (
        "eco_packaging_freight_subsidy.annual_cap",
        "freight_subsidy_granted_this_year_yuan",
    ),
}
_SPEC = re.compile(r"^([a-z_]+)=([a-z_]+)(?::([0-9]+(?:\.[0-9]+)?))?$")


@dataclass(frozen=True)
class Override:
    outcome: str
    status: str
    amount: str | None  # as given; None: the engine's amount where the status keeps one


def parse_override(spec: str) -> Override:
    """``OUTCOME=STATUS[:AMOUNT]``, e.g. ``storage_subsidy=granted:200000.00``."""
    m = _SPEC.match(spec.strip())
    if not m:
        raise OverrideError(key="override_form", spec=repr(spec))
    return Override(m.group(1), m.group(2), m.group(3))


def _overridden(doc: dict, book, overrides: list[Override], reviewer: str, reason: str) -> tuple[dict, list[dict]]:
    """The document with ``overrides`` applied (validated against the rulebook) and their record."""
    outcomes, kept = dict(doc["outcomes"]), []
    seen = set()
    for o in overrides:
        if o.outcome in seen:
            raise OverrideError(key="override_twice", outcome=o.outcome)
        seen.add(o.outcome)
        if o.outcome not in outcomes:
            raise OverrideError(key="override_no_outcome", outcome=o.outcome, outcomes=", ".join(outcomes))
        rule = book.outcome(o.outcome)
        if o.status not in rule.statuses or o.status == "not_applicable":
            statuses = ", ".join(x for x in rule.statuses if x != "not_applicable")
            raise ReviewError(key="override_status", outcome=o.outcome, status=o.status, statuses=statuses)
        out = outcomes[o.outcome]
        if out["status"] == "not_applicable":
            raise OverrideError(key="override_not_applicable", outcome=o.outcome)
        unit = out["unit"] or rule.unit
        places = 3 if unit == "tCO2e" else 2
        amount: str | None
        if rule.kind == "check":
            if o.amount is not None:
                raise OverrideError(key="override_check_amount", outcome=o.outcome)
            amount = None
        elif o.status in ("denied", "exempt"):
            if o.amount is not None and Decimal(o.amount) != 0:
                raise OverrideError(key="override_no_amount", outcome=o.outcome, status=o.status)
            amount = fmt_amount(Decimal(0), places)
        elif o.amount is not None:
            try:
                value = Decimal(o.amount)
            except InvalidOperation:
                raise OverrideError(key="override_not_amount", outcome=o.outcome, amount=repr(o.amount)) from None
            if -value.as_tuple().exponent > places or value.adjusted() >= 15:  # type: ignore[operator]
                raise OverrideError(key="override_places", outcome=o.outcome, amount=o.amount, places=places)
            amount = fmt_amount(value, places)
        elif out["status"] == o.status and out["amount"] is not None:
            amount = out["amount"]  # the engine's amount, accepted as proposed (a held outcome)
        else:
            raise ReviewError(
                key="override_give_amount", outcome=o.outcome, status=o.status, zero="0.000" if places == 3 else "0.00"
            )
        was = {"status": out["status"], "amount": out["amount"]}
        now = {"status": o.status, "amount": amount}
        kept.append({"outcome": o.outcome, "engine": was, "decided": now, "reason": reason, "by": reviewer})
    return apply_overrides(doc, kept), kept


def effective_document(s, row: DecisionRow, review: ReviewRow | None = None) -> dict:
    """What is decided: the engine's document with the review's overrides applied and the review
    block (who proposed, who confirmed, their opinions) beside it. A proposal: the engine's."""
    doc = state.loads_document(row.document)
    if review is None:
        review = s.exec(_review_of(stored_id(row.id))).scalars().first()
    block = {
        "state": "proposed" if review is None else ("confirmed" if review.action == "confirm" else "returned"),
        "proposed_by": row.officer,
        "proposed_at": as_utc(row.decided_at).isoformat(),
        "proposal_opinion": row.opinion,
        "holds": json.loads(row.holds) if row.holds else [],
    }
    if review is not None:
        overrides = json.loads(review.overrides) if review.overrides else []
        if overrides:
            doc = apply_overrides(doc, overrides)
        block |= {
            "reviewed_by": review.reviewer,
            "reviewed_at": as_utc(review.reviewed_at).isoformat(),
            "opinion": review.opinion,
            "overrides": overrides,
        }
    return {**doc, "review": block}


def _review_of(decision_id: int):
    from sqlalchemy import select
    from sqlmodel import col

    return select(ReviewRow).where(col(ReviewRow.decision_id) == decision_id)


def _proposal(s, app_id: str) -> DecisionRow:
    row = open_proposal(s, app_id)
    if row is not None:
        return row
    current = in_force(s, app_id)
    if current is not None:
        raise ReviewError(key="no_proposal_in_force", app=app_id, decision=current.id)
    raise ReviewError(key="no_proposal", app=app_id)


def confirm(
    store: Store,
    app_id: str,
    book,
    reviewer: str,
    opinion: str | None = None,
    overrides: tuple[str, ...] | list[str] = (),
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> DecisionOut:
    """Confirm the proposal awaiting review: from now on it is the decision in force."""
    parsed = [parse_override(o) for o in overrides]
    if parsed and not (reason or "").strip():
        raise OverrideError(key="override_reason")
    results: dict[str, DecisionOut | RecordError] = {}
    _confirm(store, [app_id], reviewer, opinion, parsed, (reason or "").strip(), now, results, alone=True)
    result = results[app_id]
    if isinstance(result, Exception):
        raise result
    return result


def _confirm(store: Store, app_ids, reviewer, opinion, parsed, reason, now, results, alone=False) -> None:
    """Confirm the proposals of ``app_ids`` in one transaction, filling ``results`` with each
    one's decision or what refused it. The enterprises are locked (in a stable order) before the
    proposals are read again, so a concurrent reviewer of the same ones queues behind.
    ``alone``: one application, its review inserted under a savepoint so a concurrent review
    that got there first is named as such (a chunk that meets one is redone one by one)."""
    made = []
    unsent: list[ReviewRow] = []
    unflushed: set[str] = set()
    books: dict[str, Rulebook] = {}
    with store.session() as s:
        account = require(s, reviewer, "review")
        first = open_proposal_rows(s, app_ids, documents=False)
        store.lock_enterprises(s, {(r.credit_code, None, None) for r in first.values()})
        proposals = open_proposal_rows(s, app_ids)
        subs = {
            r.id: r
            for r in s.exec(
                select(SubmissionRow)
                .options(unloaded(SubmissionRow.raw))
                .where(col(SubmissionRow.id).in_([p.submission_id for p in proposals.values()]))
            ).scalars()
        }
        corrects = {sub.corrects for sub in subs.values() if sub.corrects}
        current = in_force_rows(s, [*app_ids, *corrects])
        for app_id in app_ids:
            try:
                row = proposals.get(app_id)
                if row is None:
                    if app_id in first:
                        raise ReviewError(key="reviewed_meanwhile", app=app_id, decision=first[app_id].id)
                    cur = current.get(app_id)
                    if cur is not None:
                        raise ReviewError(key="no_proposal_in_force", app=app_id, decision=cur.id)
                    raise ReviewError(key="no_proposal", app=app_id)
                sub = subs[row.submission_id]
                doc = state.loads_document(row.document)
                if account.name == sub.submitted_by:
                    raise FourEyesError(key="four_eyes_submitted", app=app_id, name=account.name, version=sub.version)
                if row.ruleset_digest not in books:
                    books[row.ruleset_digest] = snapshot_book(s, row.ruleset_digest)
                snapshot = books[row.ruleset_digest]
                if account.name == row.officer:
                    limit = Decimal(
                        str(snapshot.values_at(dt.date.fromisoformat(doc["evaluated_on"])).get(SINGLE_OFFICER, 0))
                    )
                    if not Decimal(doc["totals"]["subsidy_yuan"]) < limit:
                        raise FourEyesError(
                            key="four_eyes_proposed",
                            app=app_id,
                            name=account.name,
                            decision=row.id,
                            parameter=SINGLE_OFFICER,
                            parameters=("parameter",),
                            limit=fmt_amount(limit, 2),
                        )
                holds = json.loads(row.holds) if row.holds else []
                unresolved = [h for h in holds if h["outcome"] not in {o.outcome for o in parsed}]
                if unresolved:
                    held = "; ".join(f"{h['code']} on {h['outcome']}: {h['message']}" for h in unresolved)
                    raise ReviewError(key="held", app=app_id, decision=row.id, holds=held)
                decided, kept = _overridden(doc, snapshot, parsed, account.name, reason)
                if row.credit_code in unflushed:
                    _insert_reviews(s, unsent)  # an earlier review of this chunk counts towards the caps
                    unflushed.clear()
                _within_caps(s, row, sub, decided, kept)
                replaces = current.get(app_id) or (current.get(sub.corrects) if sub.corrects else None)
                replaces_id = stored_id(replaces.id) if replaces is not None else None
                if replaces_id != row.replaces_id:
                    raise ReviewError(
                        key="record_changed", app=app_id, decision=row.id, was=row.replaces_id, now=replaces_id
                    )
            except RecordError as exc:
                results[app_id] = exc
                continue
            review = (ReviewRow if alone else _new_review)(
                decision_id=stored_id(row.id),
                application_id=app_id,
                action="confirm",
                reviewer=account.name,
                opinion=(opinion or "").strip() or None,
                overrides=json.dumps(kept, ensure_ascii=False) if kept else None,
                reviewed_at=now or now_utc(),
                replaces_id=replaces_id,
                **granted_columns(decided),  # what caps count from now on: the overridden amounts
                subsidy_yuan=decided["totals"]["subsidy_yuan"],
                levy_yuan=decided["totals"]["levy_yuan"],
            )
            if alone:
                try:
                    with s.begin_nested():
                        s.add(review)
                        s.flush()
                except IntegrityError:
                    results[app_id] = ReviewError(key="reviewed_or_replaced", app=app_id, decision=row.id)
                    continue
            else:
                unsent.append(review)
                unflushed.add(row.credit_code)
            summary = f"{app_id} decision {row.id}" + (
                f"; overrides {', '.join(k['outcome'] for k in kept)}" if kept else ""
            )
            made.append((app_id, row, review, doc, summary))
        s.flush()
        _insert_reviews(s, unsent)
        audit.append_many(
            s, [audit.Entry(account.name, "review.confirm", "review", rv, "review", m) for _, _, rv, _, m in made]
        )
    for app_id, row, review, doc, _ in made:
        results[app_id] = decision_out(row, superseded_by=None, review=review, doc=doc)


_REVIEWS = Bulk(ReviewRow)


def _new_review(**values) -> ReviewRow:
    """A review row to insert with the chunk's others (engine/records/store/bulk.py)."""
    # what the column's default would derive, were the ORM inserting: given here, as a value
    values.setdefault("statuses", state.override_statuses(values.get("overrides")))
    return cast(ReviewRow, _REVIEWS.row(**values))


_insert_reviews = _REVIEWS.insert


def _within_caps(s, row: DecisionRow, sub: SubmissionRow, decided: dict, kept: list[dict]) -> None:
    """An override never pays beyond an annual cap: what the other counting decisions hold is
    read now, under the enterprise's lock."""
    raised = [k for k in kept if k["outcome"] in CAPS and k["decided"]["status"] == "granted"]
    if not raised:
        return
    exclude = {row.application_id} | ({sub.corrects} if sub.corrects else set())
    history = history_of(standing(s, row.credit_code, exclude), row.period_year)
    for k in raised:
        param, field = CAPS[k["outcome"]]
        cap = decided["outcomes"][k["outcome"]]["parameters"].get(param, {}).get("value")
        if cap is None:
            continue
        remaining = max(Decimal(0), Decimal(cap) - getattr(history, field))
        if Decimal(k["decided"]["amount"]) > remaining:
            raise ReviewError(
                key="over_cap",
                outcome=k["outcome"],
                amount=k["decided"]["amount"],
                remaining=fmt_amount(remaining, 2),
                cap=cap,
            )


def return_proposal(
    store: Store, app_id: str, reviewer: str, opinion: str, now: dt.datetime | None = None
) -> DecisionOut:
    """Send the proposal back: nothing is decided, and the application awaits a new proposal."""
    if not (opinion or "").strip():
        raise ReviewError(key="return_opinion")
    with store.session() as s:
        account = require(s, reviewer, "review")
        row = _proposal(s, app_id)
        review = ReviewRow(
            decision_id=stored_id(row.id),
            application_id=app_id,
            action="return",
            reviewer=account.name,
            opinion=opinion.strip(),
            reviewed_at=now or now_utc(),
            storage_granted_yuan="0.00",
            freight_granted_yuan="0.00",
            equipment_granted=False,
            subsidy_yuan="0.00",
            levy_yuan="0.00",
        )
        try:
            with s.begin_nested():
                s.add(review)
                s.flush()
        except IntegrityError:
            raise ReviewError(key="reviewed_meanwhile", app=app_id, decision=row.id) from None
        audit.append(s, account.name, "review.return", "review", review, "review", f"{app_id} decision {row.id}")
        return decision_out(row, superseded_by=None, review=review)


def confirm_many(store: Store, app_ids, book, reviewer: str, opinion: str | None = None, chunk: int = CHUNK):
    """Confirm each proposal (no overrides: a held one is reported, the others go on), a chunk
    per transaction, each item yielded once its chunk is committed. The reviewer's own account
    is checked first: refused, nothing is confirmed."""
    with store.reading() as s:
        require(s, reviewer, "review")
    todo = list(dict.fromkeys(app_ids))
    for k in range(0, len(todo), chunk):
        part = todo[k : k + chunk]
        results: dict[str, DecisionOut | RecordError] = {}
        try:
            _confirm(store, part, reviewer, opinion, [], "", None, results)
        except IntegrityError:  # a concurrent review of one of them: each alone, to name which
            results = {}
            for a in part:
                _confirm(store, [a], reviewer, opinion, [], "", None, results, alone=True)
        for app_id in part:
            result = results[app_id]
            if isinstance(result, Exception):  # FourEyesError here: this application's proposer or submitter
                yield BatchItem(app_id, error=str(result), said=spoken(result))
            else:
                yield BatchItem(app_id, result)
