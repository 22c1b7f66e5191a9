"""Declared versus metered: the meter decides, and a declaration beyond tolerance is explained."""

import json
import shutil
from decimal import Decimal

import pytest
import yaml
from appdoc import doc
from telemetry_series import csv_text, day

from engine import errors as E
from engine.backends.rete.engine import ReteEngine
from engine.contract.application import parse_application
from engine.rulebook.loader import DEFAULT_RULES, load_rulebook
from engine.telemetry.crosscheck import decide_metered
from engine.telemetry.reader import read_telemetry

CODE = "DECLARED_DIFFERS_FROM_METERED"
# One day metered: baseline 1,200 kW and 900 kW with storage at 10:00 (ratio 0.25), 75 kWh
# discharged, 96 of 96 intervals, 5 minutes' delay.
SERIES = csv_text(day(special={"10:00": ("900", "300", "0")}))
AGREEING = dict(
    period={"start": "2026-03-01", "end": "2026-03-01"},
    storage__baseline_peak_kw="1200",
    storage__peak_with_storage_kw="900",
    storage__discharged_kwh="75",
    storage__platform__reporting_completeness="1",
    storage__platform__max_upload_delay_min="5",
)


@pytest.fixture
def series(tmp_path):
    p = tmp_path / "site.csv"
    p.write_text(SERIES)
    return read_telemetry(p, 15)


def decide(book, telemetry, **changes):
    app = parse_application(json.dumps(doc(**{**AGREEING, **changes})).encode())
    return decide_metered(ReteEngine.for_rulebook(book), book, app, telemetry)


def reasons(d, outcome, code=CODE):
    return [r for r in d["outcomes"][outcome]["reasons"] if r["code"] == code]


def test_an_agreeing_declaration_carries_no_difference_and_the_meter_decides(book, series):
    d = decide(book, series)
    assert d["metering"]["agrees"] and not reasons(d, "storage_subsidy")
    s = d["outcomes"]["storage_subsidy"]
    assert (s["status"], s["amount"]) == ("granted", "37.50")  # 0.25 → 0.50 yuan/kWh × 75 kWh


def test_a_declared_30_percent_shaving_is_overruled_by_a_metered_25(book, series):
    # declared 1200 → 840 (0.30, the 0.80 tier); the meter saw 900 kW (0.25, the 0.50 tier)
    d = decide(book, series, storage__peak_with_storage_kw="840")
    s = d["outcomes"]["storage_subsidy"]
    assert s["amount"] == "37.50"
    got = {r["rule"]: r["values"] for r in reasons(d, "storage_subsidy")}
    assert got["metering.peak_with_storage_kw"] == {
        "declared": "840",
        "metered": "900",
        "difference": "60",
        "tolerance": "18",
        "metering.tolerance_power": "0.02",
    }
    assert got["metering.peak_shaving_ratio"]["declared"] == "0.3"
    assert got["metering.peak_shaving_ratio"]["metered"] == "0.25"
    assert d["metering"]["differences"] == ["peak_with_storage_kw", "peak_shaving_ratio"]
    tier = [r for r in s["reasons"] if r["code"] == "RATE_TIER"][0]
    assert "0.50" in tier["message"]


@pytest.mark.parametrize("declared, differs", [("18", False), ("18.01", True)])
def test_a_peak_is_flagged_only_beyond_its_tolerance(book, series, declared, differs):
    """2 % of the metered 900 kW is 18 kW: exactly 18 kW off agrees, 18.01 kW off differs."""
    d = decide(book, series, storage__peak_with_storage_kw=str(Decimal(900) - Decimal(declared)))
    assert bool([r for r in reasons(d, "storage_subsidy") if r["rule"] == "metering.peak_with_storage_kw"]) is differs


@pytest.mark.parametrize("declared, differs", [("0.995", False), ("0.9949", True)])
def test_completeness_is_flagged_on_reporting_compliance_beyond_half_a_point(book, series, declared, differs):
    d = decide(book, series, storage__platform__reporting_completeness=declared)
    assert bool(reasons(d, "reporting_compliance")) is differs
    assert not [r for r in reasons(d, "storage_subsidy") if r["rule"] == "metering.reporting_completeness"]


