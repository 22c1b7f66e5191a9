"""The officers' record: submissions as received, append-only decisions, issued notices.

Names load lazily: ``engine.records.store.direct`` (reading the record without SQLAlchemy, for
the read-only commands) lives in this package and must not pull SQLAlchemy in with it.
"""

from __future__ import annotations

from engine.lazy import lazy_exports

__all__ = ["DEFAULT_URL", "ENV_VAR", "Store", "open_store", "resolve_url"]

__getattr__, __dir__ = lazy_exports(
    __name__, {"DEFAULT_URL": "direct", "ENV_VAR": "direct", "Store": "db", "open_store": "db", "resolve_url": "direct"}
)
