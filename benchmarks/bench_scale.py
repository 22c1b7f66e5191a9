"""Scale figures on this machine: check latency, Rete and columnar throughput, simulate, Dask, NumPy.

    .venv/bin/python benchmarks/bench_scale.py [--rows 1000000] [--stream-rows 10000000] [--dask-rows 5000000]

Prints each figure next to its target (issue 5). Sizes can be lowered for a quick run. Files go
to a temporary folder under $BENCH_TMP (default: the system's); BENCH_TMP=/dev/shm keeps them in
RAM, so that on a small VM the kernel's disk write path (which runs on the same two cores as the
workers) does not enter the Parquet and Dask figures.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from engine.backends import decide_frame  # noqa: E402
from engine.backends.columnar import Generator, decide_frame_columnar  # noqa: E402
from engine.backends.rete.engine import ReteEngine  # noqa: E402
from engine.contract.application import parse_application  # noqa: E402
from engine.rulebook.loader import DEFAULT_RULES, compile_rulebook, load_rulebook, read_files  # noqa: E402

os.environ["SHUANGTAN_LANG"] = "en"  # Chinese by default: the subprocesses' lines are read in English

EXAMPLE = ROOT / "examples/applications/taiyuan-pv-storage-warehouse.json"


def population(n: int, seed: int = 1) -> pl.DataFrame:
    try:
        from engine.drafting.population import generate  # the calibrated population, when present

        return generate(n, seed)
    except ImportError:
        return Generator(load_rulebook(), seed, invalid_share=0).frame(n)


def line(name, value, target=""):
    print(f"  {name:<58} {value:>22}  {target}")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_check():
    cold = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(
            [str(ROOT / ".venv/bin/shuangtan"), "check", str(EXAMPLE), "--format", "json"],
            check=True,
            capture_output=True,
        )
        cold.append(time.perf_counter() - t)
    line("check, cold process (best of 3)", f"{min(cold):.3f} s", "target < 0.5 s")
    book = load_rulebook()
    eng = ReteEngine.for_rulebook(book)
    text = EXAMPLE.read_bytes()
    eng.decide(parse_application(text))
    n = 300
    t = time.perf_counter()
    for _ in range(n):
        eng.decide(parse_application(text))
    warm = (time.perf_counter() - t) / n
    line("check, warm in-process (parse + decide with trace)", f"{warm * 1000:.2f} ms", "")
    return book


def bench_rete(book, n=3000):
    frame = population(n, 3)
    t = time.perf_counter()
    decide_frame(book, frame, backend="rete")
    rate = n / (time.perf_counter() - t)
    line("Rete decisions/s (one core, full trace, flat rows)", f"{rate:,.0f}/s", "target ≥ 5,000/s/core")


def bench_columnar(book, n, reps: int = 7):
    """Columnar compute: validation and one rulebook's decisions in one pass (the headline: what
    evaluate does per chunk), then split as simulate runs it: validation of a population once
    (shared by every rulebook) and a decide pass per rulebook on validated columns; the Polars
    path alone as the reference. Each figure is timed over its own run of ``reps`` (best and
    median), not interleaved with the others: a run right after another step's large frees pays
    the kernel's page faults and huge-page compaction, which measures the machine's memory state
    rather than this code."""
    from engine.backends.columnar import as_text, decide_typed, validated
    from engine.backends.columnar import frame as columnar

    frame = population(n, 1)
    decide_frame_columnar(book, frame.head(1000))

    def timed(fn, times=reps):
        ts, out = [], None
        for _ in range(times):
            out = None  # the previous result is freed before the next run
            t = time.perf_counter()
            out = fn()
            ts.append(time.perf_counter() - t)
        ts.sort()
        return ts[0], ts[len(ts) // 2], out

    best, median, typed = timed(lambda: decide_typed(book, frame))
    line(f"columnar compute ({n:,} in memory → typed decisions)", f"{n / best:,.0f}/s", "target ≥ 10,000,000/s")
    line(
        f"  best / median of {reps}, validation included",
        f"{best:.3f} / {median:.3f} s",
        f"(median {n / median:,.0f}/s)",
    )

    def validate():
        shared = validated(frame)
        shared.checked.validated({})  # the population's dictionary: no rulebook's labels
        return shared

    vb, vm, shared = timed(validate)
    line("  validation alone (once per population, any rulebooks)", f"{n / vb:,.0f}/s", f"({vb:.3f} / {vm:.3f} s)")
    db, dm, again = timed(lambda: decide_typed(book, frame, shared))  # noqa: F821 (ruff misreads the del below)
    assert again.equals(typed)
    line("  rule compute on validated columns, per rulebook", f"{n / db:,.0f}/s", f"({db:.3f} / {dm:.3f} s)")
    del shared, again
    columnar.USE_KERNEL = False
    try:
        pb, _, _ = timed(lambda: decide_typed(book, frame), 3)
    finally:
        columnar.USE_KERNEL = True
    line("  the Polars path alone (no native kernel)", f"{n / pb:,.0f}/s", f"({pb:.3f} s)")
    t = time.perf_counter()
    out = as_text(typed)
    dt2 = time.perf_counter() - t
    line(
        "  + every column as the contract's text (decide_frame)",
        f"{n / (best + dt2):,.0f}/s",
        f"(text alone {dt2:.2f} s)",
    )
    return frame, out


def bench_end_to_end(book, frame, tmp):
    from engine.batch.parquet import decide_file

    src, dst = tmp / "pop.parquet", tmp / "decisions.parquet"
    frame.write_parquet(src, row_group_size=250_000)
    t = time.perf_counter()
    decide_file(book, src, dst, chunk_size=250_000)
    dt_ = time.perf_counter() - t
    line(
        f"end to end Parquet → decisions Parquet ({frame.height:,})",
        f"{frame.height / dt_:,.0f}/s",
        "target ≥ 500,000/s",
    )
    return src


def bench_simulate(book, frame):
    from engine.drafting.simulate import simulate

    files = copy.deepcopy(read_files(DEFAULT_RULES))
    files["parameters/storage_subsidy.yaml"]["tier_30_rate"]["values"]["2026-01-01"] = "0.90"
    reform = compile_rulebook(DEFAULT_RULES, files)
    t = time.perf_counter()
    c = simulate(frame, book, reform)
    dt_ = time.perf_counter() - t
    line(
        f"simulate baseline + 1 reform ({frame.height:,}), exact Δ subsidy {c.money['subsidy']['change']}",
        f"{dt_:.2f} s",
        "target < 5 s for 1M",
    )
    line(
        "  of which baseline / reform / comparison",
        " / ".join(f"{c.timings[k]:.2f}" for k in ("baseline", "reform", "compare")) + " s",
        "",
    )


def bench_streaming(book, n, tmp):
    """One child writes n rows in pieces; a second child only decides, so its peak RSS is the streaming's own."""
    path, out = str(tmp / "stream.parquet"), str(tmp / "stream.out.parquet")
    write = f"""
import sys
sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / "benchmarks")!r})
import pyarrow.parquet as pq
from bench_scale import population
writer, piece = None, 500_000
for i in range(0, {n}, piece):
    t = population(min(piece, {n} - i), seed=i).to_arrow()
    writer = writer or pq.ParquetWriter({path!r}, t.schema)
    writer.write_table(t, row_group_size=250_000)
writer.close()
"""
    decide = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from engine.rulebook.loader import load_rulebook
