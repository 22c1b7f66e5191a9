"""Incomplete applications: what is settled, what is not, and the next question (issue 17).

    import engine

    book = engine.load_rulebook()
    partial = engine.parse_partial_application(body)   # missing fields are unknown, never zero
    decision = engine.decide_partial(book, partial)     # docs/contract.md, "Partial decisions"

An outcome is settled when its status and amount are the same whatever values the unknown
fields take within the contract; otherwise it is ``undetermined``, with ``needs`` (the unknown
fields that could still change it), ``could_be`` and ``amount_range``. ``partial.questions``
orders the unknown fields so that the first settles most outcomes. A complete application gives
the full decision, byte for byte.
"""

from __future__ import annotations

from engine.lazy import lazy_exports

__all__ = [
    "UNDETERMINED",
    "PartialApplication",
    "analyze",
    "decide_partial",
    "parse_partial_application",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "UNDETERMINED": "document",
        "decide_partial": "document",
        "PartialApplication": "reading",
        "parse_partial_application": "reading",
        "analyze": "analysis",
    },
)
