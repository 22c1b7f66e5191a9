"""The data contract: the application model (pydantic, exact decimals, the credit-code check), the decision
document's shape and the annotations that extend it, and the flat (dotted-column) views of both.
"""

from __future__ import annotations

from engine.lazy import lazy_exports

__all__ = [
    "Application",
    "CONTRACT",
    "Decision",
    "FIELDS",
    "OUTCOME_COLUMNS",
    "OutcomeDoc",
    "Reason",
    "SECTIONS",
    "USCC_ALPHABET",
    "USCC_WEIGHTS",
    "decision_schema",
    "document_from_flat",
    "flatten",
    "flatten_decision",
    "loads_exact",
    "parse_application",
    "result_columns",
    "validate_decision",
    "validation_errors",
    "with_history",
    "with_metering",
    "with_reasons",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Application": "application",
        "FIELDS": "application",
        "SECTIONS": "application",
        "parse_application": "application",
        "loads_exact": "application",
        "validation_errors": "application",
        "USCC_ALPHABET": "application",
        "USCC_WEIGHTS": "application",
        "CONTRACT": "decision",
        "Decision": "decision",
        "OutcomeDoc": "decision",
        "Reason": "decision",
        "with_reasons": "decision",
        "with_history": "decision",
        "with_metering": "decision",
        "validate_decision": "decision",
        "decision_schema": "decision",
        "flatten": "flat",
        "flatten_decision": "flat",
        "document_from_flat": "flat",
        "result_columns": "flat",
        "OUTCOME_COLUMNS": "flat",
    },
)
