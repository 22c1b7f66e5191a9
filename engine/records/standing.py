"""What the record already holds for an enterprise: the decisions that count.

A decision counts when it is in force (confirmed, not replaced) or is a proposal awaiting
review: a pending proposal reserves its amounts against the annual caps and its period against
a second payment, so two proposals can never together exceed a cap nor pay one period twice.
Confirmed amounts are the review's (an override changes them), a proposal's are the engine's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import col

from engine.contract.application import History
from engine.records.common import unloaded
from engine.records.store.models import DecisionRow, ReviewRow


@dataclass(frozen=True)
class Standing:
    """One counting decision, with the amounts that count."""

    decision_id: int
    application_id: str
    state: str  # in_force | proposed
    period_year: int
    period_start: dt.date | None
    period_end: dt.date | None
    storage_yuan: Decimal
    freight_yuan: Decimal
    equipment: bool


def enterprise_rows(s, credit_code: str) -> list:
    """(decision, its review or None) of every decision of the enterprise, documents not loaded."""
    return enterprises_rows(s, [credit_code]).get(credit_code, [])


def enterprises_rows(s, credit_codes: list[str]) -> dict[str, list]:
    """``enterprise_rows`` of many enterprises in one query: credit code -> rows."""
    found: dict[str, list] = {}
    if not credit_codes:
        return found
    for d, r in s.exec(
        select(DecisionRow, ReviewRow)
        .options(unloaded(DecisionRow.document))
        .join(ReviewRow, col(ReviewRow.decision_id) == col(DecisionRow.id), isouter=True)
        .where(col(DecisionRow.credit_code).in_(credit_codes))
        .order_by(col(DecisionRow.id))
    ).all():
        found.setdefault(d.credit_code, []).append((d, r))
    return found


def standing(
    s, credit_code: str, exclude_apps: set[str], seen: Callable[[str, int], bool] | None = None, rows=None
) -> list[Standing]:
    """Every counting decision of the enterprise outside ``exclude_apps``.

    ``seen(entity, id)`` says which decisions and reviews existed at the moment asked about
    (replay: those before the proposal's audit link); by default, all of them.
    """
    rows = enterprise_rows(s, credit_code) if rows is None else rows
    seen = seen or (lambda entity, key: True)
    replaced = {
        r.replaces_id
        for _, r in rows
        if r is not None and r.action == "confirm" and r.replaces_id and seen("review", r.id)
    }
    out = []
    for d, r in rows:
        if d.application_id in exclude_apps or not seen("decision", d.id):
            continue
        r = r if r is not None and seen("review", r.id) else None
        if r is None:
            state, storage, freight, equipment = (
                "proposed",
                d.storage_granted_yuan,
                d.freight_granted_yuan,
                d.equipment_granted,
            )
        elif r.action == "confirm" and d.id not in replaced:
            state, storage, freight, equipment = (
                "in_force",
                r.storage_granted_yuan,
                r.freight_granted_yuan,
                r.equipment_granted,
            )
        else:
            continue
        out.append(
            Standing(
                decision_id=d.id,
                application_id=d.application_id,
                state=state,
                period_year=d.period_year,
                period_start=d.period_start,
                period_end=d.period_end,
                storage_yuan=Decimal(storage),
                freight_yuan=Decimal(freight),
                equipment=equipment,
            )
        )
    return out


def history_of(counting: list[Standing], year: int) -> History:
    """What the enterprise already received (or has reserved) this year, and the one-time subsidy."""
    this_year = [c for c in counting if c.period_year == year]
    return History(
        storage_subsidy_granted_this_year_yuan=sum((c.storage_yuan for c in this_year), Decimal("0.00")),
        freight_subsidy_granted_this_year_yuan=sum((c.freight_yuan for c in this_year), Decimal("0.00")),
        equipment_subsidy_received=any(c.equipment for c in counting),
    )


def overlapping(counting: list[Standing], start: dt.date, end: dt.date) -> list[tuple[Standing, dt.date, dt.date]]:
    """Counting decisions whose period shares at least one day with [start, end], with the shared days."""
    found = []
    for c in counting:
        if c.period_start is None or c.period_end is None:
            continue  # decided before periods were kept, from a document this record could not read
        first, last = max(start, c.period_start), min(end, c.period_end)
        if first <= last:
            found.append((c, first, last))
    return sorted(found, key=lambda t: t[0].decision_id)
