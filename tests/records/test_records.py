"""Receiving, deciding with history from the record, supersession, replay, and the CLI path."""

import csv
import io
import json
from pathlib import Path

import pytest
from appdoc import example
from sqlalchemy import update

from engine.records import service as records
from engine.records import views as records_view
from engine.records.store import open_store
from engine.records.store.models import DecisionRow, SubmissionIn, SubmissionRow
from engine.rulebook.loader import load_rulebook


@pytest.fixture
def store(sqlite_url):
    s = open_store(sqlite_url)
    yield s
    s.dispose()


# Periods that share no day: applications of one enterprise for the same days are one payment.
Q1 = {"period.start": "2026-01-01", "period.end": "2026-03-31"}
Q2 = {"period.start": "2026-04-01", "period.end": "2026-06-30"}
Q3 = {"period.start": "2026-07-01", "period.end": "2026-09-30"}
H1 = {"period.start": "2026-01-01", "period.end": "2026-06-30"}
H2 = {"period.start": "2026-07-01", "period.end": "2026-12-31"}


def put(store, raw, by="li"):
    return records.submit(store, SubmissionIn(raw=raw, filename="f.json", submitted_by=by))


def doc_of(store, decision_id):
    with store.session() as s:
        return json.loads(s.get(DecisionRow, decision_id).document)


def codes(doc, outcome):
    return [r["code"] for r in doc["outcomes"][outcome]["reasons"]]


# --- receiving -------------------------------------------------------------------------
def test_a_submission_is_kept_byte_for_byte_with_its_hash(store):
    raw = b"  " + example("A-1") + b"\n\n"  # odd whitespace is part of what was received
    r = put(store, raw, by="wang")
    assert r.outcome == "new" and r.submission.status == "pending" and r.submission.version == 1
    with store.session() as s:
        row = s.get(SubmissionRow, r.submission.id)
    import hashlib

    assert row.raw == raw and row.sha256 == hashlib.sha256(raw).hexdigest() and row.submitted_by == "wang"


def test_an_invalid_submission_is_kept_rejected_with_every_error(store, book):
    raw = example("A-2", **{"storage.platform.reporting_completeness": "1.5", "storage.discharge_kwh": "1"})
    r = put(store, raw)
    assert r.outcome == "rejected" and r.submission.status == "rejected"
    assert {(e.path, e.message) for e in r.submission.errors} == {
        ("storage.platform.reporting_completeness", "must be ≤ 1"),
        ("storage.discharge_kwh", "unknown field; did you mean storage.discharged_kwh?"),
    }
    with store.session() as s:
        assert s.get(SubmissionRow, r.submission.id).raw == raw
    with pytest.raises(records.NotDecidableError):
        records.decide(store, "A-2", book, "wang")


def test_unreadable_bytes_are_kept_too(store):
    r = put(store, b"\xff\xfe not json")
    assert r.outcome == "rejected" and r.submission.application_id is None
    assert [a.status for a in records_view.list_applications(store)] == ["rejected"]


def test_same_content_is_recognised_and_new_content_is_a_new_version(store, book):
    assert put(store, example("A-3")).outcome == "new"
    again = put(store, example("A-3"))
    assert again.outcome == "unchanged" and "identical to version 1" in again.note
    v2 = put(store, example("A-3", **{"storage.discharged_kwh": "100000"}))
    assert v2.outcome == "new_version" and v2.submission.version == 2
    shown = records_view.show(store, "A-3")
    assert [(v.version, v.status) for v in shown.versions] == [(1, "superseded"), (2, "pending")]
    d = records.decide(store, "A-3", book, "wang")
    assert doc_of(store, d.id)["outcomes"]["storage_subsidy"]["amount"] == "80000.00"  # v2: 100000 kWh × 0.80


# --- deciding with the record's history ------------------------------------------------
def test_the_record_overrules_declared_history_and_says_so(store, book):
    put(store, example("E-1", **H1))
    put(store, example("E-2", **H2))
    first = records.decide(store, "E-1", book, "wang")
    assert first.history_agrees is True and first.statuses["equipment_subsidy"] == "granted"
    second = doc_of(store, records.decide(store, "E-2", book, "wang").id)
    h = second["history"]
    assert h["agrees"] is False and h["used"] == "record"
    assert h["declared"]["storage_subsidy_granted_this_year_yuan"] == "0.00"
    assert h["record"] == {
        "storage_subsidy_granted_this_year_yuan": "280000.00",
        "freight_subsidy_granted_this_year_yuan": "0.00",
        "equipment_subsidy_received": "true",
    }
    assert second["outcomes"]["equipment_subsidy"]["status"] == "denied"
    assert codes(second, "equipment_subsidy") == ["ALREADY_SUBSIDIZED", "HISTORY_FROM_RECORD"]
    assert "HISTORY_FROM_RECORD" in codes(second, "storage_subsidy")
    assert "HISTORY_FROM_RECORD" not in codes(second, "eco_packaging_freight_subsidy")  # freight agrees (0)


