"""Concurrent proposers and confirmers never double-grant; a decider killed mid-batch leaves a
whole record.

Officers run as separate processes (spawn), which is what two officers at two desks are.
Each proposal is slowed down inside its transaction so that, without the per-enterprise lock,
the proposers would read the same history before either commits (checked by hand: with
``Store.lock_enterprise`` made a no-op on PostgreSQL these tests fail with double grants).
A pending proposal reserves its amounts, so the cap is consumed exactly by proposals already,
and confirmations (two reviewers racing over every proposal) review each one exactly once.
"""

import hashlib
import json
import multiprocessing as mp
import os
import signal
import time
from decimal import Decimal

from appdoc import example
from sqlalchemy import select, text

from engine.records import deciding
from engine.records import service as records
from engine.records.standing import standing
from engine.records.store import open_store
from engine.records.store.models import DecisionRow, ReviewRow, SubmissionIn, SubmissionRow
from engine.rulebook.loader import load_rulebook

SPAWN = mp.get_context("spawn")
OTHER = "91140200MA0HW2NB8C"  # a second enterprise, decided in parallel with the first


def _slow(seconds):
    real = deciding.evaluated  # what proposal_document calls

    def evaluated(*a, **kw):
        time.sleep(seconds)  # a slow engine, inside the locked transaction: widens any race
        return real(*a, **kw)

    deciding.evaluated = evaluated


def _decider(url, app_ids, barrier, officer, slow):
    _slow(slow)
    store, book = open_store(url), load_rulebook()
    barrier.wait(timeout=60)
    for a in app_ids:
        try:
            records.decide(store, a, book, officer)
        except (records.AlreadyDecidedError, records.AlreadyProposedError):
            pass  # another officer got there first: fine, and exactly what must happen
    store.dispose()


def _confirmer(url, app_ids, barrier, reviewer):
    store, book = open_store(url), load_rulebook()
    barrier.wait(timeout=60)
    for a in app_ids:
        try:
            records.confirm(store, a, book, reviewer)
        except (records.ReviewError, records.AccountRefused):
            pass  # confirmed by the other reviewer first, or this reviewer proposed it
    store.dispose()


def _batch(url, slow, officer="wang", barrier=None, chunk=deciding.CHUNK):
    _slow(slow)
    store = open_store(url)
    book = load_rulebook()
    if barrier is not None:
        barrier.wait(timeout=60)
    for _ in records.decide_pending(store, book, officer, chunk=chunk):
        pass
    store.dispose()


def _submit_family(store, prefix, credit_code, n):
    ids = []
    for i in range(n):
        a = f"{prefix}-{i}"
        # 2,500,000 kWh × 0.80 = 2,000,000.00 yuan each, against a 5,000,000.00 annual cap; one
        # month each (one period, one payment), a capacity that can deliver it
        month = f"2026-{i + 1:02d}"
        raw = example(
            a,
            **{
                "storage.discharged_kwh": "2500000",
                "storage.capacity_kwh": "100000",
                "enterprise.credit_code": credit_code,
                "period.start": f"{month}-01",
                "period.end": f"{month}-28",
            },
        )
        assert records.submit(store, SubmissionIn(raw=raw, submitted_by="li")).outcome == "new"
        ids.append(a)
    return ids


def _counting(store, credit_code):
    """(what counts: decisions in force and proposals, every decision row of the enterprise)."""
    with store.session() as s:
        rows = s.execute(select(DecisionRow).where(DecisionRow.credit_code == credit_code)).scalars().all()
        return standing(s, credit_code, set()), rows


