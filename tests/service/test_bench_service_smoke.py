"""benchmarks/bench_service.py runs end to end at a tiny size (SQLite only)."""

import subprocess
import sys

from repo import ROOT


def test_bench_service_runs_small(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_service.py"),
            "--requests",
            "40",
            "--concurrency",
            "4",
            "--seconds",
            "0",
            "--no-pg",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "in process (Rete, one core): 40 decisions" in proc.stdout
    assert "POST /v1/check, 2 workers, 4 in flight (4 threads (httpx)): 40 requests {200: 40}" in proc.stdout
    assert "PostgreSQL: skipped (--no-pg)" in proc.stdout
