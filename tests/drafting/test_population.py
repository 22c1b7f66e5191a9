"""Synthetic populations: valid, exact, deterministic, calibrated to POLICY.md's Shanxi facts."""

from decimal import Decimal

import polars as pl
import pytest
from stdnum.cn import uscc

from engine.contract.application import parse_application
from engine.contract.flat import document_from_flat
from engine.drafting.population import CITIES, MEAN_SALES_YUAN, SCHEMA, generate, read_population, write_population


@pytest.fixture(scope="module")
def big():
    return generate(20_000, 1)


def test_same_seed_same_population_and_different_seed_differs():
    a, b = generate(400, 5), generate(400, 5)
    assert a.equals(b)
    assert not a.equals(generate(400, 6))


def test_same_seed_same_file_bytes(tmp_path):
    for suffix in (".jsonl", ".csv"):
        write_population(generate(200, 9), tmp_path / f"a{suffix}")
        write_population(generate(200, 9), tmp_path / f"b{suffix}")
        assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes()


def test_every_row_is_a_valid_application_with_a_valid_credit_code():
    frame = generate(600, 2)
    for row in frame.iter_rows(named=True):
        app = parse_application(document_from_flat(row))
        assert uscc.validate(app.enterprise.credit_code) == app.enterprise.credit_code
    assert frame["enterprise.credit_code"].n_unique() == frame.height


def test_no_binary_floats_anywhere(big):
    assert dict(big.schema) == SCHEMA
    assert not any(dtype in (pl.Float32, pl.Float64) for dtype in big.schema.values())
    share = big["packaging.nondegradable_share"].drop_nulls()
    assert all(isinstance(v, Decimal) for v in share.head(50))


def test_calibration_to_the_shanxi_facts(big):
    n = big.height
    regions = big["enterprise.region_code"].value_counts()
    counts = dict(regions.iter_rows())
    assert set(counts) == {code for code, _, _ in CITIES}
    for code, _, weight in CITIES:
        assert abs(counts[code] / n - weight) < 0.015, code
    assert counts["140100"] > counts["140200"] > counts["141100"]  # Taiyuan, Datong lead; Lüliang lags

    pack = big.filter(pl.col("packaging.nondegradable_share").is_not_null())
    green = pack.filter(pl.col("packaging.nondegradable_share") == 0).height / pack.height
    assert abs(green - 0.45) < 0.015
    below_30 = pack.filter(pl.col("packaging.recycling_rate") < Decimal("0.30")).height / pack.height
    assert below_30 > 0.7  # "below 30 %" for most

    sme = big.filter(pl.col("enterprise.size") == "sme")
    clean = sme.filter(pl.col("energy.renewable_kwh") > 0).height / sme.height
    assert abs(clean - 0.264) < 0.015  # SME clean-energy use
    assert 0.88 < sme.height / n < 0.96

    mean_sales = pack["packaging.order_value_yuan"].sum() / pack.height
    assert abs(float(mean_sales) / MEAN_SALES_YUAN - 1) < 0.08  # 635.12 bn / 2,337 enterprises
    assert abs(big.filter(~pl.col("enterprise.is_ecommerce")).height / n - 0.05) < 0.01
    storage = big.filter(pl.col("storage.discharged_kwh").is_not_null()).height / n
    assert 0.05 < storage < 0.15
    absent = big.filter(pl.col("storage.discharged_kwh").is_null())
    assert absent["storage.platform.connected"].null_count() == absent.height  # absent section: all null


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl", ".xlsx"])
def test_files_round_trip_exactly(tmp_path, suffix):
    frame = generate(300, 4)
    write_population(frame, tmp_path / f"p{suffix}")
    assert read_population(tmp_path / f"p{suffix}").equals(frame)


def test_cli_generate(tmp_path, cli):
    out = tmp_path / "pop.parquet"
    result = cli("population", "generate", "--n", "250", "--seed", "3", "--out", out)
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(out).equals(generate(250, 3))
    bad = cli("population", "generate", "--n", "5", "--seed", "3", "--out", tmp_path / "p.ods")
    assert bad.exit_code == 2 and ".parquet" in bad.output
