"""The worked example of CONTRACT.md gives exactly the amounts shown there."""
import json
from pathlib import Path

from engine.application import parse_application
from engine.rete import ReteEngine
from engine.rulebook import load_rulebook

ROOT = Path(__file__).resolve().parent.parent


def test_contract_worked_example_amounts():
    app = parse_application((ROOT / "examples/applications/taiyuan-pv-storage-warehouse.json").read_bytes())
    d = ReteEngine.for_rulebook(load_rulebook()).decide(app)
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
