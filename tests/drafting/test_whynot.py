"""explain --why-not: suggestions computed from the rules, each verified by the engine."""

import json

from appdoc import worked_example

from engine.backends.rete.engine import ReteEngine
from engine.contract.application import parse_application
from engine.contract.flat import document_from_flat
from engine.drafting.population import generate
from engine.drafting.whynot import _apply, render, why_not


def app_with(**changes):
    doc = worked_example()
    for path, value in changes.items():
        node = doc
        *head, last = path.split("__")
        for part in head:
            node = node[part]
        node[last] = value
    return parse_application(doc)


def test_next_tier_up_from_27_percent(book):
    w = why_not(book, app_with(storage__peak_with_storage_kw="876"), "storage_subsidy")
    assert (w.status, w.amount) == ("granted", "175000.00")  # 0.27 → tier_20, 0.50 × 350,000
    first = w.tiers[0]
    assert [(c.path, str(c.new)) for c in first.changes] == [("storage.peak_with_storage_kw", "840")]
    assert (first.status, first.amount, str(first.delta)) == ("granted", "280000.00", "105000.00")
    text = render(w)
    assert "daytime peak-shaving ratio 27.0% → 30.0%" in text and "+105,000.00 yuan" in text and "0.80 yuan/kWh" in text
    assert w.tiers[1].amount == "350000.00"


def test_denied_below_the_lowest_tier_solves_the_ratio_for_a_field(book):
    w = why_not(
        book, app_with(storage__baseline_peak_kw="1237", storage__peak_with_storage_kw="1000"), "storage_subsidy"
    )
    assert w.status == "denied" and w.reasons == ["PEAK_SHAVING_BELOW_MINIMUM"]
    (s,) = w.blockers["PEAK_SHAVING_BELOW_MINIMUM"]
    assert [(c.path, str(c.new)) for c in s.changes] == [("storage.peak_with_storage_kw", "989.6")]  # 1237 × 0.8
    assert (s.status, s.amount) == ("granted", "175000.00")
    assert w.combined.status == "granted"


def test_several_reasons_including_a_dependency_are_cleared_together(book):
    w = why_not(
        book, app_with(storage__cycle_life=9000, storage__platform__reporting_completeness="0.9"), "storage_subsidy"
    )
    assert set(w.reasons) == {"TECHNICAL_STANDARD_NOT_MET", "REPORTING_NON_COMPLIANT"}
    assert [(c.path, c.new) for s in w.blockers["TECHNICAL_STANDARD_NOT_MET"] for c in s.changes] == [
        ("storage.cycle_life", 10000)
    ]
    each = w.blockers["REPORTING_NON_COMPLIANT"][0]
    assert "REPORTING_NON_COMPLIANT" not in each.remaining and each.status == "denied"
    assert (w.combined.status, w.combined.amount) == ("granted", "280000.00")


def test_history_cannot_be_changed(book):
    w = why_not(book, app_with(history__equipment_subsidy_received=True), "equipment_subsidy")
    assert "ALREADY_SUBSIDIZED" in w.unfixable and w.combined is None


def test_every_suggestion_over_a_population_clears_its_reason(book):
    """Generic: whatever the rule, the engine confirms the reason is gone after the change."""
    engine = ReteEngine.for_rulebook(book)
    checked = 0
    for row in generate(150, 13).iter_rows(named=True):
        app = parse_application(document_from_flat(row))
        d = engine.decide(app)
        for name in (
            "storage_subsidy",
            "equipment_subsidy",
            "eco_packaging_freight_subsidy",
            "carbon_quota_reward",
            "packaging_certification",
            "storage_technical_standard",
        ):
            if d["outcomes"][name]["status"] not in ("denied", "not_met"):
                continue
            w = why_not(book, app, name)
            for code, sugs in w.blockers.items():
                for s in sugs[:1]:
                    assert code not in s.remaining, (row["application_id"], name, code, s.to_dict())
                    checked += 1
            if w.combined:
                assert w.combined.status in ("granted", "met"), (row["application_id"], name)
                again = engine.decide(_apply(app, w.combined.changes))["outcomes"][name]
                assert again["amount"] == w.combined.amount
    assert checked > 20


def test_cli_explain(tmp_path, cli, example_doc):
    doc = example_doc
    doc["packaging"]["nondegradable_share"] = "0.4"
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc))
    result = cli("explain", path, "--why-not", "eco_packaging_freight_subsidy", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    (s,) = out["suggestions"]["USES_NONDEGRADABLE_PACKAGING"]
    assert s["changes"] == [{"path": "packaging.nondegradable_share", "from": "0.4", "to": "0"}]
    assert s["verified"]["status"] == "granted" and s["verified"]["amount"] == "120000.00"
    bad = cli("explain", path, "--why-not", "storage_subsidyy")
    assert bad.exit_code == 2 and "unknown outcome" in bad.output
