"""The list's rules as views.py had them before listing moved to SQL (engine/records/store/state.py,
engine/records/browse.py): every row read into Python and each application worked out here. Kept
only as the reference the SQL is held to (test_listing.py); not used by the engine."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import col

from engine.cst import as_cst
from engine.records.adjusting import apply_overrides
from engine.records.common import decision_out, decision_state, submission_out, submission_status, unloaded
from engine.records.store.db import as_utc
from engine.records.store.models import ApplicationOut, DecisionRow, ReviewRow, SubmissionRow


def _group(subs: Iterable[SubmissionRow]) -> dict:
    by_app: dict = {}
    for sub in subs:
        key = sub.application_id if sub.application_id is not None else f"#submission-{sub.id}"
        by_app.setdefault(key, []).append(sub)
    return by_app


@dataclass
class Reviews:
    """Every review, and which decision each confirmation took out of force."""

    of: dict  # decision id -> ReviewRow
    replaced_by: dict  # decision id -> the decision whose confirmation replaced it

    @classmethod
    def read(cls, s, app_ids: list[str] | None = None) -> Reviews:
        q = select(ReviewRow)
        if app_ids is not None:
            q = q.where(col(ReviewRow.application_id).in_(app_ids))
        rows = s.exec(q).scalars().all()
        if app_ids is not None:  # a correction replaces another application's decision
            replacing = s.exec(
                select(col(ReviewRow.replaces_id), col(ReviewRow.decision_id)).where(
                    col(ReviewRow.replaces_id).is_not(None), col(ReviewRow.action) == "confirm"
                )
            ).all()
        else:
            replacing = [(r.replaces_id, r.decision_id) for r in rows if r.replaces_id and r.action == "confirm"]
        return cls({r.decision_id: r for r in rows}, dict(replacing))

    def state(self, d: DecisionRow) -> str:
        return decision_state(self.of.get(d.id), self.replaced_by.get(d.id))


def current_version(subs: list[SubmissionRow]) -> SubmissionRow:
    """The version the application stands on: its latest not rejected (else its latest)."""
    standing = [r for r in subs if r.valid is not False]
    return (standing or subs)[-1]


def _application(
    subs, decisions, notices, reviews: Reviews, full, telemetry=(), statuses=None, numbers=None
) -> ApplicationOut:
    """``statuses``: decision id -> statuses, for decisions loaded without their document."""
    subs = sorted(subs, key=lambda r: (r.version or 0, r.id))
    latest, current = subs[-1], current_version(subs)
    states = {d.id: reviews.state(d) for d in decisions}
    force = [d for d in decisions if states[d.id] == "in_force"]
    in_force = max(force, key=lambda d: d.id) if force else None
    proposed = [d for d in decisions if states[d.id] == "proposed"]
    proposal = max(proposed, key=lambda d: d.id) if proposed else None
    shown_decision = in_force or proposal
    if statuses is not None:
        shown = statuses.get(shown_decision.id, {}) if shown_decision is not None else {}
    elif shown_decision is not None:
        doc = json.loads(shown_decision.document)
        review = reviews.of.get(shown_decision.id)
        if review is not None and review.overrides:
            doc = apply_overrides(doc, json.loads(review.overrides))
        shown = {k: v["status"] for k, v in doc["outcomes"].items()}
    else:
        shown = {}
    decided_subs = {d.submission_id for d in force}
    proposed_subs = {d.submission_id for d in proposed}
    if current.valid is not True:
        status = "received" if not current.validated else "rejected"
    elif proposal is not None:
        status = "proposed"
    elif current.id in decided_subs:
        status = "decided"
    elif any(states[d.id] == "superseded" and d.submission_id == current.id for d in decisions):
        status = "corrected"  # its decision was replaced by a correcting application's
    else:
        status = "pending"
    rejected_later = [r.version for r in subs if r.valid is False and (r.version or 0) > (current.version or 0)]
    app = ApplicationOut(
        application_id=latest.application_id,
        status=status,
        enterprise_name=current.enterprise_name,
        credit_code=current.credit_code,
        region_code=current.region_code,
        latest_version=latest.version,
        current_version=current.version,
        rejected_versions=[v for v in rejected_later if v is not None],
        received_at=as_utc(current.received_at),
        decision_id=in_force.id if in_force else None,
        proposal_id=proposal.id if proposal else None,
        statuses=shown,
    )
    if full:

        def version_status(r):
            if r.valid is not False and r.id != current.id:
                return "superseded"
            state = submission_status(r, r.version, r.id in decided_subs)
            return "proposed" if state == "pending" and r.id in proposed_subs else state

        app.versions = [submission_out(r, version_status(r)) for r in subs]
        app.decisions = [
            decision_out(d, reviews.replaced_by.get(d.id), reviews.of.get(d.id))
            for d in sorted(decisions, key=lambda d: d.id)
        ]
    return app


def _matches_outcome(app: ApplicationOut, spec: str) -> bool:
    name, _, status = spec.partition("=")
    got = app.statuses.get(name)
    if got is None:
        return False
    return got == status if status else got != "not_applicable"


def list_applications(
    store,
    status: str | None = None,
    region: str | None = None,
    outcome: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[ApplicationOut]:
    """One line per application (its latest version and the decision in force), filtered.

    ``since``/``until`` are inclusive dates of the latest version's receipt (UTC);
    ``outcome`` is ``NAME`` (any status but not_applicable) or ``NAME=STATUS``.
    """
    with store.reading() as s:
        # Neither submitted documents nor decision documents are loaded whole: only the
        # statuses of the decisions shown, read in batches.
        subs = s.exec(select(SubmissionRow).options(unloaded(SubmissionRow.raw))).scalars().all()
        decisions = s.exec(select(DecisionRow).options(unloaded(DecisionRow.document))).scalars().all()
        reviews = Reviews.read(s)
        by_app_dec: dict = {}
        for d in decisions:
            by_app_dec.setdefault(d.application_id, []).append(d)
        shown_ids = []
        for ds in by_app_dec.values():
            live = [d for d in ds if reviews.state(d) in ("in_force", "proposed")]
            force = [d for d in live if reviews.state(d) == "in_force"]
            pick = force or live
            if pick:
                shown_ids.append(max(pick, key=lambda d: d.id).id)
        statuses = {}
        for i in range(0, len(shown_ids), 500):
            for d_id, document in s.exec(
                select(col(DecisionRow.id), col(DecisionRow.document)).where(
                    col(DecisionRow.id).in_(shown_ids[i : i + 500])
                )
            ).all():
                doc = json.loads(document)
                review = reviews.of.get(d_id)
                if review is not None and review.overrides:
                    doc = apply_overrides(doc, json.loads(review.overrides))
                statuses[d_id] = {k: v["status"] for k, v in doc["outcomes"].items()}
    out = []
    for group in _group(subs).values():
        app = _application(
            group, by_app_dec.get(group[0].application_id, []), [], reviews, full=False, statuses=statuses
        )
        if status and app.status != status:
            continue
        if region and app.region_code != region:
            continue
        if outcome and not _matches_outcome(app, outcome):
            continue
        day = as_cst(app.received_at).date()
        if (since and day < since) or (until and day > until):
            continue
        out.append(app)
    return sorted(out, key=lambda a: (a.received_at, a.application_id or ""))


def application(store, app_id: str) -> ApplicationOut:
    """One application in full (versions and decisions), by the same rules."""
    with store.reading() as s:
        subs = s.exec(select(SubmissionRow).where(col(SubmissionRow.application_id) == app_id)).scalars().all()
        decisions = s.exec(select(DecisionRow).where(col(DecisionRow.application_id) == app_id)).scalars().all()
        return _application(subs, decisions, [], Reviews.read(s), full=True)
