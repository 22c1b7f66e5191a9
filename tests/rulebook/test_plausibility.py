"""rules/plausibility.yaml: implausible declarations are held for an officer; the file is data,
loaded as strictly as the outcomes, and travels with the rulebook's files (digest, snapshot)."""

import copy
import datetime as dt
import json

import pytest
from appdoc import doc, worked_example
from repo import FIXTURES

from engine import errors as E
from engine.contract.application import parse_application
from engine.records.store.snapshot import dumps_files, loads_files
from engine.rulebook.checks import validate
from engine.rulebook.loader import DEFAULT_RULES, compile_rulebook, digest_of, load_rulebook, read_files
from engine.rulebook.plausibility import FILE, Hold, holds
from engine.rulebook.reforms import load_reform

CODE = "DISCHARGE_EXCEEDS_CAPACITY"


@pytest.fixture(scope="module")
def book():
    return load_rulebook()


@pytest.fixture(scope="module")
def files():
    return read_files(DEFAULT_RULES)


def app(**changes):
    return parse_application(json.dumps(doc(**changes)).encode())


# --- the bundled check -----------------------------------------------------------------------
def test_the_worked_example_is_not_held(book):
    assert holds(book, parse_application(json.dumps(worked_example()).encode())) == []


def test_discharge_at_the_limit_is_plausible_one_kwh_more_is_held(book):
    limit = 2000 * 2 * 365  # capacity × plausibility.max_cycles_per_day × days of 2026
    assert holds(book, app(storage__discharged_kwh=str(limit))) == []
    (h,) = holds(book, app(storage__discharged_kwh=str(limit + 1)))
    assert isinstance(h, Hold)
    assert (h.code, h.outcome, h.rule, h.source) == (
        CODE,
        "storage_subsidy",
        "plausibility.discharge_within_capacity",
        "T §6.2.3",
    )
    assert "assumption" in h.clause.lower()
    assert h.values["lhs"] == "1460001" and h.values["rhs"] == "1460000" and h.values["period_days"] == "365"
    assert h.values["plausibility.max_cycles_per_day"] == "2" and h.values["storage.capacity_kwh"] == "2000"
    assert "1460001" in h.message and "1460000" in h.message and "365 days" in h.message
    assert "1460001" in h.message_zh and "1460000" in h.message_zh


def test_a_one_day_period_counts_one_day(book):
    one_day = {"start": "2026-03-01", "end": "2026-03-01"}
    assert holds(book, app(period=one_day, storage__discharged_kwh="4000")) == []
    (h,) = holds(book, app(period=one_day, storage__discharged_kwh="4000.5"))
    assert (h.values["lhs"], h.values["rhs"], h.values["period_days"]) == ("4000.5", "4000", "1")


def test_without_a_storage_section_the_check_does_not_apply(book):
    assert holds(book, app(storage=...)) == []


def test_parameters_are_read_at_the_end_of_the_period(files):
    changed = copy.deepcopy(files)
    changed["parameters/plausibility.yaml"]["max_cycles_per_day"]["values"]["2026-07-01"] = "1"
    tight = compile_rulebook(DEFAULT_RULES, changed)
    first_half = {"start": "2026-01-01", "end": "2026-06-30"}  # 181 days, at 2 cycles a day
    assert holds(tight, app(period=first_half, storage__discharged_kwh="724000")) == []
    (h,) = holds(tight, app(storage__discharged_kwh="730001"))  # at 1 cycle a day from 2026-07-01
    assert h.values["rhs"] == "730000"


def test_a_reform_patches_the_plausibility_parameter(tmp_path, book):
    path = tmp_path / "one-cycle.yaml"
    path.write_text(
        "name: one-cycle\ndescription: one cycle a day\nreference: 'assumption: test'\n"
        "parameters:\n  plausibility.max_cycles_per_day:\n    values: {2027-01-01: '1'}\n",
        encoding="utf-8",
    )
    reformed = load_rulebook(None, [load_reform(path)])
    period_2027 = {"start": "2027-01-01", "end": "2027-12-31"}
    assert holds(book, app(period=period_2027, storage__discharged_kwh="730001")) == []
    assert [h.code for h in holds(reformed, app(period=period_2027, storage__discharged_kwh="730001"))] == [CODE]


def test_a_rulebook_without_the_file_has_no_checks(files):
    without = {rel: data for rel, data in files.items() if rel != "plausibility.yaml"}
    book = compile_rulebook(DEFAULT_RULES, without)
    assert book.plausibility is None
    assert holds(book, app(storage__discharged_kwh="99999999")) == []
    assert load_rulebook(FIXTURES / "minimal_rules").plausibility is None


# --- parameters read by nothing but the file, or by the record --------------------------------
def test_the_parameters_load_and_validate_clean(book):
    values = book.values_at(dt.date(2026, 6, 30))
    assert values["review.single_officer_max_yuan"] == 0
    assert values["plausibility.max_cycles_per_day"] == 2
    assert book.params["plausibility.max_cycles_per_day"].unit == "cycles/day"
    assert validate(book) == []


