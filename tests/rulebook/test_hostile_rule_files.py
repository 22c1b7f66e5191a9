"""Hostile and careless rule files: refused at load, naming file and key, in milliseconds.

tests/fixtures/hostile_rules/<case>/ are copies of tests/fixtures/minimal_rules/ with one defect
each; tests/fixtures/reforms/ holds the hostile reforms. Without the bounds, the alias bomb and
``1e999999999`` run for minutes (both cases time out after 10 s on the code before this test), a
5,000-digit integer is a ValueError traceback and a negative rate grants a negative amount.
"""

import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine import errors as E
from engine.rulebook.checks import validate
from engine.rulebook.loader import load_rulebook
from engine.rulebook.parameters import UNIT_BOUNDS, parse_parameter
from engine.rulebook.reforms import load_reform
from engine.rulebook.yamlfile import number_problem

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests/fixtures"
HOSTILE = FIXTURES / "hostile_rules"
REFORMS = FIXTURES / "reforms"
PARAM, OUTCOME = "rules/parameters/density_check.yaml", "rules/outcomes/density_check.yaml"
VALUE = "min_energy_density.values.2026-01-01"
TOO_BIG = "out of bounds"

EXPECTED = {  # folder: (exception class, file, key, words of the message)
    "alias_bomb_in_formula": (E.YamlSyntaxError, OUTCOME, "let.a", "line 11: an anchor &a"),
    "anchor_and_alias": (E.YamlSyntaxError, PARAM, "min_energy_density.description", "an anchor &same"),
    "deep_nesting": (E.YamlSyntaxError, OUTCOME, "criteria[0].test.gte[1].mul[0].mul…", "deeper than 64"),
    "huge_exponent_on_an_unused_date": (E.BadValueError, PARAM, "min_energy_density.values.2099-01-01", TOO_BIG),
    "huge_unquoted_integer": (E.BadValueError, PARAM, VALUE, TOO_BIG),
    "huge_quoted_integer": (E.BadValueError, PARAM, VALUE, TOO_BIG),
    "explicit_int_tag": (E.BadValueError, PARAM, VALUE, TOO_BIG),
    "tiny_exponent": (E.BadValueError, PARAM, VALUE, TOO_BIG),
    "huge_literal_in_formula": (E.BadValueError, OUTCOME, "criteria[0].test.gte[1].mul[1]", TOO_BIG),
    "negative_value": (E.BadValueError, PARAM, VALUE, "-261 is below 0"),
}


def test_every_hostile_folder_has_an_expectation():
    assert sorted(p.name for p in HOSTILE.iterdir() if p.is_dir()) == sorted(EXPECTED)


@pytest.mark.parametrize("folder", sorted(EXPECTED))
def test_a_hostile_rulebook_is_refused_quickly_naming_file_and_key(folder):
    cls, file, key, words = EXPECTED[folder]
    start = time.perf_counter()
    with pytest.raises(E.RulebookError) as info:
        load_rulebook(HOSTILE / folder)
    assert time.perf_counter() - start < 0.5
    exc = info.value
    assert type(exc) is cls, f"{type(exc).__name__}: {exc}"
    assert (exc.file, exc.key) == (file, key)
    assert words in str(exc)
    assert len(str(exc)) < 400  # a 5,000-digit literal is not echoed whole


REFORM_EXPECTED = {  # reform: (exception class, key, words)
    "alias-bomb": (E.YamlSyntaxError, "rules.packaging_levy.replace.amount.formula.add[0]", "an anchor &h"),
    "huge-exponent": (E.BadValueError, "parameters.storage_subsidy.tier_30_rate.values.2099-01-01", "'1e999999999'"),
    "huge-integer": (E.BadValueError, "parameters.storage_subsidy.annual_cap.values.2027-01-01", "5000 characters"),
    "negative-rate": (E.BadValueError, "parameters.storage_subsidy.tier_30_rate.values.2027-01-01", "-3.5 is below 0"),
    "ratio-above-one": (
        E.BadValueError,
        "parameters.packaging_certification.min_recycling_rate.values.2027-01-01",
        "1.5 is above 1",
    ),
}


@pytest.mark.parametrize("reform", sorted(REFORM_EXPECTED))
def test_a_hostile_reform_is_refused_quickly_naming_the_reform_and_key(reform):
    cls, key, words = REFORM_EXPECTED[reform]
    path = REFORMS / f"{reform}.yaml"
    start = time.perf_counter()
    with pytest.raises(E.RulebookError) as info:
        load_rulebook(None, [load_reform(path)])
    assert time.perf_counter() - start < 0.5
    exc = info.value
    assert type(exc) is cls, f"{type(exc).__name__}: {exc}"
    assert (exc.file, exc.key) == (str(path), key)
    assert words in str(exc)


