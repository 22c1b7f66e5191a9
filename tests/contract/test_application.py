"""The application contract (the field table of docs/contract.md): every row, valid and invalid.

Each invalid case asserts the exact field path in the error, and several bad fields are all named.
"""

import json
from decimal import Decimal

import pytest
from appdoc import doc
from stdnum.cn import uscc

from engine.contract.application import parse_application
from engine.errors import InvalidApplicationError


def errors_of(data) -> dict:
    with pytest.raises(InvalidApplicationError) as info:
        parse_application(data)
    return dict(info.value.errors)


def code_with_check(first17: str) -> str:
    return first17 + uscc.calc_check_digit(first17)


VALID = [
    ("application_id", "A"),
    ("application_id", "a" * 64),
    ("application_id", "APP-2026_01.x"),
    ("period__start", "2026-01-01"),
    ("enterprise__credit_code", code_with_check("91141100MA0K8Q3R2")),
    ("enterprise__name", "吕"),
    ("enterprise__name", "x" * 200),
    ("enterprise__region_code", "141100"),
    ("enterprise__size", "large"),
    ("enterprise__is_ecommerce", False),
    ("storage__capacity_kwh", "0.001"),
    ("storage__energy_density_wh_per_kg", 261),
    ("storage__baseline_peak_kw", "1"),
    ("storage__cycle_life", 1),
    ("storage__backflow_response_ms", "0"),
    ("storage__discharged_kwh", 0),
    ("storage__peak_with_storage_kw", "0"),
    ("storage__platform__connected", False),
    ("storage__platform__carbon_reduction_reported", False),
    ("storage__platform__reporting_completeness", "0"),
    ("storage__platform__reporting_completeness", "1"),
    ("storage__platform__max_upload_delay_min", "0"),
    ("equipment__investment_yuan", "0"),
    ("equipment__investment_yuan", "12.3"),
    ("equipment__investment_yuan", 12345.67),
    ("packaging__order_value_yuan", "0.01"),
    ("history__storage_subsidy_granted_this_year_yuan", "4999999.99"),
    ("history__freight_subsidy_granted_this_year_yuan", 0),
    ("equipment__automated_return_receiving", False),
    ("equipment__realtime_data_analytics", False),
    ("packaging__has_recycling_system", True),
    ("history__equipment_subsidy_received", True),
    ("packaging__order_count", 0),
    ("packaging__nondegradable_share", "1"),
    ("packaging__recycling_rate", "0"),
    ("packaging__filler_reduction_rate", "0.5"),
    ("energy__renewable_kwh", "0"),
]


@pytest.mark.parametrize("path,value", VALID, ids=[f"{p}={v!r}"[:60] for p, v in VALID])
def test_valid_values_are_accepted(path, value):
    app = parse_application(
        json.dumps(doc(**{path: value}), default=str) if not isinstance(value, float) else _raw_number(path, value)
    )
    assert app is not None


def _raw_number(path, value):
    # A JSON number written in the text (not a Python float passed in): it must be read exactly.
    d = doc(**{path: "@@"})
    return json.dumps(d).replace('"@@"', repr(value))


