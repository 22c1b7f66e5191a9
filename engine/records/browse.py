"""Listing and showing applications over a ``Reading`` (engine/records/store/direct.py), in SQL.

Nothing here imports SQLAlchemy or pydantic: ``shuangtan list`` and ``show`` run on this alone.
Results are plain dicts shaped, key for key, as the models of engine/records/store/models.py
(``ApplicationOut`` and the rest), and ``dumps`` writes them as pydantic writes those models,
so the library (views.py, which builds the models from these dicts) and the commands say the same.

``page`` filters, orders, counts and pages in SQL on ``application_state`` (state.py keeps one
row per application). ``application`` reads one application's rows and works out its status
here, by the rules the state table's SQL follows; tests hold the two to the same answers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from engine.cst import CST
from engine.records.store import state
from engine.records.store.direct import Reading

STATUSES = ("received", "rejected", "pending", "proposed", "decided", "corrected")
#: an outcome's statuses but not_applicable (engine.contract.decision's ``Status``; a test holds
#: them equal): named, so that ``--outcome NAME`` is index ranges, not a walk of every application
APPLICABLE = ("met", "not_met", "granted", "denied", "levied", "exempt", "undetermined")


@dataclass(frozen=True)
class Filters:
    """``since``/``until``: inclusive dates (China Standard Time) of the current version's receipt;
    ``outcome``: ``NAME`` (any status but not_applicable) or ``NAME=STATUS``."""

    status: str | None = None
    region: str | None = None
    outcome: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None


@dataclass
class Page:
    total: int  # applications the filters select
    rows: list[dict]  # those of this page, in order
    offset: int = 0


def _outcome(f: Filters, params: dict) -> str | None:
    """The condition on ``application_outcome o`` that ``f.outcome`` sets (None: no such filter)."""
    if not f.outcome:
        return None
    name, _, status = f.outcome.partition("=")
    params["outcome"] = name
    if status:
        params["outcome_status"] = status
        return "o.outcome = :outcome AND o.status = :outcome_status"
    params |= {f"applicable_{i}": status for i, status in enumerate(APPLICABLE)}
    return f"o.outcome = :outcome AND o.status IN ({', '.join(f':applicable_{i}' for i in range(len(APPLICABLE)))})"


def _where(r: Reading, f: Filters, walk: bool = False) -> tuple[str, dict]:
    """The WHERE clause of ``f`` on ``application_state a``. ``walk``: the outcome as a correlated
    EXISTS, which SQLite answers by walking the list's order and probing each row (the IN form,
    by sorting every match)."""
    clauses, params = [], {}
    if f.status:
        clauses.append("a.status = :status")
        params["status"] = f.status
    if f.region:
        clauses.append("a.region_code = :region")
        params["region"] = f.region
    if f.since:
        clauses.append("a.received_at >= :since")
        params["since"] = r.time_param(dt.datetime.combine(f.since, dt.time(), CST))
    if f.until:
        clauses.append("a.received_at < :until")
        params["until"] = r.time_param(dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time(), CST))
    outcome = _outcome(f, params)
    if outcome and walk:
        clauses.append(
            f"EXISTS (SELECT 1 FROM {state.OUTCOMES} o WHERE o.submission_id = a.submission_id AND {outcome})"
        )
    elif outcome:
        clauses.append(f"a.submission_id IN (SELECT o.submission_id FROM {state.OUTCOMES} o WHERE {outcome})")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _count(r: Reading, f: Filters, where: str, params: dict) -> int:
    if f.outcome and not (f.status or f.region or f.since or f.until):
        # the outcome alone (``params`` are its own): counted in its index, one row per application
        return r.rows(f"SELECT count(*) FROM {state.OUTCOMES} o WHERE {_outcome(f, {})}", **params)[0][0]
    return r.rows(f"SELECT count(*) FROM application_state a{where}", **params)[0][0]


def _walk(r: Reading, f: Filters, total: int, rows: int) -> bool:
    """Whether SQLite should find the ``rows`` (offset and limit) of ``f``'s ``total`` applications
    by walking the list's order (about 0.8 µs a row walked, ``rows`` of every ``total`` of them a
    match) rather than by sorting every match (about 3.4 µs a match): on 100,000 applications,
    a common outcome's first page is 0.5 ms walked and 32 ms sorted, a rare one's 82 ms and 0 ms.
    PostgreSQL's planner makes this choice itself, from its statistics."""
    if r.dialect != "sqlite" or not f.outcome or not total:
        return False
    everyone = r.rows("SELECT count(*) FROM application_state")[0][0]
    return rows * everyone < 4 * total * total


