"""Batch submit (issue 14): a JSON Lines, CSV or XLSX file is one submission per row, each kept
with its source (the file's hash, the row's number, the cells as read), decided exactly as the
same applications given as separate JSON files; a bad row is kept rejected and the batch goes
on; a chunk's verdicts are judged against each other (versions, owners) as one by one."""

import csv
import hashlib
import json
import multiprocessing as mp
from decimal import Decimal

import openpyxl
import pytest
from appdoc import example
from people import seed_url
from sqlalchemy import select

from engine.contract.application import FIELDS, parse_application
from engine.contract.flat import flatten
from engine.contract.formats import cell_name, row_to_document
from engine.records import audit
from engine.records import service as records
from engine.records.store import open_store
from engine.records.store.models import DecisionRow, SubmissionIn, SubmissionRow

OWN = "91140100MA0L3K2P5R"  # the worked example's enterprise (account qinghe)
OTHER = "91140200MA0HW2NB8C"
SPAWN = mp.get_context("spawn")


def quarter(q: int) -> dict:
    """One quarter of 2026: applications of one enterprise for different days are different payments."""
    start, end = {1: ("01-01", "03-31"), 2: ("04-01", "06-30"), 3: ("07-01", "09-30"), 4: ("10-01", "12-31")}[q]
    return {"period.start": f"2026-{start}", "period.end": f"2026-{end}"}


def docs() -> list[dict]:
    """Three applications of one enterprise and one of another, as JSON documents."""
    made = [example(f"Q-{q}", **quarter(q)) for q in (1, 2, 3)]
    made.append(example("O-1", **{"enterprise.credit_code": OTHER, "enterprise.name": "大同某电商有限公司"}))
    return [json.loads(raw) for raw in made]


def line(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def cell_text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def write_jsonl(path, lines: list[bytes]):
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def write_csv(path, rows: list[dict | list]):
    columns = list(flatten(docs()[0]))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for row in rows:
            w.writerow(row if isinstance(row, list) else [cell_text(flatten(row).get(c, "")) for c in columns])
    return path


def spreadsheet_value(column: str, value):
    """A cell as a spreadsheet user types it: numbers as numbers, the rest as text."""
    kind = FIELDS.get(column)
    if isinstance(value, bool) or kind not in ("integer", "decimal"):
        return value
    number = float(value) if kind == "decimal" else int(value)
    assert Decimal(repr(number)) == Decimal(str(value)), "the test's numbers are ones a spreadsheet keeps"
    return number


def write_xlsx(path, rows: list[dict], **override):
    """The rows on the first sheet (a second sheet is ignored); ``override`` maps (row index,
    column) to a cell value."""
    columns = list(flatten(docs()[0]))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(columns)
    for i, doc in enumerate(rows):
        flat = flatten(doc)
        ws.append([override.get(f"{i}:{c}", spreadsheet_value(c, flat[c])) for c in columns])
    wb.create_sheet("notes").append(["not read"])
    wb.save(path)
    return path


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}


def decided(cli, url, *files) -> dict:
    """Submit ``files``, decide everything pending: application id -> what was decided."""
    r = cli("submit", "--db", url, "--by", "li", *files)
    assert r.exit_code == 0, r.output
    r = cli("decide", "--db", url, "--all-pending", "--officer", "wang")
    assert r.exit_code == 0, r.output
    store = open_store(url)
    try:
        with store.reading() as s:
            rows = s.execute(select(DecisionRow)).scalars().all()
            return {
                d.application_id: (
                    {
                        k: (o["status"], o["amount"], [x["code"] for x in o["reasons"]])
                        for k, o in json.loads(d.document)["outcomes"].items()
                    },
                    json.loads(d.document)["totals"],
                )
                for d in rows
            }
    finally:
        store.dispose()


def stored(url) -> list[SubmissionRow]:
    store = open_store(url)
    try:
        with store.reading() as s:
            return list(s.execute(select(SubmissionRow).order_by(SubmissionRow.id)).scalars())
    finally:
        store.dispose()