def test_the_annual_cap_holds_across_applications_and_years(store, book):
    put(store, example("C-1", **Q1, **{"storage.discharged_kwh": "6000000"}))  # 4,800,000.00 at 0.80
    put(store, example("C-2", **Q2))  # wants 280,000.00
    put(store, example("C-3", **Q3))
    put(store, example("C-4", **{"period.start": "2027-01-01", "period.end": "2027-12-31"}))
    got = {
        a: doc_of(store, records.decide(store, a, book, "wang").id)["outcomes"]["storage_subsidy"]
        for a in ("C-1", "C-2", "C-3", "C-4")
    }
    assert got["C-1"]["amount"] == "4800000.00"
    assert (got["C-2"]["status"], got["C-2"]["amount"]) == ("granted", "200000.00")
    assert "CAPPED" in [r["code"] for r in got["C-2"]["reasons"]]
    assert got["C-3"]["status"] == "denied" and "ANNUAL_CAP_REACHED" in [r["code"] for r in got["C-3"]["reasons"]]
    assert got["C-4"]["amount"] == "280000.00"  # a new calendar year, a new cap


def test_a_redecision_supersedes_and_only_the_latest_counts(store, book):
    put(store, example("R-1", **H1))
    d1 = records.decide(store, "R-1", book, "wang")
    with pytest.raises(records.AlreadyProposedError):
        records.decide(store, "R-1", book, "wang")
    records.confirm(store, "R-1", book, "zhao")
    with pytest.raises(records.AlreadyDecidedError):
        records.decide(store, "R-1", book, "wang")
    d2 = records.decide(store, "R-1", book, "li", again=True)
    assert d2.supersedes_id == d1.id and d2.state == "proposed"
    assert [(d.id, d.state) for d in records_view.show(store, "R-1").decisions] == [
        (d1.id, "in_force"),  # until the replacement is confirmed
        (d2.id, "proposed"),
    ]
    records.confirm(store, "R-1", book, "zhao")
    shown = records_view.show(store, "R-1")
    assert [(d.id, d.in_force, d.superseded_by) for d in shown.decisions] == [
        (d1.id, False, d2.id),
        (d2.id, True, None),
    ]
    put(store, example("R-2", **H2))
    later = doc_of(store, records.decide(store, "R-2", book, "wang").id)
    assert later["history"]["record"]["storage_subsidy_granted_this_year_yuan"] == "280000.00"  # once, not twice


def test_a_new_version_is_pending_again_and_its_decision_supersedes(store, book):
    put(store, example("V-1"))
    d1 = records.decide(store, "V-1", book, "wang")
    records.confirm(store, "V-1", book, "zhao")
    put(store, example("V-1", **{"equipment.investment_yuan": "100000.00"}))
    assert records.pending(store) == ["V-1"]
    d2 = records.decide(store, "V-1", book, "wang")
    assert d2.supersedes_id == d1.id and doc_of(store, d2.id)["outcomes"]["equipment_subsidy"]["amount"] == "20000.00"


# --- replay -----------------------------------------------------------------------------
def test_replay_is_identical_and_catches_a_tampered_record(store, book):
    put(store, example("P-1", **H1))
    put(store, example("P-2", **H2))
    records.decide(store, "P-1", book, "wang")
    d = records.decide(store, "P-2", book, "wang")  # history from the record: replay must reuse it
    r = records.replay(store, d.id, book)
    assert r.identical and r.trace_identical and not r.ruleset_changed and r.differences == []
    doc = doc_of(store, d.id)
    doc["outcomes"]["storage_subsidy"]["amount"] = "280000.01"
    with store.session() as s:
        s.execute(update(DecisionRow).where(DecisionRow.id == d.id).values(document=json.dumps(doc)))
    r = records.replay(store, d.id, book)
    assert not r.identical and r.differences == ["/outcomes/storage_subsidy/amount"]
    with store.session() as s:
        s.execute(update(SubmissionRow).where(SubmissionRow.application_id == "P-2").values(raw=b"{}"))
    with pytest.raises(records.IntegrityFailure):
        records.replay(store, d.id, book)


