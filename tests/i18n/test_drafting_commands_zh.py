"""The drafters' commands say in Chinese what they did or refused: population generate, simulate
on a file it cannot read, explain on a spreadsheet, rules doc, a malformed rule-test file."""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner
from repo import BATCH

from engine.cli import main

pytestmark = pytest.mark.zh
CSV = BATCH / "applications.csv"


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="shuangtan")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_population_generate_in_chinese(tmp_path):
    code, out, err = run("population", "generate", "--n", "5", "--seed", "1", "--out", tmp_path / "p.txt")
    assert code == 2 and "p.txt：请使用以 .parquet, .jsonl, .csv, .xlsx 结尾的文件名" in err
    code, out, err = run("population", "generate", "--n", "5", "--seed", "1", "--out", tmp_path / "p.parquet")
    assert code == 0 and "已生成 5 份申请，写入" in err and "wrote" not in err


def test_simulate_names_an_unreadable_population_in_chinese(tmp_path):
    junk = tmp_path / "pop.xlsx"
    junk.write_bytes(b"PK\x03\x04junk")
    code, out, err = run("simulate", "--population", junk, "--reform", "remote-region-tilt", "--out", tmp_path / "s")
    assert code == 2 and "无法读取" in err and "不是 XLSX 工作簿" in err and "cannot read" not in err
    rows = list(csv.reader(CSV.open(encoding="utf-8")))
    bad = tmp_path / "pop.csv"
    with bad.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([[*rows[0], "storage.discharge_kwh"], [*rows[1], "1"]])
    code, out, err = run("simulate", "--population", bad, "--reform", "remote-region-tilt", "--out", tmp_path / "s")
    assert code == 2 and "第 2 行：" in err and "是否应为 storage.discharged_kwh" in err and "line 2" not in err
    code, out, err = run(
        "simulate", "--population", CSV, "--reform", "remote-region-tilt", "--out", tmp_path / "s", "--cluster", "local"
    )
    assert code == 2 and "--cluster 需要 Parquet 格式的申请集合" in err


def test_explain_takes_a_spreadsheet_of_one_row(tmp_path):
    rows = list(csv.reader(CSV.open(encoding="utf-8")))
    one = tmp_path / "one.csv"
    with one.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows[:2])
    code, out, err = run("explain", one, "--why-not", "storage_subsidy")
    assert code == 0 and "用户侧储能度电补贴：批准" in out
    code, out, err = run("explain", CSV, "--why-not", "storage_subsidy")
    assert code == 2 and "explain 一次解释一份申请" in err and "有 5 行" in err and "JSON" not in err


def test_rules_doc_names_what_it_could_not_write(tmp_path):
    code, out, err = run("rules", "doc", "--out", tmp_path / "f" / "x.md")
    assert code == 0 and "已写入" in err and "行，规则集 2026.1" in err
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    code, out, err = run("rules", "doc", "--out", blocker / "x.md")
    assert code == 2 and "无法写入" in err and "Traceback" not in err and "Error" not in err


def test_a_malformed_rule_test_file_in_chinese(tmp_path):
    bad = tmp_path / "storage_subsidy.yaml"
    bad.write_text("outcome: storage_subsidy\ncases:\n  - name: lower case\n    expect: {status: granted}\n", "utf-8")
    code, out, err = run("rules", "test", bad)
    assert code == 1 and "规则测试文件" in err and "（cases[0].name）：'lower case' 不是一个句子" in err
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n", encoding="utf-8")
    code, out, err = run("rules", "test", listed)
    assert "（顶层）：应为映射（键：值）" in err
