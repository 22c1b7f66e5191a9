"""Benchmark of the web API (`shuangtan serve`) from loopback, beside in-process Rete (not a test; prints figures).

    .venv/bin/python benchmarks/bench_service.py [--requests 4000] [--concurrency 32] [--n 400] [--no-pg]

In one run, each step bounded in count (and every request in time):
  1. in process, one core: parse + decide + the JSON text of the worked example, --requests
     times: decisions/s, p50 and p99 (the reference);
  2. `shuangtan serve --workers 2` (SQLite record: /v1/check never touches it), driven by an
     async httpx client with --concurrency requests in flight: POST /v1/check of the worked
     example --requests times: requests/s, p50 and p99 of each request as the client waits for
     it, and the ratio to (1) (goal ≥ 0.5);
  3. on PostgreSQL (a fresh database on 127.0.0.1:5432, dropped afterwards; skipped with a line
     when no server answers or with --no-pg): --n applications of the calibrated population
     (each its own enterprise) submitted through the library, then POST …/proposal for all by
     one officer's token and POST …/confirm by a reviewer's for a quarter of them, --concurrency
     in flight, then POST /v1/proposals and /v1/confirmations with lists of 200 for the rest,
     through `shuangtan serve --workers 2`: (proposals + confirmations)/s (goal ≥ 1,000/s).
Everything listens on and connects to 127.0.0.1 only. Run it idle: the client shares the
machine's cores with the server.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from pgtemp import pg_database  # noqa: E402

from engine.service.testing import serving  # noqa: E402

os.environ["SHUANGTAN_LANG"] = "en"  # Chinese by default: the subprocesses' lines are read in English

EXAMPLE = ROOT / "examples/applications/taiyuan-pv-storage-warehouse.json"
TIMEOUT = 300.0
BATCH = 200  # applications per POST /v1/proposals or /v1/confirmations: the record's chunk


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def in_process(n: int) -> dict:
    from engine.backends.rete.engine import ReteEngine
    from engine.batch.readers import dumps_decision
    from engine.contract.application import parse_application
    from engine.rulebook.loader import load_rulebook

    raw = EXAMPLE.read_bytes()
    engine = ReteEngine.for_rulebook(load_rulebook())
    for _ in range(50):
        dumps_decision(engine.decide(parse_application(raw)))
    times = []
    started = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        dumps_decision(engine.decide(parse_application(raw)))
        times.append(time.perf_counter() - t)
    wall = time.perf_counter() - started
    return {"n": n, "rate": n / wall, "p50": percentile(times, 0.5), "p99": percentile(times, 0.99)}


def drive(base: str, requests: list[tuple[str, bytes | None]], concurrency: int, headers: dict | None = None) -> dict:
    """POST each (path, body) from ``concurrency`` threads, each with its own connection (httpx's
    async pool costs more per request than the service at 16 and more in flight); latencies and
    the statuses seen."""
    import threading

    import httpx

    todo = iter(requests)
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    def worker():
        with httpx.Client(base_url=base, timeout=TIMEOUT, headers=headers or {}) as client:
            while True:
                with lock:
                    item = next(todo, None)
                if item is None:
                    return
                t = time.perf_counter()
                r = client.post(item[0], content=item[1])
                took = time.perf_counter() - t
                with lock:
                    latencies.append(took)
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - started
    return {
        "n": len(latencies),
        "wall": wall,
        "rate": len(latencies) / wall if wall else 0.0,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "statuses": statuses,
        "client": f"{concurrency} threads (httpx)",
    }


_WRK_SCRIPT = """
local f = io.open(os.getenv("SHUANGTAN_BODY"), "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"; wrk.headers["Content-Type"] = "application/json"
"""


def _wrk_seconds(out: str, percent: str) -> float:
    found = re.search(rf"^\s*{percent}%\s+([0-9.]+)(us|ms|s|m)\s*$", out, re.M)
    if found is None:
        raise ValueError(f"wrk printed no {percent}% latency:\n{out}")
    return float(found.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[found.group(2)]


def wrk(url: str, body: Path, connections: int, seconds: int, tmp: Path) -> dict:
    """wrk (Debian's package) POSTing ``body`` for ``seconds`` with ``connections`` open."""
    script = tmp / "post.lua"
    script.write_text(_WRK_SCRIPT)
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url]
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + 60, env={**os.environ, "SHUANGTAN_BODY": str(body)}
    ).stdout
    n = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "n": n,
        "rate": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),
        "p50": _wrk_seconds(out, "50"),
        "p99": _wrk_seconds(out, "99"),
        "statuses": {"non-2xx": int(errors.group(1)) if errors else 0},
        "client": f"wrk, {connections} connections, {seconds} s",
    }


def check_over_http(requests: int, concurrency: int, seconds: int, tmp: Path) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from people import seed_url

    url = seed_url(f"sqlite:///{tmp / 'record.db'}")
    raw = EXAMPLE.read_bytes()
    with serving(url, 2) as base:
        drive(base, [("/v1/check", raw)] * min(200, requests), concurrency)  # warm both workers
        if shutil.which("wrk") and seconds:
            return wrk(f"{base}/v1/check", EXAMPLE, concurrency, seconds, tmp)
        return drive(base, [("/v1/check", raw)] * requests, concurrency)


