"""How fast one year of 15-minute telemetry (35,040 intervals) is read, validated and summarised.

    .venv/bin/python benchmarks/bench_telemetry.py [--repeat 5]

Prints the best of N for reading + validation, for deriving the facts, and for the whole
`shuangtan telemetry summarize` command in a fresh process (issue 6: "well under a second").
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.telemetry.metering import Settings, derive  # noqa: E402
from engine.telemetry.reader import read_telemetry  # noqa: E402

os.environ["SHUANGTAN_LANG"] = "en"  # the same words as the other figures (Chinese by default)

YEAR = ROOT / "examples/telemetry/taiyuan-2026.csv"


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--file", type=Path, default=YEAR)
    args = ap.parse_args()
    settings = Settings(15, 8 * 60, 22 * 60)
    t_read, tel = best(lambda: read_telemetry(args.file, 15), args.repeat)
    t_derive, facts = best(lambda: derive(tel, dt.date(2026, 1, 1), dt.date(2026, 12, 31), settings), args.repeat)
    cmd = [str(ROOT / ".venv/bin/shuangtan"), "telemetry", "summarize", str(args.file)]
    t_cli, _ = best(lambda: subprocess.run(cmd, check=True, capture_output=True), args.repeat)
    n = len(tel.intervals)
    print(f"{args.file.name}: {n:,} intervals, best of {args.repeat}")
    print(f"  read + validate            {t_read * 1000:8.1f} ms   ({n / t_read:,.0f} intervals/s)")
    print(f"  derive facts               {t_derive * 1000:8.1f} ms")
    print(f"  in process, together       {(t_read + t_derive) * 1000:8.1f} ms")
    print(f"  `telemetry summarize`, fresh process {t_cli * 1000:8.1f} ms  (target: well under 1 s)")
    print(
        f"  ratio {facts.as_dict()['peak_shaving_ratio']}, completeness "
        f"{facts.as_dict()['reporting_completeness']}, max delay {facts.as_dict()['max_upload_delay_min']} min"
    )


if __name__ == "__main__":
    main()
