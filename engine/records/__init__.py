"""The record of decisions: the store (sqlmodel, Alembic migrations, SQLite or PostgreSQL), the
operations on it (submit, decide, replay, notices) and its read-only views (list, show, export).
"""

from __future__ import annotations

from engine.lazy import lazy_exports

__all__ = [
    "add_account",
    "confirm",
    "return_proposal",
    "Store",
    "attach_telemetry",
    "decide",
    "decide_pending",
    "export",
    "issue_notices",
    "list_applications",
    "open_store",
    "replay",
    "show",
    "submit",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "submit": "submissions",
        "add_account": "accounts",
        "confirm": "reviewing",
        "return_proposal": "reviewing",
        "decide": "deciding",
        "decide_pending": "deciding",
        "replay": "replaying",
        "issue_notices": "issuing",
        "attach_telemetry": "submissions",
        "list_applications": "views",
        "show": "views",
        "export": "views",
        "open_store": "store",
        "Store": "store",
    },
)
