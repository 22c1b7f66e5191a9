"""Concurrent deciders never double-grant; a decider killed mid-batch leaves a whole record.

Deciders run as separate processes (spawn), which is what two officers at two desks are.
Each decision is slowed down inside its transaction so that, without the per-enterprise lock,
the deciders would read the same history before either commits (checked by hand: with
``Store.lock_enterprise`` made a no-op on PostgreSQL these tests fail with double grants).
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
from engine.records.store import open_store
from engine.records.store.models import DecisionRow, SubmissionIn, SubmissionRow
from engine.rulebook.loader import load_rulebook

SPAWN = mp.get_context("spawn")
OTHER = "91140200MA0HW2NB8C"  # a second enterprise, decided in parallel with the first


def _slow(seconds):
    real = deciding.evaluate

    def evaluate(*a, **kw):
        time.sleep(seconds)  # a slow engine, inside the locked transaction: widens any race
        return real(*a, **kw)

    deciding.evaluate = evaluate


def _decider(url, app_ids, barrier, officer, slow):
    _slow(slow)
    store, book = open_store(url), load_rulebook()
    barrier.wait(timeout=60)
    for a in app_ids:
        try:
            records.decide(store, a, book, officer)
        except records.AlreadyDecidedError:
            pass  # another officer got there first: fine, and exactly what must happen
    store.dispose()


def _batch(url, slow):
    _slow(slow)
    store = open_store(url)
    for _ in records.decide_pending(store, load_rulebook(), "batch"):
        pass


def _submit_family(store, prefix, credit_code, n):
    ids = []
    for i in range(n):
        a = f"{prefix}-{i}"
        # 2,500,000 kWh × 0.80 = 2,000,000.00 yuan each, against a 5,000,000.00 annual cap
        raw = example(a, **{"storage.discharged_kwh": "2500000", "enterprise.credit_code": credit_code})
        assert records.submit(store, SubmissionIn(raw=raw, submitted_by="li")).outcome == "new"
        ids.append(a)
    return ids


def _in_force(store, credit_code):
    with store.session() as s:
        rows = s.execute(select(DecisionRow).where(DecisionRow.credit_code == credit_code)).scalars().all()
    superseded = {r.supersedes_id for r in rows}
    return [r for r in rows if r.id not in superseded], rows


def test_concurrent_deciders_never_double_grant(record_url):
    url = record_url
    store = open_store(url)
    mine = _submit_family(store, "X", "91140100MA0L3K2P5R", 5)
    theirs = _submit_family(store, "Y", OTHER, 3)
    everything = mine + theirs
    n = 3
    barrier = SPAWN.Barrier(n)
    # Every officer tries every application, each in a different order.
    procs = [
        SPAWN.Process(target=_decider, args=(url, everything[k:] + everything[:k], barrier, f"officer{k}", 0.05))
        for k in range(n)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    for code, ids in (("91140100MA0L3K2P5R", mine), (OTHER, theirs)):
        force, rows = _in_force(store, code)
        assert sorted(r.application_id for r in rows) == sorted(ids), "each application decided exactly once"
        storage = sum(Decimal(r.storage_granted_yuan) for r in force)
        assert storage == Decimal("5000000.00"), "the annual cap is consumed exactly, never twice"
        assert sum(r.equipment_granted for r in force) == 1, "the one-time subsidy is granted once"
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
    list(records.decide_pending(store, book, "batch2"))
    force, rows = _in_force(store, "91140100MA0L3K2P5R")
    assert sorted(r.application_id for r in rows) == sorted(ids)
    assert sum(Decimal(r.storage_granted_yuan) for r in force) == Decimal("5000000.00")
    store.dispose()
