"""Flat rows decided one at a time by the Rete engine: the fallback every columnar path shares."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from engine.backends.rete.engine import ReteEngine
from engine.contract.application import parse_application
from engine.contract.flat import document_from_flat, flatten_decision
from engine.errors import DateNotCoveredError, InvalidApplicationError
from engine.rulebook.loader import Rulebook


def decide_rows_rete(book: Rulebook, rows: Iterable[dict]) -> Iterator[dict]:
    """Decide flat rows one at a time through the Rete engine; bad rows get an ``error``."""
    engine = ReteEngine.for_rulebook(book)
    for row in rows:
        try:
            app = parse_application(document_from_flat(row))
            yield flatten_decision(engine.decide(app), app.enterprise.region_code)
        except (InvalidApplicationError, DateNotCoveredError) as exc:
            yield {
                "application_id": row.get("application_id"),
                "region_code": row.get("enterprise.region_code"),
                "error": str(exc),
            }
