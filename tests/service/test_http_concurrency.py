"""The concurrent deciders of tests/records/test_concurrency.py, through HTTP: three officers
proposing every application at once, then two reviewers confirming, against `shuangtan serve`
with two worker processes on one PostgreSQL record. No annual cap is exceeded, the one-time
subsidy is proposed once, each proposal is reviewed exactly once."""

import threading
from decimal import Decimal

import httpx
from appdoc import example
from conftest import bearer, issue_tokens
from servekit import serving
from sqlalchemy import select

from engine.records import service as records
from engine.records.standing import standing
from engine.records.store import open_store
from engine.records.store.models import DecisionRow, ReviewRow, SubmissionIn

MINE, OTHER = "91140100MA0L3K2P5R", "91140200MA0HW2NB8C"


def _submit_family(store, prefix, credit_code, n):
    """As tests/records/test_concurrency.py: 2,000,000.00 yuan of storage subsidy each, one month
    each, against a 5,000,000.00 annual cap."""
    ids = []
    for i in range(n):
        a, month = f"{prefix}-{i}", f"2026-{i + 1:02d}"
        changes = {
            "storage.discharged_kwh": "2500000",
            "storage.capacity_kwh": "100000",
            "enterprise.credit_code": credit_code,
            "period.start": f"{month}-01",
            "period.end": f"{month}-28",
        }
        assert records.submit(store, SubmissionIn(raw=example(a, **changes), submitted_by="li")).outcome == "new"
        ids.append(a)
    return ids


def _run_all(base, jobs):
    """Each (token, path, app ids) in its own thread, all started together; statuses seen."""
    seen: list[int] = []
    start = threading.Barrier(len(jobs))

    def work(token, path, ids):
        with httpx.Client(base_url=base, headers=bearer(token), timeout=60) as c:
            start.wait()
            for a in ids:
                seen.append(c.post(f"/v1/applications/{a}/{path}").status_code)

    threads = [threading.Thread(target=work, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return seen


def test_concurrent_deciders_through_http_never_double_grant(pg_url):
    store = open_store(pg_url)
    mine = _submit_family(store, "X", MINE, 5)
    theirs = _submit_family(store, "Y", OTHER, 3)
    everything = mine + theirs
    tokens = issue_tokens(pg_url, ["wang", "li", "t", "zhao"])
    with serving(pg_url, workers=2) as base:
        officers = ("wang", "li", "t")
        proposed = _run_all(
            base, [(tokens[o], "proposal", everything[k:] + everything[:k]) for k, o in enumerate(officers)]
        )
        assert set(proposed) <= {201, 409} and proposed.count(201) == len(everything)
        for code, ids in ((MINE, mine), (OTHER, theirs)):
            with store.session() as s:
                rows = s.execute(select(DecisionRow).where(DecisionRow.credit_code == code)).scalars().all()
                counting = standing(s, code, set())
            assert sorted(r.application_id for r in rows) == sorted(ids), "each application proposed exactly once"
            assert sum(c.storage_yuan for c in counting) == Decimal("5000000.00"), (
                "the cap reserved exactly, never twice"
            )
            assert sum(c.equipment for c in counting) == 1, "the one-time subsidy is proposed once"
        confirmed = _run_all(
            base, [(tokens["zhao"], "confirm", everything), (tokens["li"], "confirm", everything[::-1])]
        )
        assert set(confirmed) <= {200, 409} and confirmed.count(200) == len(everything)
    with store.session() as s:
        reviews = s.execute(select(ReviewRow)).scalars().all()
        for code in (MINE, OTHER):
            assert {c.state for c in standing(s, code, set())} == {"in_force"}
    assert sorted(r.application_id for r in reviews) == sorted(everything), "each proposal reviewed exactly once"
    store.dispose()
