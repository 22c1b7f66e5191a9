"""Every case of every rule-test file in tests/rules/ (one file per outcome), and full coverage."""

from pathlib import Path

import pytest
from repo import RULE_TESTS

from engine.backends.rete.engine import ReteEngine
from engine.drafting.ruletests import Case, RuleTestFormatError, coverage, discover, load_cases, run_case, run_cases

FILES = discover([RULE_TESTS])
CASES = [c for f in FILES for c in load_cases(f)]


def test_one_rule_test_file_per_outcome(book):
    """<outcome>.yaml for each outcome; <outcome>.metered.yaml holds its cases decided on telemetry,
    <outcome>.partial.yaml its cases of partial inputs."""
    assert sorted(f.stem for f in FILES if "." not in f.stem) == sorted(o.name for o in book.outcomes)
    assert {f.stem.split(".")[1] for f in FILES if "." in f.stem} <= {"metered", "partial"}
    assert all(load_cases(f)[0].outcome == f.stem.split(".")[0] for f in FILES)


@pytest.mark.parametrize("case", CASES, ids=[f"{Path(c.file).stem}: {c.name}" for c in CASES])
def test_rule_case(book, case):
    result = run_case(ReteEngine.for_rulebook(book), case)
    assert result.passed, f"{case.name}\n{result.diff}"


def test_every_branch_of_the_bundled_rulebook_is_exercised(book):
    report = coverage(book, run_cases(book, CASES))
    assert report.uncovered == [], "\n".join(report.lines())


def test_a_wrong_expectation_fails_with_a_diff(book):
    good = next(c for c in CASES if c.outcome == "packaging_levy" and c.expect.get("amount") == "123.46")
    wrong = Case(
        good.file,
        good.outcome,
        good.name,
        good.document,
        {**good.expect, "amount": "123.45", "reasons": ["HAS_RECYCLING_SYSTEM"]},
        good.index,
    )
    result = run_case(ReteEngine.for_rulebook(book), wrong)
    assert not result.passed
    assert "packaging_levy.amount: expected '123.45', got '123.46'" in result.diffs
    assert any(d.startswith("packaging_levy.reasons:") for d in result.diffs)


def test_coverage_lists_what_a_partial_suite_misses(book):
    levy_only = [c for c in CASES if c.outcome == "packaging_levy"]
    report = coverage(book, run_cases(book, levy_only))
    assert ("storage_subsidy", "tier", "rate.tier_40") in report.uncovered
    assert ("storage_subsidy", "reason", "CAPPED") in report.uncovered
    assert not [u for u in report.uncovered if u[0] == "packaging_levy"]


def test_a_malformed_rule_test_file_names_file_and_key(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text(
        "outcome: packaging_levy\ncases:\n  - name: lower case and no full stop\n    expect: {status: levied}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleTestFormatError, match=r"x\.yaml: cases\[0\]\.name: .* is not a sentence"):
        load_cases(bad)
    bad.write_text(
        "outcome: packaging_levy\ncases:\n  - name: A case.\n    expect: {status: levied, amout: '1.00'}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleTestFormatError, match=r"cases\[0\]\.expect\.amout: unknown key"):
        load_cases(bad)
