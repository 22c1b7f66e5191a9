"""The columnar backend: a population decided as a Polars frame, its rows the native kernel
vouches for through compiled rule programs (kernel/), the others through Polars expressions
(frame.py) and from there the Rete engine; ``verify`` generates populations and compares
backends cell by cell.
"""

from __future__ import annotations

from engine.backends.columnar.frame import as_text, decide_frame_columnar, decide_typed, typed_schema, validated
from engine.backends.columnar.verify import Generator, disagreements

__all__ = [
    "Generator",
    "as_text",
    "decide_frame_columnar",
    "decide_typed",
    "disagreements",
    "typed_schema",
    "validated",
]