def test_the_alias_bomb_is_under_a_kilobyte_and_fails_in_milliseconds():
    path = REFORMS / "alias-bomb.yaml"
    assert path.stat().st_size < 700
    start = time.perf_counter()
    with pytest.raises(E.YamlSyntaxError):
        load_reform(path)
    assert time.perf_counter() - start < 0.05


@pytest.mark.parametrize("reform", ["alias-bomb", "huge-exponent", "huge-integer", "negative-rate"])
def test_check_with_a_hostile_reform_is_one_clean_line_and_exit_1(reform):
    app = ROOT / "examples/applications/large-merchant-levy.json"
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["check", "--reform", str(REFORMS / f"{reform}.yaml"), str(app)])
    assert time.perf_counter() - start < 2
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "rulebook error" in result.output and f"{reform}.yaml" in result.output
    assert "Traceback" not in result.output


def test_rules_validate_reports_a_negative_rate_as_an_error():
    result = CliRunner().invoke(main, ["rules", "validate", "--reform", str(REFORMS / "negative-rate.yaml")])
    assert result.exit_code == 1
    assert "parameters.storage_subsidy.tier_30_rate.values.2027-01-01: -3.5 is below 0" in result.output


def test_rules_validate_reports_an_absurd_rate_as_an_error():
    book = load_rulebook(None, [load_reform(REFORMS / "absurd-rate.yaml")])  # it loads: 80 is a possible rate
    (f,) = validate(book)
    assert (f.level, f.file, f.key) == (
        "error",
        "rules/parameters/storage_subsidy.yaml",
        "tier_30_rate.values.2027-01-01",
    )
    assert "80 yuan/kWh" in f.message and "at most 10" in f.message
    result = CliRunner().invoke(main, ["rules", "validate", "--reform", str(REFORMS / "absurd-rate.yaml")])
    assert result.exit_code == 1 and "1 error" in result.output


def test_every_unit_of_the_bundled_rulebook_has_bounds_and_its_values_lie_within():
    book = load_rulebook()
    assert {p.unit for p in book.params.values()} <= set(UNIT_BOUNDS)
    assert validate(book) == []


def _raw(value, unit="ratio"):
    return {"description": "d", "unit": unit, "reference": "assumption: x", "values": {"2026-01-01": value}}


@pytest.mark.parametrize(
    "value",
    [
        "1e999999999",
        "1E+999999999",
        "-1e-999999999",
        10**5000,
        Decimal("1e999999999"),
        "9" * 5000,
        "0." + "0" * 40 + "1",
    ],
    ids=["exp", "EXP", "neg-tiny", "int-5000", "Decimal-exp", "str-5000", "tiny"],
)
def test_parameter_values_are_bounded_before_any_exact_arithmetic(value):
    """The loader's own check, for files that did not come through the YAML scan."""
    start = time.perf_counter()
    with pytest.raises(E.BadValueError) as info:
        parse_parameter("g.p", _raw(value, "factor"), "rules/parameters/g.yaml", {}, {})
    assert time.perf_counter() - start < 0.05
    assert info.value.key == "p.values.2026-01-01" and "out of bounds" in str(info.value)


@pytest.mark.parametrize(
    ("unit", "value", "ok"),
    [
        ("ratio", "0", True),
        ("ratio", "1", True),
        ("ratio", "1.0001", False),
        ("ratio", "-0.01", False),
        ("yuan/kWh", "-0.50", False),
        ("yuan", "999999999999999.99", True),
        ("yuan", "1000000000000000", False),
        ("h", "25", False),
        ("days", "30.5", False),
        ("days", "30", True),
        ("a-unit-nobody-declared", "-1", False),
        ("a-unit-nobody-declared", "7", True),
    ],
)
def test_bounds_per_unit(unit, value, ok):
    raw = _raw(value, unit)
    if ok:
        p = parse_parameter("g.p", raw, "f", {}, {})
        assert p.history[0][1] == Fraction(value)
    else:
        with pytest.raises(E.BadValueError, match=r"out of bounds for a value in|not a whole number"):
            parse_parameter("g.p", raw, "f", {}, {})


def test_an_indexed_value_is_bounded_per_key():
    raw = _raw({"default": "1.0", "141100": "-1.2"}, "factor") | {"index": "storage.region"}
    with pytest.raises(E.BadValueError) as info:
        parse_parameter("g.p", raw, "f", {"storage.region": "text"}, {})
    assert info.value.key == "p.values.2026-01-01.141100"


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("0.80", False),
        ("5000000.00", False),
        ("1_000", False),
        ("1e30", False),
        ("1e31", True),
        ("1e-31", True),
        ("0e999999", False),  # zero is zero, whatever its exponent
        ("1" * 31, True),
        ("1" * 30, False),
        ("ninety fen", False),  # not a number at all: for the caller to refuse
        ("2026-01-01", False),
    ],
)
def test_number_problem(text, bad):
    assert (number_problem(text) is not None) is bad