def four_eyes_over_http(url: str, n: int, concurrency: int, tmp: Path) -> dict:
    import json

    from engine.drafting.population import generate, write_population
    from engine.records import accounts
    from engine.records import service as records
    from engine.records.store import open_store
    from engine.records.store.models import SubmissionIn
    from engine.service import tokens

    store = open_store(url)
    accounts.add_account(store, "wang", "officer", "os:bench")
    accounts.add_account(store, "zhao", "reviewer", "os:bench")
    src = tmp / "applications.jsonl"
    write_population(generate(n, 2026), src)
    ids = []
    for line in src.read_bytes().splitlines():
        r = records.submit(store, SubmissionIn(raw=line, submitted_by="wang"))
        ids.append(r.submission.application_id)
    officer, reviewer = tokens.issue(store, "wang", "os:bench"), tokens.issue(store, "zhao", "os:bench")
    officer_h, reviewer_h = {"Authorization": f"Bearer {officer}"}, {"Authorization": f"Bearer {reviewer}"}
    single, batched = ids[: max(1, len(ids) // 4)], ids[max(1, len(ids) // 4) :]
    with serving(url, 2) as base:
        # one request per application (a worker checks a token's Argon2 hash once; the token's
        # other requests wait for it)
        proposed = drive(base, [(f"/v1/applications/{a}/proposal", None) for a in single], concurrency, officer_h)
        confirmed = drive(base, [(f"/v1/applications/{a}/confirm", None) for a in single], concurrency, reviewer_h)
        # the rest in lists of BATCH, two requests in flight (one per worker)
        parts = [batched[k : k + BATCH] for k in range(0, len(batched), BATCH)]
        bodies = [json.dumps({"application_ids": p}).encode() for p in parts]
        many_p = drive(
            base, [("/v1/proposals", b) for b in bodies], 2, {**officer_h, "Content-Type": "application/json"}
        )
        many_c = drive(
            base, [("/v1/confirmations", b) for b in bodies], 2, {**reviewer_h, "Content-Type": "application/json"}
        )
    with store.reading() as s:
        from sqlalchemy import func, select

        from engine.records.store.models import ReviewRow

        reviews = s.execute(select(func.count()).select_from(ReviewRow)).scalar()
    store.dispose()
    one = proposed["wall"] + confirmed["wall"]
    many = many_p["wall"] + many_c["wall"]
    return {
        "n": n,
        "single": len(single),
        "batched": len(batched),
        "proposed": proposed,
        "confirmed": confirmed,
        "reviews": reviews,
        "rate": 2 * len(single) / one if one else 0.0,
        "batch_rate": 2 * len(batched) / many if many else 0.0,
        "json": json.dumps(
            {
                "proposal": proposed["statuses"],
                "confirm": confirmed["statuses"],
                "proposals": many_p["statuses"],
                "confirmations": many_c["statuses"],
            }
        ),
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="POST /v1/check requests (and in-process decisions)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument(
        "--seconds", type=int, default=10, help="how long wrk drives /v1/check (0: the httpx threads, --requests)"
    )
    parser.add_argument(
        "--n", type=int, default=2000, help="applications proposed and confirmed on PostgreSQL (a quarter one by one)"
    )
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    ref = in_process(args.requests)
    print(
        f"in process (Rete, one core): {ref['n']} decisions, {ref['rate']:,.0f}/s, p50 {ms(ref['p50'])}, p99 {ms(ref['p99'])}"
    )
    with tempfile.TemporaryDirectory(prefix="shuangtan-bench-service-") as folder:
        tmp = Path(folder)
        http = check_over_http(args.requests, args.concurrency, args.seconds, tmp)
        ratio = http["rate"] / ref["rate"] if ref["rate"] else 0.0
        print(
            f"POST /v1/check, 2 workers, {args.concurrency} in flight ({http['client']}): {http['n']} requests {http['statuses']}, "
            f"{http['rate']:,.0f}/s, p50 {ms(http['p50'])}, p99 {ms(http['p99'])}; "
            f"{ratio:.2f}× in process (goal ≥ 0.5×)"
        )
        if args.no_pg:
            print("PostgreSQL: skipped (--no-pg)")
            return
        found, why = pg_database()
        if found is None:
            print(f"PostgreSQL: skipped ({why})")
            return
        url, _version, drop = found
        try:
            r = four_eyes_over_http(url, args.n, args.concurrency, tmp)
        finally:
            drop()
        p, c = r["proposed"], r["confirmed"]
        print(
            f"proposal + confirm on PostgreSQL, 2 workers: {r['n']} applications, statuses {r['json']}, "
            f"{r['reviews']} confirmed on record"
        )
        print(
            f"  one request per application ({r['single']}, {args.concurrency} in flight): proposals {p['rate']:,.0f}/s "
            f"(p50 {ms(p['p50'])}, p99 {ms(p['p99'])}), confirmations {c['rate']:,.0f}/s (p50 {ms(c['p50'])}, "
            f"p99 {ms(c['p99'])}); together {r['rate']:,.0f}/s"
        )
        print(
            f"  lists of {BATCH} (POST /v1/proposals, /v1/confirmations; {r['batched']} applications): "
            f"together {r['batch_rate']:,.0f}/s (goal ≥ 1,000/s)"
        )


if __name__ == "__main__":
    main()