# --- a batch decides as its separate files do ----------------------------------------------
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_a_batch_file_decides_exactly_as_its_separate_json_files(fmt, record_url, cli, tmp_path):
    apps = docs()
    files = []
    for doc in apps:
        files.append(tmp_path / f"{doc['application_id']}.json")
        files[-1].write_bytes(line(doc))
    reference = decided(cli, seed_url(f"sqlite:///{tmp_path / 'files.db'}"), *files)
    assert len(reference) == 4

    path = tmp_path / f"apps.{fmt}"
    batch = write_jsonl(path, [line(d) for d in apps]) if fmt == "jsonl" else WRITERS[fmt](path, apps)
    assert decided(cli, record_url, batch) == reference

    digest = hashlib.sha256(batch.read_bytes()).hexdigest()
    rows = stored(record_url)
    assert [r.application_id for r in rows] == [d["application_id"] for d in apps]
    for n, (row, doc) in enumerate(zip(rows, apps)):
        source = json.loads(row.source)
        assert (source["file"], source["sha256"], source["format"]) == (str(batch), digest, fmt)
        assert row.filename == str(batch) and row.sha256 == hashlib.sha256(row.raw).hexdigest()
        assert parse_application(row.raw) == parse_application(line(doc))
        if fmt == "jsonl":
            assert source["row"] == n + 1 and "cells" not in source
            assert row.raw == line(doc), "a line's bytes, exactly"
        else:
            assert source["row"] == n + 2, "the header is row 1"
            assert source["cells"]["application_id"] == doc["application_id"]
            compact = json.dumps(json.loads(row.raw), ensure_ascii=False, separators=(",", ":")).encode()
            assert row.raw == compact, "deterministic bytes: compact, columns in order, text as itself"
    if fmt == "csv":
        assert rows[0].raw == write_csv_document(apps[0])
        assert json.loads(rows[0].source)["cells"]["storage.capacity_kwh"] == "2000"
    if fmt == "xlsx":  # the number a spreadsheet holds, as received, beside the document built from it
        cells = json.loads(rows[0].source)["cells"]
        assert cells["storage.energy_density_wh_per_kg"] == "268.5" and cells["storage.capacity_kwh"] == "2000"
        assert json.loads(rows[0].raw)["equipment"]["investment_yuan"] == "3200000"
    assert audit.verify(open_store(record_url)).ok


def write_csv_document(doc: dict) -> bytes:
    """What a CSV row of ``doc`` is kept as: its document, columns in header order, compact."""
    flat = {c: cell_text(v) for c, v in flatten(doc).items()}
    return json.dumps(row_to_document(flat), ensure_ascii=False, separators=(",", ":")).encode()


def test_a_second_submission_of_the_same_file_stores_nothing(record_url, cli, tmp_path):
    batch = write_jsonl(tmp_path / "apps.ndjson", [line(d) for d in docs()])
    assert cli("submit", "--db", record_url, "--by", "li", batch).exit_code == 0
    r = cli("submit", "--db", record_url, "--by", "li", batch)
    assert r.exit_code == 0 and r.output.count("unchanged") == 4, r.output
    assert "4 submission(s) from 1 file(s): 4 accepted, 0 rejected" in r.output
    assert len(stored(record_url)) == 4


# --- bad rows ---------------------------------------------------------------------------------
def test_bad_rows_are_kept_rejected_and_the_rows_after_them_stored(record_url, cli, tmp_path):
    a, b, c, d = docs()
    bad = dict(b, storage=dict(b["storage"], discharged_kwh="-1"))
    jsonl = write_jsonl(tmp_path / "apps.jsonl", [line(a), b"{not json", line(bad), b"", line(c)])
    table = write_csv(tmp_path / "apps.csv", [d, ["O-2", "2026-01-01"]])
    r = cli("submit", "--db", record_url, "--by", "li", jsonl, table)
    assert r.exit_code == 1, r.output
    out = r.output.splitlines()
    assert out[0].startswith(f"received   Q-1 v1  {jsonl}:1: submission 1")
    assert out[1] == f"rejected   (no readable application id)  {jsonl}:2: submission 2, kept on record"
    assert "    storage.discharged_kwh: must be ≥ 0" in out
    assert any(x.startswith(f"rejected   Q-2 v1  {jsonl}:3: submission 3") for x in out)
    assert any(x.startswith(f"received   Q-3 v1  {jsonl}:5: submission 4") for x in out), "line 4 is blank"
    assert any(x.startswith(f"received   O-1 v1  {table}:2") for x in out)
    assert any(x.startswith(f"rejected   (no readable application id)  {table}:3") for x in out)
    assert "    (row): has 2 cells; the header has 32 columns" in out
    assert out[-1] == "6 submission(s) from 2 file(s): 3 accepted, 3 rejected"

    rows = stored(record_url)
    assert [(r.application_id, r.valid) for r in rows] == [
        ("Q-1", True),
        (None, False),
        ("Q-2", False),
        ("Q-3", True),
        ("O-1", True),
        (None, False),
    ]
    assert rows[1].raw == b"{not json" and json.loads(rows[1].source)["row"] == 2
    assert rows[5].raw == b"O-2,2026-01-01", "a row read as no document is kept as its text"
    assert json.loads(rows[5].source)["cells"] == {"application_id": "O-2", "period.start": "2026-01-01"}
    assert json.loads(rows[5].errors) == [{"path": "(row)", "message": "has 2 cells; the header has 32 columns"}]
    assert audit.verify(open_store(record_url)).ok


