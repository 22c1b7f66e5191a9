"""The rulebook: strict loading of the rule files (YAML, parameters keyed by date, the rule language,
reforms), the comparison vocabulary, the neutral evaluator every consumer reads values through, the
authoring checks of ``rules validate`` and the generated reference of ``rules doc``.
"""

from __future__ import annotations

from engine.lazy import lazy_exports

__all__ = [
    "COMPARISONS",
    "Comparison",
    "DEFAULT_RULES",
    "Env",
    "FIELD_RANGES",
    "Finding",
    "Outcome",
    "Parameter",
    "Reform",
    "Rulebook",
    "STATUSES",
    "compile_rulebook",
    "digest_of",
    "display",
    "field_values",
    "load_reform",
    "load_rulebook",
    "load_yaml",
    "parse_date",
    "read_files",
    "ref_values",
    "rulebook_markdown",
    "validate",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Rulebook": "loader",
        "Outcome": "loader",
        "load_rulebook": "loader",
        "compile_rulebook": "loader",
        "read_files": "loader",
        "digest_of": "loader",
        "DEFAULT_RULES": "loader",
        "STATUSES": "loader",
        "Reform": "reforms",
        "load_reform": "reforms",
        "COMPARISONS": "comparisons",
        "Comparison": "comparisons",
        "Env": "evaluate",
        "field_values": "evaluate",
        "display": "evaluate",
        "ref_values": "evaluate",
        "validate": "checks",
        "Finding": "checks",
        "FIELD_RANGES": "checks",
        "rulebook_markdown": "doc",
        "load_yaml": "yamlfile",
        "Parameter": "parameters",
        "parse_date": "parameters",
    },
)
