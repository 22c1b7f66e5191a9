"""rules validate: the bundled rulebook is clean; each kind of authoring mistake is caught."""

import pytest
from repo import BROKEN_REFORMS, REFORMS

from engine.rulebook.checks import FIELD_RANGES, always, validate
from engine.rulebook.loader import load_rulebook
from engine.rulebook.reforms import load_reform


def findings(*reforms):
    return validate(load_rulebook(None, [load_reform(BROKEN_REFORMS / f"{r}.yaml") for r in reforms]))


def test_bundled_rulebook_validates_clean(cli):
    assert validate(load_rulebook()) == []
    result = cli("rules", "validate")
    assert result.exit_code == 0, result.output
    assert "no findings" in result.output


@pytest.mark.parametrize("reform", sorted(p.name for p in REFORMS.glob("*.yaml")))
def test_shipped_reforms_have_no_errors(reform):
    book = load_rulebook(None, [load_reform(REFORMS / reform)])
    assert [f for f in validate(book) if f.level == "error"] == []


def test_overlapping_tiers_are_an_error_from_their_date():
    (f,) = findings("overlapping-tiers")
    assert (f.level, f.file, f.key) == ("error", "rules/outcomes/storage_subsidy.yaml", "tables.rate.rows[1].min")
    assert "from 2027-01-01" in f.message and "tier_40 can never be hit" in f.message


def test_threshold_outside_the_field_range():
    fs = findings("threshold-out-of-range")
    assert {(f.level, f.key) for f in fs} == {("error", "criteria[0].test")}
    assert any("outside the range [0, 1]" in f.message and "packaging.recycling_rate" in f.message for f in fs)
    assert any("always fires" in f.message for f in fs)


def test_criterion_that_always_holds_can_never_fire():
    (f,) = findings("always-true-criterion")
    assert f.key == "criteria[2].test" and "REPORTING_INCOMPLETE can never fire" in f.message


def test_status_test_on_a_status_that_cannot_occur():
    fs = findings("impossible-status")
    errors = {(f.file, f.key) for f in fs if f.level == "error"}
    assert errors == {
        ("rules/outcomes/storage_subsidy.yaml", "criteria[1].test"),
        ("rules/outcomes/equipment_subsidy.yaml", "criteria[4].test"),
        ("rules/outcomes/eco_packaging_freight_subsidy.yaml", "criteria[3].test"),
        ("rules/outcomes/carbon_quota_reward.yaml", "criteria[1].test"),
    }
    unused = {f.key for f in fs if f.level == "warning"}
    assert unused == {"min_completeness", "max_upload_delay"}


def test_unused_parameter_is_a_warning_and_exit_zero(cli):
    result = cli("rules", "validate", "--reform", REFORMS / "levy-per-order.yaml")
    assert result.exit_code == 0, result.output
    assert "packaging_levy.rate is never used" in result.output


def test_cli_exits_1_on_errors_naming_file_and_key(cli):
    result = cli("rules", "validate", "--reform", BROKEN_REFORMS / "overlapping-tiers.yaml")
    assert result.exit_code == 1
    assert "rules/outcomes/storage_subsidy.yaml: tables.rate.rows[1].min" in result.output


def test_ranges_come_from_the_contract():
    r = FIELD_RANGES["storage.platform.reporting_completeness"]
    assert (r.lo, r.hi, r.lo_incl, r.hi_incl) == (0, 1, True, True)
    assert FIELD_RANGES["storage.baseline_peak_kw"].lo_incl is False
    assert FIELD_RANGES["equipment.investment_yuan"].places == 2
    gt0 = FIELD_RANGES["storage.baseline_peak_kw"]
    assert always("gt", gt0, 0) is True and always("gte", r, 0) is True and always("gte", r, 1) is None
    assert always("lte", r, 1) is True and always("gt", r, 1) is False and always("lt", r, 0) is False


def test_range_text_is_not_confused_by_formatting_booleans_first():
    from engine.decimals import fmt_plain

    assert fmt_plain(True) == "true"
    assert FIELD_RANGES["packaging.recycling_rate"].text() == "[0, 1]"
