"""Files as Excel and WPS save them decide exactly the rows the plain CSV decides (issue 16)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tablekit import PLAIN_CSV, csv_bytes, excel_workbook, plain_rows, run

from engine.batch.readers import read_records
from engine.contract.formats import cell_value, xlsx_rows
from engine.i18n import use
from engine.tables.cells import boolean_cell, number_cell
from engine.tables.encoding import detect
from engine.tables.headers import column_of, suggestion

#: these tests read shuangtan as a user does by default: in Chinese
pytestmark = pytest.mark.zh


def decide(tmp_path, name: str, data: bytes | None = None, *extra):
    src = tmp_path / name
    if data is not None:
        src.write_bytes(data)
    out, rejects = tmp_path / f"{name}.out.jsonl", tmp_path / f"{name}.rejects.jsonl"
    r = run("evaluate", src, "--out", out, "--rejects", rejects, "-j", "1", *extra)
    assert r.exit_code == 0, r.output
    return out.read_bytes(), [json.loads(x) for x in rejects.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def plain(tmp_path):
    out, rejects = decide(tmp_path, "plain.csv", PLAIN_CSV.read_bytes())
    assert out.count(b"\n") == 4 and len(rejects) == 1  # the example's one bad row is rejected
    return out, rejects


@pytest.mark.parametrize(
    "name, make",
    [
        ("bom.csv", lambda: csv_bytes(plain_rows(), bom=True)),
        ("gbk.csv", lambda: csv_bytes(plain_rows(), "gbk")),
        ("gb18030.csv", lambda: csv_bytes(plain_rows(), "gb18030")),
    ],
)
def test_excel_and_wps_csv_decide_what_the_plain_csv_decides(tmp_path, plain, name, make):
    out, rejects = decide(tmp_path, name, make())
    assert out == plain[0]  # byte for byte
    assert [(r["line"], r["errors"]) for r in rejects] == [(r["line"], r["errors"]) for r in plain[1]]


def test_an_xlsx_with_text_formatted_codes_decides_what_the_plain_csv_decides(tmp_path, plain):
    book = excel_workbook(tmp_path / "apps.xlsx", plain_rows())
    out, rejects = decide(tmp_path, "apps.xlsx")
    assert book.exists() and out == plain[0]
    assert [r["line"] for r in rejects] == [r["line"] for r in plain[1]]


def test_an_xlsx_whose_header_row_was_pasted_from_a_bom_csv_decides_as_plain(tmp_path, plain):
    rows = plain_rows()
    rows[0][0] = "\ufeff" + rows[0][0]  # the BOM rides along, invisible, in the first header cell
    excel_workbook(tmp_path / "pasted.xlsx", rows)
    out, rejects = decide(tmp_path, "pasted.xlsx")
    assert out == plain[0]
    assert [r["line"] for r in rejects] == [r["line"] for r in plain[1]]


def test_a_credit_code_excel_made_a_number_is_named_with_its_cell_and_the_fix(tmp_path):
    excel_workbook(tmp_path / "apps.xlsx", plain_rows(), text_codes=False)
    out, rejects = decide(tmp_path, "apps.xlsx")
    assert out == b""
    first = rejects[0]["errors"]
    assert first == [
        {
            "path": "enterprise.credit_code",
            "message": "单元格 D2 中是数字 9.11401e+17，不是代码：请将该列设置为“文本”格式后重新输入",
            "cell": "D2",
        }
    ]


def test_a_credit_code_csv_cell_in_scientific_notation_is_named(tmp_path):
    rows = plain_rows()
    rows[1][rows[0].index("enterprise.credit_code")] = "9.11401E+17"
    _out, rejects = decide(tmp_path, "sci.csv", csv_bytes(rows))
    assert rejects[0]["line"] == 2
    with use("en"):
        assert rejects[0]["errors"][0]["path"] == "enterprise.credit_code"
    assert "9.11401E+17" in rejects[0]["errors"][0]["message"] and "文本" in rejects[0]["errors"][0]["message"]


def test_spreadsheet_spellings_of_numbers_and_booleans_decide_as_plain(tmp_path, plain):
    rows = plain_rows()
    header = rows[0]
    row = rows[1]
    row[header.index("equipment.investment_yuan")] = "3,200,000.00"
    row[header.index("storage.capacity_kwh")] = "２０００"  # full-width, as a Chinese input method types
    row[header.index("packaging.order_count")] = "1,200,000"
    row[header.index("enterprise.is_ecommerce")] = "是"
    row[header.index("storage.platform.connected")] = "TRUE"
    row[header.index("packaging.has_recycling_system")] = "0"
    out, _ = decide(tmp_path, "spelt.csv", csv_bytes(rows, bom=True))
    assert out == plain[0]


def test_a_bad_cell_is_named_by_row_and_column_and_the_rest_decided(tmp_path):
    rows = plain_rows()
    rows[1][rows[0].index("storage.discharged_kwh")] = "三十万"
    out, rejects = decide(tmp_path, "bad.csv", csv_bytes(rows, "gbk"))
    assert out.count(b"\n") == 3
    bad = [r for r in rejects if r["line"] == 2]
    assert [(e["path"], e["cell"]) for e in bad[0]["errors"]] == [("storage.discharged_kwh", "M2")]
    assert "三十万" in bad[0]["errors"][0]["message"]


def test_labelled_headers_are_read_back_and_a_misspelt_one_gets_a_suggestion(tmp_path):
    assert column_of("申报期放电量（kWh）（storage.discharged_kwh）") == "storage.discharged_kwh"
    assert column_of("energy discharged (kWh) (storage.discharged_kwh)") == "storage.discharged_kwh"
    assert column_of("企业名称") == "enterprise.name"
    assert suggestion("storage.discharge_kwh") == "storage.discharged_kwh"
    assert suggestion("discharge_kwh") == "storage.discharged_kwh"
    assert suggestion("colour") is None
    rows = plain_rows()
    rows[0][rows[0].index("storage.discharged_kwh")] = "storage.discharge_kwh"
    _out, rejects = decide(tmp_path, "typo.csv", csv_bytes(rows))
    assert {"path": "storage.discharge_kwh", "message": "未知的列；是否应为 storage.discharged_kwh？"} in rejects[0][
        "errors"
    ]


def test_jsonl_with_a_bom_keeps_its_first_record(tmp_path):
    from repo import BATCH

    data = (BATCH / "applications.jsonl").read_bytes()
    plain_out, _ = decide(tmp_path, "plain.jsonl", data)
    bom_out, _ = decide(tmp_path, "bom.jsonl", b"\xef\xbb\xbf" + data)
    assert bom_out == plain_out and bom_out.count(b"\n") >= 4


def test_encoding_detection_and_the_explicit_choice():
    gbk = "太原青禾电子商务有限公司".encode("gbk")
    assert detect(b"a,b\n" + gbk) == "gb18030"
    assert detect(b"\xef\xbb\xbfa,b") == "utf-8-sig"
    assert detect("太原".encode()) == "utf-8-sig"
    assert detect("太原".encode()[:-1]) == "utf-8-sig", "a character cut by the block's end is still UTF-8"
    assert detect(gbk, "utf-8") == "utf-8-sig" and detect(b"x", "GBK") == "gb18030"


def test_a_gbk_file_read_as_utf8_names_each_row_and_encoding_option_reads_it(tmp_path, plain):
    data = csv_bytes(plain_rows(), "gbk")
    out, rejects = decide(tmp_path, "forced.csv", data, "--encoding", "utf-8")
    assert out == b"" and all("UTF-8" in r["errors"][0]["message"] for r in rejects)
    out, _ = decide(tmp_path, "named.csv", data, "--encoding", "gbk")
    assert out == plain[0]


def test_cells_as_spreadsheets_spell_them():
    assert [boolean_cell(x) for x in ("是", "否", "TRUE", "false", "1", "0", " 是 ", "ＴＲＵＥ")] == [
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        True,
    ]
    assert boolean_cell("可能") == "可能"
    assert number_cell("3,200,000.00") == "3200000.00"
    assert number_cell("－１，２００") == "-1200"
    assert number_cell("32,00") == "32,00", "not thousands groups: left for validation to name"
    assert number_cell("²") == "²", "a superscript is no digit"
    assert cell_value("integer", "1,200,000") == 1200000
    assert cell_value("boolean", "否") is False


def test_json_gets_no_spreadsheet_leniency(tmp_path):
    doc = json.loads(PLAIN_CSV.with_suffix(".jsonl").read_text(encoding="utf-8").splitlines()[0])
    doc["enterprise"]["is_ecommerce"] = "是"
    src = tmp_path / "one.jsonl"
    src.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
    with open(src, "rb") as fh:
        (_n, _raw, parsed), *_ = list(read_records(fh, "jsonl"))
    assert parsed["enterprise"]["is_ecommerce"] == "是"  # left for validation to refuse


def test_xlsx_rows_name_cells_under_no_header(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["application_id"])
    book.active.append(["A-1", "stray"])
    path = tmp_path / "x.xlsx"
    book.save(path)
    (_n, _raw, _cells, doc), *_ = list(xlsx_rows(path.read_bytes()))
    assert doc.errors == [("(row)", "单元格 B2 所在的列没有表头")]


digits = st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), places=2, allow_nan=False)
FULL = str.maketrans("0123456789-.,", "０１２３４５６７８９－．，")


@given(digits, st.booleans())
def test_separated_or_full_width_numbers_read_back_to_the_same_decimal(value, full_width):
    text = f"{value:,.2f}"
    if full_width:
        text = text.translate(FULL)
    assert Decimal(cell_value("decimal", text)) == value
