"""Dask: a LocalCluster of two worker processes gives the single machine's decisions."""

import polars as pl

from engine.backends.columnar.verify import Generator, disagreements
from engine.batch.distributed import decide_parquet_distributed
from engine.batch.parquet import decide_file


def test_local_cluster_two_processes_same_results(tmp_path, book):
    frame = Generator(book, 21).frame(3000)
    frame.write_parquet(tmp_path / "pop.parquet", row_group_size=500)
    decide_file(book, tmp_path / "pop.parquet", tmp_path / "single.parquet", chunk_size=1000)
    single = pl.read_parquet(tmp_path / "single.parquet")

    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        summary = decide_parquet_distributed(
            book, tmp_path / "pop.parquet", tmp_path / "parts", client=client, rows_per_partition=1000
        )
        assert len(client.scheduler_info()["workers"]) == 2
    parts = sorted((tmp_path / "parts").glob("part-*.parquet"))
    assert len(parts) == 3
    spread = pl.concat([pl.read_parquet(p) for p in parts])
    assert spread["line"].to_list() == list(range(1, 3001))
    assert disagreements(single, spread) == []
    assert summary["rows"] == 3000
    assert summary["rejected"] == single["error"].is_not_null().sum()
    granted = single.filter(pl.col("storage_subsidy.status") == "granted")
    assert summary["outcomes"]["storage_subsidy"]["granted"][0] == granted.height
    assert summary["outcomes"]["storage_subsidy"]["granted"][1] == str(
        granted["storage_subsidy.amount"].cast(pl.Decimal(38, 3)).sum()
    )


def test_simulate_on_a_local_cluster_matches_one_machine(tmp_path, cli):
    """simulate --cluster local (2 worker processes): summary, by-region and changes as on one machine."""
    import json

    from engine.drafting.population import generate

    pop = tmp_path / "pop.parquet"
    generate(3000, 5, year=2027).write_parquet(pop, row_group_size=700)  # 5 partitions of row groups
    reform = "rules/reforms/remote-region-tilt.yaml"
    runs = {}
    for name, extra in (
        ("single", []),
        ("cluster", ["--cluster", "local", "--workers", "2", "--partition-rows", "700"]),
    ):
        out = tmp_path / name
        result = cli("simulate", "--population", pop, "--reform", reform, "--out", out, *extra)
        assert result.exit_code == 0, result.output
        runs[name] = out
    assert "5 partitions on 2 workers" in result.output
    a, b = (json.loads((runs[n] / "summary.json").read_text()) for n in ("single", "cluster"))
    for key in ("applications", "errors", "money", "counts", "changed_applications"):
        assert a[key] == b[key], key
    assert a["changed_applications"] > 0
    for f in ("by_region.csv", "changes.csv", "changed_applications.csv", "errors.csv"):
        assert (runs["single"] / f).read_text() == (runs["cluster"] / f).read_text(), f


def test_local_workers_get_one_thread_each_even_when_the_main_module_imports_numba_and_polars(tmp_path, root):
    """A spawned worker re-imports the parent's main module first; one that imports numba and
    Polars fixed their pools at two threads before a Nanny env applied (workers then fought over
    the cores). The parent's own environment is left as it was."""
    import subprocess
    import sys

    script = tmp_path / "main_imports_pools.py"
    script.write_text(f"""
import os, sys
sys.path.insert(0, {str(root)!r})
import numba, polars
from engine.batch.distributed import cluster_client


def probe():
    import numba, polars
    return numba.get_num_threads(), polars.thread_pool_size()


if __name__ == "__main__":
    with cluster_client("local", n_workers=2) as client:
        print(sorted(client.run(probe).values()), os.environ.get("NUMBA_NUM_THREADS"))
""")
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_NUM_THREADS", "POLARS_MAX_THREADS")}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[-2] == "[(1, 1), (1, 1)] None"
