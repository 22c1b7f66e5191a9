"""Every bundled example through `shuangtan check --format json`, with the outcomes designed for it."""

import json

import pytest
from repo import EXAMPLES

EXPECTED = {  # example: ({outcome: (status, amount, reason codes)}, totals)
    "taiyuan-pv-storage-warehouse": (
        {
            "storage_subsidy": ("granted", "280000.00", ["RATE_TIER"]),
            "equipment_subsidy": ("granted", "640000.00", []),
            "packaging_levy": ("levied", "1500000.00", []),
            "carbon_quota_reward": ("granted", "285.150", []),
        },
        {"subsidy_yuan": "920000.00", "levy_yuan": "1500000.00"},
    ),
    "lvliang-sme-green-packaging": (
        {
            "storage_subsidy": ("not_applicable", None, ["NO_STORAGE_SYSTEM"]),
            "equipment_subsidy": ("not_applicable", None, ["NO_EQUIPMENT_SECTION"]),
            "packaging_levy": ("exempt", "0.00", ["NO_NONDEGRADABLE_PACKAGING", "HAS_RECYCLING_SYSTEM"]),
            "packaging_certification": ("met", None, []),
            "eco_packaging_freight_subsidy": ("granted", "18000.00", []),
            "carbon_quota_reward": ("granted", "68.436", []),
        },
        {"subsidy_yuan": "18000.00", "levy_yuan": "0.00"},
    ),
    "reporting-failure-loses-everything": (
        {
            "storage_technical_standard": ("met", None, []),
            "reporting_compliance": ("not_met", None, ["REPORTING_INCOMPLETE", "UPLOAD_DELAY_TOO_LONG"]),
            "storage_subsidy": ("denied", "0.00", ["REPORTING_NON_COMPLIANT"]),
            "equipment_subsidy": ("denied", "0.00", ["REPORTING_NON_COMPLIANT"]),
            "eco_packaging_freight_subsidy": (
                "denied",
                "0.00",
                ["USES_NONDEGRADABLE_PACKAGING", "REPORTING_NON_COMPLIANT"],
            ),
            "carbon_quota_reward": ("denied", "0.000", ["REPORTING_NON_COMPLIANT"]),
            "packaging_levy": ("levied", "80000.00", []),
        },
        {"subsidy_yuan": "0.00", "levy_yuan": "80000.00"},
    ),
    "large-merchant-levy": (
        {
            "packaging_levy": ("levied", "24680246.91", []),  # 1 % of 2,468,024,690.50 = …6.905, half up
            "eco_packaging_freight_subsidy": ("not_applicable", None, ["NOT_SME"]),
            "packaging_certification": (
                "not_met",
                None,
                ["RECYCLING_RATE_BELOW_TARGET", "FILLER_REDUCTION_BELOW_TARGET"],
            ),
            "carbon_quota_reward": ("not_applicable", None, ["NO_ENERGY_DATA"]),
        },
        {"subsidy_yuan": "0.00", "levy_yuan": "24680246.91"},
    ),
}


def test_every_example_has_expectations():
    assert sorted(p.stem for p in EXAMPLES.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_decision(name, cli):
    r = cli("check", EXAMPLES / f"{name}.json", "--format", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    outcomes, totals = EXPECTED[name]
    got = {
        k: (d["outcomes"][k]["status"], d["outcomes"][k]["amount"], [x["code"] for x in d["outcomes"][k]["reasons"]])
        for k in outcomes
    }
    assert got == outcomes
    assert d["totals"] == totals
    assert len(d["outcomes"]) == 8 and d["trace"]


def test_the_reporting_failure_example_gets_a_rectification_notice(cli):
    r = cli("check", EXAMPLES / "reporting-failure-loses-everything.json", "--format", "json")
    notice = json.loads(r.stdout)["outcomes"]["reporting_compliance"]["notice"]
    assert notice == {"kind": "rectification", "deadline_days": 30}
