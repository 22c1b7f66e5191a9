"""The command line through click's CliRunner: check, evaluate, rules list/show/test."""

import json

import pytest
from appdoc import doc
from repo import BATCH, REFORMS, RULE_TESTS, WORKED_EXAMPLE

app = doc


# --- check -----------------------------------------------------------------------
def test_check_json_prints_one_contract_decision(cli):
    r = cli("check", WORKED_EXAMPLE, "--format", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert set(d["outcomes"]) == {
        "storage_technical_standard",
        "reporting_compliance",
        "storage_subsidy",
        "equipment_subsidy",
        "packaging_levy",
        "packaging_certification",
        "eco_packaging_freight_subsidy",
        "carbon_quota_reward",
    }
    assert d["outcomes"]["storage_subsidy"]["amount"] == "280000.00"
    assert d["totals"] == {"subsidy_yuan": "920000.00", "levy_yuan": "1500000.00"}


@pytest.mark.zh
def test_check_text_is_a_summary_with_reasons_in_chinese_or_english(cli):
    r = cli("check", WORKED_EXAMPLE)
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "✔ 用户侧储能度电补贴：批准  280,000.00元" in out and "User-side" not in out
    assert "[RATE_TIER] 日间削峰比例为30%，适用0.80元/千瓦时的标准" in out  # no tier_30, no yuan/kWh
    assert "[RECYCLING_RATE_BELOW_TARGET] 包装回收率为25%，低于包装回收率目标50%" in out
    assert "（91140100MA0L3K2P5R，太原市）" in out
    en = cli("--lang", "en", "check", WORKED_EXAMPLE).stdout
    assert "✔ User-side storage subsidy per kWh: granted  280,000.00 yuan" in en and "用户侧" not in en
    assert "the daytime peak-shaving ratio is 30%: the rate of 0.80 yuan/kWh applies" in en


def test_check_reads_standard_input(cli):
    r = cli("check", "-", "--format", "json", input=json.dumps(app(packaging__order_value_yuan="12345.50")))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["outcomes"]["packaging_levy"]["amount"] == "123.46"


@pytest.mark.zh
def test_check_invalid_input_names_every_field_on_stderr_and_nothing_on_stdout(cli):
    bad = app(enterprise__credit_code="91140100MA0L3K2P5A", packaging__recycling_rate="1.5")
    bad["storage"]["discharge_kwh"] = "1"
    bad["storage"]["platform"]["reporting_completeness"] = "2"
    r = cli("check", "-", "--format", "json", input=json.dumps(bad))
    assert r.exit_code == 2
    assert r.stdout == ""
    for path in (
        "enterprise.credit_code",
        "packaging.recycling_rate",
        "storage.discharge_kwh",
        "数据上报完整率（storage.platform.reporting_completeness）：必须小于或等于 1",
    ):
        assert path in r.stderr
    assert "Traceback" not in r.output


def test_check_refuses_a_period_before_the_rules_cleanly(cli):
    r = cli("check", "-", input=json.dumps(app(period__start="2025-01-01", period__end="2025-12-31")))
    assert r.exit_code == 2
    assert r.stdout == ""
    assert "no rule is in force on 2025-12-31" in r.stderr
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_check_refuses_text_that_is_not_json(cli):
    r = cli("check", "-", input="{not json")
    assert r.exit_code == 2 and r.stdout == "" and "not valid JSON" in r.stderr


def test_check_a_missing_file_is_a_usage_error(cli):
    r = cli("check", "no/such/file.json")
    assert r.exit_code == 2 and "cannot read" in r.stderr


# --- evaluate --------------------------------------------------------------------
EXPECTED_IDS = ["APP-2026-000123", "APP-2026-141100-0042", "APP-2026-140200-0007", "APP-2026-140700-0311"]
BAD_PATHS = {"enterprise.credit_code", "enterprise.region_code", "packaging.nondegradable_share"}


@pytest.mark.parametrize("name,bad_line", [("applications.jsonl", 3), ("applications.csv", 4)])
def test_evaluate_decides_good_records_in_order_and_rejects_the_bad_one(tmp_path, name, bad_line, cli):
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    r = cli("evaluate", BATCH / name, "--out", out, "--rejects", rejects, "-j", "1")
    assert r.exit_code == 0, r.output
    assert "decided 4, rejected 1, total 5" in r.stderr
    decisions = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["application_id"] for d in decisions] == EXPECTED_IDS
    assert decisions[0]["totals"] == {"subsidy_yuan": "920000.00", "levy_yuan": "1500000.00"}
    # an empty CSV cell means absent: the Lüliang SME declares no storage system
    assert decisions[1]["outcomes"]["storage_subsidy"]["status"] == "not_applicable"
    assert decisions[1]["outcomes"]["eco_packaging_freight_subsidy"]["amount"] == "18000.00"
    [reject] = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert reject["line"] == bad_line
    assert {e["path"] for e in reject["errors"]} == BAD_PATHS