def page(
    r: Reading, f: Filters | None = None, limit: int | None = None, offset: int = 0, newest_first: bool = False
) -> Page:
    """The applications ``f`` selects, ordered by the current version's receipt (oldest first, or
    ``newest_first``), ``limit`` of them (None: all) from ``offset``, and how many there are."""
    f = f or Filters()
    where, params = _where(r, f)
    total = _count(r, f, where, params)
    if limit is not None and _walk(r, f, total, offset + limit):
        where, params = _where(r, f, walk=True)
    way = " DESC" if newest_first else ""
    order = f"a.received_at{way}, a.application_id{way}, a.submission_id{way}"
    window = ""
    if limit is not None:
        window = " LIMIT :limit OFFSET :offset"
        params |= {"limit": limit, "offset": offset}
    elif offset:
        window = " LIMIT -1 OFFSET :offset" if r.dialect == "sqlite" else " OFFSET :offset"
        params["offset"] = offset
    rows = r.rows(
        "SELECT a.submission_id, a.application_id, a.status, a.region_code, a.received_at, a.decision_id, "
        "a.proposal_id, a.statuses, a.override_statuses, s.version, s.enterprise_name, s.credit_code "
        f"FROM (SELECT a.* FROM application_state a{where} ORDER BY {order}{window}) a "
        f"JOIN submission s ON s.id = a.submission_id ORDER BY {order}",
        **params,
    )
    versions = _versions(r, [row[1] for row in rows if row[1] is not None])
    out = []
    for (
        _sub,
        app_id,
        status,
        region,
        received,
        decision_id,
        proposal_id,
        shown,
        overridden,
        version,
        name,
        code,
    ) in rows:
        if shown is None and (decision_id or proposal_id):
            shown = _statuses_of(r, decision_id or proposal_id)  # a row written without its summary
        statuses = json.loads(shown) if shown else {}
        if overridden and decision_id:
            statuses |= json.loads(overridden)
        known = versions.get(app_id, [])
        out.append(
            _application_fields(
                application_id=app_id,
                status=status,
                enterprise_name=name,
                credit_code=code,
                region_code=region,
                latest_version=max((v for v, _ in known), default=version),
                current_version=version,
                rejected_versions=[v for v, valid in known if valid is False and v > (version or 0)],
                received_at=r.time(received),
                decision_id=decision_id,
                proposal_id=proposal_id,
                statuses=statuses,
            )
        )
    return Page(total, out, offset)


def _versions(r: Reading, app_ids: list[str]) -> dict[str, list[tuple[int, bool | None]]]:
    """(version, valid) of every version of these applications, by application."""
    out: dict[str, list] = {}
    for i in range(0, len(app_ids), 500):
        chunk = app_ids[i : i + 500]
        names = {f"a{j}": a for j, a in enumerate(chunk)}
        for app_id, version, valid in r.rows(
            f"SELECT application_id, version, valid FROM submission WHERE application_id IN "
            f"({', '.join(':' + k for k in names)}) ORDER BY version",
            **names,
        ):
            out.setdefault(app_id, []).append((version, None if valid is None else bool(valid)))
    return out


def _statuses_of(r: Reading, decision_id: int) -> str | None:
    rows = r.rows("SELECT document FROM decision WHERE id = :id", id=decision_id)
    return state.decision_statuses(rows[0][0]) if rows else None


# --- output shapes (the models' fields, in their order) ------------------------------------
def _application_fields(**fields) -> dict:
    return {**fields, "versions": [], "telemetry": [], "decisions": [], "notices": []}


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def decision_state(review: Any, superseded_by: int | None) -> str:
    if review is None:
        return "proposed"
    if review.action != "confirm":
        return "returned"
    return "superseded" if superseded_by is not None else "in_force"


