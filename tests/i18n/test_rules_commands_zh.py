"""rules validate and rules test speak Chinese by default, English with --lang en, same facts."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from repo import BROKEN_REFORMS, REFORMS, RULE_TESTS

from engine.cli import main

pytestmark = pytest.mark.zh


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="shuangtan")
    return result.exit_code, result.stdout + result.stderr


def test_a_clean_rulebook_validates_in_chinese():
    code, out = run("rules", "validate")
    assert code == 0 and "未发现问题" in out and "no findings" not in out
    assert out.startswith("规则集 ")


def test_each_finding_is_worded_in_chinese_with_its_file_and_key():
    code, out = run("rules", "validate", "--reform", BROKEN_REFORMS / "overlapping-tiers.yaml")
    assert code == 1
    assert "错误 rules/outcomes/storage_subsidy.yaml（tables.rate.rows[1].min）：自 2027-01-01 起" in out
    assert "档位 tier_40 永远不会被命中" in out and "1 个错误，0 个警告" in out
    code, out = run("rules", "validate", "--reform", BROKEN_REFORMS / "impossible-status.yaml")
    assert "警告 rules/parameters/reporting_compliance.yaml" in out and "没有被任何事项使用" in out
    assert "只可能是“达标、不适用”" in out and "4 个错误，2 个警告" in out
    code, out = run("rules", "validate", "--reform", BROKEN_REFORMS / "absurd-rate.yaml")
    assert "80 元/千瓦时" in out and "yuan/kWh" not in out
    code, out = run("rules", "validate", "--reform", BROKEN_REFORMS / "threshold-out-of-range.yaml")
    assert "packaging.recycling_rate ≥ 1.5 从不成立" in out and " gte " not in out


def test_findings_stay_english_with_lang_en():
    code, out = run("--lang", "en", "rules", "validate", "--reform", BROKEN_REFORMS / "overlapping-tiers.yaml")
    assert code == 1 and "error   rules/outcomes/storage_subsidy.yaml: tables.rate.rows[1].min: from 2027-01-01" in out
    assert out.rstrip().endswith("1 error, 0 warnings")


def test_rule_tests_report_in_chinese():
    code, out = run("rules", "test", RULE_TESTS / "storage_subsidy.yaml")
    assert code == 0
    assert "storage_subsidy.yaml：通过 29 项，失败 0 项" in out
    assert "覆盖：" in out and "个分支已被测试用例覆盖" in out and "passed" not in out
    assert "以下分支没有任何用例覆盖：" in out and "carbon_quota_reward：状态 批准" in out


def test_a_failing_rule_test_is_explained_in_chinese():
    code, out = run(
        "rules", "test", RULE_TESTS / "storage_subsidy.yaml", "--reform", REFORMS / "remote-region-tilt.yaml"
    )
    assert code == 1
    assert "通过 28 项，失败 1 项" in out and "  未通过：" in out
    assert "storage_subsidy.amount：应为 '80000.00'，实际为 '96000.00'" in out
    assert "1 个用例未通过" in out and "FAILED" not in out and "expected" not in out


def test_a_failing_rule_test_in_english():
    code, out = run(
        "--lang",
        "en",
        "rules",
        "test",
        RULE_TESTS / "storage_subsidy.yaml",
        "--reform",
        REFORMS / "remote-region-tilt.yaml",
    )
    assert code == 1 and "storage_subsidy.amount: expected '80000.00', got '96000.00'" in out
    assert "1 case failed" in out and "28 passed, 1 failed" in out
