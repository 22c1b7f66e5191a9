"""Populations on a Dask distributed cluster, partition by partition.

A partition is a run of Parquet row groups; each task reads only its rows, decides them with
the columnar backend (the same code as one machine, so the same results) and writes
``part-NNNNN.parquet`` into the output folder, returning exact totals per outcome as decimal
text so that the client sums them without any float. The rulebook (with any reforms already
applied) travels to each worker once.
"""
from __future__ import annotations

import contextlib
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from .flat import result_columns

DEFAULT_PARTITION_ROWS = 500_000


def partitions(input_path, rows_per_partition: int = DEFAULT_PARTITION_ROWS) -> list[tuple[int, ...]]:
    """Row-group index tuples of about ``rows_per_partition`` rows each (whole row groups)."""
    meta = pq.ParquetFile(input_path).metadata
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
            pl.len().alias("n"), pl.col(f"{o.name}.amount").cast(pl.Decimal(38, 3)).sum().alias("sum"))
        out["outcomes"][o.name] = {s: [int(n), str(v if v is not None else 0)]
                                   for s, n, v in groups.iter_rows() if s is not None}
    return out


def merge(summaries: list[dict]) -> dict:
    total = {"rows": 0, "rejected": 0, "outcomes": {}}
    for s in summaries:
        total["rows"] += s["rows"]
        total["rejected"] += s["rejected"]
        for o, statuses in s["outcomes"].items():
            bucket = total["outcomes"].setdefault(o, {})
            for status, (n, amount) in statuses.items():
                m, a = bucket.get(status, [0, "0"])
                bucket[status] = [m + n, str(Decimal(a) + Decimal(amount))]
    return total


def decide_partition(book, input_path: str, row_groups: tuple, output_path: str | None,
                     chunk_size: int = 250_000) -> dict:
    """Decide the given row groups of a Parquet population; write them when ``output_path`` is set."""
    import polars as pl
    from .parquetio import DecisionWriter
    from .columnar import decide_typed
    pf = pq.ParquetFile(input_path)
    first = sum(pf.metadata.row_group(i).num_rows for i in range(row_groups[0]))
    summaries = []
    writer = DecisionWriter(output_path, book) if output_path else None
    line = first + 1
    with writer if writer else contextlib.nullcontext():
        for batch in pf.iter_batches(batch_size=chunk_size, row_groups=list(row_groups)):
            frame = pl.from_arrow(batch)
            decided = decide_typed(book, frame)
            decided = decided.with_columns(pl.int_range(line, line + decided.height, dtype=pl.Int64).alias("line"))
            line += decided.height
            summaries.append(summarise(book, decided))
            if writer:
                writer.write(decided)
    return merge(summaries)


@contextlib.contextmanager
def cluster_client(address: str = "local", n_workers: int = 2, threads_per_worker: int = 1):
    """A dask.distributed Client: ``local`` starts a LocalCluster of worker processes."""
    from dask.distributed import Client, LocalCluster
    if address == "local":
        with LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client
    else:
        with Client(address) as client:
            yield client


def decide_parquet_distributed(book, input_path, output_dir=None, address: str = "local", *,
                               client=None, n_workers: int = 2,
                               rows_per_partition: int = DEFAULT_PARTITION_ROWS) -> dict:
    """Decide a Parquet population on a Dask cluster; one output part per partition.

    ``book``: a compiled Rulebook (reforms already applied). ``output_dir``: folder for
    ``part-NNNNN.parquet`` files (None: only the merged summary is returned, as simulation
    needs). ``address``: a scheduler address or ``local``; ``client``: an existing Client.
    Returns the merged summary of ``summarise`` (exact decimal text sums).
    """
    input_path = str(Path(input_path).resolve())
    parts = partitions(input_path, rows_per_partition)
    if output_dir is not None:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
    outs = [None if output_dir is None else str(Path(output_dir).resolve() / f"part-{i:05d}.parquet")
            for i in range(len(parts))]

    def run(c):
        shared = c.scatter(book, broadcast=True, hash=False)   # a unique key: a repeated call must not share (and release) it
        futures = [c.submit(decide_partition, shared, input_path, p, o, pure=False) for p, o in zip(parts, outs)]
        return merge(c.gather(futures))

    if client is not None:
        return run(client)
    with cluster_client(address, n_workers) as c:
        return run(c)


def columns(book) -> list[str]:
    return result_columns(book) + ["line"]
