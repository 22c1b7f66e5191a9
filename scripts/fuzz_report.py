"""Fuzz counts for the record: N cases per strategy, how each ended, and the worst time per case.

    scripts/fuzz_report.py [--n 1000] [--only library,check,...] [--examples 3]

Draws from the strategies of tests/fuzz/fuzzkit.py (the same the fuzz suite asserts on), runs
every case in the suite's worker process and prints, per strategy: cases, decided, refused,
anything else (an exception, a traceback, a hang, a refusal naming no field, more than 1 s),
and the worst time of a case; then the reasons for "anything else", grouped, each with a few
example inputs. Nothing is asserted: this measures, the suite judges. Exit 0 always.

A case is one document for the application strategies, one file for the batch, CSV, Parquet,
telemetry and reform strategies (decided: no record rejected; refused: some record rejected
or the file refused, as the promise allows).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests/fuzz")]

import fuzzkit as fk  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _jsonl(cases):
    lines = [c.raw() for c in cases]
    library = {}
    for n, line in enumerate(lines, start=1):
        if line.strip():
            library[n] = fk.judge(fk.worker().call("library", line)).kind
    return b"\n".join(lines) + b"\n", library


def _parquet(case):
    result = fk.worker().call("parquet", case.build())
    if result.kind != "batch":
        return fk.judge(result)
    b = result.detail
    if result.seconds > fk.CASE_SECONDS:
        return fk.Verdict("other", f"took more than {fk.CASE_SECONDS:g} s", result.seconds)
    if b["exit"] != 0:
        lines = [ln for ln in b["message"].splitlines() if ln.strip()]
        if len(lines) == 1 and lines[0].startswith("Error:"):
            return fk.Verdict("refused", "", result.seconds)
        return fk.Verdict("other", f"exit {b['exit']}: {b['message'][-200:]}", result.seconds)
    if case.broken:
        return fk.Verdict("other", f"a file that is not Parquet ({case.broken}) was decided", result.seconds)
    floats = case.float_columns()
    if floats and not all(e and any(f in e for f in floats) for _, e in b["rows"]):
        return fk.Verdict("other", "a binary float column was read as a decimal", result.seconds)
    return fk.Verdict("refused" if any(e for _, e in b["rows"]) else "decided", "", result.seconds)


def _csv(case):
    data, must = case.build()
    rete = fk.judge_batch(fk.worker().call("evaluate", data, "csv", "rete"), must)
    columnar = fk.judge_batch(fk.worker().call("evaluate", data, "csv", "columnar"), must)
    worst = max(rete, columnar, key=lambda v: (v.kind == "other", v.seconds))
    return worst


STRATEGIES = {
    **{
        f"library-{family}": (strategy, lambda c: fk.judge(fk.worker().call("library", c.raw()), c.names()))
        for family, strategy in fk.families().items()
    },
    **{
        f"check-{family}": (strategy, lambda c: fk.judge(fk.worker().call("check", c.raw()), c.names()))
        for family, strategy in fk.families().items()
    },
    "lenient-numbers": (
        fk.lenient_numbers(),
        lambda c: (lambda v: v if v.kind != "decided" else fk.Verdict("other", "accepted", v.seconds))(
            fk.judge(fk.worker().call("library", c.raw()), c.names())
        ),
    ),
    "duplicate-keys": (
        fk.duplicate_keys(),
        lambda c: (lambda v: v if v.kind != "decided" else fk.Verdict("other", "accepted (last wins)", v.seconds))(
            fk.judge(fk.worker().call("library", c.raw()), c.names())
        ),
    ),
    "jsonl-rete": (
        st.lists(fk.applications(min_changes=0, max_changes=2), min_size=1, max_size=6),
        lambda cs: (
            lambda d, lib: fk.judge_batch(fk.worker().call("evaluate", d, "jsonl", "rete"), dict.fromkeys(lib), lib)
        )(*_jsonl(cs)),
    ),
    "jsonl-columnar": (
        st.lists(fk.applications(min_changes=0, max_changes=2), min_size=1, max_size=6),
        lambda cs: (
            lambda d, lib: fk.judge_batch(fk.worker().call("evaluate", d, "jsonl", "columnar"), dict.fromkeys(lib), lib)
        )(*_jsonl(cs)),
    ),
    "csv": (fk.csv_files(), _csv),
    "parquet": (fk.parquet_files(), _parquet),
    "telemetry": (fk.telemetry_files(), lambda c: fk.judge(fk.worker().call("telemetry", c.build()))),
    "reform": (fk.reform_files(), lambda c: fk.judge(fk.worker().call("reform", c.build()))),
}


def _group(reason: str) -> str:
    """A reason without the parts that change from case to case (numbers, paths in brackets)."""
    reason = re.sub(r"\[[^\]]*\]", "[…]", reason)
    reason = re.sub(r"'[^']{20,}'", "'…'", reason)
    reason = re.sub(r"\d+(\.\d+)?", "N", reason)
    return reason[:160]


def run(name: str, n: int, keep: int):
    strategy, judge = STRATEGIES[name]
    counts: Counter = Counter()
    worst = 0.0
    others: dict[str, list] = defaultdict(list)

    @settings(
        max_examples=n, phases=[Phase.generate], database=None, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy)
    def one(case):
        nonlocal worst
        v = judge(case)
        counts[v.kind] += 1
        worst = max(worst, v.seconds)
        if v.kind == "other":
            bucket = others[_group(v.reason)]
            if len(bucket) < keep:
                bucket.append((v.reason, case))
            else:
                bucket.append(None)

    started = time.perf_counter()
    one()
    return counts, worst, others, time.perf_counter() - started


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="cases per strategy (default 1000)")
    ap.add_argument("--only", default=",".join(STRATEGIES), help=f"comma-separated, of: {', '.join(STRATEGIES)}")
    ap.add_argument("--examples", type=int, default=2, help="example inputs shown per kind of failure")
    args = ap.parse_args(argv)
    names = [s for s in args.only.split(",") if s]
    fk.worker().call("library", fk.Case("large-merchant-levy").raw(), kill_after=600)  # warm, untimed
    rows, details = [], []
    for name in names:
        counts, worst, others, wall = run(name, args.n, args.examples)
        total = sum(counts.values())
        rows.append((name, total, counts["decided"], counts["refused"], counts["other"], worst, wall))
        for reason, items in sorted(others.items(), key=lambda kv: -len(kv[1])):
            details.append((name, len(items), reason, [i for i in items if i is not None]))
        print(f"{name}: {total} cases in {wall:.0f} s", file=sys.stderr)
    print(f"\nfuzz cases per strategy (case limit {fk.CASE_SECONDS:g} s, killed after {fk.KILL_SECONDS:g} s)\n")
    head = ("strategy", "cases", "decided", "refused", "anything else", "worst time")
    print(f"| {head[0]:22} | {head[1]:>6} | {head[2]:>7} | {head[3]:>7} | {head[4]:>13} | {head[5]:>12} |")
    print(f"|{'-' * 24}|{'-' * 8}|{'-' * 9}|{'-' * 9}|{'-' * 15}|{'-' * 14}|")

    def shown(seconds):
        return f"{seconds:.3f} s" if seconds < fk.KILL_SECONDS else f"≥{fk.KILL_SECONDS:g} s (hang)"

    for name, total, dec, ref, oth, worst, _ in rows:
        print(f"| {name:22} | {total:6} | {dec:7} | {ref:7} | {oth:13} | {shown(worst):>12} |")
    t = [sum(r[i] for r in rows) for i in range(1, 5)]
    worst_all = max((r[5] for r in rows), default=0.0)
    print(f"| {'all':22} | {t[0]:6} | {t[1]:7} | {t[2]:7} | {t[3]:13} | {shown(worst_all):>12} |")
    if details:
        print("\nanything else, grouped:")
        for name, count, reason, items in details:
            print(f"\n  [{name}] {count}× {reason}")
            for full, case in items:
                print(f"      {full[:200]}\n        e.g. {case!r}"[:600])
    fk.worker().stop()


if __name__ == "__main__":
    main()
