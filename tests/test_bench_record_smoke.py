"""benchmarks/bench_record.py runs end to end on a tiny population (SQLite only): a benchmark
that no longer runs against the current CLI is found here, not when someone wants its figures."""

import subprocess
import sys

from repo import ROOT


def test_bench_record_runs_on_a_tiny_population(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_record.py"), "--n", "3", "--no-pg"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "3 distinct enterprises" in out
    for step in ("submit", "decide --all-pending", "confirm --all-proposed", "audit verify", "--help"):
        assert step in out
    assert "3/3" in out  # every application submitted, proposed and confirmed
    assert "PostgreSQL: skipped (--no-pg)" in out
    assert "audit chain intact" in out


def test_bench_record_builds_a_record_at_scale(tmp_path):
    """--scale: the bulk-built record (here of 60 applications) lists, filters and shows."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_record.py"), "--n", "1", "--no-pg", "--scale", "60"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "a record of 60 applications, each submitted, proposed and confirmed" in out
    for read in ("list, cold", "list --region", "list --outcome storage_subsidy=granted", "show POP", "--help"):
        assert read in out
    assert "SQLite at scale: list: 50 of 60 application(s)" in out
    assert "exit" not in out.split("a record of 60")[1]  # no read failed
    assert "PostgreSQL at scale: skipped (--no-pg)" in out
