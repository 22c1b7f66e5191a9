"""Confirmed decisions for tests, made through the library where it exists.

Accounts, submissions and proposals go through ``accounts.add_account``, ``records.submit`` and
``records.decide``; confirmations and returns through ``records.confirm``/``return_proposal``.
"""

from __future__ import annotations

import datetime as dt

from appdoc import example

from engine.records import accounts
from engine.records import service as records
from engine.records.store.models import DecisionRow, SubmissionIn

#: login -> (role, display name): a proposer, a reviewer and an issuing officer
STAFF = {
    "wang": ("officer", "王芳"),
    "zhao": ("reviewer", "赵敏"),
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


def _app_of(store, decision_id: int) -> str:
    with store.reading() as s:
        return s.get(DecisionRow, decision_id).application_id


def confirm(store, decision_id: int, reviewer: str = REVIEWER, at: dt.datetime | None = None) -> int:
    """Confirm a proposal (it replaces the decision in force of its application, if any)."""
    from engine.rulebook.loader import load_rulebook

    records.confirm(store, _app_of(store, decision_id), load_rulebook(), reviewer, now=at)
    return decision_id


def send_back(store, decision_id: int, reviewer: str = REVIEWER, at: dt.datetime | None = None) -> int:
    """Return a proposal unconfirmed."""
    records.return_proposal(store, _app_of(store, decision_id), reviewer, "退回补正", now=at)
    return decision_id


def confirmed(store, app_id: str, book, raw: bytes | None = None, *, at: dt.datetime | None = None, **changes) -> int:
    """A decision of ``app_id`` proposed and confirmed at ``at`` (default now): its id."""
    decision_id = propose(store, app_id, book, raw, at=at, **changes)
    confirm(store, decision_id, at=at)
    return decision_id
