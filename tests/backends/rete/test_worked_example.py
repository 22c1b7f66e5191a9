"""The worked example of CONTRACT.md gives exactly the amounts shown there."""

import json

from repo import EXAMPLES

from engine.backends.rete.engine import ReteEngine
from engine.contract.application import parse_application


def test_contract_worked_example_amounts(book, example_application):
    d = ReteEngine.for_rulebook(book).decide(example_application)
    got = {k: (v["status"], v["amount"], v["unit"]) for k, v in d["outcomes"].items()}
    assert got == {
        "storage_technical_standard": ("met", None, None),
        "reporting_compliance": ("met", None, None),
        "storage_subsidy": ("granted", "280000.00", "yuan"),
        "equipment_subsidy": ("granted", "640000.00", "yuan"),
        "packaging_levy": ("levied", "1500000.00", "yuan"),
        "packaging_certification": ("not_met", None, None),
        "eco_packaging_freight_subsidy": ("denied", "0.00", "yuan"),
        "carbon_quota_reward": ("granted", "285.150", "tCO2e"),
    }
    assert d["totals"] == {"subsidy_yuan": "920000.00", "levy_yuan": "1500000.00"}
    assert d["contract"] == 1 and d["evaluated_on"] == "2026-12-31"
    assert d["ruleset"]["version"] == "2026.1" and d["ruleset"]["digest"].startswith("sha256:")
    assert [r["code"] for r in d["outcomes"]["storage_subsidy"]["reasons"]] == ["RATE_TIER"]
    assert d["trace"], "the trace lists the rules that fired"
    json.dumps(d)  # serialisable as is


def test_every_reason_cites_a_known_source_and_its_clause(book):
    app = parse_application((EXAMPLES / "reporting-failure-loses-everything.json").read_bytes())
    d = ReteEngine.for_rulebook(book).decide(app)
    withdrawn = [
        o for o, v in d["outcomes"].items() if any(r["code"] == "REPORTING_NON_COMPLIANT" for r in v["reasons"])
    ]
    assert withdrawn == ["storage_subsidy", "equipment_subsidy", "eco_packaging_freight_subsidy", "carbon_quota_reward"]
    for v in d["outcomes"].values():
        for r in v["reasons"]:
            assert all(part.strip() in book.sources for part in r["source"].split(";")), r
            assert r["clause"] and r["rule"] and r["message"]
            if r["code"] == "REPORTING_NON_COMPLIANT":
                assert r["source"] == "T §6.2.3" and "取消补贴资格" in r["clause"]