def test_evaluate_in_several_processes_keeps_input_order(tmp_path, cli):
    lines = [json.dumps(app(application_id=f"A-{i}", packaging__order_value_yuan=f"{i}.00")) for i in range(600)]
    lines[300] = json.dumps(app(application_id="OLD", period__start="2025-01-01", period__end="2025-12-31"))
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    r = cli("evaluate", src, "--out", out, "--rejects", rejects, "-j", "2")
    assert r.exit_code == 0, r.output
    ids = [json.loads(x)["application_id"] for x in out.read_text().splitlines()]
    assert ids == [f"A-{i}" for i in range(600) if i != 300]
    [reject] = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert reject["line"] == 301 and reject["errors"][0]["path"] == "period.end"
    assert "no rule is in force" in reject["errors"][0]["message"]


def test_evaluate_a_bad_json_line_is_rejected_with_its_line_number(tmp_path, cli):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(app(application_id="A1")) + "\n{broken\n" + json.dumps(app(application_id="A3")) + "\n")
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    r = cli("evaluate", src, "--out", out, "--rejects", rejects, "-j", "1")
    assert r.exit_code == 0
    assert [json.loads(x)["application_id"] for x in out.read_text().splitlines()] == ["A1", "A3"]
    assert json.loads(rejects.read_text())["line"] == 2


def test_evaluate_a_number_or_object_as_application_id_is_a_reject_not_a_crash(tmp_path, cli):
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"application_id": 1.5}\n{"application_id": {"a": 1}}\n' + json.dumps(app(application_id="A3")) + "\n"
    )
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    r = cli("evaluate", src, "--out", out, "--rejects", rejects, "-j", "1", "--backend", "rete")
    assert r.exit_code == 0, r.output
    bad = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert [(b["line"], b["application_id"]) for b in bad] == [(1, None), (2, None)]
    assert ("application_id", "must be a JSON string") in [(e["path"], e["message"]) for e in bad[0]["errors"]]


def test_evaluate_cannot_run_without_its_input(tmp_path, cli):
    r = cli("evaluate", tmp_path / "missing.jsonl", "--out", tmp_path / "o.jsonl")
    assert r.exit_code != 0


# --- rules list / show / test ----------------------------------------------------
def test_rules_list_names_every_outcome_and_its_reason_codes(cli):
    r = cli("rules", "list")
    assert r.exit_code == 0, r.output
    for name in (
        "storage_technical_standard",
        "carbon_quota_reward",
        "PEAK_SHAVING_BELOW_MINIMUM",
        "REPORTING_NON_COMPLIANT",
        "NOT_ECOMMERCE",
        "CAPPED",
    ):
        assert name in r.stdout


