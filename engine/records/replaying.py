"""Replay: a stored decision evaluated again under its stored ruleset, input and record history."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from engine.contract.application import parse_application
from engine.errors import IntegrityFailure, RecordError
from engine.records.common import sha256, storable_id
from engine.records.deciding import evaluate, snapshot_book, stored_history
from engine.records.store.db import Store
from engine.records.store.models import DecisionRow, SubmissionRow, TelemetryRow
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


def replay(store: Store, decision_id: int, current: Rulebook | None = None) -> ReplayReport:
    """Re-evaluate a stored decision under its stored ruleset, input and record history."""
    if not storable_id(store, decision_id):
        raise RecordError(f"no decision {decision_id} on record")
    with store.reading() as s:
        row = s.get(DecisionRow, decision_id)
        if row is None:
            raise RecordError(f"no decision {decision_id} on record")
        sub = s.get(SubmissionRow, row.submission_id)
        book = snapshot_book(s, row.ruleset_digest)
    if sha256(sub.raw) != row.input_sha256:
        raise IntegrityFailure(f"decision {decision_id}: the stored input no longer matches its sha256")
    stored = json.loads(row.document)
    record = stored_history(stored)
    app, telemetry, system_id = parse_application(sub.raw), None, None
    if row.telemetry_id is not None:
        with store.reading() as s:
            tel_row = s.get(TelemetryRow, row.telemetry_id)
        if tel_row is None or tel_row.sha256 != stored.get("metering", {}).get("telemetry", {}).get("sha256"):
            raise IntegrityFailure(f"decision {decision_id}: the telemetry it used no longer matches its sha256")
        telemetry, system_id = read_stored_telemetry(tel_row, book, app), tel_row.system_id  # checks the bytes' hash
    again = evaluate(book, app, record, telemetry, system_id)
    diffs = _diff({k: v for k, v in stored.items() if k != "trace"}, {k: v for k, v in again.items() if k != "trace"})
    return ReplayReport(
        decision_id,
        row.application_id,
        row.ruleset_digest,
        current.digest if current is not None else None,
        not diffs,
        stored.get("trace") == again.get("trace"),
        diffs,
    )
