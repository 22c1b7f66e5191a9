"""Issue 12, item 1: every number within the contract's bounds, judged before any exact
arithmetic; nothing an application can contain makes ``check`` take more than milliseconds."""

import copy
import json
import subprocess
import sys
from decimal import Decimal

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.contract.application import parse_application
from engine.contract.bounds import MAX_DECIMAL_PLACES, MAX_INTEGER_DIGITS
from engine.drafting.ruletests import BASE_APPLICATION
from engine.errors import InvalidApplicationError

SECTION = {"baseline_peak_kw": "storage", "investment_yuan": "equipment", "order_count": "packaging"}


def text_with(field: str, number: str) -> str:
    """The base application as JSON text with ``field`` set to ``number`` spelt exactly."""
    d = copy.deepcopy(BASE_APPLICATION)
    d[SECTION[field]][field] = "@@"
    return json.dumps(d, ensure_ascii=False).replace('"@@"', number)


def refusal(text) -> dict:
    with pytest.raises(InvalidApplicationError) as exc:
        parse_application(text)
    return dict(exc.value.errors)


# (field, spelling, message): the findings of the issue and their neighbours
HOSTILE = [
    ("baseline_peak_kw", "1e4400", "must have at most 18 integer digits"),
    ("baseline_peak_kw", "1e999999999", "must have at most 18 integer digits"),
    ("baseline_peak_kw", "1e-9999999", "must have at most 12 decimal places"),
    ("baseline_peak_kw", "1e+9999999", "must have at most 18 integer digits"),
    ("baseline_peak_kw", "1e100000", "must have at most 18 integer digits"),
    ("baseline_peak_kw", "0e999999999", "must have at most 18 integer digits"),
    ("baseline_peak_kw", "1" * 5000, "must have at most 18 integer digits"),
    ("baseline_peak_kw", '"' + "1" * 5000 + '"', "must have at most 18 integer digits"),
    ("baseline_peak_kw", "1." + "0" * 100_000, "must be written in at most 40 characters"),
    ("baseline_peak_kw", '"1.' + "0" * 100_000 + '"', "must be written in at most 40 characters"),
    ("baseline_peak_kw", '"0.0000000000001"', "must have at most 12 decimal places"),
    ("investment_yuan", "123456789012345678901234567.123", "must have at most 18 integer digits"),
    ("investment_yuan", '"123456789012345678901234567.123"', "must have at most 18 integer digits"),
    ("investment_yuan", '"1000000000000000000.00"', "must have at most 18 integer digits"),
    ("investment_yuan", '"10.005"', "must have at most 2 decimal places"),
    ("order_count", "1" * 5000, "must be ≤ 999999999999999999"),
    ("order_count", str(10**MAX_INTEGER_DIGITS), "must be ≤ 999999999999999999"),
]


@pytest.mark.parametrize("field,number,message", HOSTILE, ids=lambda v: str(v)[:24])
def test_a_number_beyond_the_bounds_is_refused_naming_its_field(field, number, message):
    assert refusal(text_with(field, number)) == {f"{SECTION[field]}.{field}": message}


@pytest.mark.parametrize(
    "field,number,value",
    [
        ("baseline_peak_kw", "999999999999999999", Decimal("999999999999999999")),
        ("baseline_peak_kw", '"999999999999999999.123456789012"', Decimal("999999999999999999.123456789012")),
        ("baseline_peak_kw", "1e3", Decimal("1E+3")),  # a JSON number may use an exponent
        ("baseline_peak_kw", '"0.5000000000000000"', Decimal("0.5000000000000000")),  # zeros are not places
        ("baseline_peak_kw", '"000000000000000000012"', Decimal("12")),  # nor are leading zeros digits
        ("investment_yuan", '"999999999999999999.99"', Decimal("999999999999999999.99")),
        ("investment_yuan", '"10.000"', Decimal("10.000")),  # money: 2 places as today
        ("order_count", "999999999999999999", 999999999999999999),
    ],
)
def test_a_number_at_the_bounds_is_decided_as_written(field, number, value):
    app = parse_application(text_with(field, number))
    got = getattr(getattr(app, SECTION[field]), field)
    assert got == value and str(got) == str(value)


def test_the_bounds_are_the_documented_ones():
    assert (MAX_INTEGER_DIGITS, MAX_DECIMAL_PLACES) == (18, 12)


def test_a_decimal_given_by_the_library_is_held_to_the_same_bounds():
    d = copy.deepcopy(BASE_APPLICATION)
    d["storage"]["baseline_peak_kw"] = Decimal("1E+999999999")
    d["equipment"]["investment_yuan"] = 10**20
    assert refusal(d) == {
        "storage.baseline_peak_kw": "must have at most 18 integer digits",
        "equipment.investment_yuan": "must have at most 18 integer digits",
    }


def test_check_refuses_the_money_value_that_raised_invalid_operation(tmp_path):
    f = tmp_path / "a.json"
    f.write_text(text_with("investment_yuan", "123456789012345678901234567.123"), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(f)])
    assert result.exit_code == 2
    assert "(equipment.investment_yuan): must have at most 18 integer digits" in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


# --- the hang cases, each in a subprocess with a timeout: a regression fails, never hangs --------
_TIMED = """
import sys, time
from click.testing import CliRunner
from engine.cli import main
runner = CliRunner()
started = time.perf_counter()
result = runner.invoke(main, sys.argv[1:])
print(result.exit_code, f"{time.perf_counter() - started:.3f}")
print(result.stderr)
"""


def timed_cli(*args) -> tuple[int, float, str]:
    """(exit code, seconds the command took, standard error) of the CLI in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", _TIMED, *map(str, args)], capture_output=True, text=True, timeout=60, check=True
    )
    head, _, err = done.stdout.partition("\n")
    code, seconds = head.split()
    return int(code), float(seconds), err


@pytest.mark.parametrize(
    "field,number",
    [
        ("baseline_peak_kw", "1e999999999"),
        ("baseline_peak_kw", "1e-9999999"),
        ("baseline_peak_kw", "1e+9999999"),
        ("baseline_peak_kw", "1e100000"),
        ("baseline_peak_kw", "1." + "0" * 500_000),
        ("investment_yuan", "1" * 900_000),
    ],
    ids=lambda v: str(v)[:16],
)
def test_check_returns_within_2_s_whatever_the_number(tmp_path, field, number):
    f = tmp_path / "a.json"
    f.write_text(text_with(field, number), encoding="utf-8")
    code, seconds, err = timed_cli("check", f)
    assert code == 2 and seconds < 2, (code, seconds, err)
    assert f"({SECTION[field]}.{field}): must" in err and "Traceback" not in err
