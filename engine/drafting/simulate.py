"""Population simulation: decide a population under a baseline and a reform, and compare.

Both scenarios go through ``engine.flat.decide_frame`` (the columnar backend when installed,
the Rete engine otherwise), chunk by chunk so a caller can show progress; on the Rete path a
pool of processes, each with its own engine, decides chunks in parallel. Every sum is an exact
decimal (Polars Decimal columns, summed as integers), so the totals add up across regions.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import polars as pl

from engine.backends import decide_frame
from engine.drafting.population import CITY_NAMES
from engine.rulebook.loader import Rulebook

YUAN = pl.Decimal(38, 2)
#: The columns of changes.csv: one row per application and outcome whose status or amount changes.
CHANGE_COLUMNS = (
    "application_id",
    "region_code",
    "outcome",
    "old_status",
    "new_status",
    "old_amount",
    "new_amount",
    "amount_change",
    "unit",
    "old_reasons",
    "new_reasons",
)
TCO2E = pl.Decimal(38, 3)


# --- deciding ----------------------------------------------------------------------
_WORKER_BOOK: Rulebook | None = None


def _init_worker(book):
    global _WORKER_BOOK
    _WORKER_BOOK = book


def _decide_chunk(chunk: pl.DataFrame) -> pl.DataFrame:
    assert _WORKER_BOOK is not None, "the pool's initializer sets the rulebook"
    return decide_frame(_WORKER_BOOK, chunk, backend="rete")


def decide_population(
    book: Rulebook,
    frame: pl.DataFrame,
    backend: str = "auto",
    workers: int = 2,
    chunk_rows: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> pl.DataFrame:
    """Decide every row of ``frame``; ``progress(n)`` is called after each chunk of n rows."""
    if backend == "auto":
        backend = "columnar"
    chunk_rows = chunk_rows or (100_000 if backend == "columnar" else 2_000)
    chunks = [frame.slice(i, chunk_rows) for i in range(0, frame.height, chunk_rows)] or [frame]
    parts = []
    if backend == "rete" and workers > 1 and len(chunks) > 1:
        # spawn: each process imports the engine afresh and builds its own ReteEngine.
        with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(book,)) as pool:
            for part in pool.imap(_decide_chunk, chunks):
                parts.append(part)
                if progress:
                    progress(part.height)
    else:
        decide: Callable[[Rulebook, pl.DataFrame], pl.DataFrame]
        if backend == "columnar":
            # Typed decisions (Enum statuses and reasons, Decimal amounts): the comparison needs
            # no per-row text, and every sum stays an exact decimal.
            from engine.backends.columnar.frame import decide_typed

            decide = decide_typed
        else:
            decide = lambda b, c: decide_frame(b, c, backend=backend)  # noqa: E731
        for chunk in chunks:
            parts.append(decide(book, chunk))
            if progress:
                progress(chunk.height)
    return pl.concat(parts, how="vertical") if len(parts) > 1 else parts[0]


def _decide_columnar_shared(books, frame: pl.DataFrame, progress=None, chunk_rows: int = 250_000):
    """Typed decisions of ``frame`` under each rulebook, and the seconds each took. Each chunk
    is validated once for all of them (validity depends on the contract model only), then each
    rulebook runs only its rule program; the validation is counted in the first rulebook's time."""
    from engine.backends.columnar.frame import decide_typed, validated

    chunks = [frame.slice(i, chunk_rows) for i in range(0, frame.height, chunk_rows)] or [frame]
    parts: list[list[pl.DataFrame]] = [[] for _ in books]
    seconds = [0.0] * len(books)
    for chunk in chunks:
        t = time.perf_counter()
        shared = validated(chunk)
        for i, book in enumerate(books):
            parts[i].append(decide_typed(book, chunk, shared))
            now = time.perf_counter()
            seconds[i] += now - t
            t = now
            if progress:
                progress(chunk.height)
    return [pl.concat(p, how="vertical") if len(p) > 1 else p[0] for p in parts], seconds