def test_a_metered_reporting_failure_withdraws_benefits_the_declaration_claimed(book, tmp_path):
    late = csv_text(day(special={"10:00": ("900", "300", "0")}, late={"12:00": 20 * 60}))
    p = tmp_path / "late.csv"
    p.write_text(late)
    d = decide(book, read_telemetry(p, 15))
    assert d["outcomes"]["reporting_compliance"]["status"] == "not_met"
    assert [r["code"] for r in d["outcomes"]["reporting_compliance"]["reasons"]] == ["UPLOAD_DELAY_TOO_LONG", CODE]
    assert d["outcomes"]["storage_subsidy"]["status"] == "denied"


def test_the_metering_block_cites_its_parameters_with_date_and_reference(book, series):
    m = decide(book, series)["metering"]
    assert m["telemetry"]["sha256"] == series.sha256
    p = m["parameters"]["metering.window_start"]
    assert (p["value"], p["unit"], p["effective_from"]) == ("8", "h", "2026-01-01") and "assumption" in p["reference"]
    assert m["facts"]["daytime_window"] == "08:00–22:00"


def test_telemetry_without_a_storage_section_is_refused(book, series):
    app = parse_application(json.dumps(doc(storage=..., period=AGREEING["period"])).encode())
    with pytest.raises(E.MeteringError, match="no storage system"):
        decide_metered(ReteEngine.for_rulebook(book), book, app, series)


