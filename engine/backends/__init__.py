"""The backends: one rulebook, two ways to decide it.

- ``rete``: durable_rules, one application at a time, the full decision document with trace;
- ``columnar``: Polars and a native kernel, a population at a time, flat decision rows.

``decide`` and ``decide_frame`` are the one dispatcher the rest of the package calls; both
backends give the same statuses, amounts and reasons (``shuangtan verify-backends``).
"""

from __future__ import annotations

from engine.backends.rete.engine import ReteEngine
from engine.backends.rows import decide_rows_rete
from engine.contract.application import Application
from engine.contract.decision import Decision
from engine.contract.flat import result_columns
from engine.rulebook.loader import Rulebook

__all__ = ["ReteEngine", "decide", "decide_frame", "decide_rows_rete"]


def decide(book: Rulebook, app: Application) -> Decision:
    """The decision document (contract v1) of one valid application, with trace."""
    return ReteEngine.for_rulebook(book).decide(app)


def decide_frame(book: Rulebook, frame, backend: str = "auto"):
    """Decide every row of a Polars DataFrame of applications; returns a DataFrame of results.

    ``backend``: ``rete``, or ``columnar``/``auto`` (the columnar backend, which hands the rows
    it cannot vouch for to the Rete engine itself).
    """
    import polars as pl

    if backend in ("auto", "columnar"):
        from engine.backends.columnar.frame import decide_frame_columnar

        return decide_frame_columnar(book, frame)
    cols = result_columns(book)
    rows = list(decide_rows_rete(book, frame.iter_rows(named=True)))
    return pl.DataFrame([{c: r.get(c) for c in cols} for r in rows], schema={c: pl.Utf8 for c in cols})