def decision_fields(row: Any, superseded_by: int | None, review: Any, doc: dict | None = None) -> dict:
    """A decision as shown (DecisionOut's fields): statuses and totals as in force, the review's
    overrides applied. ``row`` and ``review``: a stored row or anything with its attributes;
    ``doc``: its document already at hand, not decoded again."""
    doc = json.loads(row.document) if doc is None else doc
    overrides = json.loads(review.overrides) if review is not None and review.overrides else []
    if overrides:
        from engine.records.adjusting import apply_overrides

        doc = apply_overrides(doc, overrides)
    state_ = decision_state(review, superseded_by)
    return {
        "id": row.id,
        "application_id": row.application_id,
        "submission_id": row.submission_id,
        "supersedes_id": row.replaces_id if row.replaces_id is not None else row.supersedes_id,
        "superseded_by": superseded_by,
        "in_force": state_ == "in_force",
        "state": state_,
        "opinion": row.opinion,
        "reviewer": review.reviewer if review is not None else None,
        "review_opinion": review.opinion if review is not None else None,
        "reviewed_at": _utc(review.reviewed_at) if review is not None else None,
        "overrides": overrides,
        "holds": json.loads(row.holds) if row.holds else [],
        "credit_code": row.credit_code,
        "officer": row.officer,
        "decided_at": _utc(row.decided_at),
        "ruleset_version": row.ruleset_version,
        "ruleset_digest": row.ruleset_digest,
        "input_sha256": row.input_sha256,
        "statuses": {k: v["status"] for k, v in doc["outcomes"].items()},
        "totals": doc["totals"],
        "history_agrees": doc.get("history", {}).get("agrees"),
        "telemetry_id": row.telemetry_id,
        "metering_agrees": doc.get("metering", {}).get("agrees"),
    }


def submission_status(row: Any, current_version: int | None, decided: bool) -> str:
    """A version's status: rejected versions stay rejected; of the others, all but the current
    one (the latest not rejected) are superseded."""
    if not row.validated:
        return "received"
    if not row.valid:
        return "rejected"
    if row.application_id is not None and row.version != current_version:
        return "superseded"
    return "decided" if decided else "pending"


def submission_fields(row: Any, status: str) -> dict:
    return {
        "id": row.id,
        "application_id": row.application_id,
        "version": row.version,
        "sha256": row.sha256,
        "filename": row.filename,
        "received_at": _utc(row.received_at),
        "submitted_by": row.submitted_by,
        "status": status,
        "errors": [{"path": e["path"], "message": e["message"]} for e in json.loads(row.errors)] if row.errors else [],
        "credit_code": row.credit_code,
        "region_code": row.region_code,
        "enterprise_name": row.enterprise_name,
    }


def telemetry_fields(row: Any) -> dict:
    return {
        "id": row.id,
        "submission_id": row.submission_id,
        "application_id": row.application_id,
        "sha256": row.sha256,
        "filename": row.filename,
        "system_id": row.system_id,
        "received_at": _utc(row.received_at),
        "valid": bool(row.valid),
        "problems": json.loads(row.errors) if row.errors else [],
    }


def notice_fields(row: Any, number: str | None = None) -> dict:
    return {
        "id": row.id,
        "decision_id": row.decision_id,
        "kind": row.kind,
        "lang": row.lang,
        "format": row.format,
        "filename": row.filename,
        "sha256": row.sha256,
        "notice_date": row.notice_date,
        "issued_at": _utc(row.issued_at),
        "issued_by": row.issued_by,
        "number": number,
    }


# --- one application, worked out from its rows -----------------------------------------------
def current_version(subs: list) -> Any:
    """The version the application stands on: its latest not rejected (else its latest)."""
    standing = [r for r in subs if r.valid is not False]
    return (standing or subs)[-1]


def application(
    subs: Iterable, decisions: Iterable, reviews: dict, replaced_by: dict, notices=(), telemetry=(), numbers=None
) -> dict:
    """ApplicationOut's fields, in full, of one application: ``reviews`` maps a decision id to its
    review, ``replaced_by`` a decision id to the decision whose confirmation took it out of force."""
    subs = sorted(subs, key=lambda r: (r.version or 0, r.id))
    decisions = list(decisions)
    latest, current = subs[-1], current_version(subs)
    states = {d.id: decision_state(reviews.get(d.id), replaced_by.get(d.id)) for d in decisions}
    force = [d for d in decisions if states[d.id] == "in_force"]
    in_force = max(force, key=lambda d: d.id) if force else None
    proposed = [d for d in decisions if states[d.id] == "proposed"]
    proposal = max(proposed, key=lambda d: d.id) if proposed else None
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
    shown_row = in_force or proposal
    shown = decision_fields(shown_row, None, reviews.get(shown_row.id)) if shown_row is not None else None

    def version_status(r):
        if r.valid is not False and r.id != current.id:
            return "superseded"
        got = submission_status(r, r.version, r.id in decided_subs)
        return "proposed" if got == "pending" and r.id in proposed_subs else got

    rejected_later = [r.version for r in subs if r.valid is False and (r.version or 0) > (current.version or 0)]
    out = _application_fields(
        application_id=latest.application_id,
        status=status,
        enterprise_name=current.enterprise_name,
        credit_code=current.credit_code,
        region_code=current.region_code,
        latest_version=latest.version,
        current_version=current.version,
        rejected_versions=[v for v in rejected_later if v is not None],
        received_at=_utc(current.received_at),
        decision_id=in_force.id if in_force else None,
        proposal_id=proposal.id if proposal else None,
        statuses=shown["statuses"] if shown else {},
    )
    out["versions"] = [submission_fields(r, version_status(r)) for r in subs]
    out["telemetry"] = [telemetry_fields(t) for t in telemetry]
    out["decisions"] = [
        decision_fields(d, replaced_by.get(d.id), reviews.get(d.id)) for d in sorted(decisions, key=lambda d: d.id)
    ]
    out["notices"] = [notice_fields(n, (numbers or {}).get(n.number_id)) for n in notices]
    return out


