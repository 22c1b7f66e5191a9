"""Populations on a Dask distributed cluster, partition by partition.

A partition is a run of Parquet row groups; each task reads only its rows, decides them with
the columnar backend (the same code as one machine, so the same results) and writes
``part-NNNNN.parquet`` into a hidden temporary folder, returning exact totals per outcome as
decimal text so that the client sums them without any float; the parts become the output
folder's only when every one is written (engine/atomic.py, ``replacing_parts``). The rulebook
(with any reforms already applied) travels to each worker once.
"""

from __future__ import annotations

import contextlib
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from engine.atomic import replacing_parts
from engine.contract.flat import result_columns
from engine.contract.formats import open_parquet

DEFAULT_PARTITION_ROWS = 500_000
#: The output folder's parts (those of a previous run that a new one does not write are removed).
PART_PATTERN = "part-[0-9][0-9][0-9][0-9][0-9].parquet"


def partitions(input_path, rows_per_partition: int = DEFAULT_PARTITION_ROWS) -> list[tuple[int, ...]]:
    """Row-group index tuples of about ``rows_per_partition`` rows each (whole row groups)."""
    meta = open_parquet(input_path).metadata  # refused in one line: not Parquet, a float column
    parts, current, size = [], [], 0
    for i in range(meta.num_row_groups):
        current.append(i)
        size += meta.row_group(i).num_rows
        if size >= rows_per_partition:
            parts.append(tuple(current))
            current, size = [], 0
    if current:
        parts.append(tuple(current))
    return parts


def summarise(book, frame) -> dict:
    """Counts and exact sums of one decided frame: {rows, rejected, outcome: {status: [n, amount]}}."""
    import polars as pl

    out = {"rows": frame.height, "rejected": int(frame.get_column("error").is_not_null().sum()), "outcomes": {}}
    for o in book.outcomes:
        groups = frame.group_by(f"{o.name}.status").agg(
            pl.len().alias("n"), pl.col(f"{o.name}.amount").cast(pl.Decimal(38, 3)).sum().alias("sum")
        )
        out["outcomes"][o.name] = {
            s: [int(n), str(v if v is not None else 0)] for s, n, v in groups.iter_rows() if s is not None
        }
    return out


def merge(summaries: list[dict]) -> dict:
    total: dict[str, Any] = {"rows": 0, "rejected": 0, "outcomes": {}}
    for s in summaries:
        total["rows"] += s["rows"]
        total["rejected"] += s["rejected"]
        for o, statuses in s["outcomes"].items():
            bucket = total["outcomes"].setdefault(o, {})
            for status, (n, amount) in statuses.items():
                m, a = bucket.get(status, [0, "0"])
                bucket[status] = [m + n, str(Decimal(a) + Decimal(amount))]
    return total


def _offsets(input_path, row_groups: tuple) -> tuple[int, int]:
    """(first row, row count) of a run of consecutive row groups."""
    meta = pq.ParquetFile(input_path).metadata
    first = sum(meta.row_group(i).num_rows for i in range(row_groups[0]))
    return first, sum(meta.row_group(i).num_rows for i in row_groups)


def _read_rows(input_path, first: int, rows: int, chunk_size: int):
    """Frames of at most chunk_size rows of [first, first + rows), with Polars' parallel reader."""
    import polars as pl

    scan = pl.scan_parquet(input_path)
    for start in range(first, first + rows, chunk_size):
        yield start, scan.slice(start, min(chunk_size, first + rows - start)).collect()


def decide_partition(
    book, input_path: str, row_groups: tuple, output_path: str | None, chunk_size: int = 250_000
) -> dict:
    """Decide the given row groups of a Parquet population; write them when ``output_path`` is set.

    Returns only the summary: the decided rows stay on the worker (or in its output part).
    """
    import polars as pl

    from engine.backends.columnar.frame import decide_typed
    from engine.batch.parquet import DecisionWriter

    first, rows = _offsets(input_path, row_groups)
    summaries = []
    writer = DecisionWriter(output_path, book) if output_path else None
    with writer if writer else contextlib.nullcontext():
        for start, frame in _read_rows(input_path, first, rows, chunk_size):
            decided = decide_typed(book, frame)
            decided = decided.with_columns(
                pl.int_range(start + 1, start + 1 + decided.height, dtype=pl.Int64).alias("line")
            )
            summaries.append(summarise(book, decided))
            if writer:
                writer.write(decided)
    return merge(summaries)


@contextlib.contextmanager
def cluster_client(address: str = "local", n_workers: int = 2, threads_per_worker: int = 1):
    """A dask.distributed Client: ``local`` starts a LocalCluster of worker processes."""
    from dask.distributed import Client, LocalCluster

    if address == "local":
        # Each worker process is one core's worth: Polars' and the kernel's pools sized to match,
        # so two workers do not fight over the same cores. Set before the process is spawned
        # (Dask's pre-spawn-environ): a spawned worker first re-imports the parent's main module,
        # and one importing numba or Polars fixes their pools before a Nanny `env` applies (the
        # benchmark's workers ran two threads each). The Nanny sets them in this process's
        # environment to spawn; they are put back once the workers are up.
        import dask

        threads = str(threads_per_worker)
        env = {"POLARS_MAX_THREADS": threads, "NUMBA_NUM_THREADS": threads}
        saved = {k: os.environ.get(k) for k in env}
        try:
            with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
                cluster = LocalCluster(
                    n_workers=n_workers,
                    threads_per_worker=threads_per_worker,
                    processes=True,
                    dashboard_address=None,
                    env=env,
                )
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        with cluster, Client(cluster) as client:
            yield client
    else:
        with Client(address) as client:
            yield client