def test_replay_uses_the_stored_ruleset_when_the_rulebook_changed(store, tmp_path, book, root):
    import shutil

    put(store, example("Q-1"))
    d = records.decide(store, "Q-1", book, "wang")
    rules = tmp_path / "rules"
    shutil.copytree(root / "rules", rules)
    p = rules / "parameters/storage_subsidy.yaml"
    p.write_text(p.read_text().replace('2026-01-01: "0.80"', '2026-01-01: "0.90"'))
    changed = load_rulebook(rules)
    r = records.replay(store, d.id, changed)
    assert r.ruleset_changed and r.identical  # replayed under the snapshot, not the edited files


# --- looking around -------------------------------------------------------------------
def test_list_show_and_export_filter_and_agree(store, book):
    put(store, example("L-1"))
    put(store, example("L-2", **{"enterprise.region_code": "140200", "enterprise.credit_code": "91140200MA0HW2NB8C"}))
    put(store, b"{}")
    records.decide(store, "L-1", book, "wang")
    assert [a.application_id for a in records_view.list_applications(store, status="proposed")] == ["L-1"]
    assert records_view.export(store, book, io.StringIO(), "csv") == 0  # a proposal decides nothing yet
    records.confirm(store, "L-1", book, "zhao")
    assert [a.application_id for a in records_view.list_applications(store, status="decided")] == ["L-1"]
    assert [a.application_id for a in records_view.list_applications(store, region="140200")] == ["L-2"]
    assert [a.application_id for a in records_view.list_applications(store, outcome="storage_subsidy=granted")] == [
        "L-1"
    ]
    assert len(records_view.list_applications(store, status="rejected")) == 1
    buf = io.StringIO()
    assert records_view.export(store, book, buf, "csv") == 1
    row = next(csv.DictReader(io.StringIO(buf.getvalue())))
    assert (row["application_id"], row["storage_subsidy.amount"], row["region_code"], row["in_force"]) == (
        "L-1",
        "280000.00",
        "140100",
        "True",
    )
    buf = io.StringIO()
    records_view.export(store, book, buf, "jsonl")
    line = json.loads(buf.getvalue())
    assert line["totals"]["subsidy_yuan"] == "920000.00" and line["record"]["officer"] == "wang"
    assert line["record"]["reviewer"] == "zhao" and line["review"]["state"] == "confirmed"


# --- the command line, as a new user runs it -------------------------------------------
def test_cli_submit_decide_notice_on_every_bundled_example(record_url, cli, tmp_path, root):
    url = record_url
    examples = sorted(str(p) for p in (root / "examples/applications").glob("*.json"))
    r = cli("submit", "--db", url, "--by", "li", *examples)
    assert r.exit_code == 0, r.output
    assert r.output.count("received") == len(examples)
    r = cli("submit", "--db", url, "--by", "li", examples[0])
    assert "unchanged" in r.output
    r = cli("decide", "--db", url, "--all-pending", "--officer", "wang")
    assert r.exit_code == 0, r.output
    assert f"{len(examples)} proposed, 0 not decided" in r.output
    r = cli("confirm", "--db", url, "--all-proposed", "--by", "zhao", "--opinion", "同意")
    assert r.exit_code == 0, r.output
    assert f"{len(examples)} confirmed, 0 not confirmed" in r.output
    ids = [json.loads(Path(p).read_text())["application_id"] for p in examples]
    for app_id in ids:
        r = cli("notice", "--db", url, app_id, "--by", "wang", "--out", tmp_path / "n")
        assert r.exit_code == 0, r.output
        assert r.output.strip(), "every bundled example calls for at least one notice"
    assert "APP-2026-000123" in cli("list", "--db", url, "--status", "decided").output
    r = cli("show", "--db", url, "APP-2026-000123")
    assert "in force" in r.output and "approval zh html" in r.output
    r = cli("replay", "--db", url, "APP-2026-000123")
    assert r.exit_code == 0 and "identical" in r.output, r.output
    r = cli("export", "--db", url, "--format", "csv")
    assert r.exit_code == 0 and len(r.stdout.strip().splitlines()) == len(examples) + 1


def test_cli_rejects_and_says_why(tmp_path, sqlite_url, cli):
    bad = tmp_path / "bad.json"
    bad.write_bytes(example("B-1", **{"enterprise.credit_code": "91140100MA0L3K2P5X"}))
    r = cli("submit", "--db", sqlite_url, "--by", "li", bad)
    assert r.exit_code == 1 and "rejected" in r.output and "enterprise.credit_code" in r.output
    r = cli("decide", "--db", sqlite_url, "B-1", "--officer", "wang")
    assert r.exit_code == 1 and "rejected" in r.output and "Traceback" not in r.output
    r = cli("decide", "--db", sqlite_url, "--officer", "wang")
    assert r.exit_code == 2
