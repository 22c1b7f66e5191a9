"""Batch submit reads Excel-made files by the same rules: a BOM or GBK CSV stores the documents
the plain CSV stores, row for row."""

from __future__ import annotations

import json

from sqlalchemy import select
from tablekit import csv_bytes, excel_workbook, plain_rows, run

from engine.records.store import open_store
from engine.records.store.models import SubmissionRow


def stored(url: str) -> list[tuple]:
    store = open_store(url)
    with store.reading() as s:
        rows = s.exec(select(SubmissionRow).order_by(SubmissionRow.id)).scalars().all()
    return [(r.raw, r.valid, json.loads(r.source)["row"]) for r in rows]


def test_excel_made_batch_files_store_what_the_plain_csv_stores(tmp_path):
    from people import seed_url

    made = {
        "plain.csv": csv_bytes(plain_rows()),
        "bom.csv": csv_bytes(plain_rows(), bom=True),
        "gbk.csv": csv_bytes(plain_rows(), "gbk"),
    }
    got = {}
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
        url = seed_url(f"sqlite:///{tmp_path / (name + '.db')}")
        r = run("submit", "--db", url, "--by", "li", tmp_path / name)
        assert "4 accepted, 1 rejected" in r.output, r.output
        got[name] = stored(url)
    xlsx_url = seed_url(f"sqlite:///{tmp_path / 'xlsx.db'}")
    run("submit", "--db", xlsx_url, "--by", "li", excel_workbook(tmp_path / "apps.xlsx", plain_rows()))
    assert got["bom.csv"] == got["plain.csv"] and got["gbk.csv"] == got["plain.csv"]
    assert [v for _raw, v, _n in stored(xlsx_url)] == [v for _raw, v, _n in got["plain.csv"]]
    assert "太原".encode() in got["gbk.csv"][0][0], "kept as UTF-8 JSON, whatever the file's encoding"
