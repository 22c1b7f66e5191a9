"""Deciding a stream of records, in input order, on one core or a pool of processes.

durable_rules never releases the GIL and allows one live sid at a time, so parallelism
means processes: each worker compiles its own engine from the rulebook's files.
"""

from __future__ import annotations

import json
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice

from engine.backends.rete.engine import ReteEngine
from engine.batch.readers import dumps_decision
from engine.contract.application import parse_application
from engine.errors import BadRecordError, DateNotCoveredError, InvalidApplicationError
from engine.rulebook.loader import Rulebook, compile_rulebook

CHUNK = 256


def _reject_line(line, raw, errors, app_id=None) -> str:
    return json.dumps(
        {
            "line": line,
            "application_id": app_id,
            "errors": [{"path": p, "message": m} for p, m in errors],
            "record": raw,
        },
        ensure_ascii=False,
    )


def decide_records(engine: ReteEngine, records) -> list[tuple[bool, str]]:
    """[(ok, json line)] for each record: a decision, or a reject with line number and reasons."""
    out = []
    for line, raw, doc in records:
        if isinstance(doc, BadRecordError):
            out.append((False, _reject_line(line, raw, doc.errors)))
            continue
        app_id = doc.get("application_id") if isinstance(doc, dict) else None
        if not isinstance(app_id, str):
            app_id = None  # a number or an object is no id to file a reject under (the record keeps it)
        try:
            app = parse_application(doc)
            out.append((True, dumps_decision(engine.decide(app))))
        except InvalidApplicationError as exc:
            out.append((False, _reject_line(line, raw, exc.errors, app_id)))
        except DateNotCoveredError as exc:
            out.append((False, _reject_line(line, raw, [("period.end", str(exc))], app_id)))
    return out


_WORKER_ENGINE = None


def _init_worker(root, files):
    global _WORKER_ENGINE
    _WORKER_ENGINE = ReteEngine.for_rulebook(compile_rulebook(root, files))


def _work(chunk):
    return decide_records(_WORKER_ENGINE, chunk)


def _chunks(records, size):
    it = iter(records)
    while chunk := list(islice(it, size)):
        yield chunk


def decide_stream(book: Rulebook, records, jobs: int = 1):
    """Yield (ok, line) per record in input order. Memory stays bounded by a window of chunks."""
    if jobs <= 1:
        engine = ReteEngine.for_rulebook(book)
        for chunk in _chunks(records, CHUNK):
            yield from decide_records(engine, chunk)
        return
    with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(book.root, book.files)) as pool:
        window: deque[Future] = deque()
        for chunk in _chunks(records, CHUNK):
            window.append(pool.submit(_work, chunk))
            if len(window) >= 2 * jobs:
                yield from window.popleft().result()
        while window:
            yield from window.popleft().result()
