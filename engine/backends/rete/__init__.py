"""The Rete backend: the rulebook compiled to one durable_rules ruleset, deciding one application at a
time into the full decision document with trace.
"""

from __future__ import annotations

from engine.lazy import lazy_exports

__all__ = ["ReteEngine"]

__getattr__, __dir__ = lazy_exports(__name__, {"ReteEngine": "engine"})