INVALID = [
    # (dotted path with __, bad value, path named in the error, words of the message)
    ("application_id", "", "application_id", "1–64"),
    ("application_id", "a" * 65, "application_id", "1–64"),
    ("application_id", "APP 1", "application_id", "A-Z"),
    ("application_id", "APP/1", "application_id", "A-Z"),
    ("period__start", "2026-13-01", "period.start", "date"),
    ("period__end", "31/12/2026", "period.end", "date"),
    ("period__start", "2027-01-01", "period", "start"),
    ("period__end", "2027-01-02", "period", "366"),
    ("enterprise__credit_code", "91140100MA0L3K2P5A", "enterprise.credit_code", "check"),
    ("enterprise__credit_code", "91140100MA0L3K2P5", "enterprise.credit_code", "18"),
    ("enterprise__credit_code", "91140100ma0l3k2p5r", "enterprise.credit_code", "upper"),
    ("enterprise__name", "", "enterprise.name", "empty"),
    ("enterprise__name", "x" * 201, "enterprise.name", "200"),
    ("enterprise__region_code", "14010", "enterprise.region_code", "6-digit"),
    ("enterprise__region_code", "14O100", "enterprise.region_code", "6-digit"),
    ("enterprise__region_code", 140100, "enterprise.region_code", "string"),
    ("enterprise__size", "medium", "enterprise.size", "sme"),
    ("enterprise__is_ecommerce", "true", "enterprise.is_ecommerce", "boolean"),
    ("enterprise__is_ecommerce", 1, "enterprise.is_ecommerce", "boolean"),
    ("storage__capacity_kwh", "0", "storage.capacity_kwh", "> 0"),
    ("storage__energy_density_wh_per_kg", "-1", "storage.energy_density_wh_per_kg", "> 0"),
    ("storage__baseline_peak_kw", "0", "storage.baseline_peak_kw", "> 0"),
    ("storage__cycle_life", 0, "storage.cycle_life", "> 0"),
    ("storage__cycle_life", "12000", "storage.cycle_life", "integer"),
    ("storage__cycle_life", "1.5", "storage.cycle_life", "integer"),
    ("storage__backflow_response_ms", "-0.01", "storage.backflow_response_ms", "≥ 0"),
    ("storage__discharged_kwh", "-1", "storage.discharged_kwh", "≥ 0"),
    ("storage__peak_with_storage_kw", "-1", "storage.peak_with_storage_kw", "≥ 0"),
    ("storage__discharged_kwh", "lots", "storage.discharged_kwh", "decimal"),
    ("storage__discharged_kwh", True, "storage.discharged_kwh", "decimal"),
    ("storage__platform__connected", "yes", "storage.platform.connected", "boolean"),
    ("storage__platform__carbon_reduction_reported", 0, "storage.platform.carbon_reduction_reported", "boolean"),
    ("storage__platform__reporting_completeness", "1.01", "storage.platform.reporting_completeness", "≤ 1"),
    ("storage__platform__reporting_completeness", "-0.1", "storage.platform.reporting_completeness", "≥ 0"),
    ("storage__platform__max_upload_delay_min", "-1", "storage.platform.max_upload_delay_min", "≥ 0"),
    ("equipment__investment_yuan", "1.005", "equipment.investment_yuan", "2 decimal places"),
    ("equipment__investment_yuan", "-0.01", "equipment.investment_yuan", "≥ 0"),
    ("packaging__order_value_yuan", "123.456", "packaging.order_value_yuan", "2 decimal places"),
    (
        "history__storage_subsidy_granted_this_year_yuan",
        "0.001",
        "history.storage_subsidy_granted_this_year_yuan",
        "2 decimal places",
    ),
    ("history__freight_subsidy_granted_this_year_yuan", "-5", "history.freight_subsidy_granted_this_year_yuan", "≥ 0"),
    ("equipment__automated_return_receiving", "true", "equipment.automated_return_receiving", "boolean"),
    ("equipment__realtime_data_analytics", None, "equipment.realtime_data_analytics", "boolean"),
    ("packaging__has_recycling_system", "false", "packaging.has_recycling_system", "boolean"),
    ("history__equipment_subsidy_received", 0, "history.equipment_subsidy_received", "boolean"),
    ("packaging__order_count", -1, "packaging.order_count", "≥ 0"),
    ("packaging__order_count", "10", "packaging.order_count", "integer"),
    ("packaging__nondegradable_share", "1.0001", "packaging.nondegradable_share", "≤ 1"),
    ("packaging__recycling_rate", "2", "packaging.recycling_rate", "≤ 1"),
    ("packaging__filler_reduction_rate", "-0.5", "packaging.filler_reduction_rate", "≥ 0"),
    ("energy__renewable_kwh", "-1", "energy.renewable_kwh", "≥ 0"),
    ("storage__discharge_kwh", "350000", "storage.discharge_kwh", "unknown field"),
    ("enterprise__credit", "x", "enterprise.credit", "unknown field"),
    ("bonus", 1, "bonus", "unknown field"),
    ("enterprise__name", ..., "enterprise.name", "missing"),
    ("storage__platform", ..., "storage.platform", "missing"),
    ("storage", "yes", "storage", "object"),
]