def _objects(r: Reading, sql: str, times=(), dates=(), flags=(), **params) -> list[SimpleNamespace]:
    """Rows as objects with their columns as attributes (what the output shapes read from a
    stored row); stored times made aware."""
    out = []
    for row in r.dicts(sql, **params):
        for k in times:
            if row[k] is not None:
                row[k] = r.time(row[k])
        for k in dates:
            row[k] = r.date(row[k])
        for k in flags:  # SQLite keeps booleans as 0 and 1
            row[k] = None if row[k] is None else bool(row[k])
        out.append(SimpleNamespace(**row))
    return out


def _in(ids: list[int]) -> tuple[str, dict]:
    names = {f"i{j}": v for j, v in enumerate(ids)}
    return "(" + ", ".join(":" + k for k in names) + ")", names


def show(r: Reading, app_id: str) -> dict | None:
    """Every version, decision, review, telemetry file and notice of ``app_id`` (None: no such application)."""
    subs = _objects(
        r,
        "SELECT id, application_id, version, sha256, filename, received_at, submitted_by, validated, valid, errors, "
        "credit_code, region_code, enterprise_name FROM submission WHERE application_id = :app",
        times=("received_at",),
        flags=("validated", "valid"),
        app=app_id,
    )
    if not subs:
        return None
    decisions = _objects(
        r,
        "SELECT id, application_id, submission_id, supersedes_id, replaces_id, opinion, holds, credit_code, officer, "
        "decided_at, ruleset_version, ruleset_digest, input_sha256, document, telemetry_id FROM decision "
        "WHERE application_id = :app",
        times=("decided_at",),
        app=app_id,
    )
    reviews, replaced_by = {}, {}
    if decisions:
        ids, params = _in([d.id for d in decisions])
        for review in _objects(
            r,
            f"SELECT decision_id, action, reviewer, opinion, overrides, reviewed_at FROM review WHERE decision_id IN {ids}",
            times=("reviewed_at",),
            **params,
        ):
            reviews[review.decision_id] = review
        replaced_by = dict(
            r.rows(
                f"SELECT replaces_id, decision_id FROM review WHERE replaces_id IN {ids} AND action = 'confirm'",
                **params,
            )
        )
    notices = _objects(
        r,
        "SELECT id, decision_id, kind, lang, format, filename, sha256, notice_date, issued_at, issued_by, number_id "
        "FROM notice WHERE application_id = :app ORDER BY id",
        times=("issued_at",),
        dates=("notice_date",),
        app=app_id,
    )
    telemetry = _objects(
        r,
        "SELECT id, submission_id, application_id, sha256, filename, system_id, received_at, valid, errors "
        "FROM telemetry WHERE application_id = :app ORDER BY id",
        times=("received_at",),
        flags=("valid",),
        app=app_id,
    )
    numbers = dict(r.rows("SELECT id, number FROM notice_number WHERE application_id = :app", app=app_id))
    return application(subs, decisions, reviews, replaced_by, notices, telemetry, numbers)


# --- JSON as pydantic writes the models ---------------------------------------------------
def _default(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(fields: dict, indent: int | None = None) -> str:
    """``fields`` as ``Model(**fields).model_dump_json(indent=indent)`` writes it."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(fields, ensure_ascii=False, separators=separators, indent=indent, default=_default)
