"""Looking around the record: list, show and export (read-only)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import col

from engine.contract.flat import flatten_decision, result_columns
from engine.cst import as_cst
from engine.records.browse import STATUSES, Filters, decision_state, page
from engine.records.browse import show as browse_show
from engine.records.reviewing import effective_document
from engine.records.store.db import Store
from engine.records.store.direct import from_store
from engine.records.store.models import ApplicationOut, DecisionRow, ReviewRow, SubmissionRow
from engine.rulebook.loader import Rulebook

__all__ = ["STATUSES", "Filters", "export", "export_rows", "list_applications", "list_page", "show"]


@dataclass
class Reviews:
    """Every review, and which decision each confirmation took out of force."""

    of: dict  # decision id -> ReviewRow
    replaced_by: dict  # decision id -> the decision whose confirmation replaced it

    @classmethod
    def read(cls, s) -> Reviews:
        rows = s.exec(select(ReviewRow)).scalars().all()
        replacing = [(r.replaces_id, r.decision_id) for r in rows if r.replaces_id and r.action == "confirm"]
        return cls({r.decision_id: r for r in rows}, dict(replacing))

    def state(self, d: DecisionRow) -> str:
        return decision_state(self.of.get(d.id), self.replaced_by.get(d.id))


def list_page(
    store: Store, filters: Filters | None = None, limit: int | None = None, offset: int = 0, newest_first: bool = False
) -> tuple[int, list[ApplicationOut]]:
    """(how many applications ``filters`` select, those of the page): browse.page on the store."""
    with from_store(store) as r:
        got = page(r, filters or Filters(), limit, offset, newest_first)
    return got.total, [ApplicationOut.model_validate(a) for a in got.rows]


def list_applications(
    store: Store,
    status: str | None = None,
    region: str | None = None,
    outcome: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[ApplicationOut]:
    """One line per application (its current version and the decision in force), filtered, every
    one of them, oldest first (``list_page`` pages).

    ``since``/``until`` are inclusive dates of the current version's receipt (China Standard
    Time); ``outcome`` is ``NAME`` (any status but not_applicable) or ``NAME=STATUS``.
    """
    return list_page(store, Filters(status, region, outcome, since, until))[1]


def show(store: Store, app_id: str) -> ApplicationOut | None:
    with from_store(store) as r:
        got = browse_show(r, app_id)
    return None if got is None else ApplicationOut.model_validate(got)


# --- export for the provincial platform -------------------------------------------------
RECORD_COLUMNS = (
    "decision_id",
    "supersedes_id",
    "in_force",
    "decided_at",
    "officer",
    "reviewer",
    "reviewed_at",
    "overridden",
    "credit_code",
    "enterprise_name",
    "ruleset_version",
    "ruleset_digest",
    "input_sha256",
)


def export_rows(
    store: Store, include_superseded: bool = False, since: dt.date | None = None, until: dt.date | None = None
) -> Iterator[tuple[DecisionRow, ReviewRow, dict, str | None, str | None, bool]]:
    """(row, its confirmation, decision as in force, region, enterprise name, in force) in decision order, confirmed
    decisions only (proposals and returned ones decide nothing); ``since``/``until`` on the day of
    confirmation (China Standard Time)."""
    with store.reading() as s:
        ids = s.exec(select(col(DecisionRow.id)).order_by(col(DecisionRow.id))).scalars().all()
        reviews = Reviews.read(s)
        regions = {
            i: (region, name)
            for i, region, name in s.exec(
                select(col(SubmissionRow.id), col(SubmissionRow.region_code), col(SubmissionRow.enterprise_name))
            ).all()
        }
    for i in range(0, len(ids), 200):  # a batch of documents at a time, not every one ever decided
        with store.reading() as s:
            batch = (
                s.exec(
                    select(DecisionRow).where(col(DecisionRow.id).in_(ids[i : i + 200])).order_by(col(DecisionRow.id))
                )
                .scalars()
                .all()
            )
        for d in batch:
            review = reviews.of.get(d.id)
            state = reviews.state(d)
            if state not in ("in_force", "superseded") or (state == "superseded" and not include_superseded):
                continue
            assert review is not None, "a confirmed decision has its review"
            day = as_cst(review.reviewed_at).date()
            if (since and day < since) or (until and day > until):
                continue
            region, name = regions.get(d.submission_id, (None, None))
            yield d, review, effective_document(None, d, review), region, name, state == "in_force"


def _record(d: DecisionRow, review: ReviewRow, in_force: bool, name: str | None = None) -> dict:
    return {
        "decision_id": d.id,
        "supersedes_id": d.replaces_id if d.replaces_id is not None else d.supersedes_id,
        "in_force": in_force,
        "decided_at": as_cst(d.decided_at).isoformat(),
        "officer": d.officer,
        "reviewer": review.reviewer,
        "reviewed_at": as_cst(review.reviewed_at).isoformat(),
        "overridden": ",".join(o["outcome"] for o in json.loads(review.overrides)) if review.overrides else "",
        "credit_code": d.credit_code,
        "enterprise_name": name,
        "ruleset_version": d.ruleset_version,
        "ruleset_digest": d.ruleset_digest,
        "input_sha256": d.input_sha256,
    }


def export(store: Store, book: Rulebook, out, fmt: str = "csv", bom: bool = False, **filters) -> int:
    """Write decisions in force as CSV (flat columns of engine/contract/flat.py plus the record's,
    a BOM first with ``bom``), XLSX (the same columns under Chinese headers; ``out`` a binary
    stream) or JSON Lines (the documents as in force: a reviewer's overrides applied, kept in
    ``record``)."""
    from engine.tables.writing import CsvRows, XlsxRows, decision_labels

    n = 0
    columns = list(RECORD_COLUMNS) + [c for c in result_columns(book) if c != "error"]
    rows: CsvRows | XlsxRows | None = None
    if fmt == "csv":
        rows = CsvRows(out, columns, bom)
    elif fmt == "xlsx":
        rows = XlsxRows(out, columns, decision_labels(book), sheet="决定")
    for d, review, doc, region, name, force in export_rows(store, **filters):
        if rows is not None:
            rows.write(_record(d, review, force, name) | flatten_decision(doc, region))
        else:
            record = _record(d, review, force, name) | {
                "overrides": json.loads(review.overrides) if review.overrides else []
            }
            out.write(json.dumps(doc | {"record": record}, ensure_ascii=False) + "\n")
        n += 1
    if rows is not None:
        rows.close()
    return n
