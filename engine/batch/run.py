"""Deciding a stream of records, in input order, on one core or a pool of processes.

durable_rules never releases the GIL and allows one live sid at a time, so parallelism
means processes: each worker compiles its own engine from the rulebook's files.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice

from engine.backends.rete.engine import ReteEngine
from engine.batch.readers import dumps_decision
from engine.contract.application import parse_application
from engine.errors import (
    INTERNAL_ERROR,
    BadRecordError,
    DateNotCoveredError,
    InvalidApplicationError,
    internal_reason,
)
from engine.rulebook.loader import Rulebook, compile_rulebook

CHUNK = 256


def _reject_line(line, raw, errors, app_id=None) -> str:
    text = json.dumps(
        {
            "line": line,
            "application_id": app_id,
            "errors": [{"path": e[0], "message": e[1], **({"code": e[2]} if len(e) > 2 else {})} for e in errors],
            "record": raw,
        },
        ensure_ascii=False,
    )
    return text if _encodable(text) else _SURROGATE.sub("\ufffd", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _encodable(text: str) -> bool:
    """False for text holding bytes that were not UTF-8 (kept as surrogate escapes on reading)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_utf8(raw: str) -> tuple[str, str]:
    """The reason and a printable copy of a record holding bytes that are not UTF-8."""
    data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
    try:
        data.decode("utf-8")
        at = None
    except UnicodeDecodeError as exc:
        at = exc.start
    where = f" (byte {at + 1} of the record)" if at is not None else ""
    return f"not valid UTF-8{where}", data.decode("utf-8", "replace")


def decide_records(engine: ReteEngine, records, partial: bool = False) -> list[tuple[bool, str]]:
    """[(ok, json line)] for each record: a decision, or a reject with line number and reasons.

    Nothing a record holds ends the batch: an exception no rule of the contract names (a
    defect) rejects that record with the code INTERNAL_ERROR and the exception's type.
    ``partial``: a field a record leaves out is unknown (engine/partial), not an error.
    """
    return [decide_record(engine, line, raw, doc, partial) for line, raw, doc in records]


def _decide(engine: ReteEngine, doc, partial: bool):
    if not partial:
        return engine.decide(parse_application(doc))
    from engine.partial import decide_partial, parse_partial_application

    return decide_partial(engine.book, parse_partial_application(doc))


def decide_record(engine: ReteEngine, line, raw, doc, partial: bool = False) -> tuple[bool, str]:
    if isinstance(raw, str) and not _encodable(raw):
        reason, printable = _not_utf8(raw)
        return False, _reject_line(line, printable, [("(line)", reason)])
    if isinstance(doc, BadRecordError):
        return False, _reject_line(line, raw, doc.errors)
    app_id = doc.get("application_id") if isinstance(doc, dict) else None
    if not isinstance(app_id, str):
        app_id = None  # a number or an object is no id to file a reject under (the record keeps it)
    try:
        return True, dumps_decision(_decide(engine, doc, partial))
    except InvalidApplicationError as exc:
        return False, _reject_line(line, raw, exc.errors, app_id)
    except DateNotCoveredError as exc:
        return False, _reject_line(line, raw, [("period.end", str(exc))], app_id)
    except Exception as exc:  # a defect met on this record: the record is rejected, the batch goes on
        return False, internal_reject(line, raw, exc, app_id)


def internal_reject(line, raw, exc: BaseException, app_id=None) -> str:
    return _reject_line(line, raw, [("(record)", internal_reason(exc), INTERNAL_ERROR)], app_id)


_WORKER_ENGINE = None
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _init_worker(root, files, parent: int):
    global _WORKER_ENGINE
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's clean-up handler (forked)
    die_with_parent(parent)
    _WORKER_ENGINE = ReteEngine.for_rulebook(compile_rulebook(root, files))


def die_with_parent(parent: int) -> None:
    """A worker never outlives the batch: killed (SIGTERM, SIGKILL) or crashed, the parent takes
    its workers with it. Linux delivers SIGKILL when the parent dies; elsewhere a thread watches.
    The getppid check closes the race of a parent that died before the request was made."""
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    import time

    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _work(chunk, partial=False):
    return decide_records(_WORKER_ENGINE, chunk, partial)


def _chunks(records, size):
    it = iter(records)
    while chunk := list(islice(it, size)):
        yield chunk


class _Pool:
    """A process pool that is rebuilt when a worker dies (a record that crashes the native
    engine, the out-of-memory killer): the chunk in flight is then decided one record per task,
    so that only the record that kills a worker is rejected, as INTERNAL_ERROR."""

    def __init__(self, book: Rulebook, jobs: int, partial: bool = False):
        self.book, self.jobs, self.partial = book, jobs, partial
        self.pool = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.jobs, initializer=_init_worker, initargs=(self.book.root, self.book.files, os.getpid())
        )

    def submit(self, chunk):
        try:
            return self.pool.submit(_work, chunk, self.partial)
        except BrokenProcessPool:
            self._renew()
            return self.pool.submit(_work, chunk, self.partial)

    def _renew(self):
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new()

    def results(self, chunk, future) -> list[tuple[bool, str]]:
        try:
            return future.result()
        except BrokenProcessPool:
            self._renew()
        except Exception:  # the chunk could not be sent or returned (pickling): decide it record by record
            pass
        return [self._alone(rec) for rec in chunk]

    def _alone(self, rec) -> tuple[bool, str]:
        line, raw, doc = rec
        try:
            return self.pool.submit(_work, [rec], self.partial).result()[0]
        except BrokenProcessPool as exc:  # this record killed its worker
            self._renew()
            return False, internal_reject(line, raw, exc)
        except Exception as exc:
            return False, internal_reject(line, raw, exc)

    def close(self, wait: bool):
        self.pool.shutdown(wait=wait, cancel_futures=not wait)


def decide_stream(book: Rulebook, records, jobs: int = 1, partial: bool = False):
    """Yield (ok, line) per record in input order. Memory stays bounded by a window of chunks."""
    if jobs <= 1:
        engine = ReteEngine.for_rulebook(book)
        for chunk in _chunks(records, CHUNK):
            yield from decide_records(engine, chunk, partial)
        return
    pool = _Pool(book, jobs, partial)
    done = False
    try:
        window: deque = deque()
        for chunk in _chunks(records, CHUNK):
            window.append((chunk, pool.submit(chunk)))
            if len(window) >= 2 * jobs:
                yield from pool.results(*window.popleft())
        while window:
            yield from pool.results(*window.popleft())
        done = True
    finally:
        # Stopped early (an error writing, an interrupt): do not wait for the chunks in flight.
        pool.close(wait=done)