# --- comparing ---------------------------------------------------------------------
@dataclass
class Comparison:
    base_book: Rulebook
    reform_book: Rulebook
    rows: int
    errors: pl.DataFrame  # application_id, baseline error, reform error
    counts: pl.DataFrame  # outcome, status, baseline, reform, change
    money: dict  # line -> {baseline, reform, change} (Decimal)
    by_region: pl.DataFrame
    changes: pl.DataFrame  # one row per (application, outcome) that changed
    per_application: pl.DataFrame  # one row per application that changed
    timings: dict = field(default_factory=dict)


def _money_outcomes(book):
    return [o for o in book.outcomes if o.unit == "yuan"]


def _amounts(res: pl.DataFrame, book: Rulebook) -> pl.DataFrame:
    """Exact amounts per application: granted benefits, levy, net cost, carbon quota."""
    ok = pl.col("error").is_null()
    cols = [pl.col("application_id"), pl.col("region_code")]
    for o in book.outcomes:
        if o.unit is None:
            continue
        granted = pl.col(f"{o.name}.status") == ("levied" if o.kind == "levy" else "granted")
        dtype = YUAN if o.unit == "yuan" else TCO2E
        cols.append(
            pl.when(ok & granted)
            .then(pl.col(f"{o.name}.amount").cast(dtype))
            .otherwise(pl.lit(0).cast(dtype))
            .alias(o.name)
        )
    cols.append(
        pl.when(ok).then(pl.col("totals.subsidy_yuan").cast(YUAN)).otherwise(pl.lit(0).cast(YUAN)).alias("subsidy")
    )
    cols.append(pl.when(ok).then(pl.col("totals.levy_yuan").cast(YUAN)).otherwise(pl.lit(0).cast(YUAN)).alias("levy"))
    out = res.select(cols)
    return out.with_columns((pl.col("subsidy") - pl.col("levy")).alias("net_cost"))


def money_lines(book: Rulebook) -> list[tuple[str, str, str]]:
    """(column, label, unit) of the money summary, in report order."""
    lines = [
        (o.name, f"{o.name} ({o.title['en']})", o.unit)
        for o in book.outcomes
        if o.unit == "yuan" and o.kind == "benefit"
    ]
    lines.append(("subsidy", "total subsidy", "yuan"))
    lines += [
        (o.name, f"{o.name}: earmarked for storage-technology R&D", "yuan") for o in book.outcomes if o.kind == "levy"
    ]
    lines.append(("levy", "total levy (funds storage R&D)", "yuan"))
    lines.append(("net_cost", "net fiscal cost = subsidy − levy", "yuan"))
    lines += [(o.name, f"{o.name} ({o.title['en']})", o.unit) for o in book.outcomes if o.unit not in (None, "yuan")]
    return lines


def _comparable(a: pl.Series, b: pl.Series) -> tuple[pl.Series, pl.Series]:
    """The same column of two result frames, in one dtype (two rulebooks may list different
    reason Enums, or one side may be text from the Rete path)."""
    if a.dtype == b.dtype:
        return a, b
    if isinstance(a.dtype, pl.Decimal) and isinstance(b.dtype, pl.Decimal):
        scale = max(a.dtype.scale, b.dtype.scale)
        return a.cast(pl.Decimal(38, scale)), b.cast(pl.Decimal(38, scale))
    return a.cast(pl.Utf8), b.cast(pl.Utf8)


def _status_counts(statuses: pl.Series) -> dict:
    """Rows per status (nulls, i.e. errors, not counted); an Enum column is counted on its codes."""
    if isinstance(statuses.dtype, pl.Enum):
        codes = statuses.to_physical().drop_nulls().to_numpy()
        cats = statuses.dtype.categories.to_list()
        return {c: int(n) for c, n in zip(cats, np.bincount(codes, minlength=len(cats))) if n}
    return dict(statuses.drop_nulls().value_counts().iter_rows())


