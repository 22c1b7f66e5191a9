"""The comparison vocabulary of the rule language, in one table.

A criterion's ``gte`` is read here by every consumer: the evaluator (``holds``), the Rete
compiler (its durable_rules operator and the negation that makes its failing pattern), the
columnar compilers (the same ``holds`` on Polars expressions), the authoring checks (a test
with its sides swapped: ``mirrored``), and notices and why-not (``symbol``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import NamedTuple


class Comparison(NamedTuple):
    name: str
    symbol: str
    holds: Callable  # works on Fractions and on Polars expressions alike
    negation: str  # not (a OP b)  ==  a NEGATION b
    mirrored: str  # a OP b        ==  b MIRRORED a


COMPARISONS: dict[str, Comparison] = {
    c.name: c
    for c in (
        Comparison("gte", "≥", operator.ge, negation="lt", mirrored="lte"),
        Comparison("gt", ">", operator.gt, negation="lte", mirrored="lt"),
        Comparison("lte", "≤", operator.le, negation="gt", mirrored="gte"),
        Comparison("lt", "<", operator.lt, negation="gte", mirrored="gt"),
        Comparison("eq", "=", operator.eq, negation="neq", mirrored="eq"),
        Comparison("neq", "≠", operator.ne, negation="eq", mirrored="neq"),
    )
}
