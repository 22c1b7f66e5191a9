"""A refused telemetry file names each bad cell by row and column, in Chinese by default."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from repo import ROOT, WORKED_EXAMPLE

from engine.cli import main
from engine.errors import InvalidTelemetryError
from engine.i18n import use
from engine.telemetry.reader import read_telemetry
from engine.telemetry.wording import problem

pytestmark = pytest.mark.zh
TELEMETRY = ROOT / "examples/telemetry/taiyuan-2026.csv"
HEAD = "system_id,interval_start,grid_import_kw,storage_discharge_kw,storage_charge_kw,received_at"
ROWS = [
    "S1,2026-01-01T00:00,abc,0,0,2026-01-01T00:17",
    "S1,2026-01-01T00:15,1,,0,2026-01-01T00:32",
    "S1,2026-01-01,1,0,0,2026-01-01T00:47",
    "S1,2026-01-01T00:45,-5,0,0,2026-01-01T01:02",
    "S1,2026-01-01T01:07,1,0,0,2026-01-01T01:30",
    "S1,2026-01-01T01:15,1,0",
    "S1,2026-01-01T01:30,1,0,0,2026-01-01T01:31",
    "bad id!,2026-01-01T01:45,1,0,0,2026-01-01T02:10",
]


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="shuangtan")
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def bad_csv(tmp_path):
    path = tmp_path / "site.csv"
    path.write_text("\n".join([HEAD, *ROWS]) + "\n", encoding="utf-8")
    return path


def test_every_bad_cell_is_named_by_row_and_column_in_chinese(bad_csv):
    code, out = run("telemetry", "summarize", bad_csv)
    assert code == 2 and "Traceback" not in out
    assert "计量数据文件 site.csv 有误（8 处）：" in out
    assert "第 2 行，“grid_import_kw”列：'abc' 不是十进制数" in out
    assert "第 3 行，“storage_discharge_kw”列：缺少数值（空单元格不等于 0 kW）" in out
    assert "第 4 行，“interval_start”列：'2026-01-01' 是日期而不是时间" in out
    assert "第 5 行，“grid_import_kw”列：必须大于或等于 0，收到的是 -5" in out
    assert "第 6 行，“interval_start”列：2026-01-01T01:07:00 不在 15 分钟的时间网格上" in out
    assert "第 7 行：该行有 4 个单元格，表头有 6 列" in out
    assert "第 8 行，“received_at”列：2026-01-01T01:31:00 早于该时段结束的时间（2026-01-01T01:45:00）" in out
    assert "第 9 行，“system_id”列：'bad id!'：应为 1–64 个字符" in out
    assert "invalid" not in out and "line" not in out


def test_the_same_file_in_english_is_worded_as_before(bad_csv):
    code, out = run("--lang", "en", "telemetry", "summarize", bad_csv)
    assert code == 2 and "invalid telemetry site.csv (8 problems):" in out
    assert "  line 2: grid_import_kw: 'abc' is not a decimal number (expected kW, e.g. 812.50)" in out


def test_the_record_keeps_the_english_problems(bad_csv):
    with pytest.raises(InvalidTelemetryError) as caught:
        read_telemetry(bad_csv, 15)
    assert ("line 3", "storage_discharge_kw", "missing (an empty cell is not 0 kW)") in caught.value.problems


def test_header_duplicates_and_an_empty_file(tmp_path):
    head = tmp_path / "head.csv"
    head.write_text("when,grid_import_kw,grid_import_kw\n", encoding="utf-8")
    code, out = run("telemetry", "summarize", head)
    assert code == 2 and "表头，“when”列：未知列（应为：system_id, interval_start" in out
    assert "表头，“grid_import_kw”列：该列出现了两次" in out and "表头，“received_at”列：缺少该列" in out
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, out = run("telemetry", "summarize", empty)
    assert code == 2 and "第 1 行：文件为空（第一行应为表头" in out
    dup = tmp_path / "dup.csv"
    dup.write_text("\n".join([HEAD, *[ROWS[0].replace("abc", "1")] * 2]) + "\n", encoding="utf-8")
    code, out = run("telemetry", "summarize", dup)
    assert "第 3 行，“interval_start”列：计量时段 2026-01-01T00:00:00（储能系统 S1）重复（已在第 2 行）" in out


def test_metering_refusals_in_chinese():
    code, out = run("telemetry", "summarize", TELEMETRY, "--system", "NOPE")
    assert code == 2 and "计量数据：taiyuan-2026.csv 中没有储能系统 'NOPE'（文件中有：'TY-QH-ESS-01'）" in out
    code, out = run("telemetry", "summarize", TELEMETRY, "--from", "2026-05-01", "--to", "2026-04-01")
    assert code == 2 and "--to 2026-04-01 早于 --from 2026-05-01" in out


def test_a_summary_line_in_chinese():
    code, out = run("telemetry", "summarize", TELEMETRY)
    assert code == 0 and out.startswith("taiyuan-2026.csv：33,992 个计量时段（sha256 ")


def test_bad_telemetry_beside_an_application_in_chinese(bad_csv):
    code, out = run("check", WORKED_EXAMPLE, "--telemetry", bad_csv)
    assert code == 2 and "第 2 行，“grid_import_kw”列：" in out


@pytest.mark.parametrize(
    "english",
    [
        "'x' is not a timestamp (expected ISO 8601 local time, e.g. 2026-01-01T08:15 or 2026-01-01T08:15:00+08:00)",
        "a binary float; write the decimal as text or a decimal column",
        "expected a decimal number of kW",
        "'inf' is not finite",
        "1e99 is out of bounds (at most 8 integer digits and 20 decimal places)",
        "missing",
        "not UTF-8",
        "a binary float column (double); store decimals as decimal128 or text, never through a float",
        "cannot be read as parquet: boom",
        "12 more problems not listed",
        "overlaps the interval 2026-01-01T00:00:00 – 2026-01-01T00:15:00 (row 4)",
        "duplicate interval 2026-01-01T00:00:00 (already on line 2)",
    ],
)
def test_each_reader_problem_has_its_chinese(english):
    with use("zh"):
        said = problem(english)
    assert said != english and not any(w in said for w in ("expected", "missing", "not ", "row", "line"))
