"""click's own refusals of an option's value (a choice, a range, a path, a date) in Chinese."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.i18n.problems import click_problem

pytestmark = pytest.mark.zh


@pytest.mark.parametrize(
    "args, said",
    [
        (["verify-backends", "--n", "0"], "'--n' 的值无效：0 超出范围（应为 x≥1）"),
        (["users", "add", "x", "--role", "boss"], "'boss' 不是可选值之一（可选：'officer', 'reviewer'"),
        (["rules", "show", "storage_subsidy", "--on", "2026-13-01"], "'2026-13-01' 不符合格式 '%Y-%m-%d'"),
        (["telemetry", "summarize", "/"], "'/' 是文件夹，不是文件"),
        (["telemetry", "summarize", "/no/such.csv"], "'/no/such.csv' 不存在"),
    ],
)
def test_a_refused_value_is_said_in_chinese(args, said):
    result = CliRunner().invoke(main, args, prog_name="shuangtan")
    assert result.exit_code == 2 and said in result.stderr, result.stderr
    assert "is not" not in result.stderr and "does not" not in result.stderr


def test_english_is_left_as_click_says_it():
    assert click_problem("0 is not in the range x>=1.", "en") == "0 is not in the range x>=1."
    assert click_problem("something click never said", "zh") == "something click never said"
    assert click_problem("'x' is not a valid integer.", "zh") == "'x' 不是整数"
