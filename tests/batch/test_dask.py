"""Dask: a LocalCluster of two worker processes gives the single machine's decisions."""

import contextlib

import polars as pl
import pytest

from engine.backends.columnar.frame import decide_typed as REAL_DECIDE_TYPED
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


# --- the output folder appears whole, or not at all -----------------------------------
def _in_process_cluster():
    """One worker thread in this process: partitions run one after the other, and a monkeypatch
    reaches the workers."""
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    return cluster, Client(cluster)


def _contents(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _fail_once_a_part_is_written(monkeypatch, tmp_path):
    """decide_typed raises midway: once a partition's part has been written (anywhere under
    tmp_path: a part file that is new, or rewritten, since this call)."""
    from engine.backends.columnar import frame as columnar_frame

    def parts():
        found = {}
        for p in tmp_path.rglob("part-*.parquet"):
            with contextlib.suppress(FileNotFoundError):  # a temporary folder being removed
                s = p.stat()
                found[p] = (s.st_ino, s.st_mtime_ns, s.st_size)
        return found

    before = parts()

    def decide_typed(*a, **k):
        if parts().items() - before.items():
            raise RuntimeError("the cluster went away")
        return REAL_DECIDE_TYPED(*a, **k)

    monkeypatch.setattr(columnar_frame, "decide_typed", decide_typed)


def test_an_interrupted_cluster_run_leaves_the_previous_output_and_no_partial_one(tmp_path, book, monkeypatch):
    pop, other = tmp_path / "pop.parquet", tmp_path / "other.parquet"  # other: different decisions
    Generator(book, 22).frame(1500).write_parquet(pop, row_group_size=500)
    Generator(book, 25).frame(1500).write_parquet(other, row_group_size=500)
    out, fresh = tmp_path / "parts", tmp_path / "new" / "parts"
    cluster, client = _in_process_cluster()
    with cluster, client:
        decide_parquet_distributed(book, pop, out, client=client, rows_per_partition=500)
        before = _contents(out)
        assert sorted(map(str, before)) == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
        _fail_once_a_part_is_written(monkeypatch, tmp_path)
        with pytest.raises(RuntimeError, match="went away"):
            decide_parquet_distributed(book, other, out, client=client, rows_per_partition=500)
        assert _contents(out) == before  # the previous parts, untouched; no hidden leftover either
        _fail_once_a_part_is_written(monkeypatch, tmp_path)
        with pytest.raises(RuntimeError, match="went away"):
            decide_parquet_distributed(book, pop, fresh, client=client, rows_per_partition=500)
    assert not fresh.exists() and list(fresh.parent.iterdir()) == []


def test_a_complete_cluster_run_replaces_the_previous_parts_and_keeps_other_files(tmp_path, book):
    pop = tmp_path / "pop.parquet"
    Generator(book, 23).frame(1500).write_parquet(pop, row_group_size=300)
    out = tmp_path / "parts"
    cluster, client = _in_process_cluster()
    with cluster, client:
        decide_parquet_distributed(book, pop, out, client=client, rows_per_partition=300)
        assert len(list(out.glob("part-*.parquet"))) == 5
        (out / "notes.txt").write_text("the analyst's own file")
        decide_parquet_distributed(book, pop, out, client=client, rows_per_partition=750)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["notes.txt", "part-00000.parquet", "part-00001.parquet"]  # no stale part-00002…4
    spread = pl.concat([pl.read_parquet(out / n) for n in names[1:]])
    assert spread["line"].to_list() == list(range(1, 1501))


def test_evaluate_cluster_interrupted_keeps_the_previous_folder(tmp_path, book, monkeypatch, cli):
    """The command line's path (evaluate --cluster): a failure is one line, the folder as it was."""
    from engine.batch import distributed

    pop, other = tmp_path / "pop.parquet", tmp_path / "other.parquet"
    Generator(book, 24).frame(1000).write_parquet(pop, row_group_size=500)
    Generator(book, 26).frame(1000).write_parquet(other, row_group_size=500)

    @contextlib.contextmanager
    def in_process(address, n_workers=2, threads_per_worker=1):
        cluster, client = _in_process_cluster()
        with cluster, client:
            yield client

    monkeypatch.setattr(distributed, "cluster_client", in_process)
    out = tmp_path / "out"
    args = ["--cluster", "local", "--chunk-size", "500", "--out-dir", out]
    r = cli("evaluate", pop, *args)
    assert r.exit_code == 0, r.output
    before = _contents(out)
    _fail_once_a_part_is_written(monkeypatch, tmp_path)
    r = cli("evaluate", other, *args)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "RuntimeError: the cluster went away" in r.output
    assert _contents(out) == before
