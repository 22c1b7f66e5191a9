"""Replay: a stored decision evaluated again under its stored ruleset and input, with the history
the record held when it was proposed recomputed from the record itself (never read back from the
stored document), and its cap columns checked.

"When it was proposed" is the audit chain's order: the decisions and reviews of the enterprise
whose links come before the proposal's link are what the proposer's transaction saw (appends are
serialised, and a proposal holds its enterprise's lock).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import col

from engine.contract.application import parse_application
from engine.errors import IntegrityFailure, RecordError
from engine.records.common import sha256, storable_id
from engine.records.deciding import (
    evaluate,
    granted_columns,
    in_force,
    proposal_document,
    snapshot_book,
    stored_history,
)
from engine.records.standing import Standing, enterprise_rows, standing
from engine.records.store.db import Store
from engine.records.store.models import AuditRow, DecisionRow, SubmissionRow, TelemetryRow, stored_id
from engine.records.submissions import read_stored_telemetry
from engine.rulebook.loader import Rulebook

COMPARED = (
    "every key of the decision document except `trace` (contract, application_id, evaluated_on, "
    "ruleset, outcomes with statuses, amounts, reasons and parameters, totals, history, metering); "
    "the trace is compared separately"
)


@dataclass
class ReplayReport:
    decision_id: int
    application_id: str
    stored_digest: str
    current_digest: str | None
    identical: bool
    trace_identical: bool
    differences: list[str] = field(default_factory=list)
    compared: str = COMPARED

    @property
    def ruleset_changed(self) -> bool:
        return self.current_digest is not None and self.current_digest != self.stored_digest


def _diff(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}")
            else:
                out += _diff(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _diff(x, y, f"{path}/{i}")]
    return [] if a == b else [path or "/"]


def replay_target(store: Store, app_id: str, decision_id: int | None = None) -> int:
    """The decision ``replay`` takes for an application: the named one (it must be the
    application's), else the one in force, else the latest proposal."""
    with store.reading() as s:
        if decision_id is not None:
            row = s.get(DecisionRow, decision_id) if storable_id(store, decision_id) else None
            if row is None or row.application_id != app_id:
                raise RecordError(key="no_such_decision", app=app_id, decision=decision_id)
            return decision_id
        row = (
            in_force(s, app_id)
            or s.exec(
                select(DecisionRow)
                .where(col(DecisionRow.application_id) == app_id)
                .order_by(col(DecisionRow.id).desc())
            )
            .scalars()
            .first()
        )
        if row is None:
            raise RecordError(key="no_decision", app=app_id)
        return stored_id(row.id)


def counting_at(s, row: DecisionRow, corrects: str | None) -> list[Standing] | None:
    """The enterprise's counting decisions as they stood when ``row`` was proposed, from the
    record's rows ordered by their audit links; None for a decision made before the chain."""
    rows = enterprise_rows(s, row.credit_code)
    wanted = [("decision", str(d.id)) for d, _ in rows] + [("review", str(r.id)) for _, r in rows if r is not None]
    links: dict[tuple[str, int], int] = {}
    for i in range(0, len(wanted), 500):
        for entity in ("decision", "review"):
            keys = [k for e, k in wanted[i : i + 500] if e == entity]
            if keys:
                for a in s.exec(
                    select(AuditRow).where(col(AuditRow.entity) == entity, col(AuditRow.entity_id).in_(keys))
                ).scalars():
                    links[(a.entity, int(a.entity_id))] = stored_id(a.seq)
    mine = links.get(("decision", stored_id(row.id)))
    if mine is None:
        return None
    exclude = {row.application_id} | ({corrects} if corrects else set())
    return standing(s, row.credit_code, exclude, lambda entity, key: links.get((entity, key), mine + 1) < mine, rows)


def replay(store: Store, decision_id: int, current: Rulebook | None = None) -> ReplayReport:
    """Re-evaluate a stored decision under its stored ruleset, input and record history."""
    if not storable_id(store, decision_id):
        raise RecordError(key="no_decision_id", decision=decision_id)
    with store.reading() as s:
        row = s.get(DecisionRow, decision_id)
        if row is None:
            raise RecordError(key="no_decision_id", decision=decision_id)
        sub = s.get(SubmissionRow, row.submission_id)
        book = snapshot_book(s, row.ruleset_digest)
    if sha256(sub.raw) != row.input_sha256:
        raise IntegrityFailure(key="input_tampered", decision=decision_id)
    stored = json.loads(row.document)
    with store.reading() as s:
        counting = counting_at(s, row, sub.corrects)
    app, telemetry, system_id = parse_application(sub.raw), None, None
    if row.telemetry_id is not None:
        with store.reading() as s:
            tel_row = s.get(TelemetryRow, row.telemetry_id)
        if tel_row is None or tel_row.sha256 != stored.get("metering", {}).get("telemetry", {}).get("sha256"):
            raise IntegrityFailure(key="decision_telemetry_tampered", decision=decision_id)
        telemetry, system_id = read_stored_telemetry(tel_row, book, app), tel_row.system_id  # checks the bytes' hash
    if counting is None:  # decided before the audit chain: its history as it was stored
        again = evaluate(book, app, stored_history(stored), telemetry, system_id)
    else:
        again = proposal_document(book, app, counting, telemetry, system_id).doc
    diffs = _diff({k: v for k, v in stored.items() if k != "trace"}, {k: v for k, v in again.items() if k != "trace"})
    if counting is not None:
        columns = granted_columns(again)
        diffs += [f"/record/{c}" for c, v in columns.items() if getattr(row, c) != v]
    return ReplayReport(
        decision_id,
        row.application_id,
        row.ruleset_digest,
        current.digest if current is not None else None,
        not diffs,
        stored.get("trace") == again.get("trace"),
        diffs,
    )
