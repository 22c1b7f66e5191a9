"""Synthetic populations of applications, calibrated to the Shanxi facts of source S §2.

Every value is drawn with a numpy Generator seeded by the caller, then fixed as an integer or
a scaled integer (fen, thousandths, hundredths) and only then turned into an exact decimal, so
the file never holds a binary float and the same seed gives the same bytes. Columns are the
dotted paths of the data contract (docs/contract.md); an absent section has all its columns null.

Calibration (each figure is a module constant below, so a drafter can see and change it):
- 11 prefecture-level cities with their codes, weighted towards Taiyuan and Datong [S §3.3].
- 2,337 e-commerce enterprises shared 635.12 billion yuan of sales in 2023 [S §2]: annual order
  value is lognormal with mean 635.12e9 / 2,337 ≈ 271.77 million yuan (σ = 1.2, heavy-tailed).
- 45 % of merchants fully use green packaging (nondegradable_share = 0) [S §2].
- Packaging recycling rate below 30 % for most merchants [S §2, §4.2].
- 26.4 % of SMEs use clean energy (renewable_kwh > 0) [S §2].
- Storage systems, equipment, reporting failures, past grants: assumptions at low rates.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl

from engine.contract.application import FIELDS, USCC_ALPHABET, USCC_WEIGHTS
from engine.contract.bounds import decimal_text
from engine.contract.flat import flatten
from engine.contract.formats import csv_records, jsonl_records, open_parquet
from engine.drafting import MAX_POPULATION
from engine.errors import BadRecordError, UnreadableInputError

#: (code, name) of Shanxi's 11 prefecture-level cities [S §2] and the share of applicants.
CITIES = (
    ("140100", "太原", 0.30),
    ("140200", "大同", 0.12),
    ("140300", "阳泉", 0.05),
    ("140400", "长治", 0.08),
    ("140500", "晋城", 0.06),
    ("140600", "朔州", 0.05),
    ("140700", "晋中", 0.09),
    ("140800", "运城", 0.09),
    ("140900", "忻州", 0.04),
    ("141000", "临汾", 0.08),
    ("141100", "吕梁", 0.04),
)
CITY_NAMES = {code: name for code, name, _ in CITIES}
CITY_NAMES_EN = {
    "140100": "Taiyuan",
    "140200": "Datong",
    "140300": "Yangquan",
    "140400": "Changzhi",
    "140500": "Jincheng",
    "140600": "Shuozhou",
    "140700": "Jinzhong",
    "140800": "Yuncheng",
    "140900": "Xinzhou",
    "141000": "Linfen",
    "141100": "Lüliang",
}
SALES_TOTAL_YUAN = 635_120_000_000  # e-commerce sales, Shanxi 2023 [S §2]
ECOMMERCE_ENTERPRISES = 2_337  # enterprises with e-commerce activity [S §2]
MEAN_SALES_YUAN = SALES_TOTAL_YUAN / ECOMMERCE_ENTERPRISES
SALES_SIGMA = 1.2  # lognormal spread (assumption: heavy tail, max ≈ 50 bn)
LARGE_SHARE = 0.08  # large enterprises, the biggest sellers (assumption)
ECOMMERCE_SHARE = 0.95  # some applicants are not e-commerce (assumption)
GREEN_PACKAGING_SHARE = 0.45  # fully green packaging [S §2]
SME_CLEAN_ENERGY_SHARE = 0.264  # SMEs with renewable use [S §2]
LARGE_CLEAN_ENERGY_SHARE = 0.45  # assumption
ENERGY_SECTION_SHARE = 0.85  # applications declaring energy data (assumption)
RECYCLING_SYSTEM_SHARE = 0.30  # assumption, consistent with "recycling below 30 %"
STORAGE_SHARE = {"sme": 0.08, "large": 0.30}  # assumption
EQUIPMENT_SHARE = {"sme": 0.06, "large": 0.25}  # assumption
PACKAGING_SECTION_SHARE = 0.97

#: Column -> Polars dtype. Decimals are exact pl.Decimal(38, scale) (scale = the places drawn).
SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {  # pl.Utf8 and the like are classes
    "application_id": pl.Utf8,
    "period.start": pl.Date,
    "period.end": pl.Date,
    "enterprise.credit_code": pl.Utf8,
    "enterprise.name": pl.Utf8,
    "enterprise.region_code": pl.Utf8,
    "enterprise.size": pl.Utf8,
    "enterprise.is_ecommerce": pl.Boolean,
    "storage.capacity_kwh": pl.Decimal(38, 0),
    "storage.energy_density_wh_per_kg": pl.Decimal(38, 1),
    "storage.cycle_life": pl.Int64,
    "storage.backflow_response_ms": pl.Decimal(38, 0),
    "storage.discharged_kwh": pl.Decimal(38, 0),
    "storage.baseline_peak_kw": pl.Decimal(38, 0),
    "storage.peak_with_storage_kw": pl.Decimal(38, 0),
    "storage.platform.connected": pl.Boolean,
    "storage.platform.reporting_completeness": pl.Decimal(38, 3),
    "storage.platform.max_upload_delay_min": pl.Decimal(38, 0),
    "storage.platform.carbon_reduction_reported": pl.Boolean,
    "equipment.investment_yuan": pl.Decimal(38, 2),
    "equipment.automated_return_receiving": pl.Boolean,
    "equipment.realtime_data_analytics": pl.Boolean,
    "packaging.order_count": pl.Int64,
    "packaging.order_value_yuan": pl.Decimal(38, 2),
    "packaging.nondegradable_share": pl.Decimal(38, 2),
    "packaging.has_recycling_system": pl.Boolean,
    "packaging.recycling_rate": pl.Decimal(38, 2),
    "packaging.filler_reduction_rate": pl.Decimal(38, 2),
    "energy.renewable_kwh": pl.Decimal(38, 0),
    "history.storage_subsidy_granted_this_year_yuan": pl.Decimal(38, 2),
    "history.freight_subsidy_granted_this_year_yuan": pl.Decimal(38, 2),
    "history.equipment_subsidy_received": pl.Boolean,
}
assert set(SCHEMA) == set(FIELDS), "the population covers exactly the contract's fields"

# GB 32100-2015 check character (the same weights and alphabet as stdnum.cn.uscc, which the
# tests compare against): computed over whole numpy arrays because a per-row Python call costs
# ~10 s per million codes.


def _credit_codes(region: np.ndarray, serial: np.ndarray) -> pl.Series:
    """'91' (enterprise) + 6-digit region + 9-digit organisation serial + check character."""
    digits = np.empty((len(region), 17), dtype=np.int64)
    digits[:, 0], digits[:, 1] = 9, 1
    reg = region.astype(np.int64)
    for k in range(6):
        digits[:, 2 + k] = (reg // 10 ** (5 - k)) % 10
    for k in range(9):
        digits[:, 8 + k] = (serial // 10 ** (8 - k)) % 10
    check = (31 - (digits @ np.array(USCC_WEIGHTS, dtype=np.int64)) % 31) % 31
    alphabet = np.array(list(USCC_ALPHABET))
    body = pl.Series(reg).cast(pl.Utf8).str.zfill(6)
    org = pl.Series(serial).cast(pl.Utf8).str.zfill(9)
    return ("91" + body + org + pl.Series(alphabet[check])).rename("enterprise.credit_code")


def _decimal(name: str, scaled: np.ndarray, present: np.ndarray) -> pl.Series:
    """Exact decimals from scaled integers (value = scaled / 10**scale); null where absent."""
    dtype = SCHEMA[name]
    assert isinstance(dtype, pl.Decimal), f"{name} is not a decimal column"
    scale = dtype.scale
    s = pl.Series(scaled.astype(np.int64))
    if scale:
        unit = 10**scale
        text = (s // unit).cast(pl.Utf8) + "." + (s % unit).cast(pl.Utf8).str.zfill(scale)
    else:
        text = s.cast(pl.Utf8)
    text = pl.select(pl.when(pl.Series(present)).then(text).otherwise(None)).to_series()
    return text.cast(SCHEMA[name]).rename(name)


def _masked(name: str, values: np.ndarray, present: np.ndarray) -> pl.Series:
    s = pl.Series(values)
    return pl.select(pl.when(pl.Series(present)).then(s).otherwise(None)).to_series().cast(SCHEMA[name]).rename(name)


def _lognormal_int(rng, median, sigma, n, low=1):
    return np.maximum(np.rint(rng.lognormal(np.log(median), sigma, n)), low).astype(np.int64)


def generate(n: int, seed: int, year: int = 2027) -> pl.DataFrame:
    """``n`` synthetic annual applications for ``year``; the same (n, seed, year) gives the same frame."""
    if not 1 <= n <= MAX_POPULATION:
        raise ValueError(f"n must be between 1 and {MAX_POPULATION:,}")
    rng = np.random.default_rng(seed)
    col: dict[str, pl.Series] = {}
    everyone = np.ones(n, dtype=bool)

    idx = np.arange(n, dtype=np.int64)
    col["application_id"] = f"POP{seed}-" + pl.Series(idx + 1).cast(pl.Utf8).str.zfill(7)
    col["period.start"] = pl.Series([dt.date(year, 1, 1)]).extend_constant(dt.date(year, 1, 1), n - 1)
    col["period.end"] = pl.Series([dt.date(year, 12, 31)]).extend_constant(dt.date(year, 12, 31), n - 1)

    codes = np.array([int(c) for c, _, _ in CITIES])
    weights = np.array([w for _, _, w in CITIES])
    region = codes[rng.choice(len(CITIES), size=n, p=weights / weights.sum())]
    # Organisation serials: distinct for every row (7919 is coprime with 10**9), shifted by the seed.
    serial = (idx * 7919 + seed * 104_729) % 10**9
    col["enterprise.credit_code"] = _credit_codes(region, serial)
    region_s = pl.Series(region).cast(pl.Utf8)
    names = region_s.replace_strict({str(c): name for c, name in ((int(k), v) for k, v in CITY_NAMES.items())})
    col["enterprise.name"] = names + "合成电商" + pl.Series(idx + 1).cast(pl.Utf8).str.zfill(7) + "有限公司"
    col["enterprise.region_code"] = region_s

    # Sales drive size: the largest sellers are the large enterprises.
    z = rng.standard_normal(n)
    mu = math.log(MEAN_SALES_YUAN) - SALES_SIGMA**2 / 2
    value_fen = np.rint(np.exp(mu + SALES_SIGMA * z) * 100).astype(np.int64)
    score = z + 0.3 * rng.standard_normal(n)
    large = score > np.quantile(score, 1 - LARGE_SHARE) if n > 1 else np.zeros(n, dtype=bool)
    sme = ~large
    col["enterprise.size"] = pl.Series(np.where(sme, "sme", "large"))
    col["enterprise.is_ecommerce"] = pl.Series(rng.random(n) < ECOMMERCE_SHARE)

    # --- storage: a PV + storage warehouse, annual operation -------------------
    has_storage = rng.random(n) < np.where(sme, STORAGE_SHARE["sme"], STORAGE_SHARE["large"])
    capacity = _lognormal_int(rng, np.where(sme, 400, 4000), 0.8, n, low=50)
    col["storage.capacity_kwh"] = _decimal("storage.capacity_kwh", capacity, has_storage)
    density = np.clip(np.rint(rng.normal(2700, 120, n)), 1800, 3400)  # tenths of Wh/kg
    col["storage.energy_density_wh_per_kg"] = _decimal("storage.energy_density_wh_per_kg", density, has_storage)
    cycles = np.clip(np.rint(rng.normal(11500, 1800, n)), 3000, 20000).astype(np.int64)
    col["storage.cycle_life"] = _masked("storage.cycle_life", cycles, has_storage)
    backflow = np.clip(np.rint(rng.normal(38, 10, n)), 5, 200)
    col["storage.backflow_response_ms"] = _decimal("storage.backflow_response_ms", backflow, has_storage)
    discharged = np.rint(capacity * rng.uniform(150, 330, n) * 0.85).astype(np.int64)
    discharged[rng.random(n) < 0.03] = 0  # idle systems
    col["storage.discharged_kwh"] = _decimal("storage.discharged_kwh", discharged, has_storage)
    baseline = np.maximum(np.rint(capacity * rng.uniform(0.3, 0.8, n)), 10).astype(np.int64)
    shaving = rng.uniform(0.05, 0.50, n)
    peak_with = np.rint(baseline * (1 - shaving)).astype(np.int64)
    col["storage.baseline_peak_kw"] = _decimal("storage.baseline_peak_kw", baseline, has_storage)
    col["storage.peak_with_storage_kw"] = _decimal("storage.peak_with_storage_kw", peak_with, has_storage)
    col["storage.platform.connected"] = _masked("storage.platform.connected", rng.random(n) < 0.96, has_storage)
    completeness = np.clip(1000 - np.rint(rng.exponential(15, n)), 500, 1000)  # thousandths
    col["storage.platform.reporting_completeness"] = _decimal(
        "storage.platform.reporting_completeness", completeness, has_storage
    )
    col["storage.platform.max_upload_delay_min"] = _decimal(
        "storage.platform.max_upload_delay_min", rng.geometric(0.25, n), has_storage
    )
    col["storage.platform.carbon_reduction_reported"] = _masked(
        "storage.platform.carbon_reduction_reported", rng.random(n) < 0.97, has_storage
    )

    # --- reverse-logistics equipment ---------------------------------------------
    has_equipment = rng.random(n) < np.where(sme, EQUIPMENT_SHARE["sme"], EQUIPMENT_SHARE["large"])
    investment_yuan = _lognormal_int(rng, np.where(sme, 800_000, 5_000_000), 0.9, n, low=10_000)
    col["equipment.investment_yuan"] = _decimal("equipment.investment_yuan", investment_yuan * 100, has_equipment)
    col["equipment.automated_return_receiving"] = _masked(
        "equipment.automated_return_receiving", rng.random(n) < 0.85, has_equipment
    )
    col["equipment.realtime_data_analytics"] = _masked(
        "equipment.realtime_data_analytics", rng.random(n) < 0.80, has_equipment
    )

    # --- packaging ---------------------------------------------------------------
    has_packaging = rng.random(n) < PACKAGING_SECTION_SHARE
    ticket = rng.lognormal(np.log(90), 0.5, n)  # yuan per order
    orders = np.rint(value_fen / 100 / ticket).astype(np.int64)
    col["packaging.order_count"] = _masked("packaging.order_count", orders, has_packaging)
    col["packaging.order_value_yuan"] = _decimal("packaging.order_value_yuan", value_fen, has_packaging)
    green = rng.random(n) < GREEN_PACKAGING_SHARE
    nondeg = np.where(green, 0, rng.integers(5, 91, n))  # hundredths
    col["packaging.nondegradable_share"] = _decimal("packaging.nondegradable_share", nondeg, has_packaging)
    recycling_system = rng.random(n) < RECYCLING_SYSTEM_SHARE
    col["packaging.has_recycling_system"] = _masked("packaging.has_recycling_system", recycling_system, has_packaging)
    rate = np.where(recycling_system, rng.integers(15, 66, n), rng.integers(0, 21, n))
    col["packaging.recycling_rate"] = _decimal("packaging.recycling_rate", rate, has_packaging)
    col["packaging.filler_reduction_rate"] = _decimal(
        "packaging.filler_reduction_rate", rng.integers(0, 41, n), has_packaging
    )

    # --- energy: P(renewable > 0) is the clean-energy share over all of a size class --
    has_energy = rng.random(n) < ENERGY_SECTION_SHARE
    share = np.where(sme, SME_CLEAN_ENERGY_SHARE, LARGE_CLEAN_ENERGY_SHARE) / ENERGY_SECTION_SHARE
    renewable = np.where(rng.random(n) < share, _lognormal_int(rng, np.where(sme, 80_000, 1_500_000), 1.0, n), 0)
    col["energy.renewable_kwh"] = _decimal("energy.renewable_kwh", renewable, has_energy)

    # --- what was granted earlier this year --------------------------------------
    storage_before = np.where(rng.random(n) < 0.04, rng.integers(1, 5_200_000, n), 0) * 100
    freight_before = np.where(rng.random(n) < 0.03, rng.integers(1, 220_000, n), 0) * 100
    col["history.storage_subsidy_granted_this_year_yuan"] = _decimal(
        "history.storage_subsidy_granted_this_year_yuan", storage_before, everyone
    )
    col["history.freight_subsidy_granted_this_year_yuan"] = _decimal(
        "history.freight_subsidy_granted_this_year_yuan", freight_before, everyone
    )
    col["history.equipment_subsidy_received"] = pl.Series(rng.random(n) < 0.08)

    return pl.DataFrame([col[c].rename(c).cast(SCHEMA[c]) for c in SCHEMA])


# --- files -----------------------------------------------------------------------
FORMATS = (".parquet", ".jsonl", ".csv", ".xlsx")


def _nested(row: dict) -> dict:
    doc: dict = {}
    for column, value in row.items():
        if value is None:
            continue
        node = doc
        *head, last = column.split(".")
        for part in head:
            node = node.setdefault(part, {})
        node[last] = (
            value.isoformat()
            if isinstance(value, dt.date)
            else format(value, "f")
            if not isinstance(value, (bool, int, str))
            else value
        )
    return doc


def _cell(value):
    """A population value as an XLSX cell's text: a date in ISO form, a Decimal's digits."""
    return value.isoformat() if isinstance(value, dt.date) else value


def write_population(frame: pl.DataFrame, path: Path) -> None:
    """Parquet (typed, exact decimals), JSON Lines (CONTRACT documents), CSV (dotted columns, a
    BOM first) or XLSX (the columns under Chinese headers, every cell text)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.write_parquet(path)
    elif suffix == ".csv":
        frame.write_csv(path, include_bom=True)  # Excel reads UTF-8 only after a BOM
    elif suffix == ".xlsx":
        from engine.tables.writing import XlsxRows

        rows = XlsxRows(path, list(frame.columns))
        for row in frame.iter_rows(named=True):
            rows.write({k: _cell(v) for k, v in row.items()})
        rows.close()
    elif suffix == ".jsonl":
        with open(path, "w", encoding="utf-8") as out:
            for row in frame.iter_rows(named=True):
                out.write(json.dumps(_nested(row), ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        raise ValueError(f"unsupported population format {suffix!r} (use one of {', '.join(FORMATS)})")


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    """Text columns (CSV, JSON Lines) to the population schema; absent columns become null."""
    cols = []
    for name, dtype in SCHEMA.items():
        if name not in frame.columns:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
            continue
        c = pl.col(name).cast(pl.Utf8)
        if dtype == pl.Boolean:
            cols.append(pl.when(c == "true").then(True).when(c == "false").then(False).otherwise(None).alias(name))
        elif dtype == pl.Date:
            cols.append(c.str.to_date("%Y-%m-%d").alias(name))
        else:
            cols.append(pl.when(c == "").then(None).otherwise(c).cast(dtype).alias(name))
    return frame.select(cols)


def _flat(doc: dict) -> dict:
    """Dotted keys with JSON's text for every value, as a CSV population holds them."""
    return {
        k: str(v).lower()
        if isinstance(v, bool)
        else None
        if v is None
        else decimal_text(v)  # 1e3 as 1000: the text a cell holds
        if isinstance(v, Decimal)
        else str(v)
        for k, v in flatten(doc).items()
    }


def _documents(path: Path, reader):
    """The documents of a JSON Lines, CSV or XLSX population, read by the batch readers' rules;
    a population is data to compare, not a batch to decide, so a bad record stops the read."""
    with open(path, "rb") as stream:
        for n, _raw, doc in reader(stream):
            if isinstance(doc, BadRecordError):
                from engine.i18n import t
                from engine.i18n.problems import problem_line

                problems = t("drafting.sep").join(problem_line(p, m) for p, m in doc.errors)
                raise UnreadableInputError(t("drafting.population_row", row=n, problems=problems))
            if not isinstance(doc, dict):
                from engine.i18n import t

                raise UnreadableInputError(t("drafting.population_not_object", row=n))
            yield n, doc


def _xlsx_records(stream):
    from engine.contract.formats import xlsx_rows

    for n, raw, _cells, doc in xlsx_rows(stream.read()):
        yield n, raw, doc


MAX_NAMED = 20  # bad cells named in full; the count says how many more


def _checked(rows: list[tuple[int, dict]]) -> list[dict]:
    """The flat rows, once every cell fits its column (the schema's type and places): otherwise
    UnreadableInputError naming each bad cell by row and column, never the cast's own dump."""
    from engine.i18n import field, t
    from engine.tables.cells import cell_problem

    bad = []
    for n, flat in rows:
        for column, value in flat.items():
            dtype = SCHEMA.get(column)
            places = dtype.scale if isinstance(dtype, pl.Decimal) else None
            problem = cell_problem(FIELDS.get(column, "text"), value, places)
            if problem:
                bad.append(t("tables.population_cell", row=n, column=field(column), problem=problem))
    if bad:
        shown = "; ".join(bad[:MAX_NAMED]) + ("; …" if len(bad) > MAX_NAMED else "")
        raise UnreadableInputError(t("tables.population_cells", count=len(bad), cells=shown))
    return [flat for _n, flat in rows]


def read_population(path: Path) -> pl.DataFrame:
    """A population file as the population schema; UnreadableInputError (a ValueError) when a
    record, the file or a Parquet column breaks the readers' rules (engine.contract.formats)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            open_parquet(path)
            return pl.read_parquet(path)
        if suffix in (".csv", ".jsonl", ".xlsx"):
            reader = {".csv": csv_records, ".jsonl": jsonl_records, ".xlsx": _xlsx_records}[suffix]
            rows = _checked([(n, _flat(doc)) for n, doc in _documents(path, reader)])
            return _typed(pl.DataFrame(rows, schema={c: pl.Utf8 for c in SCHEMA}))
    except UnreadableInputError as exc:
        raise UnreadableInputError(exc.problem) from None  # the caller names the file
    raise ValueError(f"unsupported population format {suffix!r} (use one of {', '.join(FORMATS)})")