def test_rules_show_lists_tiers_and_parameters_in_force_with_sources(cli):
    r = cli("rules", "show", "storage_subsidy", "--on", "2026-06-01")
    assert r.exit_code == 0, r.output
    assert "tier_30: daytime peak-shaving ratio ≥ 30% → 0.80 yuan/kWh" in r.stdout
    assert "parameters in force on 2026-06-01" in r.stdout
    assert "annual storage subsidy cap (storage_subsidy.annual_cap) = 5,000,000.00 yuan  (since 2026-01-01" in r.stdout
    assert "T §6.2.3" in r.stdout


@pytest.mark.zh
def test_rules_show_in_chinese_names_tiers_units_and_parameters(cli):
    out = cli("rules", "show", "storage_subsidy", "--on", "2026-06-01").stdout
    assert "  tier_30：日间削峰比例 ≥ 30% → 0.80元/千瓦时" in out
    assert (
        "储能补贴年度上限（storage_subsidy.annual_cap）= 5,000,000.00元  "
        "（自 2026-01-01 起；假设：将财政支出控制在一个大型仓库的规模以内）" in out
    )
    assert "yuan" not in out and "ratio" not in out.replace("_ratio", "")
    listed = cli("rules", "list").stdout
    assert "storage_subsidy  [补贴, 元/千瓦时]  用户侧储能度电补贴" not in listed  # the amount is in yuan
    assert "storage_subsidy  [补贴, 元]  用户侧储能度电补贴" in listed


def test_rules_show_before_the_rules_and_an_unknown_outcome_are_refused(cli):
    r = cli("rules", "show", "storage_subsidy", "--on", "2025-06-01")
    assert r.exit_code != 0 and "no rule is in force" in r.stderr
    r = cli("rules", "show", "storage_subsidies")
    assert r.exit_code == 2 and "unknown outcome" in r.stderr


def test_rules_test_runs_the_bundled_rule_tests_with_full_coverage(cli):
    r = cli("rules", "test")
    assert r.exit_code == 0, r.output
    assert "storage_subsidy.yaml: " in r.stdout and " 0 failed" in r.stdout
    assert "coverage: 74 of 74 branches exercised" in r.stdout


def test_rules_test_reports_a_failing_case_with_its_diff_and_uncovered_branches(tmp_path, cli):
    f = tmp_path / "levy.yaml"
    f.write_text(
        "outcome: packaging_levy\ncases:\n"
        "  - name: One percent of 12,345.50 yuan is 123.45 yuan by float arithmetic.\n"
        "    input: {packaging: {order_value_yuan: '12345.50'}}\n"
        "    expect: {status: levied, amount: '123.45'}\n",
        encoding="utf-8",
    )
    r = cli("rules", "test", f)
    assert r.exit_code == 1
    assert "0 passed, 1 failed" in r.stdout
    assert "FAILED: One percent of 12,345.50 yuan is 123.45 yuan by float arithmetic." in r.stdout
    assert "packaging_levy.amount: expected '123.45', got '123.46'" in r.stdout
    assert "packaging_levy: reason HAS_RECYCLING_SYSTEM" in r.stdout
    assert "storage_subsidy: tier rate.tier_40" in r.stdout


def test_rules_test_refuses_a_malformed_file_cleanly(tmp_path, cli):
    f = tmp_path / "x.yaml"
    f.write_text("outcome: packaging_levy\ncases: []\n", encoding="utf-8")
    r = cli("rules", "test", f)
    assert r.exit_code == 1 and "cases: expected a non-empty list" in r.stderr
    assert "Traceback" not in r.output


def test_rules_test_under_a_reform_shows_which_baseline_cases_the_reform_changes(cli):
    reform = REFORMS / "remote-region-tilt.yaml"
    r = cli("rules", "test", RULE_TESTS / "storage_subsidy.yaml", "--reform", reform)
    assert r.exit_code == 1
    assert (
        "FAILED: A Lüliang enterprise receives the same amount because the baseline applies no regional tilt."
        in r.stdout
    )
    assert "storage_subsidy.amount: expected '80000.00', got '96000.00'" in r.stdout  # 1.2 × 80,000
