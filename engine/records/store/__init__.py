"""The officers' record: submissions as received, append-only decisions, issued notices."""

from engine.records.store.db import DEFAULT_URL, ENV_VAR, Store, open_store, resolve_url

__all__ = ["DEFAULT_URL", "ENV_VAR", "Store", "open_store", "resolve_url"]