def compare(base_book: Rulebook, reform_book: Rulebook, base: pl.DataFrame, reform: pl.DataFrame) -> Comparison:
    if base.height != reform.height:
        raise ValueError("baseline and reform results differ in length")
    a, b = _amounts(base, base_book), _amounts(reform, reform_book)
    value_cols = [c for c in a.columns if c not in ("application_id", "region_code")]

    money = {}
    for col in value_cols:
        x, y = a[col].sum(), b[col].sum()
        money[col] = {"baseline": Decimal(x), "reform": Decimal(y), "change": Decimal(y) - Decimal(x)}

    # counts per outcome and status
    count_rows = []
    for o in base_book.outcomes:
        vb, vr = _status_counts(base[f"{o.name}.status"]), _status_counts(reform[f"{o.name}.status"])
        for s in o.statuses:
            count_rows.append(
                {
                    "outcome": o.name,
                    "status": s,
                    "baseline": vb.get(s, 0),
                    "reform": vr.get(s, 0),
                    "change": vr.get(s, 0) - vb.get(s, 0),
                }
            )
    counts = pl.DataFrame(count_rows)

    # by region: the same sums, grouped; the totals row is the sum of the regions
    agg = [pl.len().alias("applications")]
    region_cols = ("subsidy", "levy", "net_cost")
    joined = (
        a.select(["region_code", *region_cols])
        .rename({c: f"{c}.baseline" for c in region_cols})
        .with_columns(b.select([pl.col(c).alias(f"{c}.reform") for c in region_cols]))
    )
    for col in region_cols:
        agg += [
            pl.col(f"{col}.baseline").sum(),
            pl.col(f"{col}.reform").sum(),
            (pl.col(f"{col}.reform").sum() - pl.col(f"{col}.baseline").sum()).alias(f"{col}.change"),
        ]
    by_region = (
        joined.with_columns(pl.col("region_code").fill_null("(unknown)"))
        .group_by("region_code")
        .agg(agg)
        .sort("region_code")
        .with_columns(pl.col("region_code").replace_strict(CITY_NAMES, default="").alias("city"))
        .select(
            [
                "region_code",
                "city",
                "applications",
                *[f"{c}.{s}" for c in ("subsidy", "levy", "net_cost") for s in ("baseline", "reform", "change")],
            ]
        )
    )

    # what changed, per outcome
    parts = []
    for o in base_book.outcomes:
        s, m, r = f"{o.name}.status", f"{o.name}.amount", f"{o.name}.reasons"
        pair = pl.DataFrame(
            {
                "application_id": base["application_id"],
                "region_code": base["region_code"],
                **dict(zip(("old_status", "new_status"), _comparable(base[s], reform[s]))),
                **dict(zip(("old_amount", "new_amount"), _comparable(base[m], reform[m]))),
                **dict(zip(("old_reasons", "new_reasons"), _comparable(base[r], reform[r]))),
            }
        )
        diff = pair.filter(
            pl.col("old_status").ne_missing(pl.col("new_status"))
            | pl.col("old_amount").ne_missing(pl.col("new_amount"))
            | pl.col("old_reasons").ne_missing(pl.col("new_reasons"))
        )
        if diff.height:
            dtype = YUAN if o.unit == "yuan" else TCO2E
            diff = diff.with_columns(
                pl.lit(o.name).alias("outcome"),
                pl.lit(o.unit, dtype=pl.Utf8).alias("unit"),
                (pl.col("new_amount").cast(dtype).fill_null(0) - pl.col("old_amount").cast(dtype).fill_null(0))
                .cast(pl.Utf8)
                .alias("amount_change")
                if o.unit
                else pl.lit(None, pl.Utf8).alias("amount_change"),
            )
            parts.append(diff.select(pl.col(list(CHANGE_COLUMNS)).cast(pl.Utf8)))
    changes = pl.concat(parts) if parts else pl.DataFrame(schema={c: pl.Utf8 for c in CHANGE_COLUMNS})
    changed_ids = changes["application_id"].unique()
    per_app = (
        pl.DataFrame(
            {
                "application_id": a["application_id"],
                "region_code": a["region_code"],
                "subsidy.baseline": a["subsidy"],
                "subsidy.reform": b["subsidy"],
                "levy.baseline": a["levy"],
                "levy.reform": b["levy"],
                "net_cost.change": b["net_cost"] - a["net_cost"],
            }
        )
        .filter(pl.col("application_id").is_in(changed_ids.implode()))
        .with_columns(
            (pl.col("subsidy.reform") - pl.col("subsidy.baseline")).alias("subsidy.change"),
            (pl.col("levy.reform") - pl.col("levy.baseline")).alias("levy.change"),
        )
    )
    errors = pl.DataFrame(
        {"application_id": base["application_id"], "baseline_error": base["error"], "reform_error": reform["error"]}
    ).filter(pl.col("baseline_error").is_not_null() | pl.col("reform_error").is_not_null())
    return Comparison(base_book, reform_book, base.height, errors, counts, money, by_region, changes, per_app)


