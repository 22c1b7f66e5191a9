"""Confirmed decisions for tests, made through the library where it exists.

Accounts, submissions and proposals go through ``accounts.add_account``, ``records.submit`` and
``records.decide``. The confirmation is inserted directly (a review row, action "confirm", the
amounts copied from the decision, and its audit link) until the library's own ``confirm``
exists: ``confirm`` below is the one function to swap for it.
"""

from __future__ import annotations

import datetime as dt
import json

from appdoc import example

from engine.records import accounts, audit
from engine.records import service as records
from engine.records.deciding import in_force
from engine.records.store.db import now_utc
from engine.records.store.models import DecisionRow, ReviewRow, SubmissionIn

#: login -> (role, display name): a proposer, a reviewer and an issuing officer
STAFF = {
    "wang": ("officer", "王晓明"),
    "zhao": ("reviewer", "赵立新"),
    "chen": ("officer", "陈静"),
}
OFFICER, REVIEWER, ISSUER = "wang", "zhao", "chen"


def staff(store) -> None:
    """The accounts of ``STAFF``, added once."""
    have = {a.name for a in accounts.list_accounts(store)}
    for name, (role, shown) in STAFF.items():
        if name not in have:
            accounts.add_account(store, name, role, "test", display_name=shown)


def propose(store, app_id: str, book, raw: bytes | None = None, *, at: dt.datetime | None = None, **changes) -> int:
    """Submit ``raw`` (default: the worked example as ``app_id`` with ``changes``) and propose a decision."""
    raw = raw if raw is not None else example(app_id, **changes)
    records.submit(store, SubmissionIn(raw=raw, submitted_by=OFFICER))
    return records.decide(store, app_id, book, OFFICER, again=True, now=at).id


def _review(store, decision_id: int, action: str, reviewer: str, at: dt.datetime | None) -> int:
    with store.session() as s:
        row = s.get(DecisionRow, decision_id)
        current = in_force(s, row.application_id)
        replaces = row.replaces_id or (current.id if current is not None and current.id != row.id else None)
        totals = json.loads(row.document)["totals"]
        review = ReviewRow(
            decision_id=decision_id,
            application_id=row.application_id,
            action=action,
            reviewer=reviewer,
            reviewed_at=at or now_utc(),
            replaces_id=replaces if action == "confirm" else None,
            storage_granted_yuan=row.storage_granted_yuan,
            freight_granted_yuan=row.freight_granted_yuan,
            equipment_granted=row.equipment_granted,
            subsidy_yuan=totals["subsidy_yuan"],
            levy_yuan=totals["levy_yuan"],
        )
        s.add(review)
        audit.append(s, reviewer, f"review.{action}", "review", review, "review", f"decision {decision_id}")
        s.flush()
        assert review.id is not None
        return review.id


def confirm(store, decision_id: int, reviewer: str = REVIEWER, at: dt.datetime | None = None) -> int:
    """Confirm a proposal (it replaces the decision in force of its application, if any)."""
    return _review(store, decision_id, "confirm", reviewer, at)


def send_back(store, decision_id: int, reviewer: str = REVIEWER, at: dt.datetime | None = None) -> int:
    """Return a proposal unconfirmed."""
    return _review(store, decision_id, "return", reviewer, at)


def confirmed(store, app_id: str, book, raw: bytes | None = None, *, at: dt.datetime | None = None, **changes) -> int:
    """A decision of ``app_id`` proposed and confirmed at ``at`` (default now): its id."""
    decision_id = propose(store, app_id, book, raw, at=at, **changes)
    confirm(store, decision_id, at=at)
    return decision_id
