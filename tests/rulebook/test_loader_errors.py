"""Strict loading: one broken rulebook per loader error (tests/fixtures/broken_rules/<error>/).

Each folder is a copy of tests/fixtures/minimal_rules/ (which loads) with ONE defect. The test
asserts the exception class of engine/errors.py and that the message names the file and the key.
"""

import shutil
from fractions import Fraction

import pytest
from repo import FIXTURES

from engine import errors as E
from engine.rulebook.loader import load_rulebook

BROKEN = FIXTURES / "broken_rules"
PARAM, OUTCOME, INDEX = "rules/parameters/density_check.yaml", "rules/outcomes/density_check.yaml", "rules/ruleset.yaml"

EXPECTED = {  # folder: (exception class, file named, key named)
    "duplicate_key": (E.DuplicateKeyError, PARAM, "unit"),
    "unknown_key_in_parameter": (E.UnknownKeyError, PARAM, "min_energy_density.units"),
    "unknown_key_in_outcome": (E.UnknownKeyError, OUTCOME, "threshold"),
    "unknown_key_in_criterion": (E.UnknownKeyError, OUTCOME, "criteria[0].severity"),
    "unknown_key_in_ruleset": (E.UnknownKeyError, INDEX, "author"),
    "bad_date_month_13": (E.BadDateError, PARAM, "min_energy_density.values.2026-13-01"),
    "date_not_yyyy_mm_dd": (E.BadDateError, PARAM, "min_energy_density.values.2026-1-1"),
    "parameter_without_unit": (E.MissingUnitError, PARAM, "min_energy_density.unit"),
    "parameter_without_reference": (E.MissingReferenceError, PARAM, "min_energy_density.reference"),
    "parameter_without_description": (E.MissingKeyError, PARAM, "min_energy_density.description"),
    "parameter_without_values": (E.MissingKeyError, PARAM, "min_energy_density.values"),
    "assumption_without_rationale": (E.MissingReferenceError, PARAM, "min_energy_density.reference"),
    "reference_to_unknown_source": (E.UnknownReferenceError, PARAM, "min_energy_density.reference"),
    "bool_parameter_value": (E.BadValueError, PARAM, "min_energy_density.values.2026-01-01"),
    "text_parameter_value": (E.BadValueError, PARAM, "min_energy_density.values.2026-01-01"),
    "reference_to_unknown_field": (E.UnknownReferenceError, OUTCOME, "criteria[0].test.gte[0]"),
    "reference_to_unknown_parameter": (E.UnknownReferenceError, OUTCOME, "criteria[0].test.gte[1]"),
    "unknown_outcome_in_status_test": (E.UnknownReferenceError, OUTCOME, "criteria[0].test.status.outcome"),
    "bad_expression_op": (E.BadExpressionError, OUTCOME, "criteria[0].test.approx"),
    "bad_arithmetic_op": (E.BadExpressionError, OUTCOME, "criteria[0].test.gte[1].pow"),
    "unknown_section": (E.UnknownReferenceError, OUTCOME, "applies[0].when.present"),
    "bad_reason_code": (E.BadValueError, OUTCOME, "criteria[0].code"),
    "bad_kind": (E.BadValueError, OUTCOME, "kind"),
    "unknown_source_in_outcome": (E.UnknownReferenceError, OUTCOME, "source"),
    "unfillable_message_placeholder": (E.BadValueError, OUTCOME, "criteria[0].message.en"),
    "outcome_not_listed": (E.UnknownReferenceError, INDEX, "outcomes"),
    "listed_outcome_without_file": (E.UnknownReferenceError, INDEX, "outcomes[0]"),
    "outcome_name_mismatch": (E.BadValueError, OUTCOME, "outcome"),
    "yaml_syntax_error": (E.YamlSyntaxError, OUTCOME, "line 12"),
    "unexpected_file": (E.UnknownKeyError, "rules/notes.txt", ""),
    "missing_ruleset": (E.MissingKeyError, str(BROKEN / "missing_ruleset"), "ruleset.yaml"),
}


def test_every_fixture_folder_has_an_expectation():
    assert sorted(p.name for p in BROKEN.iterdir() if p.is_dir()) == sorted(EXPECTED)


def test_the_minimal_rulebook_the_fixtures_are_copied_from_loads():
    book = load_rulebook(FIXTURES / "minimal_rules")
    assert [o.name for o in book.outcomes] == ["density_check"]


@pytest.mark.parametrize("folder", sorted(EXPECTED))
def test_a_broken_rulebook_is_refused_naming_file_and_key(folder):
    cls, file, key = EXPECTED[folder]
    with pytest.raises(E.RulebookError) as info:
        load_rulebook(BROKEN / folder)
    exc = info.value
    assert type(exc) is cls, f"{type(exc).__name__}: {exc}"
    assert (exc.file, exc.key) == (file, key)
    assert str(exc).startswith(f"{file}: {key or '(top level)'}: ")


def test_an_unquoted_yaml_float_parameter_is_read_exactly(tmp_path):
    root = tmp_path / "rules"
    shutil.copytree(FIXTURES / "minimal_rules", root)
    p = root / "parameters" / "density_check.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace('"261"', "260.1"), encoding="utf-8")
    book = load_rulebook(root)
    value = book.params["density_check.min_energy_density"].history[0][1]
    assert value == Fraction(2601, 10)  # a binary float would not equal 2601/10


def test_the_bundled_rulebook_loads_cleanly():
    book = load_rulebook()
    assert len(book.outcomes) == 8
