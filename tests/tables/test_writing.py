"""--out's name is its format; CSV carries a BOM for Excel; XLSX has Chinese headers the readers take back."""

from __future__ import annotations

import csv
import io
import json

import pytest
from python_calamine import CalamineWorkbook
from tablekit import PLAIN_CSV, run

from engine.contract.flat import result_columns
from engine.tables.writing import OutFormatError, out_format


@pytest.mark.parametrize(
    "name, fmt",
    [("d.jsonl", "jsonl"), ("d.NDJSON", "jsonl"), ("d.csv", "csv"), ("决定.xlsx", "xlsx"), ("d.parquet", "parquet")],
)
def test_the_suffix_is_the_format(name, fmt):
    assert out_format(name) == fmt


@pytest.mark.parametrize("name", ["d.txt", "d", "d.xls", "d.json"])
def test_a_name_that_says_no_format_is_refused_naming_the_valid_suffixes(name, tmp_path):
    with pytest.raises(OutFormatError, match=r"\.jsonl, \.ndjson, \.csv, \.xlsx, \.parquet"):
        out_format(name)
    r = run("evaluate", PLAIN_CSV, "--out", tmp_path / name)
    assert r.exit_code == 2 and ".xlsx" in r.output and "Traceback" not in r.output
    assert not (tmp_path / name).exists(), "nothing written under a name that says another format"


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_out_is_flat_decisions_with_a_bom_unless_no_bom(tmp_path, book):
    assert run("evaluate", PLAIN_CSV, "--out", tmp_path / "d.csv", "-j", "1").exit_code == 0
    assert run("evaluate", PLAIN_CSV, "--out", tmp_path / "n.csv", "--no-bom", "-j", "1").exit_code == 0
    assert run("evaluate", PLAIN_CSV, "--out", tmp_path / "d.jsonl", "-j", "1").exit_code == 0
    with_bom, without = (tmp_path / "d.csv").read_bytes(), (tmp_path / "n.csv").read_bytes()
    assert with_bom.startswith(b"\xef\xbb\xbf") and not without.startswith(b"\xef\xbb\xbf")
    assert with_bom[3:] == without
    rows = _rows(without.decode("utf-8"))
    assert list(rows[0]) == result_columns(book)
    docs = [json.loads(x) for x in (tmp_path / "d.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["application_id"] for r in rows] == [d["application_id"] for d in docs]
    assert [r["storage_subsidy.amount"] for r in rows] == [
        d["outcomes"]["storage_subsidy"]["amount"] or "" for d in docs
    ]
    assert rows[0]["region_code"] == "140100"


def test_xlsx_out_has_chinese_headers_and_the_csvs_cells(tmp_path):
    assert run("evaluate", PLAIN_CSV, "--out", tmp_path / "d.xlsx", "-j", "1").exit_code == 0
    assert run("evaluate", PLAIN_CSV, "--out", tmp_path / "d.csv", "--no-bom", "-j", "1").exit_code == 0
    sheet = CalamineWorkbook.from_path(str(tmp_path / "d.xlsx")).get_sheet_by_index(0).to_python()
    header, body = sheet[0], sheet[1:]
    assert header[0] == "申请编号（application_id）"
    assert "储能补贴 金额（storage_subsidy.amount）" in header or any(
        h.endswith("（storage_subsidy.amount）") and "金额" in h for h in header
    )
    plain = list(csv.reader(io.StringIO((tmp_path / "d.csv").read_text(encoding="utf-8"))))[1:]
    assert body == plain, "every cell is text: no amount or code turned into a float"


def test_a_population_as_xlsx_is_read_back_by_its_chinese_headers(tmp_path):
    for name in ("p.xlsx", "p.csv"):
        r = run("population", "generate", "--n", "20", "--seed", "5", "--out", tmp_path / name)
        assert r.exit_code == 0, r.output
    header = CalamineWorkbook.from_path(str(tmp_path / "p.xlsx")).get_sheet_by_index(0).to_python()[0]
    assert "企业名称（enterprise.name）" in header
    for name in ("p.xlsx", "p.csv"):
        assert run("evaluate", tmp_path / name, "--out", tmp_path / f"{name}.jsonl", "-j", "1").exit_code == 0
    assert (tmp_path / "p.xlsx.jsonl").read_bytes() == (tmp_path / "p.csv.jsonl").read_bytes()


def test_evaluate_cluster_names_its_folder_with_out_dir(tmp_path):
    r = run("evaluate", PLAIN_CSV, "--cluster", "local", "--out", tmp_path / "d.parquet")
    assert r.exit_code == 2 and "--out-dir" in r.output
    assert not (tmp_path / "d.parquet").exists()
    r = run("evaluate", PLAIN_CSV, "--out-dir", tmp_path / "parts")
    assert r.exit_code == 2 and "--out" in r.output


def test_export_takes_its_format_from_the_name_and_carries_the_enterprise_name(tmp_path, sqlite_url, root):
    app = root / "examples/applications/taiyuan-pv-storage-warehouse.json"
    for args in (
        ("submit", "--db", sqlite_url, "--by", "li", app),
        ("decide", "--db", sqlite_url, "--all-pending", "--officer", "wang"),
        ("confirm", "--db", sqlite_url, "--all-proposed", "--by", "zhao", "--opinion", "同意"),
    ):
        r = run(*args)
        assert r.exit_code == 0, r.output
    assert run("export", "--db", sqlite_url, "--out", tmp_path / "e.csv").exit_code == 0
    assert run("export", "--db", sqlite_url, "--out", tmp_path / "e.xlsx").exit_code == 0
    assert run("export", "--db", sqlite_url, "--out", tmp_path / "e.jsonl").exit_code == 0
    data = (tmp_path / "e.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    (row,) = _rows(data.decode("utf-8-sig"))
    assert row["enterprise_name"] == "太原青禾电子商务有限公司"
    sheet = CalamineWorkbook.from_path(str(tmp_path / "e.xlsx")).get_sheet_by_index(0).to_python()
    assert "企业名称（enterprise_name）" in sheet[0] and "太原青禾电子商务有限公司" in sheet[1]
    line = json.loads((tmp_path / "e.jsonl").read_text(encoding="utf-8"))
    assert line["record"]["enterprise_name"] == "太原青禾电子商务有限公司"
    r = run("export", "--db", sqlite_url, "--out", tmp_path / "e.txt")
    assert r.exit_code == 2 and ".xlsx" in r.output
    r = run("export", "--db", sqlite_url, "--format", "jsonl", "--out", tmp_path / "e2.csv")
    assert r.exit_code == 2