@pytest.mark.zh  # the cell's problem as a user reads it by default
def test_a_credit_code_excel_turned_into_a_number_is_refused_naming_the_cell(record_url, cli, tmp_path):
    a, b, c, _ = docs()
    book = write_xlsx(tmp_path / "apps.xlsx", [a, b, c], **{"1:enterprise.credit_code": 9.11401e17})
    r = cli("submit", "--db", record_url, "--by", "li", book)
    assert r.exit_code == 1, r.output
    assert (
        "    enterprise.credit_code: 单元格 D3 中是数字 9.11401e+17，不是代码：请将该列设置为“文本”格式后重新输入"
    ) in r.output.splitlines()
    rows = stored(record_url)
    assert [(r.application_id, r.valid) for r in rows] == [("Q-1", True), (None, False), ("Q-3", True)]
    source = json.loads(rows[1].source)
    assert source["row"] == 3 and source["cells"]["enterprise.credit_code"] == "9.11401e+17"
    assert source["cells"]["application_id"] == "Q-2"


@pytest.mark.zh  # the cell's problem as a user reads it by default
def test_a_sum_with_more_digits_than_a_spreadsheet_shows_is_refused_not_rounded(sqlite_url, cli, tmp_path):
    a = docs()[0]
    column = "storage.platform.reporting_completeness"
    book = write_xlsx(tmp_path / "apps.xlsx", [a], **{f"0:{column}": 0.1 + 0.7})
    r = cli("submit", "--db", sqlite_url, "--by", "li", book)
    where = cell_name(list(flatten(a)).index(column), 2)
    assert (
        r.exit_code == 1
        and f"{column}: 单元格 {where} 中的数字 0.7999999999999999 超过了电子表格保留的位数（15 位）" in r.output
    ), r.output


def test_files_that_are_not_their_format_are_refused_unread_and_the_others_received(sqlite_url, cli, tmp_path):
    png = tmp_path / "photo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    sheet = tmp_path / "notes.xlsx"
    sheet.write_text("application_id\nA-1\n")
    good = write_jsonl(tmp_path / "apps.jsonl", [line(d) for d in docs()[:2]])
    r = cli("submit", "--db", sqlite_url, "--by", "li", png, sheet, good)
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    out = r.output.splitlines()
    assert out[0].startswith(f"rejected   {png}: not a text file") and out[0].endswith("; not stored")
    assert out[1] == f"rejected   {sheet}: not an XLSX workbook (no ZIP signature); not stored"
    assert out[-1] == "4 submission(s) from 3 file(s): 2 accepted, 2 rejected"
    assert [r.application_id for r in stored(sqlite_url)] == ["Q-1", "Q-2"]


def test_an_over_long_line_is_refused_unread_and_not_stored(sqlite_url, cli, tmp_path):
    from engine.contract.bounds import MAX_DOCUMENT_BYTES

    a, b = docs()[:2]
    batch = write_jsonl(tmp_path / "apps.jsonl", [line(a), b" " * (MAX_DOCUMENT_BYTES + 1), line(b)])
    r = cli("submit", "--db", sqlite_url, "--by", "li", batch)
    assert r.exit_code == 1
    assert f"rejected   {batch}:2: larger than {MAX_DOCUMENT_BYTES:,} bytes" in r.output
    assert [r.application_id for r in stored(sqlite_url)] == ["Q-1", "Q-2"]


def test_corrects_and_telemetry_go_with_one_json_file_only(sqlite_url, cli, tmp_path):
    batch = write_jsonl(tmp_path / "apps.jsonl", [line(docs()[0])])
    r = cli("submit", "--db", sqlite_url, "--by", "li", "--corrects", "Q-9", batch)
    assert r.exit_code == 2 and "--corrects goes with exactly one application FILE (.json)" in r.output
    assert stored(sqlite_url) == []


