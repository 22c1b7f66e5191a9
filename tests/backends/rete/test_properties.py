"""Property tests on the real engine against an independent reading of POLICY.md (Decimal arithmetic)."""

import copy
from decimal import ROUND_HALF_UP, Decimal, localcontext

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.backends.rete.engine import ReteEngine
from engine.contract.application import parse_application
from engine.rulebook.loader import load_rulebook

BOOK = load_rulebook()
ENGINE = ReteEngine.for_rulebook(BOOK)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BENEFITS = ("storage_subsidy", "equipment_subsidy", "eco_packaging_freight_subsidy", "carbon_quota_reward")
YUAN_BENEFITS = ("storage_subsidy", "equipment_subsidy", "eco_packaging_freight_subsidy")
D = Decimal


def dec(lo, hi, places):
    """A decimal string in [lo, hi] with ``places`` decimals, built from an integer (never a float)."""
    scale = 10**places
    return st.integers(int(lo * scale), int(hi * scale)).map(lambda n: str(D(n).scaleb(-places)))


def optional(strategy):
    return st.one_of(st.none(), strategy, strategy, strategy)


def mostly_true():
    return st.sampled_from([True] * 9 + [False])


storage = st.fixed_dictionaries(
    {
        "capacity_kwh": dec(1, 5000, 1),
        "energy_density_wh_per_kg": dec(258, 290, 2),
        "cycle_life": st.integers(9800, 13000),
        "backflow_response_ms": dec(20, 52, 2),
        "discharged_kwh": st.one_of(st.just("0"), dec(0, 8_000_000, 3)),
        "baseline_peak_kw": dec(1, 5000, 1),
        "peak_fraction": st.one_of(
            st.integers(0, 12000), st.integers(5500, 8200), st.sampled_from([6000, 6001, 7000, 7001, 8000, 8001])
        ),
        "platform": st.fixed_dictionaries(
            {
                "connected": mostly_true(),
                "reporting_completeness": dec(D("0.945"), 1, 4),
                "max_upload_delay_min": dec(0, 16, 2),
                "carbon_reduction_reported": mostly_true(),
            }
        ),
    }
)
equipment = st.fixed_dictionaries(
    {
        "investment_yuan": st.one_of(st.just("0"), dec(0, 15_000_000, 2)),
        "automated_return_receiving": mostly_true(),
        "realtime_data_analytics": mostly_true(),
    }
)
packaging = st.fixed_dictionaries(
    {
        "order_count": st.one_of(st.just(0), st.integers(0, 3_000_000)),
        "order_value_yuan": dec(0, 500_000_000, 2),
        "nondegradable_share": st.one_of(st.just("0"), dec(0, 1, 4)),
        "has_recycling_system": st.booleans(),
        "recycling_rate": dec(0, 1, 4),
        "filler_reduction_rate": dec(0, 1, 4),
    }
)
energy = st.fixed_dictionaries({"renewable_kwh": st.one_of(st.just("0"), dec(0, 5_000_000, 3))})
history = st.fixed_dictionaries(
    {
        "storage_subsidy_granted_this_year_yuan": st.one_of(st.just("0"), dec(0, 6_000_000, 2)),
        "freight_subsidy_granted_this_year_yuan": st.one_of(st.just("0"), dec(0, 250_000, 2)),
        "equipment_subsidy_received": st.sampled_from([False] * 4 + [True]),
    }
)


@st.composite
def applications(draw):
    doc = {
        "application_id": "PROP-1",
        "period": {"start": "2026-01-01", "end": draw(st.sampled_from(["2026-01-01", "2026-06-30", "2026-12-31"]))},
        "enterprise": {
            "credit_code": "91140100MA0L3K2P5R",
            "name": "性质测试电商有限公司",
            "region_code": draw(st.sampled_from(["140100", "141100", "140900"])),
            "size": draw(st.sampled_from(["sme", "large"])),
            "is_ecommerce": draw(mostly_true()),
        },
        "history": draw(history),
    }
    s = draw(optional(storage))
    if s is not None:
        s = dict(s)
        s["peak_with_storage_kw"] = str((D(s["baseline_peak_kw"]) * s.pop("peak_fraction") / 10000).quantize(D("0.01")))
        doc["storage"] = s
    for name, strat in (("equipment", equipment), ("packaging", packaging), ("energy", energy)):
        section = draw(optional(strat))
        if section is not None:
            doc[name] = section
    return doc


