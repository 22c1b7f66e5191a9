"""benchmarks/bench_pages.py runs end to end at a tiny size."""

import subprocess
import sys

from repo import ROOT


def test_bench_pages_runs_small(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_pages.py"), "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1. the update's work (form → partial decision → HTML): 32 updates" in proc.stdout
    assert "2. POST /check (HX-Request) through the ASGI app, in process: 32 updates" in proc.stdout
    assert "3. POST /check/whynot, one outcome, when its suggestions are opened:" in proc.stdout