def decide_parquet_distributed(
    book,
    input_path,
    output_dir=None,
    address: str = "local",
    *,
    client=None,
    n_workers: int = 2,
    rows_per_partition: int = DEFAULT_PARTITION_ROWS,
) -> dict:
    """Decide a Parquet population on a Dask cluster; one output part per partition.

    ``book``: a compiled Rulebook (reforms already applied). ``output_dir``: folder for
    ``part-NNNNN.parquet`` files, which replace its previous parts only when the run completes
    (None: only the merged summary is returned, as simulation needs). ``address``: a scheduler address or ``local``; ``client``: an existing Client.
    Returns the merged summary of ``summarise`` (exact decimal text sums).
    """
    input_path = str(Path(input_path).resolve())
    parts = partitions(input_path, rows_per_partition)

    def run(c, folder):
        outs = [None if folder is None else str(folder.resolve() / f"part-{i:05d}.parquet") for i in range(len(parts))]
        shared = c.scatter(
            book, broadcast=True, hash=False
        )  # a unique key: a repeated call must not share (and release) it
        futures = [c.submit(decide_partition, shared, input_path, p, o, pure=False) for p, o in zip(parts, outs)]
        try:
            return merge(c.gather(futures))
        except BaseException:
            c.cancel(futures)  # what is still queued does not write into a folder about to go
            raise

    def on_cluster(folder):
        if client is not None:
            return run(client, folder)
        with cluster_client(address, n_workers) as c:
            return run(c, folder)

    if output_dir is None:
        return on_cluster(None)
    # the parts are written to a hidden folder and become output_dir's when all are written
    with replacing_parts(output_dir, PART_PATTERN) as folder:
        return on_cluster(folder)


def columns(book) -> list[str]:
    return result_columns(book) + ["line"]


# --- simulation ----------------------------------------------------------------------
def simulate_partition(base_book, reform_book, input_path: str, row_groups: tuple) -> dict:
    """Baseline and reform of one partition, compared; returns the comparison's parts
    (sums, counts, per-region sums and the changed rows only), never the decided frames."""
    from engine.drafting.simulate import compare, decide_population

    first, rows = _offsets(input_path, row_groups)
    frame = next(_read_rows(input_path, first, rows, rows))[1]
    c = compare(
        base_book,
        reform_book,
        decide_population(base_book, frame, "columnar"),
        decide_population(reform_book, frame, "columnar"),
    )
    return {
        "rows": c.rows,
        "errors": c.errors,
        "counts": c.counts,
        "money": c.money,
        "by_region": c.by_region,
        "changes": c.changes,
        "per_application": c.per_application,
    }


def merge_comparisons(base_book, reform_book, parts: list[dict]):
    """One Comparison from partition results (in row order): exactly the single-machine one."""
    import polars as pl

    from engine.drafting.simulate import Comparison

    counts = parts[0]["counts"]
    for p in parts[1:]:
        counts = counts.with_columns(pl.col(c) + p["counts"][c] for c in ("baseline", "reform", "change"))
    money: dict[str, dict[str, Decimal]] = {}
    for p in parts:
        for col, sides in p["money"].items():
            acc = money.setdefault(col, {s: Decimal(0) for s in sides})
            for s, v in sides.items():
                acc[s] += v
    regions = pl.concat([p["by_region"] for p in parts])
    by_region = (
        regions.group_by("region_code", "city", maintain_order=True)
        .agg(pl.exclude("region_code", "city").sum())
        .sort("region_code")
        .select(regions.columns)
    )
    changes = pl.concat([p["changes"] for p in parts])
    # single machine: outcome by outcome, each in row order
    order = {o.name: i for i, o in enumerate(base_book.outcomes)}
    changes = (
        changes.with_columns(pl.col("outcome").replace_strict(order, return_dtype=pl.Int32).alias("__o"))
        .with_row_index("__i")
        .sort("__o", "__i")
        .drop("__o", "__i")
    )
    return Comparison(
        base_book,
        reform_book,
        sum(p["rows"] for p in parts),
        pl.concat([p["errors"] for p in parts]),
        counts,
        money,
        by_region,
        changes,
        pl.concat([p["per_application"] for p in parts]),
    )


def simulate_distributed(
    input_path,
    base_book,
    reform_book,
    address: str = "local",
    *,
    client=None,
    n_workers: int = 2,
    rows_per_partition: int = DEFAULT_PARTITION_ROWS,
):
    """``simulate.simulate`` of a Parquet population, partition by partition on a Dask cluster."""
    import time

    input_path = str(Path(input_path).resolve())
    parts = partitions(input_path, rows_per_partition)

    def run(c):
        started = time.perf_counter()
        base, reform = c.scatter([base_book, reform_book], broadcast=True, hash=False)
        futures = [c.submit(simulate_partition, base, reform, input_path, p, pure=False) for p in parts]
        result = merge_comparisons(base_book, reform_book, c.gather(futures))
        result.timings = {
            "cluster": time.perf_counter() - started,
            "partitions": len(parts),
            "workers": len(c.scheduler_info()["workers"]),
        }
        return result

    if client is not None:
        return run(client)
    with cluster_client(address, n_workers) as c:
        return run(c)
