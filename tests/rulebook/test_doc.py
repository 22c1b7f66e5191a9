"""docs/rulebook.md is generated from the rule files (engine/rulebook/doc.py) and kept current."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.rulebook.comparisons import COMPARISONS
from engine.rulebook.doc import rulebook_markdown, show_term, show_test
from engine.rulebook.expressions import Compare, Field, Param
from engine.rulebook.loader import load_rulebook

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "rulebook.md"
REFORM = ROOT / "rules" / "reforms" / "remote-region-tilt.yaml"


@pytest.fixture(scope="module")
def book():
    return load_rulebook()


def test_docs_rulebook_md_is_what_the_generator_writes_now(book):
    assert DOC.read_text(encoding="utf-8") == rulebook_markdown(book), (
        "docs/rulebook.md is out of date: run `shuangtan rules doc --out docs/rulebook.md`"
    )


def test_the_reference_names_every_outcome_criterion_exemption_table_and_parameter(book):
    text = rulebook_markdown(book)
    for o in book.outcomes:
        assert f"`{o.name}`: {o.title['zh']} / {o.title['en']}" in text
        assert " ".join(o.clause.split()) in text
        for e in (*book.exceptions, *o.applies):
            assert f"`{e.code}`" in text and e.message["zh"] in text
        for c in o.criteria:
            assert f"#### `{c.code}`" in text
            assert f"- Test: {show_test(c.test)}" in text
            assert c.message["zh"] in text and c.message["en"] in text
        for t in o.tables:
            assert f"### Table `{t.name}`" in text
            assert all(f"| `{r.id}` |" in text for r in t.rows)
        if o.amount is not None:
            assert f"- Formula: {show_term(o.amount.formula)}" in text
    for name, p in book.params.items():
        assert f"#### `{name}`" in text
        assert p.description in text
        for start, _, _ in p.history:
            assert f"| {start.isoformat()} |" in text
    for key in book.sources:
        assert f"{key} |" in text
    for c in book.metering.checks:
        assert f"| `{c.fact}` |" in text


def test_tests_read_in_the_comparison_vocabulary():
    for name, c in COMPARISONS.items():
        test = Compare(name, Field("storage.cycle_life", "int"), Param("storage_technical_standard.min_cycle_life"))
        assert show_test(test) == f"storage.cycle_life {c.symbol} storage_technical_standard.min_cycle_life"


def test_the_whole_history_of_a_parameter_is_shown_with_a_reform():
    text = rulebook_markdown(load_rulebook(reforms=[_reform(REFORM)]))
    assert "2026.1+remote-region-tilt" in text
    assert "| 2026-01-01 | default: 1.0, 141100: 1.2, 140900: 1.2 |" in text


def _reform(path):
    from engine.rulebook.reforms import load_reform

    return load_reform(path)


def test_the_generator_is_deterministic(book):
    assert rulebook_markdown(book) == rulebook_markdown(load_rulebook())


def test_rules_doc_writes_the_reference(tmp_path, book):
    runner = CliRunner()
    out = tmp_path / "docs" / "rulebook.md"
    result = runner.invoke(main, ["rules", "doc", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == rulebook_markdown(book)
    printed = runner.invoke(main, ["rules", "doc"])
    assert printed.exit_code == 0 and printed.output == rulebook_markdown(book)
    reformed = runner.invoke(main, ["rules", "doc", "--reform", str(REFORM)])
    assert reformed.exit_code == 0 and "141100: 1.2" in reformed.output


def test_nested_tests_and_formulas_read_with_their_grouping():
    from fractions import Fraction

    from engine.rulebook.expressions import All, AnyOf, Arith, Const, Not, Present, Truth, Var

    ratio = Arith("div", (Arith("sub", (Var("a"), Var("b"))), Var("a")))
    assert show_term(ratio) == "(a − b) ÷ a"
    assert show_term(Arith("max", (Const(Fraction(0)), Arith("sub", (Var("c"), Var("d")))))) == "max(0, c − d)"
    test = All(
        (Present("storage"), AnyOf((Truth(Field("x.y", "boolean"), True), Not(Truth(Field("x.z", "boolean"), False)))))
    )
    assert show_test(test) == "section storage is present and (x.y is true or not (x.z is false))"