@pytest.mark.parametrize("path,value,where,words", INVALID, ids=[f"{p}={v!r}"[:60] for p, v, _, _ in INVALID])
def test_invalid_values_name_the_field(path, value, where, words):
    errs = errors_of(json.dumps(doc(**{path: value})) if value is not ... else doc(**{path: value}))
    assert where in errs, errs
    assert words.lower() in errs[where].lower(), errs[where]


def test_a_credit_code_made_with_the_standard_check_character_is_accepted():
    for first17 in ("91140100MA0L3K2P5", "91141100MA0K8Q3R2", "92140900MA0HXY7B1"):
        code = code_with_check(first17)
        assert parse_application(doc(enterprise__credit_code=code)).enterprise.credit_code == code
        wrong = first17 + ("0" if code[-1] != "0" else "1")
        assert "enterprise.credit_code" in errors_of(doc(enterprise__credit_code=wrong))


def test_several_bad_fields_are_all_reported():
    bad = doc(
        enterprise__credit_code="91140100MA0L3K2P5A",
        enterprise__region_code="1401",
        storage__discharge_kwh="1",
        equipment__investment_yuan="1.001",
        packaging__nondegradable_share="1.5",
    )
    bad["storage"]["platform"]["reporting_completeness"] = "1.2"
    errs = errors_of(bad)
    assert set(errs) == {
        "enterprise.credit_code",
        "enterprise.region_code",
        "storage.discharge_kwh",
        "equipment.investment_yuan",
        "packaging.nondegradable_share",
        "storage.platform.reporting_completeness",
    }
    assert errs["storage.platform.reporting_completeness"] == "must be ≤ 1"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_a_number_field_are_refused_by_path(constant):
    text = json.dumps(doc(storage__discharged_kwh="@@")).replace('"@@"', constant)
    errs = errors_of(text)
    assert list(errs) == ["storage.discharged_kwh"]
    assert "finite" in errs["storage.discharged_kwh"]


def test_nan_in_a_text_field_is_refused():
    text = json.dumps(doc(application_id="@@")).replace('"@@"', "NaN")
    assert "application_id" in errors_of(text)


def test_a_json_number_is_read_exactly_never_through_a_float():
    text = (
        json.dumps(doc(storage__platform__reporting_completeness="@@", storage__discharged_kwh="%%"))
        .replace('"@@"', "0.1")
        .replace('"%%"', "999999999999999.99")  # 17 digits: a float would say 1e15
    )
    app = parse_application(text)
    assert app.storage.platform.reporting_completeness == Decimal("0.1")
    assert str(app.storage.platform.reporting_completeness) == "0.1"
    assert app.storage.discharged_kwh == Decimal("999999999999999.99")


def test_a_python_float_is_refused_because_it_has_already_lost_exactness():
    errs = errors_of(doc(storage__discharged_kwh=0.1))
    assert "storage.discharged_kwh" in errs


def test_absent_sections_mean_not_taking_part_and_absent_history_means_zero():
    d = doc(storage=..., equipment=..., packaging=..., energy=..., history=...)
    app = parse_application(d)
    assert app.storage is None and app.equipment is None and app.packaging is None and app.energy is None
    assert app.history.storage_subsidy_granted_this_year_yuan == 0
    assert app.history.equipment_subsidy_received is False


def test_a_period_of_exactly_366_days_is_accepted_and_367_refused():
    assert parse_application(doc(period__start="2028-01-01", period__end="2028-12-31"))  # leap year: 366 days
    assert parse_application(doc(period__start="2026-01-01", period__end="2027-01-01"))  # both ends count
    assert "period" in errors_of(doc(period__start="2026-01-01", period__end="2027-01-02"))
    assert parse_application(doc(period__start="2026-06-30", period__end="2026-06-30"))  # a one-day period


@pytest.mark.parametrize("text,words", [("{", "JSON"), ("[]", "object"), ("", "JSON")])
def test_a_document_that_is_not_a_json_object_is_refused(text, words):
    errs = errors_of(text)
    assert words in errs["(document)"]


@pytest.mark.parametrize("value", [1767225600, "2026-01-01T00:00:00", "20260101", "2026-02-30"])
def test_a_period_date_must_be_an_iso_date(value):
    errs = errors_of(json.dumps(doc(period__start=value)))
    assert "YYYY-MM-DD" in errs["period.start"]
