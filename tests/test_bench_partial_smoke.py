"""benchmarks/bench_partial.py runs end to end on a few decisions."""

import subprocess
import sys

from repo import ROOT


def test_bench_partial_runs(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_partial.py"), "--n", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "reference: full decision (Rete)" in proc.stdout
    assert proc.stdout.count("x reference") == 4