# --- a chunk judged as one by one -------------------------------------------------------------
def test_versions_owners_and_accounts_within_and_across_chunks(record_url, monkeypatch, cli, tmp_path):
    """Chunks of two: a version 2 in the next chunk, a claim on the chunk's own version 1, an
    unchanged repeat of a version the same chunk stored, an enterprise account's own code."""
    monkeypatch.setattr(records, "CHUNK", 2)
    q1 = json.loads(example("V-1", **quarter(1)))
    q1b = json.loads(example("V-1", **quarter(1), **{"storage.discharged_kwh": "100000"}))
    theirs = json.loads(example("V-1", **quarter(1), **{"enterprise.credit_code": OTHER}))
    batch = write_jsonl(tmp_path / "apps.jsonl", [line(q1), line(q1), line(q1b), line(theirs), line(theirs)])
    r = cli("submit", "--db", record_url, "--by", "li", batch)
    assert r.exit_code == 1, r.output
    out = r.output.splitlines()
    assert out[0].startswith(f"received   V-1 v1  {batch}:1")
    assert (
        out[1] == f"unchanged  V-1 v1  {batch}:2: identical to version 1 (sha256 {sha(line(q1))[:12]}…); nothing stored"
    )
    assert out[2].startswith(f"received   V-1 v2  {batch}:3") and "version 2 (earlier versions are kept)" in out[2]
    assert out[3].startswith(f"rejected   V-1 v3  {batch}:4")
    assert f"    enterprise.credit_code: application V-1 belongs to enterprise {OWN} (version 1); " in r.output
    assert out[5].startswith(f"unchanged  V-1 v3  {batch}:5"), "the latest version, even rejected, is what repeats"
    assert [(r.version, r.valid) for r in stored(record_url)] == [(1, True), (2, True), (3, False)]

    mine = write_jsonl(
        tmp_path / "mine.jsonl",
        [line(json.loads(example("E-1"))), line(json.loads(example("E-2", **{"enterprise.credit_code": OTHER})))],
    )
    r = cli("submit", "--db", record_url, "--by", "qinghe", mine)
    assert r.exit_code == 1 and f"account qinghe submits for enterprise {OWN} only" in r.output
    assert audit.verify(open_store(record_url)).ok


def test_two_versions_of_one_application_in_one_chunk_through_the_library(record_url):
    store = open_store(record_url)
    try:
        raws = [example("L-1"), example("L-1", **{"storage.discharged_kwh": "1"}), example("L-2")]
        got = list(records.submit_many(store, [SubmissionIn(raw=r, submitted_by="li") for r in raws]))
        assert [(g.outcome, g.submission.version, g.submission.status) for g in got] == [
            ("new", 1, "pending"),
            ("new_version", 2, "pending"),
            ("new", 1, "pending"),
        ]
        again = records.submit(store, SubmissionIn(raw=raws[0], submitted_by="li"))
        assert again.outcome == "new_version" and again.submission.version == 3, "v1's bytes again after v2: new"
        same = records.submit(store, SubmissionIn(raw=raws[0], submitted_by="li"))
        assert same.outcome == "unchanged" and same.submission.status == "pending"
        assert sorted(records.pending(store)) == ["L-1", "L-2"]
    finally:
        store.dispose()


def sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


# --- concurrent submitters ------------------------------------------------------------------
def _submitter(url, path, barrier):
    import time

    from click.testing import CliRunner

    from engine.cli import main
    from engine.records import submissions

    real = submissions._latest

    def latest(s, app_ids):
        found = real(s, app_ids)
        time.sleep(0.2)  # between reading the latest versions and inserting the next: widens the race
        return found

    submissions._latest = latest
    barrier.wait(timeout=60)
    result = CliRunner().invoke(main, ["submit", "--db", url, "--by", "li", str(path)])
    assert result.exit_code == 0, result.output


def test_concurrent_batches_of_the_same_applications_take_distinct_versions(record_url, tmp_path):
    """Two submitters of 300 rows each, the same application ids with different content, both
    reading the latest versions before either inserts (on PostgreSQL one then meets the other's
    version numbers and reads again): every application ends with versions 1 and 2, whichever
    came first, and one unbroken chain."""
    paths = []
    for k in range(2):
        rows = [line(json.loads(example(f"C-{i}", **{"storage.discharged_kwh": str(1000 + k)}))) for i in range(300)]
        paths.append(write_jsonl(tmp_path / f"desk{k}.jsonl", rows))
    barrier = SPAWN.Barrier(2)
    procs = [SPAWN.Process(target=_submitter, args=(record_url, p, barrier)) for p in paths]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    rows = stored(record_url)
    versions: dict[str, list[int]] = {}
    for r in rows:
        versions.setdefault(r.application_id, []).append(r.version)
    assert len(versions) == 300 and all(sorted(v) == [1, 2] for v in versions.values())
    assert all(r.valid for r in rows)
    assert audit.verify(open_store(record_url)).ok