# --- the rule file is data, checked strictly ---------------------------------------------
BROKEN = {  # change to rules/metering.yaml -> (exception, key named)
    "unknown key": (lambda m: m.update(severity="high"), E.UnknownKeyError, "severity"),
    "unknown fact": (lambda m: m["checks"][0].update(fact="peak_kw"), E.UnknownReferenceError, "checks[0].fact"),
    "unknown tolerance parameter": (
        lambda m: m["checks"][3].update(tolerance={"relative": "metering.tol"}),
        E.UnknownReferenceError,
        "checks[3].tolerance.relative",
    ),
    "fact checked against another field": (
        lambda m: m["checks"][0].update(declared="storage.capacity_kwh"),
        E.BadValueError,
        "checks[0].declared",
    ),
    "unknown let": (
        lambda m: m["checks"][2].update(declared="storage_subsidy.ratio"),
        E.UnknownReferenceError,
        "checks[2].declared",
    ),
    "unknown placeholder": (
        lambda m: m["message"].update(en="declared ${decalred}"),
        E.UnknownReferenceError,
        "message.en",
    ),
    "two tolerances": (
        lambda m: m["checks"][0].update(
            tolerance={"relative": "metering.tolerance_power", "absolute": "metering.tolerance_delay"}
        ),
        E.BadValueError,
        "checks[0].tolerance",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_metering_file_is_refused_naming_file_and_key(tmp_path, name):
    change, error, key = BROKEN[name]
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES, rules)
    m = yaml.safe_load((rules / "metering.yaml").read_text())
    change(m)
    (rules / "metering.yaml").write_text(yaml.safe_dump(m, allow_unicode=True))
    with pytest.raises(error) as exc:
        load_rulebook(rules)
    assert "rules/metering.yaml" in str(exc.value) and key in str(exc.value)


# --- the command line -------------------------------------------------------------------
def app_file(tmp_path, **changes):
    p = tmp_path / "app.json"
    p.write_text(json.dumps(doc(**{**AGREEING, **changes}), ensure_ascii=False))
    return str(p)


def test_check_with_telemetry_explains_the_difference_in_json_and_text(tmp_path, cli):
    (tmp_path / "site.csv").write_text(SERIES)
    args = ["check", app_file(tmp_path, storage__peak_with_storage_kw="840"), "--telemetry", tmp_path / "site.csv"]
    r = cli(*args, "--format", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["metering"]["differences"] == ["peak_with_storage_kw", "peak_shaving_ratio"]
    text = cli(*args)
    assert text.exit_code == 0 and "Metered data: " in text.output and "✘ differs" in text.output
    assert CODE in text.output


def test_check_with_bad_telemetry_names_line_and_column_and_exits_2(tmp_path, cli):
    bad = SERIES.replace("2026-03-01T10:00,900,", "2026-03-01T10:00,-900,")
    (tmp_path / "bad.csv").write_text(bad)
    r = cli("check", app_file(tmp_path), "--telemetry", tmp_path / "bad.csv")
    assert r.exit_code == 2 and "line 42: grid_import_kw: must be ≥ 0" in r.output
    assert "Traceback" not in r.output


def test_summarize_prints_facts_and_gaps(tmp_path, cli):
    (tmp_path / "gap.csv").write_text(csv_text(day(skip=["13:00", "13:15"])))
    r = cli("telemetry", "summarize", tmp_path / "gap.csv", "--format", "json")
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert (s["rows"], s["intervals_expected"], s["reporting_completeness"]) == (94, 96, "0.979166")
    assert s["gaps"] == [{"from": "2026-03-01T13:00", "to": "2026-03-01T13:30", "intervals": 2}]
    text = cli("telemetry", "summarize", tmp_path / "gap.csv")
    assert "2026-03-01T13:00 – 2026-03-01T13:30" in text.output


def test_submit_decide_replay_and_notice_with_telemetry_on_the_record(tmp_path, record_url, cli):
    (tmp_path / "site.csv").write_text(SERIES)
    run = lambda *a: cli(*a, "--db", record_url)
    app_id = doc()["application_id"]
    r = run(
        "submit",
        app_file(tmp_path, storage__peak_with_storage_kw="840"),
        "--telemetry",
        str(tmp_path / "site.csv"),
        "--by",
        "li",
    )
    assert r.exit_code == 0 and "telemetry 1" in r.output, r.output
    r = run("decide", app_id, "--officer", "wang")
    assert r.exit_code == 0 and "declared values differ from the meter" in r.output, r.output
    assert run("confirm", app_id, "--by", "zhao").exit_code == 0
    r = run("replay", app_id)
    assert r.exit_code == 0 and "identical" in r.output, r.output
    r = run("show", doc()["application_id"])
    assert "telemetry:\n  1  submission 1" in r.output and "valid  site.csv" in r.output, r.output
    assert "metered (telemetry 1), declared values differ from the meter" in r.output
    r = run(
        "notice",
        doc()["application_id"],
        "--out",
        str(tmp_path / "n"),
        "--format",
        "md",
        "--lang",
        "en",
        "--by",
        "wang",
    )
    assert r.exit_code == 0, r.output
    approval = next((tmp_path / "n").glob("*.approval.en.md")).read_text()
    assert "## Metered data" in approval and "| peak load with storage | 840 kW | **900 kW** | 18 kW |" in approval
    # the evidence that decided is the meter's, the declaration beside it
    assert "| peak load with storage | **900 kW** | 840 kW | provincial platform metering |" in approval
    # a corrected version keeps the metering attached to the application
    r = run("submit", app_file(tmp_path, storage__peak_with_storage_kw="900"), "--by", "li")
    assert "v2" in r.output, r.output
    r = run("decide", app_id, "--officer", "wang")
    assert r.exit_code == 0 and "metered (telemetry 1)" in r.output and "differ" not in r.output, r.output


def test_invalid_telemetry_on_submit_is_kept_and_refused_with_exit_2(tmp_path, sqlite_url, cli):
    db = sqlite_url
    (tmp_path / "bad.csv").write_text(SERIES.replace(",300,0,", ",300,x,"))
    r = cli("submit", app_file(tmp_path), "--telemetry", tmp_path / "bad.csv", "--db", db, "--by", "li")
    assert r.exit_code == 2 and "kept on record" in r.output and "storage_charge_kw" in r.output
    r = cli("decide", doc()["application_id"], "--db", db, "--officer", "wang")
    assert r.exit_code == 1 and "telemetry 1" in r.output
    r = cli("show", doc()["application_id"], "--db", db)
    assert "INVALID  bad.csv" in r.output and "storage_charge_kw" in r.output


def test_explain_with_telemetry_starts_from_what_the_meter_shows(tmp_path, cli):
    (tmp_path / "site.csv").write_text(SERIES)
    r = cli(
        "explain",
        app_file(tmp_path, storage__peak_with_storage_kw="840"),
        "--why-not",
        "storage_subsidy",
        "--telemetry",
        tmp_path / "site.csv",
        "--format",
        "json",
    )
    assert r.exit_code == 0, r.output
    tiers = json.loads(r.output)["higher_tiers"]
    # metered 900 kW of 1,200 (0.25); the 0.30 tier needs 840 kW, which the declaration claimed
    assert tiers[0]["changes"][0]["path"] == "storage.peak_with_storage_kw"
    assert (tiers[0]["changes"][0]["from"], tiers[0]["changes"][0]["to"]) == ("900", "840")
