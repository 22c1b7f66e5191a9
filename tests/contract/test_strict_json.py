"""Issue 12, items 1 and 4: JSON read one strict way by every command: each key once, numbers in
strings spelt as the contract spells them, bounded size and nesting, UTF-8 (a BOM allowed)."""

import copy
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from people import seed_url

from engine.cli import main
from engine.contract.application import loads_exact, parse_application
from engine.drafting.ruletests import BASE_APPLICATION
from engine.errors import InvalidApplicationError, UnreadableDocumentError

TEXT = json.dumps(BASE_APPLICATION, ensure_ascii=False)


def refusal(data) -> dict:
    with pytest.raises(InvalidApplicationError) as exc:
        parse_application(data)
    return dict(exc.value.errors)


def test_a_key_given_twice_is_refused_naming_it():
    twice = TEXT.replace('"connected": true', '"connected": true, "connected": false')
    assert refusal(twice) == {"storage.platform.connected": "duplicate key: given more than once in its object"}
    top = TEXT[:-1] + ', "application_id": "OTHER"}'
    assert refusal(top) == {"application_id": "duplicate key: given more than once in its object"}


def test_loads_exact_refuses_duplicates_as_a_value_error_naming_the_path():
    with pytest.raises(ValueError) as exc:
        loads_exact('{"a": {"b": [{"c": 1, "c": 2}]}}')
    assert isinstance(exc.value, UnreadableDocumentError)
    assert exc.value.errors == [("a.b.0.c", "duplicate key: given more than once in its object")]


@pytest.mark.parametrize(
    "spelling", ["1_000", "+5", "9.", ".5", "-.5", "\u0663", "\uff11\uff12", " 12", "12 ", "1e3", "1E+3", "0x10", ""]
)
def test_a_decimal_in_a_json_string_is_ascii_digits_with_an_optional_point(spelling):
    d = copy.deepcopy(BASE_APPLICATION)
    d["storage"]["baseline_peak_kw"] = spelling
    assert refusal(d) == {"storage.baseline_peak_kw": f"must be a decimal number, got {spelling!r}"}


@pytest.mark.parametrize("spelling", ["NaN", "Infinity", "-inf"])
def test_non_finite_spellings_in_strings_are_refused_as_before(spelling):
    d = copy.deepcopy(BASE_APPLICATION)
    d["storage"]["baseline_peak_kw"] = spelling
    assert refusal(d) == {"storage.baseline_peak_kw": "must be a finite number (NaN and Infinity are refused)"}


def test_a_long_offending_value_is_echoed_cut_short():
    d = copy.deepcopy(BASE_APPLICATION)
    d["storage"]["baseline_peak_kw"] = "x" * 100_000
    message = refusal(d)["storage.baseline_peak_kw"]
    assert len(message) < 120 and "100,000 characters" in message


@pytest.mark.parametrize("depth", [9, 20, 1000, 5000])
def test_deep_nesting_is_refused_by_name_not_by_recursion_error(depth):
    for opener, closer in (('{"a":', "}"), ("[", "]")):
        text = opener * depth + "1" + closer * depth
        assert refusal(text) == {"(document)": "objects and arrays nested more than 8 deep"}
    inside = TEXT[:-1] + ', "extra": ' + "[" * depth + "]" * depth + "}"
    assert refusal(inside) == {"(document)": "objects and arrays nested more than 8 deep"}


def test_a_document_over_one_mib_is_refused_before_parsing():
    big = TEXT[:-1] + ', "pad": "' + "x" * (1 << 20) + '"}'
    message = "larger than 1,048,576 bytes, the contract's limit for one application"
    assert refusal(big) == {"(document)": message}
    assert refusal(big.encode()) == {"(document)": message}


@pytest.mark.parametrize("value", ["1", "{}", "[]", '"a"'])
def test_a_megabyte_of_small_values_is_refused_before_it_is_parsed(value):
    crowd = TEXT[:-1] + ', "x": [' + ",".join([value] * 20_000) + "]}"
    assert refusal(crowd) == {"(document)": "more than 10,000 values (an application has about 50)"}
    few = TEXT[:-1] + ', "x": [' + ",".join([value] * 1_000) + "]}"
    assert refusal(few) == {"x": "unknown field"}


def test_bytes_are_utf8_and_a_leading_bom_is_accepted():
    assert parse_application(b"\xef\xbb\xbf" + TEXT.encode()).application_id == "RULETEST-0001"
    assert refusal(TEXT.encode("utf-16")) == {"(document)": "not valid UTF-8 (byte offset 0)"}
    broken = TEXT.encode().replace("太原".encode(), b"\xff\xfe")
    assert list(refusal(broken).values())[0].startswith("not valid UTF-8 (byte offset ")


# --- the commands --------------------------------------------------------------------------------
def test_check_names_the_problem_of_deep_or_duplicated_json_without_traceback(tmp_path):
    cases = {
        "deep.json": ('{"a":' * 1000 + "1" + "}" * 1000, "(document): objects and arrays nested more than 8 deep"),
        "dup.json": (
            TEXT.replace('"size": "sme"', '"size": "sme", "size": "large"'),
            "(enterprise.size): duplicate key: given more than once in its object",
        ),
        "plus.json": (
            TEXT.replace('"capacity_kwh": "2000"', '"capacity_kwh": "+2000"'),
            "(storage.capacity_kwh): must be",
        ),
    }
    for name, (text, message) in cases.items():
        f = tmp_path / name
        f.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(main, ["check", str(f)])
        assert result.exit_code == 2, name
        assert message in result.stderr and "Traceback" not in result.output, name


def test_check_accepts_a_bom_as_submit_and_evaluate_do(tmp_path):
    f = tmp_path / "bom.json"
    f.write_bytes(b"\xef\xbb\xbf" + TEXT.encode())
    result = CliRunner().invoke(main, ["check", str(f), "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["application_id"] == "RULETEST-0001"


def test_submit_rejects_deep_and_out_of_bounds_documents_naming_the_problem(tmp_path):
    db = seed_url(f"sqlite:///{tmp_path / 'r.db'}")
    deep = tmp_path / "deep.json"
    deep.write_text('{"a":' * 1000 + "1" + "}" * 1000)
    money = tmp_path / "money.json"
    money.write_text(
        TEXT.replace('"application_id": "RULETEST-0001"', '"application_id": "M-1"').replace(
            '"3200000.00"', "123456789012345678901234567.123"
        )
    )
    good = tmp_path / "good.json"
    good.write_bytes(b"\xef\xbb\xbf" + TEXT.encode())
    result = CliRunner().invoke(main, ["submit", "--db", db, "--by", "li", str(deep), str(money), str(good)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.count("rejected") >= 2 and "1 accepted, 2 rejected" in result.output
    decided = CliRunner().invoke(main, ["decide", "--db", db, "--all-pending", "--officer", "wang"])
    assert decided.exit_code == 0 and "1 proposed" in decided.output
    shown = CliRunner().invoke(main, ["show", "--db", db, "M-1"])
    assert "equipment.investment_yuan: must have at most 18 integer digits" in shown.output


def test_check_of_dev_zero_returns_within_2_s_refusing_the_size():
    script = (
        "import time, sys\nfrom click.testing import CliRunner\nfrom engine.cli import main\n"
        "t = time.perf_counter(); r = CliRunner().invoke(main, ['check', '/dev/zero'])\n"
        "print(r.exit_code, time.perf_counter() - t); print(r.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    head, _, err = done.stdout.partition("\n")
    code, seconds = head.split()
    assert int(code) == 2 and float(seconds) < 2, done.stdout
    assert "(document): larger than 1,048,576 bytes" in err
