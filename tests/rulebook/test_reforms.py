"""Reforms as dated diffs: applied exactly from their date, refused with file, key and expected form."""

import json

import pytest
from appdoc import worked_example
from repo import BROKEN_REFORMS, REFORMS, WORKED_EXAMPLE

from engine.backends.rete.engine import ReteEngine
from engine.contract.application import parse_application
from engine.errors import BadDateError, BadValueError, RulebookError, UnknownKeyError, UnknownReferenceError
from engine.rulebook.loader import DEFAULT_RULES, load_rulebook, read_files
from engine.rulebook.reforms import load_reform


def decide(book, **changes):
    doc = worked_example()
    for path, value in changes.items():
        node = doc
        *head, last = path.split("__")
        for part in head:
            node = node[part]
        node[last] = value
    d = ReteEngine.for_rulebook(book).decide(parse_application(doc))
    return {k: (v["status"], v["amount"], [r["code"] for r in v["reasons"]]) for k, v in d["outcomes"].items()}, d


@pytest.fixture
def baseline(book):
    """The bundled rulebook, the one every reform is measured against."""
    return book


def test_every_shipped_reform_loads_and_is_recorded_in_version_and_digest(baseline):
    for path in sorted(REFORMS.glob("*.yaml")):
        book = load_rulebook(None, [load_reform(path)])
        name = load_reform(path).name
        assert book.version == f"{baseline.version}+{name}"
        assert book.digest != baseline.digest


def test_two_reforms_stack_in_order():
    book = load_rulebook(
        None, [load_reform(REFORMS / "remote-region-tilt.yaml"), load_reform(REFORMS / "tier30-0.90-from-2027.yaml")]
    )
    assert book.version.endswith("+remote-region-tilt+tier30-0.90-from-2027")


def test_apply_does_not_touch_the_files_it_was_given():
    files = read_files(DEFAULT_RULES)
    before = json.dumps(files, sort_keys=True, default=str)
    load_reform(REFORMS / "levy-per-order.yaml").apply(files)
    assert json.dumps(files, sort_keys=True, default=str) == before


def test_a_2027_change_changes_nothing_for_periods_ending_in_2026(baseline):
    reform = load_rulebook(None, [load_reform(REFORMS / "tier30-0.90-from-2027.yaml")])
    base_2026, _ = decide(baseline)
    new_2026, d = decide(reform)
    assert new_2026 == base_2026
    assert d["outcomes"]["storage_subsidy"]["parameters"]["storage_subsidy.tier_30_rate"]["value"] == "0.80"
    # the last day of 2026 is still 2026; the first of 2027 is not
    assert decide(reform, period__start="2026-06-01", period__end="2026-12-31")[0] == base_2026
    new_2027, d = decide(reform, period__start="2027-01-01", period__end="2027-01-01")
    assert new_2027["storage_subsidy"][:2] == ("granted", "315000.00")  # 350,000 kWh × 0.90
    assert (
        decide(baseline, period__start="2027-01-01", period__end="2027-01-01")[0]["storage_subsidy"][1] == "280000.00"
    )


def test_remote_region_tilt_multiplies_before_the_cap(baseline):
    tilt = load_rulebook(None, [load_reform(REFORMS / "remote-region-tilt.yaml")])
    got, _ = decide(tilt, enterprise__region_code="141100")
    assert got["storage_subsidy"][1] == "336000.00"  # 280,000 × 1.2
    assert got["equipment_subsidy"][1] == "768000.00"  # 640,000 × 1.2
    big, _ = decide(tilt, enterprise__region_code="140900", equipment__investment_yuan="9000000.00")
    assert big["equipment_subsidy"][1] == "2000000.00" and "CAPPED" in big["equipment_subsidy"][2]
    assert decide(tilt)[0] == decide(baseline)[0]  # Taiyuan is untouched


def test_levy_per_order_reading(baseline):
    per_order = load_rulebook(None, [load_reform(REFORMS / "levy-per-order.yaml")])
    assert decide(baseline)[0]["packaging_levy"][:2] == ("levied", "1500000.00")
    assert decide(per_order)[0]["packaging_levy"][:2] == ("levied", "12000.00")  # 1,200,000 orders × 0.01
    assert "packaging_levy.per_order" in per_order.params


