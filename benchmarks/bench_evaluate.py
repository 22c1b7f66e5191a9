"""Benchmark of the Rete (per-application) path and the CLI (not a test; prints figures).

    .venv/bin/python benchmarks/bench_evaluate.py [--n 10000] [--seed 2026] [--floor-n 3000] [--no-cli]

Measures, on the same deterministic population (the machine's other load counts: run it idle):
  1. in this process, one core: parse + decide per application (decisions/s, p50/p99 latency; target
     5,000/s), and the mean cost of each step (parse, fact building, decide, serialising the line),
     timed application by application without keeping the decisions (as `evaluate` streams);
  2. what bounds the Rete path: the same ruleset and facts with no-op actions, driven (a) through
     durable_rules' stock Python host (JSON parse of each matched fact, state re-serialised after
     every action) and (b) straight through its C engine as engine/backends/rete/engine.py does;
  3. end to end: `shuangtan evaluate` subprocesses on a JSON Lines file with 1 and 2 processes;
  4. cold `shuangtan check` on a bundled example: median wall time of 5 subprocess runs.
`--no-cli` stops after 2 (for interleaved A/B runs on a shared machine).
"""

from __future__ import annotations

import argparse
import copy
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

import durable_rules_engine as dr_c  # noqa: E402
from stdnum.cn import uscc  # noqa: E402

from engine.backends.rete.engine import ReteEngine  # noqa: E402
from engine.backends.rete.network import QuietHost  # noqa: E402
from engine.batch.readers import dumps_decision  # noqa: E402
from engine.contract.application import parse_application  # noqa: E402
from engine.rulebook.evaluate import Env, field_values  # noqa: E402
from engine.rulebook.loader import load_rulebook  # noqa: E402

os.environ["SHUANGTAN_LANG"] = "en"  # Chinese by default: the subprocesses' lines are read in English

REGIONS = ["140100", "140200", "140300", "140400", "140500", "140600", "140700", "140800", "140900", "141000", "141100"]
CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def dec(rng, lo, hi, places):
    return str(Decimal(rng.randint(int(lo * 10**places), int(hi * 10**places))).scaleb(-places))


