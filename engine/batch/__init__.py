"""Batches: streaming readers (JSON Lines, CSV), the Rete batch run with its process pool, Parquet in
and out for the columnar backend, and Dask partitions beyond one machine.
"""

from __future__ import annotations

from engine.lazy import lazy_exports

__all__ = [
    "DecisionWriter",
    "cluster_client",
    "decide_file",
    "decide_parquet_distributed",
    "decide_records",
    "decide_stream",
    "detect_format",
    "dumps_decision",
    "read_records",
    "row_to_document",
    "simulate_distributed",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "read_records": "readers",
        "detect_format": "readers",
        "row_to_document": "readers",
        "dumps_decision": "readers",
        "decide_stream": "run",
        "decide_records": "run",
        "decide_file": "parquet",
        "DecisionWriter": "parquet",
        "decide_parquet_distributed": "distributed",
        "simulate_distributed": "distributed",
        "cluster_client": "distributed",
    },
)