def test_stricter_reporting_from_2027(baseline):
    strict = load_rulebook(None, [load_reform(REFORMS / "stricter-reporting.yaml")])
    assert decide(strict)[0] == decide(baseline)[0]
    got, _ = decide(strict, period__start="2027-01-01", period__end="2027-12-31")
    assert got["reporting_compliance"] == ("not_met", None, ["REPORTING_INCOMPLETE", "UPLOAD_DELAY_TOO_LONG"])
    assert got["storage_subsidy"][0] == "denied"


def test_switch_off_removes_exactly_one_criterion(tmp_path, baseline):
    path = tmp_path / "r.yaml"
    path.write_text(
        "name: no-discharge-test\ndescription: d\nreference: 'assumption: x'\n"
        "switch_off: [storage_subsidy.criteria.NOTHING_DISCHARGED]\n"
    )
    book = load_rulebook(None, [load_reform(path)])
    codes = [c.code for c in book.outcome("storage_subsidy").criteria]
    assert "NOTHING_DISCHARGED" not in codes and len(codes) == len(baseline.outcome("storage_subsidy").criteria) - 1


def test_ending_a_parameter_refuses_later_periods(tmp_path):
    path = tmp_path / "end.yaml"
    path.write_text(
        "name: end-tier\ndescription: d\nreference: 'assumption: x'\n"
        "parameters:\n  storage_subsidy.tier_30_rate:\n    values: {2028-01-01: null}\n"
    )
    book = load_rulebook(None, [load_reform(path)])
    from engine.errors import DateNotCoveredError

    with pytest.raises(DateNotCoveredError, match="tier_30_rate ended on 2028-01-01"):
        decide(book, period__start="2028-01-01", period__end="2028-03-31")


@pytest.mark.parametrize(
    "fixture, error, key, words",
    [
        (
            "unknown-parameter",
            UnknownReferenceError,
            "parameters.storage_subsidy.tier_30_rat",
            "unknown parameter 'storage_subsidy.tier_30_rat'",
        ),
        ("bad-date", BadDateError, "parameters.storage_subsidy.tier_30_rate.values.2027-13-01", "YYYY-MM-DD"),
        ("unknown-key", UnknownKeyError, "paramters", "one of description, description_zh, name, parameters"),
        ("bad-value", BadValueError, "parameters.storage_subsidy.tier_30_rate.values.2027-01-01", "not a number"),
        (
            "bad-formula",
            UnknownReferenceError,
            "rules.packaging_levy.replace.amount.formula.mul[1]",
            "packaging.order_valu_yuan",
        ),
        ("unknown-criterion", UnknownReferenceError, "switch_off[0]", "NOTHING_DISCHARGE'"),
    ],
)
def test_malformed_reforms_are_refused_naming_file_key_and_form(fixture, error, key, words):
    path = BROKEN_REFORMS / f"{fixture}.yaml"
    with pytest.raises(error) as info:
        load_rulebook(None, [load_reform(path)])
    exc = info.value
    assert exc.file == str(path) and exc.key == key
    assert words in str(exc) and "expected" in str(exc)


@pytest.mark.parametrize("key", ["description_zh", "reference_zh"])
def test_a_reforms_chinese_is_chinese(tmp_path, key):
    path = tmp_path / "zh.yaml"
    path.write_text(
        f"name: zh\ndescription: d\nreference: 'assumption: x'\n{key}: 'in English'\n"
        "parameters:\n  storage_subsidy.tier_30_rate:\n    values: {2027-01-01: '0.90'}\n"
    )
    with pytest.raises(BadValueError, match=f"{key}: 'in English' is not Chinese"):
        load_reform(path)


def test_new_parameter_needs_unit(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\ndescription: d\nreference: 'assumption: x'\nparameters:\n"
        "  packaging_levy.per_order:\n    description: d\n    unit: ''\n    reference: 'assumption: x'\n"
        "    values: {2026-01-01: '0.01'}\n"
    )
    with pytest.raises(RulebookError, match=r"parameters.packaging_levy.per_order.unit"):
        load_rulebook(None, [load_reform(path)])


def test_cli_refuses_a_reform_with_a_bad_date_without_traceback(cli):
    result = cli("check", WORKED_EXAMPLE, "--reform", BROKEN_REFORMS / "bad-date.yaml")
    assert result.exit_code == 1 and not isinstance(result.exception, BadDateError)
    assert "bad-date.yaml: parameters.storage_subsidy.tier_30_rate.values.2027-13-01" in result.output