def simulate(
    frame: pl.DataFrame,
    base_book: Rulebook,
    reform_book: Rulebook,
    backend: str = "auto",
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> Comparison:
    timings = {}
    if backend == "auto":
        backend = "columnar"
    if backend == "columnar":
        (base, reform), (timings["baseline"], timings["reform"]) = _decide_columnar_shared(
            (base_book, reform_book), frame, progress
        )
    else:
        t = time.perf_counter()
        base = decide_population(base_book, frame, backend, workers, progress=progress)
        timings["baseline"] = time.perf_counter() - t
        t = time.perf_counter()
        reform = decide_population(reform_book, frame, backend, workers, progress=progress)
        timings["reform"] = time.perf_counter() - t
    t = time.perf_counter()
    result = compare(base_book, reform_book, base, reform)
    timings["compare"] = time.perf_counter() - t
    result.timings = timings
    return result


# --- writing -----------------------------------------------------------------------


def _plain(d) -> str:
    return format(d, "f") if isinstance(d, Decimal) else str(d)


def write_charts(c: Comparison, out_dir) -> list[str]:
    """The report's charts, in the language in force (engine/drafting/charts.py)."""
    from engine.drafting.charts import write_charts as charts

    return charts(c, out_dir)


def _table(header: list, rows: list) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def write_outputs(c: Comparison, out_dir, meta: dict, xlsx: bool = False) -> list[str]:
    """summary.json, by_region.csv, changes.csv, changed_applications.csv, errors.csv (each with a
    UTF-8 BOM, for Excel), PNG charts, report.md; with ``xlsx`` also tables.xlsx (the four tables
    as sheets, Chinese headers)."""
    import json
    from pathlib import Path

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {
        "population": meta,
        "applications": c.rows,
        "errors": c.errors.height,
        "baseline": {"version": c.base_book.version, "digest": c.base_book.digest},
        "reform": {"version": c.reform_book.version, "digest": c.reform_book.digest},
        "money": {k: {s: _plain(v) for s, v in d.items()} for k, d in c.money.items()},
        "units": {col: unit for col, _, unit in money_lines(c.base_book)},
        "levy_use": "the levy is earmarked for storage-technology R&D (专项用于储能技术研发)",
        "counts": c.counts.to_dicts(),
        "changed_applications": c.per_application.height,
        "timings_s": {k: round(v, 3) for k, v in c.timings.items()},
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    tables = {
        "by_region": c.by_region.with_columns(pl.exclude("region_code", "city", "applications").cast(pl.Utf8)),
        "changes": c.changes,
        "changed_applications": c.per_application.with_columns(
            pl.exclude("application_id", "region_code").cast(pl.Utf8)
        ).sort("application_id"),
        "errors": c.errors,
    }
    for name, frame in tables.items():
        frame.write_csv(out_dir / f"{name}.csv", include_bom=True)
    if xlsx:
        from engine.tables.writing import write_frames

        write_frames(out_dir / "tables.xlsx", tables)
    charts = write_charts(c, out_dir)
    (out_dir / "report.md").write_text(render_report(c, meta, charts), encoding="utf-8")
    return [
        "report.md",
        "summary.json",
        "by_region.csv",
        "changes.csv",
        "changed_applications.csv",
        "errors.csv",
        *(["tables.xlsx"] if xlsx else []),
        *charts,
    ]


def render_report(c: Comparison, meta: dict, charts: list[str]) -> str:
    """report.md, in the language in force (engine/drafting/report.py)."""
    from engine.drafting.report import render_report as report

    return report(c, meta, charts)