from engine.batch.parquet import decide_file
book = load_rulebook()
t = time.perf_counter()
decide_file(book, {path!r}, {out!r}, chunk_size=250_000)
# VmHWM, not ru_maxrss: Linux carries the parent's high-water mark across fork + exec into ru_maxrss.
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(time.perf_counter() - t, hwm / 1024)
"""
    subprocess.run([sys.executable, "-c", write], check=True)
    secs, peak = map(
        float,
        subprocess.run([sys.executable, "-c", decide], check=True, capture_output=True, text=True).stdout.split()[-2:],
    )
    line(
        f"streaming {n:,} Parquet → Parquet, peak RSS of the deciding process",
        f"{peak:,.0f} MiB",
        f"target < 2048 MiB ({n / secs:,.0f}/s)",
    )


def bench_dask(book, n, tmp, reps: int = 3):
    from engine.batch.distributed import cluster_client, decide_parquet_distributed, decide_partition, partitions

    src = tmp / "dask.parquet"
    warm = tmp / "dask-warm.parquet"
    population(n, 7).write_parquet(src, row_group_size=250_000)
    population(250_000, 8).write_parquet(warm)  # one whole partition: buffers at full size
    times = {}
    for workers in (1, 2):
        # one single-threaded worker process per core (Polars' and the kernel's pools sized to match)
        with cluster_client("local", n_workers=workers) as client:
            # imports, the rulebook and the kernel's compiled cache on EVERY worker (client.run), so
            # neither timing includes a process's one-time start-up; a single warm-up task would
            # warm only the worker that happened to take it
            client.run(decide_partition, book, str(warm), partitions(str(warm))[0], None)
            runs = []
            for r in range(reps):
                # flush what earlier runs and steps (the 10 M streaming output) left to write back,
                # so no timing shares the disk with another's write-back
                os.sync()
                t = time.perf_counter()
                decide_parquet_distributed(
                    book, src, tmp / f"dask{workers}-{r}", client=client, rows_per_partition=250_000
                )
                runs.append(time.perf_counter() - t)
            times[workers] = min(runs)
        line(
            f"Dask LocalCluster, {workers} worker(s), {n:,} rows Parquet → Parquet parts",
            f"{n / times[workers]:,.0f}/s",
            f"(best of {reps}: {' / '.join(f'{x:.2f}' for x in runs)} s)",
        )
    line("Dask speed-up 2 workers vs 1", f"{times[1] / times[2]:.2f}×", "target ≥ 1.6×")


def bench_numpy(frame, out):
    """OpenFisca-style float64 vectorised reference for the packaging levy (1 % of order value)."""
    value = frame.get_column("packaging.order_value_yuan").cast(pl.Float64).fill_null(0).to_numpy()
    levied = out.get_column("packaging_levy.status").to_numpy() == "levied"
    t = time.perf_counter()
    for _ in range(5):
        levy = np.where(levied, np.floor(value * 0.01 * 100 + 0.5) / 100, 0.0)
        total_float = levy.sum()
    dt_ = (time.perf_counter() - t) / 5
    exact = out.get_column("totals.levy_yuan").cast(pl.Decimal(38, 2)).sum()
    line(f"NumPy float64 levy only ({frame.height:,})", f"{frame.height / dt_:,.0f}/s", "(reference)")
    line("  float64 levy total", f"{total_float:,.2f}", "")
    line("  exact levy total", f"{Decimal(exact):,.2f}", f"differs by {Decimal(total_float) - Decimal(exact):.6f} yuan")
    exact_cents = (
        out.get_column("packaging_levy.amount")
        .fill_null("0.00")
        .str.replace(".", "", literal=True)
        .cast(pl.Int64)
        .to_numpy()
    )
    mism = int((np.round(levy * 100).astype(np.int64) != np.where(levied, exact_cents, 0)).sum())
    line("  rows whose float levy differs from the exact one", f"{mism:,}", "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--stream-rows", type=int, default=10_000_000)
    ap.add_argument("--dask-rows", type=int, default=5_000_000)
    args = ap.parse_args()
    import numba

    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Polars {pl.__version__}, numba {numba.__version__} "
        f"({numba.get_num_threads()} threads)"
    )
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as d:
        tmp = Path(d)
        book = bench_check()
        bench_rete(book)
        if args.rows:  # --rows 0 skips the in-memory figures (e.g. to rerun streaming alone)
            frame, out = bench_columnar(book, args.rows)
            bench_end_to_end(book, frame, tmp)
            bench_simulate(book, frame)
            bench_numpy(frame, out)
            line("peak RSS of this process so far", f"{peak_rss_mib():,.0f} MiB")
            del frame, out
        if args.stream_rows:
            bench_streaming(book, args.stream_rows, tmp)
        if args.dask_rows:
            bench_dask(book, args.dask_rows, tmp)


if __name__ == "__main__":
    main()