def decide(doc):
    return ENGINE.decide(parse_application(doc))


def money(x, places=2):
    return x.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)


def oracle(doc):
    """POLICY.md read independently: {outcome: (status, amount as str or None)}."""
    with localcontext() as ctx:
        ctx.prec = 60
        return _oracle(doc)


def _oracle(doc):
    e, h = doc["enterprise"], doc["history"]
    s, q, p, g = doc.get("storage"), doc.get("equipment"), doc.get("packaging"), doc.get("energy")
    out = {}
    if not e["is_ecommerce"]:
        return {o.name: ("not_applicable", None) for o in BOOK.outcomes}
    if s is None:
        out["storage_technical_standard"] = out["reporting_compliance"] = out["storage_subsidy"] = (
            "not_applicable",
            None,
        )
        reporting_bad = False
    else:
        tech = (
            D(s["energy_density_wh_per_kg"]) >= 261 and s["cycle_life"] >= 10000 and D(s["backflow_response_ms"]) <= 50
        )
        pf = s["platform"]
        reporting_bad = not (
            pf["connected"]
            and pf["carbon_reduction_reported"]
            and D(pf["reporting_completeness"]) >= D("0.95")
            and D(pf["max_upload_delay_min"]) <= 15
        )
        out["storage_technical_standard"] = ("met" if tech else "not_met", None)
        out["reporting_compliance"] = ("not_met" if reporting_bad else "met", None)
        base, peak = D(s["baseline_peak_kw"]), D(s["peak_with_storage_kw"])
        shaved = base - peak  # r ≥ t  ⇔  shaved ≥ t × base (base > 0), no division needed
        rate = (
            D("1.00")
            if shaved >= D("0.40") * base
            else D("0.80")
            if shaved >= D("0.30") * base
            else D("0.50")
            if shaved >= D("0.20") * base
            else None
        )
        remaining = max(D(0), D("5000000.00") - D(h["storage_subsidy_granted_this_year_yuan"]))
        if not tech or reporting_bad or rate is None or D(s["discharged_kwh"]) == 0 or remaining == 0:
            out["storage_subsidy"] = ("denied", "0.00")
        else:
            out["storage_subsidy"] = ("granted", str(min(money(rate * D(s["discharged_kwh"])), remaining)))
    if q is None:
        out["equipment_subsidy"] = ("not_applicable", None)
    elif (
        not (q["automated_return_receiving"] and q["realtime_data_analytics"])
        or h["equipment_subsidy_received"]
        or D(q["investment_yuan"]) == 0
        or reporting_bad
    ):
        out["equipment_subsidy"] = ("denied", "0.00")
    else:
        out["equipment_subsidy"] = ("granted", str(min(money(D("0.20") * D(q["investment_yuan"])), D("2000000.00"))))
    if p is None:
        out["packaging_levy"] = out["packaging_certification"] = ("not_applicable", None)
    else:
        levied = D(p["nondegradable_share"]) > 0 and not p["has_recycling_system"]
        out["packaging_levy"] = (
            ("levied", str(money(D("0.01") * D(p["order_value_yuan"])))) if levied else ("exempt", "0.00")
        )
        met = D(p["recycling_rate"]) >= D("0.50") and D(p["filler_reduction_rate"]) >= D("0.20")
        out["packaging_certification"] = ("met" if met else "not_met", None)
    if e["size"] == "large" or p is None:
        out["eco_packaging_freight_subsidy"] = ("not_applicable", None)
    else:
        remaining = max(D(0), D("200000.00") - D(h["freight_subsidy_granted_this_year_yuan"]))
        if D(p["nondegradable_share"]) != 0 or p["order_count"] == 0 or remaining == 0 or reporting_bad:
            out["eco_packaging_freight_subsidy"] = ("denied", "0.00")
        else:
            out["eco_packaging_freight_subsidy"] = ("granted", str(min(money(D("0.10") * p["order_count"]), remaining)))
    if g is None:
        out["carbon_quota_reward"] = ("not_applicable", None)
    elif D(g["renewable_kwh"]) == 0 or reporting_bad:
        out["carbon_quota_reward"] = ("denied", "0.000")
    else:
        out["carbon_quota_reward"] = ("granted", str(money(D(g["renewable_kwh"]) * D("0.5703") / 1000 * D("1.0"), 3)))
    return out


