"""Benchmark of the evaluate path on 10,000 generated applications (not a test; prints figures).

    .venv/bin/python benchmarks/bench_evaluate.py [--n 10000] [--seed 2026]

Measures, on the same deterministic population:
  1. per-decision latency (parse + decide, one at a time): median and p99;
  2. throughput of engine.batchrun.decide_stream in this process (1 job) and with a process pool;
  3. end to end: a `shuangtan evaluate` subprocess on a JSON Lines file (start-up included).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stdnum.cn import uscc  # noqa: E402

from engine.application import parse_application  # noqa: E402
from engine.batchio import read_records  # noqa: E402
from engine.batchrun import decide_stream  # noqa: E402
from engine.rete import ReteEngine  # noqa: E402
from engine.rulebook import load_rulebook  # noqa: E402

REGIONS = ["140100", "140200", "140300", "140400", "140500", "140600", "140700", "140800",
           "140900", "141000", "141100"]
CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def dec(rng, lo, hi, places):
    return str(Decimal(rng.randint(int(lo * 10 ** places), int(hi * 10 ** places))).scaleb(-places))


def credit_code(rng, region):
    body = "91" + region + "".join(rng.choice(CODE_CHARS) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def application(rng, i):
    region = rng.choice(REGIONS)
    doc = {"application_id": f"BENCH-{i:06d}",
           "period": {"start": "2026-01-01", "end": rng.choice(["2026-06-30", "2026-12-31"])},
           "enterprise": {"credit_code": credit_code(rng, region), "name": f"山西测试电商{i}有限公司",
                          "region_code": region, "size": rng.choice(["sme"] * 4 + ["large"]),
                          "is_ecommerce": rng.random() < 0.95},
           "history": {"storage_subsidy_granted_this_year_yuan": rng.choice(["0", "0", dec(rng, 0, 6e6, 2)]),
                       "freight_subsidy_granted_this_year_yuan": rng.choice(["0", "0", dec(rng, 0, 2.5e5, 2)]),
                       "equipment_subsidy_received": rng.random() < 0.2}}
    if rng.random() < 0.6:
        base = Decimal(dec(rng, 100, 5000, 1))
        doc["storage"] = {
            "capacity_kwh": dec(rng, 100, 5000, 0), "energy_density_wh_per_kg": dec(rng, 240, 300, 1),
            "cycle_life": rng.randint(6000, 15000), "backflow_response_ms": dec(rng, 10, 80, 1),
            "discharged_kwh": dec(rng, 0, 3e6, 2), "baseline_peak_kw": str(base),
            "peak_with_storage_kw": str((base * Decimal(rng.randint(40, 110)) / 100).quantize(Decimal("0.1"))),
            "platform": {"connected": rng.random() < 0.9, "reporting_completeness": dec(rng, 0.85, 1, 3),
                         "max_upload_delay_min": dec(rng, 0, 25, 1), "carbon_reduction_reported": rng.random() < 0.9}}
    if rng.random() < 0.4:
        doc["equipment"] = {"investment_yuan": dec(rng, 0, 1.2e7, 2), "automated_return_receiving": rng.random() < 0.85,
                            "realtime_data_analytics": rng.random() < 0.85}
    if rng.random() < 0.8:
        doc["packaging"] = {"order_count": rng.randint(0, 3_000_000), "order_value_yuan": dec(rng, 0, 5e8, 2),
                            "nondegradable_share": rng.choice(["0", dec(rng, 0, 1, 2)]),
                            "has_recycling_system": rng.random() < 0.3, "recycling_rate": dec(rng, 0, 0.8, 2),
                            "filler_reduction_rate": dec(rng, 0, 0.5, 2)}
    if rng.random() < 0.7:
        doc["energy"] = {"renewable_kwh": dec(rng, 0, 2e6, 1)}
    return doc


def percentile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    docs = [application(rng, i) for i in range(args.n)]
    book = load_rulebook()
    engine = ReteEngine.for_rulebook(book)
    cores = os.cpu_count() or 1
    print(f"{args.n} applications (seed {args.seed}), ruleset {book.version}, {cores} cores, Python {sys.version.split()[0]}")

    lat = []
    for doc in docs:
        t = time.perf_counter_ns()
        engine.decide(parse_application(doc))
        lat.append(time.perf_counter_ns() - t)
    lat.sort()
    total = sum(lat) / 1e9
    print(f"one at a time (parse + decide): {args.n / total:,.0f} decisions/s; "
          f"median {statistics.median(lat) / 1e6:.3f} ms, p99 {percentile(lat, 0.99) / 1e6:.3f} ms, "
          f"max {lat[-1] / 1e6:.3f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "applications.jsonl"
        src.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
        for jobs in sorted({1, cores}):
            with open(src, encoding="utf-8") as f:
                t = time.perf_counter()
                n_ok = sum(ok for ok, _ in decide_stream(book, read_records(f, "jsonl"), jobs))
                dt = time.perf_counter() - t
            print(f"decide_stream, {jobs} job{'s' if jobs > 1 else ''}: {n_ok} decided in {dt:.2f} s "
                  f"= {n_ok / dt:,.0f} decisions/s")
        exe = ROOT / ".venv" / "bin" / "shuangtan"
        cmd = [str(exe) if exe.exists() else "shuangtan", "evaluate", str(src), "--out", str(Path(tmp) / "out.jsonl"),
               "--rejects", str(Path(tmp) / "rejects.jsonl")]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        dt = time.perf_counter() - t
        lines = sum(1 for _ in open(Path(tmp) / "out.jsonl", encoding="utf-8"))
        print(f"shuangtan evaluate (subprocess, end to end): {lines} decisions in {dt:.2f} s "
              f"= {lines / dt:,.0f} decisions/s (exit {proc.returncode})")
        print(f"  its own report: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else '(none)'}")


if __name__ == "__main__":
    main()
