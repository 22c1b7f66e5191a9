"""Looking around the record: list, show and export (read-only)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlmodel import col

from engine.contract.flat import flatten_decision, result_columns
from engine.records.common import decision_out, submission_out, submission_status, telemetry_out, unloaded
from engine.records.store.db import Store, as_utc
from engine.records.store.models import (
    ApplicationOut,
    DecisionRow,
    NoticeOut,
    NoticeRow,
    SubmissionRow,
    TelemetryRow,
    stored_id,
)
from engine.rulebook.loader import Rulebook

STATUSES = ("received", "rejected", "pending", "decided")


def _group(subs: Iterable[SubmissionRow]) -> dict:
    by_app: dict = {}
    for sub in subs:
        key = sub.application_id if sub.application_id is not None else f"#submission-{sub.id}"
        by_app.setdefault(key, []).append(sub)
    return by_app


def _superseded_by(decisions) -> dict[int, int]:
    return {d.supersedes_id: d.id for d in decisions if d.supersedes_id is not None}


def _current(decisions, later):
    force = [d for d in decisions if d.id not in later]
    return max(force, key=lambda d: d.id) if force else None


def _application(subs, decisions, notices, later, full, telemetry=(), statuses=None) -> ApplicationOut:
    """``statuses``: decision id -> statuses, for decisions loaded without their document."""
    subs = sorted(subs, key=lambda r: (r.version or 0, r.id))
    latest = subs[-1]
    decided_subs = {d.submission_id for d in decisions}
    current = _current(decisions, later)
    if statuses is not None:
        shown = statuses.get(current.id, {}) if current is not None else {}
    else:
        doc = json.loads(current.document) if current else None
        shown = {k: v["status"] for k, v in doc["outcomes"].items()} if doc else {}
    app = ApplicationOut(
        application_id=latest.application_id,
        status=submission_status(latest, latest.version, latest.id in decided_subs),
        enterprise_name=latest.enterprise_name,
        credit_code=latest.credit_code,
        region_code=latest.region_code,
        latest_version=latest.version,
        received_at=as_utc(latest.received_at),
        decision_id=current.id if current else None,
        statuses=shown,
    )
    if full:
        app.versions = [submission_out(r, submission_status(r, latest.version, r.id in decided_subs)) for r in subs]
        app.decisions = [decision_out(d, later.get(d.id)) for d in sorted(decisions, key=lambda d: d.id)]
        app.notices = [notice_out(n) for n in notices]
        app.telemetry = [telemetry_out(t) for t in telemetry]
    return app


def notice_out(n: NoticeRow) -> NoticeOut:
    return NoticeOut(
        id=stored_id(n.id),
        decision_id=n.decision_id,
        kind=n.kind,
        lang=n.lang,
        format=n.format,
        filename=n.filename,
        sha256=n.sha256,
        notice_date=n.notice_date,
        issued_at=as_utc(n.issued_at),
        issued_by=n.issued_by,
    )


def _matches_outcome(app: ApplicationOut, spec: str) -> bool:
    name, _, status = spec.partition("=")
    got = app.statuses.get(name)
    if got is None:
        return False
    return got == status if status else got != "not_applicable"


def list_applications(
    store: Store,
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
        # statuses of the decisions in force, read in batches.
        subs = s.exec(select(SubmissionRow).options(unloaded(SubmissionRow.raw))).scalars().all()
        decisions = s.exec(select(DecisionRow).options(unloaded(DecisionRow.document))).scalars().all()
        later = _superseded_by(decisions)
        by_app_dec: dict = {}
        for d in decisions:
            by_app_dec.setdefault(d.application_id, []).append(d)
        current = [c.id for c in (_current(ds, later) for ds in by_app_dec.values()) if c is not None]
        statuses = {}
        for i in range(0, len(current), 500):
            for d_id, document in s.exec(
                select(col(DecisionRow.id), col(DecisionRow.document)).where(
                    col(DecisionRow.id).in_(current[i : i + 500])
                )
            ).all():
                statuses[d_id] = {k: v["status"] for k, v in json.loads(document)["outcomes"].items()}
    out = []
    for group in _group(subs).values():
        app = _application(group, by_app_dec.get(group[0].application_id, []), [], later, full=False, statuses=statuses)
        if status and app.status != status:
            continue
        if region and app.region_code != region:
            continue
        if outcome and not _matches_outcome(app, outcome):
            continue
        day = app.received_at.date()
        if (since and day < since) or (until and day > until):
            continue
        out.append(app)
    return sorted(out, key=lambda a: (a.received_at, a.application_id or ""))


def show(store: Store, app_id: str) -> ApplicationOut | None:
    with store.reading() as s:
        subs = (
            s.exec(
                select(SubmissionRow)
                .options(unloaded(SubmissionRow.raw))
                .where(col(SubmissionRow.application_id) == app_id)
            )
            .scalars()
            .all()
        )
        if not subs:
            return None
        decisions = s.exec(select(DecisionRow).where(col(DecisionRow.application_id) == app_id)).scalars().all()
        notices = (
            s.exec(
                select(NoticeRow)
                .options(unloaded(NoticeRow.content))
                .where(col(NoticeRow.application_id) == app_id)
                .order_by(col(NoticeRow.id))
            )
            .scalars()
            .all()
        )
        telemetry = (
            s.exec(
                select(TelemetryRow)
                .options(unloaded(TelemetryRow.raw))
                .where(col(TelemetryRow.application_id) == app_id)
                .order_by(col(TelemetryRow.id))
            )
            .scalars()
            .all()
        )
    return _application(subs, decisions, notices, _superseded_by(decisions), full=True, telemetry=telemetry)


# --- export for the provincial platform -------------------------------------------------
RECORD_COLUMNS = (
    "decision_id",
    "supersedes_id",
    "in_force",
    "decided_at",
    "officer",
    "credit_code",
    "ruleset_version",
    "ruleset_digest",
    "input_sha256",
)


def export_rows(
    store: Store, include_superseded: bool = False, since: dt.date | None = None, until: dt.date | None = None
) -> Iterator[tuple[DecisionRow, dict, str | None, bool]]:
    """(row, decision document, in force) in decision order; ``since``/``until`` on the decision date."""
    with store.reading() as s:
        decisions = s.exec(select(DecisionRow).order_by(col(DecisionRow.id))).scalars().all()
        regions = dict(s.exec(select(col(SubmissionRow.id), col(SubmissionRow.region_code))).all())
    later = _superseded_by(decisions)
    for d in decisions:
        day = as_utc(d.decided_at).date()
        if (since and day < since) or (until and day > until):
            continue
        if d.id in later and not include_superseded:
            continue
        yield d, json.loads(d.document), regions.get(d.submission_id), d.id not in later


def _record(d: DecisionRow, in_force: bool) -> dict:
    return {
        "decision_id": d.id,
        "supersedes_id": d.supersedes_id,
        "in_force": in_force,
        "decided_at": as_utc(d.decided_at).isoformat(),
        "officer": d.officer,
        "credit_code": d.credit_code,
        "ruleset_version": d.ruleset_version,
        "ruleset_digest": d.ruleset_digest,
        "input_sha256": d.input_sha256,
    }


def export(store: Store, book: Rulebook, out: io.TextIOBase, fmt: str = "csv", **filters) -> int:
    """Write decisions as CSV (flat columns of engine/contract/flat.py plus the record's) or JSON Lines."""
    n = 0
    if fmt == "csv":
        columns = list(RECORD_COLUMNS) + [c for c in result_columns(book) if c != "error"]
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
    for d, doc, region, force in export_rows(store, **filters):
        if fmt == "csv":
            writer.writerow(_record(d, force) | flatten_decision(doc, region))
        else:
            out.write(json.dumps(doc | {"record": _record(d, force)}, ensure_ascii=False) + "\n")
        n += 1
    return n
