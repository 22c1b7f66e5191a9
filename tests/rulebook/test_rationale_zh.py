"""An assumption's rationale in Chinese (``rationale_zh``) and an English clause's (``clause_zh``):
loaded strictly, shown by ``rules show`` in Chinese, and out of the rulebook's digest."""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner
from repo import REFORMS, ROOT

from engine import errors as E
from engine.cli import main
from engine.rulebook.loader import load_rulebook
from engine.rulebook.reforms import load_reform

RULES = ROOT / "rules"
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture
def rules(tmp_path):
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder, ignore=shutil.ignore_patterns("reforms"))
    return folder


def edit(folder, rel, old, new):
    path = folder / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_every_assumption_of_the_bundled_rules_has_its_chinese_rationale():
    book = load_rulebook()
    assumed = [p for p in book.params.values() if p.reference.startswith("assumption:")]
    assert assumed and all(p.rationale_zh and CJK.search(p.rationale_zh) for p in assumed), [
        p.name for p in assumed if not p.rationale_zh
    ]
    assert all(p.rationale_zh is None for p in book.params.values() if not p.reference.startswith("assumption:"))
    english = [c for o in book.outcomes for c in o.criteria if c.clause.isascii()]
    assert english and all(c.clause_zh for c in english)


def test_the_translations_leave_the_digest_as_it_was(rules):
    before = load_rulebook(rules).digest
    assert before == load_rulebook().digest
    edit(rules, "parameters/storage_subsidy.yaml", "将财政支出控制在一个大型仓库的规模以内", "另一种译法")
    edit(rules, "outcomes/storage_subsidy.yaml", 'clause_zh: "每家企业的年度上限（假设）"', 'clause_zh: "年度上限"')
    assert load_rulebook(rules).digest == before
    edit(rules, "parameters/storage_subsidy.yaml", "bounds the fiscal exposure", "limits the fiscal exposure")
    assert load_rulebook(rules).digest != before  # the English reference is still part of it


@pytest.mark.parametrize(
    "old, new, error, key",
    [
        ('rationale_zh: "将财政', 'rationale_zh_hans: "将财政', E.UnknownKeyError, "annual_cap.rationale_zh_hans"),
        (
            'rationale_zh: "将财政支出控制在一个大型仓库的规模以内"',
            "rationale_zh: bounds it",
            E.BadValueError,
            "annual_cap.rationale_zh",
        ),
        (
            'rationale_zh: "将财政支出控制在一个大型仓库的规模以内"',
            "rationale_zh: 12",
            E.BadValueError,
            "annual_cap.rationale_zh",
        ),
        (
            '  rationale_zh: "将财政支出控制在一个大型仓库的规模以内"',
            '  rationale_zh: "将财政支出控制在一个大型仓库的规模以内"\n  rationale_zh: "再来一次"',
            E.DuplicateKeyError,
            "rationale_zh",
        ),
    ],
)
def test_a_bad_rationale_is_refused_naming_its_key(rules, old, new, error, key):
    edit(rules, "parameters/storage_subsidy.yaml", old, new)
    with pytest.raises(error) as caught:
        load_rulebook(rules)
    assert "storage_subsidy.yaml" in str(caught.value) and key in str(caught.value)


def test_a_rationale_beside_a_source_reference_is_refused(rules):
    edit(
        rules,
        "parameters/storage_subsidy.yaml",
        "  reference: T §6.2.3",
        '  rationale_zh: "来源"\n  reference: T §6.2.3',
    )
    with pytest.raises(E.UnknownKeyError) as caught:
        load_rulebook(rules)
    assert "rationale_zh" in str(caught.value) and "assumption" in str(caught.value)


def test_a_clause_translation_that_is_not_chinese_is_refused(rules):
    edit(rules, "outcomes/storage_subsidy.yaml", 'clause_zh: "每家企业的年度上限（假设）"', 'clause_zh: "annual cap"')
    with pytest.raises(E.BadValueError) as caught:
        load_rulebook(rules)
    assert "criteria[4].clause_zh" in str(caught.value)


def test_a_reform_that_rewords_a_reference_drops_the_stale_translation(tmp_path):
    reform = tmp_path / "r.yaml"
    reform.write_text(
        "name: r\ndescription: d\nreference: 'assumption: test'\nparameters:\n"
        "  storage_subsidy.annual_cap:\n    reference: 'assumption: another reason'\n"
        "    values: {2027-01-01: '4000000.00'}\n",
        encoding="utf-8",
    )
    book = load_rulebook(None, [load_reform(reform)])
    assert book.params["storage_subsidy.annual_cap"].rationale_zh is None
    new = load_rulebook(None, [load_reform(REFORMS / "levy-per-order.yaml")]).params["packaging_levy.per_order"]
    assert new.rationale_zh and "按订单量的1%" in new.rationale_zh


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="shuangtan")
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.zh
def test_rules_show_gives_each_assumption_its_rationale_in_chinese():
    out = run("rules", "show", "storage_subsidy", "--on", "2027-01-01")
    assert "（自 2026-01-01 起；假设：将财政支出控制在一个大型仓库的规模以内）" in out
    assert "条款：每家企业的年度上限（假设）" in out
    assert "理由见规则文件" not in out
    for outcome in [o.name for o in load_rulebook().outcomes]:
        assert "理由见规则文件" not in run("rules", "show", outcome), outcome


def test_rules_show_in_english_keeps_the_reference_as_written():
    out = run("--lang", "en", "rules", "show", "storage_subsidy", "--on", "2027-01-01")
    assert "assumption: bounds the fiscal exposure to one large warehouse" in out
    assert "clause: annual cap per enterprise (assumption)" in out and "假设" not in out
