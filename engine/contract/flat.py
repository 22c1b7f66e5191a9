"""Flat (one row per application) views of applications and decisions, for populations.

The columnar world (Parquet, Polars, simulation, export) uses dotted column names, as
the data contract (docs/contract.md) does for CSV: ``storage.discharged_kwh`` in, ``storage_subsidy.amount`` out.
Deciding such rows is the backends' business (``engine.backends.decide_frame``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.contract.application import FIELDS

#: Output columns per outcome: status (text), amount (decimal text or null), reasons (codes joined by ';').
OUTCOME_COLUMNS = ("status", "amount", "reasons")


def result_columns(book) -> list[str]:
    cols = ["application_id", "region_code", "evaluated_on"]
    for o in book.outcomes:
        cols += [f"{o.name}.{c}" for c in OUTCOME_COLUMNS]
    return cols + ["totals.subsidy_yuan", "totals.levy_yuan", "error"]


def flatten_decision(decision: Mapping[str, Any], region_code: str | None = None) -> dict:
    row = {
        "application_id": decision["application_id"],
        "region_code": region_code,
        "evaluated_on": decision["evaluated_on"],
    }
    for name, out in decision["outcomes"].items():
        row[f"{name}.status"] = out["status"]
        row[f"{name}.amount"] = out["amount"]
        row[f"{name}.reasons"] = ";".join(r["code"] for r in out["reasons"])
    row["totals.subsidy_yuan"] = decision["totals"]["subsidy_yuan"]
    row["totals.levy_yuan"] = decision["totals"]["levy_yuan"]
    row["error"] = None
    return row


def flatten(doc: dict, prefix: str = "", out: dict | None = None) -> dict:
    """A nested document to dotted keys (``{"storage": {"discharged_kwh": x}}`` -> ``storage.discharged_kwh``)."""
    out = {} if out is None else out
    for k, v in doc.items():
        if isinstance(v, dict):
            flatten(v, f"{prefix}{k}.", out)
        else:
            out[f"{prefix}{k}"] = v
    return out


def document_from_flat(row: dict) -> dict:
    """A flat record (dotted keys, typed or text values) to a nested application document.

    A null or empty value means absent, so an absent section has every column null.
    """
    doc: dict = {}
    for column, value in row.items():
        if value is None or value == "" or column not in FIELDS:
            continue
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, float):  # never expected: populations store decimals exactly
            raise TypeError(f"{column}: binary float in population data")
        node = doc
        parts = column.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return doc
