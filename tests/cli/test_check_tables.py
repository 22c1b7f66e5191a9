"""shuangtan check on CSV and XLSX: read as evaluate reads them, one row checked like the JSON."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner
from repo import BATCH, WORKED_EXAMPLE

from engine.cli import main

CSV = BATCH / "applications.csv"
ROWS = list(csv.reader(CSV.open(encoding="utf-8")))


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="shuangtan")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def write_csv(path, rows, encoding="utf-8"):
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return path


def write_xlsx(path, rows, number_at=None):
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    if number_at:
        book.active[number_at[0]] = number_at[1]
    book.save(path)
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", ["csv", "bom.csv", "gbk.csv", "xlsx"])
def test_one_row_is_checked_exactly_like_the_json(tmp_path, lang, kind):
    path = tmp_path / f"one.{kind}"
    if kind == "xlsx":
        write_xlsx(path, ROWS[:2])
    else:
        write_csv(path, ROWS[:2], {"csv": "utf-8", "bom.csv": "utf-8-sig", "gbk.csv": "gb18030"}[kind])
    for fmt in ("text", "json"):
        code, out, err = run("--lang", lang, "check", path, "--format", fmt)
        want = run("--lang", lang, "check", WORKED_EXAMPLE, "--format", fmt)
        assert (code, out, err) == want, err
    assert json.loads(out)["totals"]["subsidy_yuan"] == "920000.00"


def test_several_rows_each_summary_and_the_bad_row_named_by_cell(tmp_path):
    code, out, err = run("--lang", "zh", "check", CSV)
    assert code == 2  # invalid input, as for a JSON application: named on standard error
    assert [line for line in out.splitlines() if line.startswith("——")] == [
        "—— 第 2 行 ——",
        "—— 第 3 行 ——",
        "—— 第 5 行 ——",
        "—— 第 6 行 ——",
    ]
    assert "申请 APP-2026-000123 · 太原青禾电子商务有限公司" in out
    assert "第 4 行：申请材料有误（3 处）：" in err
    assert "所在地区行政区划代码（enterprise.region_code）：必须是 6 位行政区划代码" in err and "（单元格 F4）" in err
    assert "共 5 行：已作出决定 4 行，有误 1 行" in err
    assert "not valid JSON" not in out + err and "JSON" not in err


def test_several_rows_in_json_are_an_array_of_the_decisions(tmp_path):
    code, out, err = run("check", CSV, "--format", "json")
    assert code == 2 and "row 4: invalid application (3 problems):" in err and "(cell F4)" in err
    decisions = json.loads(out)
    assert [d["application_id"] for d in decisions] == [r[0] for r in ROWS[1:] if r[0] != ROWS[3][0]]


def test_the_spreadsheet_variants_decide_the_rows_the_plain_csv_decides(tmp_path):
    want = run("check", CSV, "--format", "json")
    assert run("check", write_csv(tmp_path / "bom.csv", ROWS, "utf-8-sig"), "--format", "json") == want
    gbk = write_csv(tmp_path / "gbk.csv", ROWS, "gb18030")
    assert run("check", gbk, "--format", "json") == want
    assert run("check", gbk, "--encoding", "gbk", "--format", "json") == want
    assert run("check", write_xlsx(tmp_path / "all.xlsx", ROWS), "--format", "json")[:2] == want[:2]


def test_a_wrong_encoding_names_each_cell_never_a_traceback(tmp_path):
    gbk = write_csv(tmp_path / "gbk.csv", ROWS, "gb18030")
    code, out, err = run("--lang", "zh", "check", gbk, "--encoding", "utf-8")
    assert code == 2 and "Traceback" not in err
    assert "企业名称（enterprise.name）：不是有效的 UTF-8 文本" in err and "（单元格 E2）" in err


def test_a_credit_code_excel_made_a_number_is_named_in_its_cell(tmp_path):
    path = write_xlsx(tmp_path / "one.xlsx", ROWS[:2], number_at=("D2", 9.11401e17))
    code, out, err = run("--lang", "zh", "check", path)
    assert code == 2 and "第 2 行：申请材料有误（1 处）：" in err
    assert "单元格 D2" in err and "文本" in err and err.count("D2") == 1


@pytest.mark.zh
def test_files_with_no_row_or_not_a_workbook_are_refused_in_chinese(tmp_path):
    empty = write_csv(tmp_path / "empty.csv", ROWS[:1])
    code, out, err = run("check", empty)
    assert code == 2 and "中没有申请（表头之下没有数据行）" in err
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04junk")
    code, out, err = run("check", junk)
    assert code == 2 and "不是 XLSX 工作簿" in err and "not an" not in err
    code, out, err = run("check", CSV, "--telemetry", BATCH.parent / "telemetry/taiyuan-2026.csv")
    assert code == 2 and "一个计量数据文件只对应一份申请，而此文件有 5 行" in err


def test_partial_rows_leave_empty_cells_unknown(tmp_path):
    row = list(ROWS[1])
    row[ROWS[0].index("storage.discharged_kwh")] = ""
    path = write_csv(tmp_path / "partial.csv", [ROWS[0], row])
    code, out, err = run("check", path, "--partial", "--format", "json")
    assert code == 0, err
    assert "storage.discharged_kwh" in json.loads(out)["outcomes"]["storage_subsidy"]["needs"]
    code, out, err = run("check", path)
    assert code == 2 and "storage.discharged_kwh" in err