def test_concurrent_deciders_never_double_grant(record_url):
    url = record_url
    store = open_store(url)
    mine = _submit_family(store, "X", "91140100MA0L3K2P5R", 5)
    theirs = _submit_family(store, "Y", OTHER, 3)
    everything = mine + theirs
    n = 3
    barrier = SPAWN.Barrier(n)
    # Every officer tries every application, each in a different order.
    officers = ("wang", "li", "t")
    procs = [
        SPAWN.Process(target=_decider, args=(url, everything[k:] + everything[:k], barrier, officers[k], 0.05))
        for k in range(n)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    for code, ids in (("91140100MA0L3K2P5R", mine), (OTHER, theirs)):
        counting, rows = _counting(store, code)
        assert sorted(r.application_id for r in rows) == sorted(ids), "each application proposed exactly once"
        assert {c.state for c in counting} == {"proposed"}
        storage = sum(c.storage_yuan for c in counting)
        assert storage == Decimal("5000000.00"), "proposals reserve the annual cap exactly, never twice"
        assert sum(c.equipment for c in counting) == 1, "the one-time subsidy is proposed once"

    barrier = SPAWN.Barrier(2)
    procs = [
        SPAWN.Process(target=_confirmer, args=(url, order, barrier, who))
        for order, who in ((everything, "zhao"), (everything[::-1], "li"))
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with store.session() as s:
        reviews = s.execute(select(ReviewRow)).scalars().all()
    assert sorted(r.application_id for r in reviews) == sorted(everything), "each proposal reviewed exactly once"
    assert {r.action for r in reviews} == {"confirm"}
    for code in ("91140100MA0L3K2P5R", OTHER):
        counting, _ = _counting(store, code)
        assert {c.state for c in counting} == {"in_force"}
        assert sum(c.storage_yuan for c in counting) == Decimal("5000000.00")
        assert sum(c.equipment for c in counting) == 1
    store.dispose()


def test_concurrent_batch_deciders_never_double_grant_nor_deadlock(record_url):
    """Three `decide --all-pending` at once, chunks of three spanning both enterprises: each
    chunk locks its enterprises in one order, so they queue and never deadlock."""
    url = record_url
    store = open_store(url)
    mine = _submit_family(store, "B", "91140100MA0L3K2P5R", 6)
    theirs = _submit_family(store, "C", OTHER, 4)
    barrier = SPAWN.Barrier(3)
    procs = [SPAWN.Process(target=_batch, args=(url, 0.02, who, barrier, 3)) for who in ("wang", "li", "t")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    for code, ids in (("91140100MA0L3K2P5R", mine), (OTHER, theirs)):
        counting, rows = _counting(store, code)
        assert sorted(r.application_id for r in rows) == sorted(ids), "each application proposed exactly once"
        assert sum(c.storage_yuan for c in counting) == Decimal("5000000.00"), "the cap reserved exactly once"
        assert sum(c.equipment for c in counting) == 1, "the one-time subsidy is proposed once"
    assert records.pending(store) == []
    store.dispose()


def test_a_decider_killed_mid_batch_leaves_a_whole_record(record_url, book):
    url = record_url
    store = open_store(url)
    ids = _submit_family(store, "K", "91140100MA0L3K2P5R", 10)
    records.submit(store, SubmissionIn(raw=b"{not json", submitted_by="li"))
    with store.session() as s:
        before = {r.id: (r.raw, r.sha256) for r in s.execute(select(SubmissionRow)).scalars()}
    p = SPAWN.Process(target=_batch, args=(url, 0.3))
    p.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with store.reading() as s:
            done = s.execute(text("SELECT count(*) FROM decision")).scalar_one()
        if done >= 2:
            break
        time.sleep(0.02)
    os.kill(p.pid, signal.SIGKILL)  # mid-batch, most likely inside a decision's transaction
    p.join(30)
    assert p.exitcode == -signal.SIGKILL

    with store.session() as s:
        subs = {r.id: (r.raw, r.sha256) for r in s.execute(select(SubmissionRow)).scalars()}
        decisions = s.execute(select(DecisionRow)).scalars().all()
        if url.startswith("sqlite"):
            assert s.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    assert subs == before, "every submission still there, byte for byte"
    assert all(hashlib.sha256(raw).hexdigest() == sha for raw, sha in subs.values())
    assert 2 <= len(decisions) < len(ids), "killed part-way through the batch"
    for d in decisions:  # every completed decision is whole
        doc = json.loads(d.document)
        assert doc["application_id"] == d.application_id and len(doc["outcomes"]) == 8
        assert subs[d.submission_id][1] == d.input_sha256
        assert records.replay(store, d.id).identical
    assert len({d.application_id for d in decisions}) == len(decisions)

    # The rest is still pending and a new batch finishes the job without deciding anything twice.
    assert sorted(records.pending(store)) == sorted(set(ids) - {d.application_id for d in decisions})
    list(records.decide_pending(store, book, "li"))
    counting, rows = _counting(store, "91140100MA0L3K2P5R")
    assert sorted(r.application_id for r in rows) == sorted(ids)
    assert sum(c.storage_yuan for c in counting) == Decimal("5000000.00")
    store.dispose()