def credit_code(rng, region):
    body = "91" + region + "".join(rng.choice(CODE_CHARS) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def application(rng, i):
    region = rng.choice(REGIONS)
    doc = {
        "application_id": f"BENCH-{i:06d}",
        "period": {"start": "2026-01-01", "end": rng.choice(["2026-06-30", "2026-12-31"])},
        "enterprise": {
            "credit_code": credit_code(rng, region),
            "name": f"山西测试电商{i}有限公司",
            "region_code": region,
            "size": rng.choice(["sme"] * 4 + ["large"]),
            "is_ecommerce": rng.random() < 0.95,
        },
        "history": {
            "storage_subsidy_granted_this_year_yuan": rng.choice(["0", "0", dec(rng, 0, 6e6, 2)]),
            "freight_subsidy_granted_this_year_yuan": rng.choice(["0", "0", dec(rng, 0, 2.5e5, 2)]),
            "equipment_subsidy_received": rng.random() < 0.2,
        },
    }
    if rng.random() < 0.6:
        base = Decimal(dec(rng, 100, 5000, 1))
        doc["storage"] = {
            "capacity_kwh": dec(rng, 100, 5000, 0),
            "energy_density_wh_per_kg": dec(rng, 240, 300, 1),
            "cycle_life": rng.randint(6000, 15000),
            "backflow_response_ms": dec(rng, 10, 80, 1),
            "discharged_kwh": dec(rng, 0, 3e6, 2),
            "baseline_peak_kw": str(base),
            "peak_with_storage_kw": str((base * Decimal(rng.randint(40, 110)) / 100).quantize(Decimal("0.1"))),
            "platform": {
                "connected": rng.random() < 0.9,
                "reporting_completeness": dec(rng, 0.85, 1, 3),
                "max_upload_delay_min": dec(rng, 0, 25, 1),
                "carbon_reduction_reported": rng.random() < 0.9,
            },
        }
    if rng.random() < 0.4:
        doc["equipment"] = {
            "investment_yuan": dec(rng, 0, 1.2e7, 2),
            "automated_return_receiving": rng.random() < 0.85,
            "realtime_data_analytics": rng.random() < 0.85,
        }
    if rng.random() < 0.8:
        doc["packaging"] = {
            "order_count": rng.randint(0, 3_000_000),
            "order_value_yuan": dec(rng, 0, 5e8, 2),
            "nondegradable_share": rng.choice(["0", dec(rng, 0, 1, 2)]),
            "has_recycling_system": rng.random() < 0.3,
            "recycling_rate": dec(rng, 0, 0.8, 2),
            "filler_reduction_rate": dec(rng, 0, 0.5, 2),
        }
    if rng.random() < 0.7:
        doc["energy"] = {"renewable_kwh": dec(rng, 0, 2e6, 1)}
    return doc


def percentile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def fact_of(engine, app):
    """The application fact engine/backends/rete/engine.py asserts (same code path as ReteEngine.decide)."""
    _, params, literals, _, plan = engine._day(app.period.end)
    fields, present = field_values(app)
    fact = engine.facts(Env(fields, present, params, literals), None, plan)
    fact["sid"] = app.application_id
    return fact


def floors(engine, facts):
    """Seconds per decision of durable_rules alone (no-op actions): stock Python host, bare C engine."""
    definition = {}
    for name, rule in engine._ruleset.items():
        rule = copy.deepcopy({k: v for k, v in rule.items() if k != "run"})
        rule["run"] = lambda c: None
        definition[name] = rule
    host = QuietHost()
    host.register_rulesets({"bench_floor_stock": copy.deepcopy(definition)})
    out = {}
    t = time.perf_counter()
    for fact in facts:
        try:
            host.assert_fact("bench_floor_stock", fact)
        finally:
            host.delete_state("bench_floor_stock", fact["sid"])
    out["stock"] = (time.perf_counter() - t) / len(facts)
    host.register_rulesets({"bench_floor_c": copy.deepcopy(definition)})
    handle = host.get_ruleset("bench_floor_c")._handle
    texts = [json.dumps(f, ensure_ascii=False) for f in facts]
    fired = 0
    t = time.perf_counter()
    for fact, text in zip(facts, texts):
        _, offset = dr_c.assert_fact(handle, text)
        started = dr_c.start_action_for_state(handle, offset)
        message = started[1] if started else None
        while message:
            fired += 1
            message = dr_c.complete_and_start_action(handle, offset)
        dr_c.delete_state(handle, fact["sid"])
    out["c"] = (time.perf_counter() - t) / len(facts)
    out["fired"] = fired / len(facts)
    return out


def shuangtan():
    exe = ROOT / ".venv" / "bin" / "shuangtan"
    return str(exe) if exe.exists() else "shuangtan"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--floor-n", type=int, default=3_000, help="applications for the durable-only floors")
    ap.add_argument("--no-cli", action="store_true", help="skip the subprocess figures (3 and 4)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    docs = [application(rng, i) for i in range(args.n)]
    book = load_rulebook()
    engine = ReteEngine.for_rulebook(book)
    cores = os.cpu_count() or 1
    print(
        f"{args.n} applications (seed {args.seed}), ruleset {book.version}, {cores} cores, "
        f"Python {sys.version.split()[0]}, MALLOC_TOP_PAD_={os.environ.get('MALLOC_TOP_PAD_', 'unset')}"
    )

    for doc in docs[:200]:  # warm caches (per-date parameter blocks, fmt_plain)
        engine.decide(parse_application(doc))
    lat = []
    for doc in docs:
        t = time.perf_counter_ns()
        engine.decide(parse_application(doc))
        lat.append(time.perf_counter_ns() - t)
    lat.sort()
    total = sum(lat) / 1e9
    print(
        f"in process, one core (parse + decide, full trace): {args.n / total:,.0f} decisions/s "
        f"(target 5,000/s); p50 {statistics.median(lat) / 1e6:.3f} ms, "
        f"p99 {percentile(lat, 0.99) / 1e6:.3f} ms, max {lat[-1] / 1e6:.3f} ms"
    )

    # Step by step, one application at a time: keeping thousands of decisions alive would add
    # garbage-collector passes over them that neither the line above nor `evaluate` pays.
    sample = docs[: min(args.n, args.floor_n)]
    steps, facts = [0, 0, 0, 0], []
    clock = time.perf_counter_ns
    for doc in sample:
        t0 = clock()
        app = parse_application(doc)
        t1 = clock()
        fact = fact_of(engine, app)
        t2 = clock()
        decision = engine.decide(app)
        t3 = clock()
        dumps_decision(decision)
        t4 = clock()
        for i, dt in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            steps[i] += dt
        facts.append(fact)
    t_parse, t_facts, t_decide, t_dumps = (s / len(sample) / 1e9 for s in steps)
    print(
        f"per decision: parse {t_parse * 1e3:.3f} ms, decide {t_decide * 1e3:.3f} ms "
        f"(of which building the fact {t_facts * 1e3:.3f} ms), JSON line {t_dumps * 1e3:.3f} ms"
    )
    fl = floors(engine, facts)
    print(
        f"durable_rules alone, same ruleset and facts, no-op actions ({fl['fired']:.1f} actions/decision; "
        f"chained status rules do not fire): stock Python host {fl['stock'] * 1e3:.3f} ms "
        f"= {1 / fl['stock']:,.0f}/s; bare C engine {fl['c'] * 1e3:.3f} ms = {1 / fl['c']:,.0f}/s"
    )
    print(f"  => the C engine is {fl['c'] / t_decide:.0%} of decide; Python (facts, actions, document) the rest")
    if args.no_cli:
        return

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "applications.jsonl"
        src.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
        for jobs in (1, 2):
            out = Path(tmp) / f"out{jobs}.jsonl"
            cmd = [shuangtan(), "evaluate", str(src), "--out", str(out), "-j", str(jobs)]
            t = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            dt = time.perf_counter() - t
            lines = sum(1 for _ in open(out, encoding="utf-8"))
            own = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "(none)"
            print(
                f"shuangtan evaluate -j {jobs} (subprocess, start-up included): {lines} decisions in "
                f"{dt:.2f} s = {lines / dt:,.0f} decisions/s (exit {proc.returncode}); its report: {own}"
            )

    example = ROOT / "examples" / "applications" / "taiyuan-pv-storage-warehouse.json"
    walls = []
    for _ in range(5):
        t = time.perf_counter()
        proc = subprocess.run([shuangtan(), "check", str(example)], capture_output=True, text=True)
        walls.append(time.perf_counter() - t)
    print(
        f"cold shuangtan check (subprocess): median {statistics.median(walls):.3f} s of 5 "
        f"(min {min(walls):.3f}, max {max(walls):.3f}; exit {proc.returncode})"
    )


if __name__ == "__main__":
    main()