def test_an_implausible_cycles_value_is_a_validation_error(files):
    changed = copy.deepcopy(files)
    changed["parameters/plausibility.yaml"]["max_cycles_per_day"]["values"]["2027-01-01"] = "200"
    (f,) = validate(compile_rulebook(DEFAULT_RULES, changed))
    assert (f.level, f.file, f.key) == (
        "error",
        "rules/parameters/plausibility.yaml",
        "max_cycles_per_day.values.2027-01-01",
    )


# --- the file is data, checked strictly ----------------------------------------------------
def _check(p, **kv):
    p["checks"][0].update(kv)


BROKEN = {  # change to rules/plausibility.yaml -> (exception, key named)
    "unknown top key": (lambda p: p.update(severity="high"), E.UnknownKeyError, "severity"),
    "missing source": (lambda p: p.pop("source"), E.MissingKeyError, "source"),
    "unknown source": (lambda p: p.update(source="T §9"), E.UnknownReferenceError, "source"),
    "no checks": (lambda p: p.update(checks=[]), E.BadValueError, "checks"),
    "unknown check key": (lambda p: _check(p, severity="high"), E.UnknownKeyError, "checks[0].severity"),
    "missing message": (lambda p: p["checks"][0].pop("message"), E.MissingKeyError, "checks[0].message"),
    "bad code": (lambda p: _check(p, code="too-much"), E.BadValueError, "checks[0].code"),
    "duplicate code": (lambda p: p["checks"].append(copy.deepcopy(p["checks"][0])), E.BadValueError, "checks[1].code"),
    "unknown outcome": (lambda p: _check(p, outcome="storage_bonus"), E.UnknownReferenceError, "checks[0].outcome"),
    "unknown field": (
        lambda p: _check(p, test={"lte": ["storage.discharged_mwh", "1"]}),
        E.UnknownReferenceError,
        "checks[0].test.lte[0]",
    ),
    "unknown parameter": (
        lambda p: _check(p, test={"lte": ["storage.discharged_kwh", "plausibility.max_cycles"]}),
        E.UnknownReferenceError,
        "checks[0].test.lte[1]",
    ),
    "bad test": (
        lambda p: _check(p, test={"approx": ["storage.discharged_kwh", "1"]}),
        E.BadExpressionError,
        "checks[0].test.approx",
    ),
    "status test": (
        lambda p: _check(p, test={"status": {"outcome": "storage_subsidy", "in": ["granted"]}}),
        E.UnknownReferenceError,
        "checks[0].test.status.outcome",
    ),
    "bad placeholder": (
        lambda p: _check(p, message={"en": "declared ${declared}", "zh": "申报 ${lhs}"}),
        E.BadValueError,
        "checks[0].message.en",
    ),
    "lhs without a comparison": (
        lambda p: _check(p, test={"present": "storage"}),
        E.BadValueError,
        "checks[0].message.en",
    ),
    "stray dollar": (
        lambda p: _check(p, message={"en": "ok", "zh": "超过 $ 1"}),
        E.BadValueError,
        "checks[0].message.zh",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_plausibility_file_is_refused_naming_file_and_key(files, name):
    change, error, key = BROKEN[name]
    broken = copy.deepcopy(files)
    change(broken["plausibility.yaml"])
    with pytest.raises(error) as exc:
        compile_rulebook(DEFAULT_RULES, broken)
    assert FILE in str(exc.value) and key in str(exc.value), str(exc.value)


def test_the_file_is_read_strictly_from_disk_too(tmp_path):
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES, rules, ignore=shutil.ignore_patterns("reforms"))
    path = rules / "plausibility.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("outcome: storage_subsidy", "outcome: nope"), "utf-8")
    with pytest.raises(E.UnknownReferenceError, match=r"rules/plausibility\.yaml.*checks\[0\]\.outcome"):
        load_rulebook(rules)


# --- part of the rulebook's files: digest and snapshot -----------------------------------------
def test_the_file_is_in_the_digest_and_a_snapshot_round_trips_it(book, files):
    assert "plausibility.yaml" in book.files and "parameters/review.yaml" in book.files
    changed = copy.deepcopy(files)
    changed["plausibility.yaml"]["checks"][0]["clause"] += " (edited)"
    assert digest_of(changed) != book.digest
    back = loads_files(dumps_files(book.files))
    replayed = compile_rulebook(DEFAULT_RULES, back)
    assert replayed.digest == book.digest
    assert replayed.plausibility == book.plausibility
    assert holds(replayed, app(storage__discharged_kwh="1460001")) == holds(
        book, app(storage__discharged_kwh="1460001")
    )


# --- the reference and the command line ----------------------------------------------------
def test_rules_doc_and_show_list_the_check(cli):
    text = cli("rules", "doc").output
    assert "## Plausibility checks" in text and f"### `{CODE}`" in text
    assert "the record (officer review)" in text
    shown = cli("rules", "show", "storage_subsidy", "--on", "2026-06-01").output
    assert CODE in shown and "(plausibility.max_cycles_per_day) = 2 cycles a day" in shown
    assert CODE in cli("rules", "list").output
