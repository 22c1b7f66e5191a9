"""simulate: example reforms over a small population; exact totals that add up across regions."""

import json
from decimal import Decimal

import polars as pl
import pytest
from repo import BROKEN_REFORMS, REFORMS

from engine.drafting.population import generate, write_population
from engine.drafting.simulate import compare, decide_population, simulate
from engine.rulebook.loader import load_rulebook
from engine.rulebook.reforms import load_reform


@pytest.fixture(scope="module")
def population():
    return generate(2_000, 21, year=2027)


@pytest.fixture
def baseline(book):
    """The bundled rulebook, the one every reform is measured against."""
    return book


def reformed(*names):
    return load_rulebook(None, [load_reform(REFORMS / f"{n}.yaml") for n in names])


@pytest.mark.parametrize(
    "reform, outcome",
    [
        ("remote-region-tilt", "storage_subsidy"),
        ("levy-per-order", "packaging_levy"),
        ("stricter-reporting", "reporting_compliance"),
        ("tier30-0.90-from-2027", "storage_subsidy"),
    ],
)
def test_each_example_reform_changes_decisions_and_regions_add_up(population, baseline, reform, outcome):
    c = simulate(population, baseline, reformed(reform))
    assert c.errors.height == 0
    assert c.changes.filter(pl.col("outcome") == outcome).height > 0
    for col in ("subsidy", "levy", "net_cost"):
        for side in ("baseline", "reform", "change"):
            assert Decimal(c.by_region[f"{col}.{side}"].sum()) == c.money[col][side], (col, side)
    assert c.by_region["applications"].sum() == population.height
    m = c.money
    assert m["net_cost"]["reform"] == m["subsidy"]["reform"] - m["levy"]["reform"]
    assert m["net_cost"]["change"] == m["net_cost"]["reform"] - m["net_cost"]["baseline"]


def test_totals_are_exact_decimal_sums_of_the_decisions(population, baseline):
    reform = reformed("remote-region-tilt")
    base_rows = decide_population(baseline, population)
    new_rows = decide_population(reform, population)
    c = compare(baseline, reform, base_rows, new_rows)
    assert c.money["subsidy"]["baseline"] == sum((Decimal(v) for v in base_rows["totals.subsidy_yuan"]), Decimal(0))
    assert c.money["levy"]["reform"] == sum((Decimal(v) for v in new_rows["totals.levy_yuan"]), Decimal(0))
    # the tilt pays more only in Lüliang and Xinzhou, and never less anywhere
    changed = c.by_region.filter(pl.col("subsidy.change") != 0)["region_code"].to_list()
    assert set(changed) <= {"141100", "140900"} and changed
    assert (c.per_application["subsidy.change"] > 0).all()


def test_2027_reforms_change_nothing_for_a_2026_population(baseline):
    pop_2026 = generate(1_500, 21, year=2026)
    c = simulate(pop_2026, baseline, reformed("tier30-0.90-from-2027", "stricter-reporting"))
    assert c.changes.height == 0 and c.per_application.height == 0
    assert c.money["net_cost"]["change"] == 0


def test_changes_say_why(population, baseline):
    c = simulate(population, baseline, reformed("stricter-reporting"))
    rc = c.changes.filter(pl.col("outcome") == "reporting_compliance")
    assert set(rc["old_status"]) <= {"met", "not_met"} and "not_met" in set(rc["new_status"])
    newly = rc.filter(pl.col("old_status") == "met")
    assert newly.height and all(
        ("REPORTING_INCOMPLETE" in r or "UPLOAD_DELAY_TOO_LONG" in r) for r in newly["new_reasons"]
    )
    lost = c.changes.filter(
        (pl.col("outcome") == "storage_subsidy")
        & (pl.col("new_status") == "denied")
        & (pl.col("old_status") == "granted")
    )
    assert lost.height and all("REPORTING_NON_COMPLIANT" in r for r in lost["new_reasons"])
    assert all(Decimal(a) < 0 for a in lost["amount_change"])


def test_rete_and_columnar_paths_agree(baseline):
    pop = generate(250, 8)
    reform = reformed("tier30-0.90-from-2027")
    a = simulate(pop, baseline, reform, backend="rete", workers=1)
    b = simulate(pop, baseline, reform, backend="auto")
    assert a.money == b.money and a.changes.equals(b.changes)


def test_cli_simulate_writes_report_charts_and_tables(tmp_path, cli):
    pop = tmp_path / "pop.parquet"
    write_population(generate(1_000, 5), pop)
    out = tmp_path / "sim"
    result = cli(
        "simulate",
        "--population",
        pop,
        "--reform",
        REFORMS / "remote-region-tilt.yaml",
        "--baseline-reform",
        REFORMS / "levy-per-order.yaml",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["baseline"]["version"] == "2026.1+levy-per-order"
    assert summary["reform"]["version"] == "2026.1+levy-per-order+remote-region-tilt"
    assert summary["money"]["levy"]["change"] == "0.00"  # both scenarios read the levy per order
    report = (out / "report.md").read_text()
    assert "storage-technology R&D" in report and "cost_by_region.png" in report and "**total**" in report
    for png in ("cost_by_region.png", "amount_changes.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    regions = pl.read_csv(out / "by_region.csv", infer_schema=False)
    assert sum(Decimal(v) for v in regions["net_cost.change"]) == Decimal(summary["money"]["net_cost"]["change"])


def test_cli_refuses_a_bad_reform_naming_it(tmp_path, cli):
    pop = tmp_path / "pop.parquet"
    write_population(generate(10, 5), pop)
    bad = BROKEN_REFORMS / "unknown-parameter.yaml"
    result = cli("simulate", "--population", pop, "--reform", bad, "--out", tmp_path / "o")
    assert result.exit_code == 1
    assert "unknown-parameter.yaml" in result.output and "storage_subsidy.tier_30_rat" in result.output