@SETTINGS
@given(applications())
def test_every_status_and_amount_matches_an_independent_decimal_reading_of_the_policy(doc):
    d = decide(doc)
    got = {k: (v["status"], v["amount"]) for k, v in d["outcomes"].items()}
    assert got == oracle(doc)


@SETTINGS
@given(applications())
def test_amounts_are_never_negative_and_never_above_the_caps(doc):
    o = decide(doc)["outcomes"]
    for name, v in o.items():
        if v["amount"] is not None:
            assert D(v["amount"]) >= 0, name
    h = doc["history"]
    assert D(o["storage_subsidy"]["amount"] or 0) <= max(
        D(0), D("5000000") - D(h["storage_subsidy_granted_this_year_yuan"])
    )
    assert D(o["equipment_subsidy"]["amount"] or 0) <= D("2000000")
    assert D(o["eco_packaging_freight_subsidy"]["amount"] or 0) <= max(
        D(0), D("200000") - D(h["freight_subsidy_granted_this_year_yuan"])
    )
    for name, v in o.items():
        if v["status"] in ("denied", "exempt"):
            assert D(v["amount"]) == 0, name
        if v["status"] == "not_applicable":
            assert v["amount"] is None, name


@SETTINGS
@given(
    applications(),
    st.sampled_from(
        [
            "connected",
            "carbon_reduction_reported",
            "completeness",
            "delay",
            "equipment_received",
            "no_renewable",
            "not_ecommerce",
            "cap_used",
        ]
    ),
)
def test_adding_a_failing_condition_never_increases_a_benefit(doc, failure):
    before = decide(doc)["outcomes"]
    worse = copy.deepcopy(doc)
    if failure in ("connected", "carbon_reduction_reported", "completeness", "delay") and "storage" in worse:
        pf = worse["storage"]["platform"]
        pf.update(
            {
                "connected": {"connected": False},
                "carbon_reduction_reported": {"carbon_reduction_reported": False},
                "completeness": {"reporting_completeness": "0.9499"},
                "delay": {"max_upload_delay_min": "15.01"},
            }[failure]
        )
    elif failure == "equipment_received":
        worse["history"]["equipment_subsidy_received"] = True
    elif failure == "no_renewable" and "energy" in worse:
        worse["energy"]["renewable_kwh"] = "0"
    elif failure == "not_ecommerce":
        worse["enterprise"]["is_ecommerce"] = False
    elif failure == "cap_used":
        worse["history"]["storage_subsidy_granted_this_year_yuan"] = "5000000.00"
        worse["history"]["freight_subsidy_granted_this_year_yuan"] = "200000.00"
    after = decide(worse)["outcomes"]
    for name in BENEFITS:
        if before[name]["status"] != "granted":
            assert after[name]["status"] != "granted", name
        assert D(after[name]["amount"] or 0) <= D(before[name]["amount"] or 0), name
    if failure in ("connected", "carbon_reduction_reported", "completeness", "delay") and "storage" in doc:
        assert after["packaging_levy"] == before["packaging_levy"]  # reporting never touches the levy
        for name in BENEFITS:
            if after[name]["status"] == "denied":
                assert "REPORTING_NON_COMPLIANT" in [r["code"] for r in after[name]["reasons"]]


@SETTINGS
@given(applications())
def test_totals_are_the_sum_of_granted_yuan_benefits_and_the_levy(doc):
    d = decide(doc)
    o = d["outcomes"]
    subsidy = sum((D(o[n]["amount"]) for n in YUAN_BENEFITS if o[n]["status"] == "granted"), D("0.00"))
    levy = D(o["packaging_levy"]["amount"]) if o["packaging_levy"]["status"] == "levied" else D("0.00")
    assert d["totals"] == {"subsidy_yuan": f"{subsidy:.2f}", "levy_yuan": f"{levy:.2f}"}


@settings(max_examples=50, deadline=None)
@given(applications())
def test_decisions_are_deterministic(doc):
    assert decide(doc) == decide(copy.deepcopy(doc))
