"""Partial decisions against full ones, in the same run: the worked example decided in full by the
Rete engine (the reference), the same application decided with --partial (nothing unknown: the
full decision), and with one, three and ten fields left out.

    .venv/bin/python benchmarks/bench_partial.py [--n 2000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout this script is in, not whichever shuangtan is installed

import engine  # noqa: E402
from engine.backends.rete.engine import ReteEngine  # noqa: E402

EXAMPLE = ROOT / "examples/applications/taiyuan-pv-storage-warehouse.json"
LEFT_OUT = {
    "one": ["storage.discharged_kwh"],
    "three": ["storage.discharged_kwh", "packaging.recycling_rate", "history.equipment_subsidy_received"],
    "ten": [
        "enterprise.is_ecommerce",
        "storage.discharged_kwh",
        "storage.baseline_peak_kw",
        "storage.cycle_life",
        "storage.platform.connected",
        "equipment.investment_yuan",
        "packaging.nondegradable_share",
        "packaging.recycling_rate",
        "energy.renewable_kwh",
        "history.storage_subsidy_granted_this_year_yuan",
    ],
}


def without(doc: dict, paths) -> dict:
    out = json.loads(json.dumps(doc))
    for path in paths:
        node = out
        *head, last = path.split(".")
        for part in head:
            node = node[part]
        del node[last]
    return out


def per_second(fn, n: int) -> float:
    fn()  # warm
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - started)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    n = ap.parse_args().n
    book = engine.load_rulebook()
    rete = ReteEngine.for_rulebook(book)
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    app = engine.parse_application(doc)
    per_second(lambda: rete.decide(app), n)  # the first run of a process is slower: not the reference
    full = per_second(lambda: rete.decide(app), n)
    print(f"reference: full decision (Rete)            {full:10,.0f} decisions/s")
    given = engine.parse_partial_application(doc)
    rate = per_second(lambda: engine.decide_partial(book, given), n)
    print(f"--partial, nothing unknown                 {rate:10,.0f} decisions/s  ({rate / full:.2f} x reference)")
    for label, paths in LEFT_OUT.items():
        given = engine.parse_partial_application(without(doc, paths))
        rate = per_second(lambda given=given: engine.decide_partial(book, given), n)
        print(
            f"--partial, {label:>5} field(s) unknown          {rate:10,.0f} decisions/s  ({rate / full:.2f} x reference)"
        )
    parse_full = per_second(lambda: engine.parse_application(doc), n)
    hollow = without(doc, LEFT_OUT["three"])
    parse_partial = per_second(lambda: engine.parse_partial_application(hollow), n)
    print(f"parsing: full {parse_full:,.0f}/s, partial (three unknown) {parse_partial:,.0f}/s")


if __name__ == "__main__":
    main()
