"""Every benchmark script runs end to end at a tiny size: one that no longer runs against the
current code is found here, not when someone wants its figures. The figures themselves are not
asserted (speed goals live in the scripts, beside a reference measured in the same run); what
each run must say, and that no step in it failed, is."""

from __future__ import annotations

import subprocess
import sys

from repo import ROOT


def bench(tmp_path, script: str, *args: str, timeout: int = 180) -> str:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_bench_record_runs_on_a_tiny_population(tmp_path):
    out = bench(tmp_path, "bench_record.py", "--n", "3", "--no-pg", timeout=60)
    assert "3 distinct enterprises" in out
    table = out.split("SQLite: audit chain")[0]
    for step in ("submit", "one .jsonl", "one .csv", "one .xlsx", "decide --all-pending", "confirm --all-proposed"):
        assert step in table
    # every application submitted, proposed and confirmed, in every way of submitting
    assert table.count("3/3") == 6, table
    assert "exit" not in table.split("(no record: the reference)")[1], table  # no step failed
    assert "PostgreSQL: skipped (--no-pg)" in out
    assert "audit chain intact" in out


def test_bench_record_builds_a_record_at_scale(tmp_path):
    """--scale: the bulk-built record (here of 60 applications) lists, filters and shows."""
    out = bench(tmp_path, "bench_record.py", "--n", "1", "--no-pg", "--scale", "60", timeout=120)
    assert "a record of 60 applications, each submitted, proposed and confirmed" in out
    for read in ("list, cold", "list --region", "list --outcome storage_subsidy=granted", "show POP", "--help"):
        assert read in out
    assert "SQLite at scale: list: 50 of 60 application(s)" in out
    assert "exit" not in out.split("a record of 60")[1]  # no read failed
    assert "PostgreSQL at scale: skipped (--no-pg)" in out


def test_bench_evaluate_runs_small(tmp_path):
    out = bench(tmp_path, "bench_evaluate.py", "--n", "20", "--floor-n", "10")
    assert "in process, one core (parse + decide, full trace):" in out
    assert "shuangtan evaluate -j 1 (subprocess, start-up included): 20 decisions" in out
    assert "(exit 0); its report: decided 20, rejected 0, total 20" in out
    assert "cold shuangtan check (subprocess):" in out and "exit 0)" in out


def test_bench_telemetry_runs_once(tmp_path):
    out = bench(tmp_path, "bench_telemetry.py", "--repeat", "1")
    assert "taiyuan-2026.csv: 33,992 intervals, best of 1" in out
    assert "`telemetry summarize`, fresh process" in out
    assert "ratio 0.245866, completeness 0.970091" in out  # the summary the bundled year gives


def test_bench_partial_runs(tmp_path):
    out = bench(tmp_path, "bench_partial.py", "--n", "3", timeout=120)
    assert "reference: full decision (Rete)" in out
    assert out.count("x reference") == 4


def test_bench_service_runs_small(tmp_path):
    out = bench(tmp_path, "bench_service.py", "--requests", "40", "--concurrency", "4", "--seconds", "0", "--no-pg")
    assert "in process (Rete, one core): 40 decisions" in out
    assert "POST /v1/check, 2 workers, 4 in flight (4 threads (httpx)): 40 requests {200: 40}" in out
    assert "PostgreSQL: skipped (--no-pg)" in out


def test_bench_pages_runs_small(tmp_path):
    out = bench(tmp_path, "bench_pages.py", "--rounds", "1", timeout=300)
    assert "1. the update's work (form → partial decision → HTML): 32 updates" in out
    assert "2. POST /check (HX-Request) through the ASGI app, in process: 32 updates" in out
    assert "3. POST /check/whynot, one outcome, when its suggestions are opened:" in out
