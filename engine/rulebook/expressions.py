"""The rule language: conditions and formulas as YAML data, parsed to a small tree.

Nothing read from a file is executed. A term is one of
  - a name: a field (``storage.discharged_kwh``), a parameter (``storage_subsidy.annual_cap``),
    a ``let`` variable of the outcome, or a table of the outcome (its output);
  - a quoted decimal literal (``"0"``, ``"1000"``) or ``{label: sme}``;
  - ``{add|sub|mul|div|min|max: [terms]}`` or ``{lookup: [indexed_parameter, key_field]}``.
A test is ``{gte|gt|lte|lt|eq|neq: [a, b]}``, ``{is_true: field}``, ``{is_false: field}``,
``{present: section}``, ``{hit: table}``, ``{status: {outcome: o, in|not_in: [..]}}``,
or ``{all|any: [tests]}`` / ``{not: test}``.
Every node is a pure function of the application's fields and the parameters, so the same
tree compiles to the Rete network and to a columnar backend.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from typing import Any

from engine.decimals import fraction_of_ratio, to_fraction
from engine.errors import BadExpressionError, UnknownReferenceError
from engine.rulebook.comparisons import COMPARISONS

_NUMBER = re.compile(r"^[-+]?[0-9]+(\.[0-9]+)?$")


# --- terms -----------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    path: str
    kind: str

    def value(self, env):
        return env.fields.get(self.path)

    def compile(self):
        path = self.path
        return lambda env: env.fields.get(path)

    def refs(self):
        return {("field", self.path)}


@dataclass(frozen=True)
class Param:
    name: str

    def value(self, env):
        return env.params[self.name]

    def compile(self):
        name = self.name
        return lambda env: env.params[name]

    def refs(self):
        return {("param", self.name)}


@dataclass(frozen=True)
class Var:
    name: str

    def value(self, env):
        return env.vars.get(self.name)

    def compile(self):
        name = self.name
        return lambda env: env.vars.get(name)

    def refs(self):
        return {("var", self.name)}


@dataclass(frozen=True)
class TableOutput:
    table: str

    def value(self, env):
        hit = env.tables.get(self.table)
        return None if hit is None else hit[1]

    def compile(self):
        table = self.table

        def run(env):
            hit = env.tables.get(table)
            return None if hit is None else hit[1]

        return run

    def refs(self):
        return {("table", self.table)}


@dataclass(frozen=True)
class Const:
    number: Fraction

    def value(self, env):
        return self.number

    def compile(self):
        number = self.number
        return lambda env: number

    def refs(self):
        return set()


@dataclass(frozen=True)
class Label:
    text: str

    def value(self, env):
        return self.text

    def compile(self):
        text = self.text
        return lambda env: text

    def refs(self):
        return set()


@dataclass(frozen=True)
class Lookup:
    param: str
    key: Field

    def value(self, env):
        table = env.params[self.param]
        key = self.key.value(env)
        return table.get(key, table["default"])

    def compile(self):
        param, key = self.param, self.key.compile()

        def run(env):
            table = env.params[param]
            return table.get(key(env), table["default"])

        return run

    def refs(self):
        return {("param", self.param)} | self.key.refs()


def _min(*xs):
    return min(xs)


def _max(*xs):
    return max(xs)


def _fold(fn):
    def run(*xs):
        acc = xs[0]
        for x in xs[1:]:
            acc = fn(acc, x)
        return acc

    return run


ARITH: dict[str, Callable] = {
    "add": _fold(operator.add),
    "sub": _fold(operator.sub),
    "mul": _fold(operator.mul),
    "div": _fold(operator.truediv),
    "min": _min,
    "max": _max,
}
# Two-argument forms with the same results as ARITH (min/max of two return the same object).
_BINARY: dict[str, Callable] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "min": min,
    "max": max,
}


# The same algorithms as fractions.Fraction's _add/_sub/_mul/_div, for two Fractions, minus the
# operator fallbacks' type dispatch and the constructor's checks. A Fraction in lowest terms is
# unique, so the results are the very same values (tests/test_rete_fastpaths.py compares them).
def _frac_add(a, b):
    na, da, nb, db = a._numerator, a._denominator, b._numerator, b._denominator
    g = gcd(da, db)
    if g == 1:
        return fraction_of_ratio(na * db + da * nb, da * db)
    s = da // g
    t = na * (db // g) + nb * s
    g2 = gcd(t, g)
    if g2 == 1:
        return fraction_of_ratio(t, s * db)
    return fraction_of_ratio(t // g2, s * (db // g2))


def _frac_sub(a, b):
    na, da, nb, db = a._numerator, a._denominator, b._numerator, b._denominator
    g = gcd(da, db)
    if g == 1:
        return fraction_of_ratio(na * db - da * nb, da * db)
    s = da // g
    t = na * (db // g) - nb * s
    g2 = gcd(t, g)
    if g2 == 1:
        return fraction_of_ratio(t, s * db)
    return fraction_of_ratio(t // g2, s * (db // g2))


def _frac_mul(a, b):
    na, da, nb, db = a._numerator, a._denominator, b._numerator, b._denominator
    g1 = gcd(na, db)
    if g1 > 1:
        na //= g1
        db //= g1
    g2 = gcd(nb, da)
    if g2 > 1:
        nb //= g2
        da //= g2
    return fraction_of_ratio(na * nb, db * da)


def _frac_div(a, b):  # b != 0
    na, da, nb, db = a._numerator, a._denominator, b._numerator, b._denominator
    g1 = gcd(na, nb)
    if g1 > 1:
        na //= g1
        nb //= g1
    g2 = gcd(db, da)
    if g2 > 1:
        da //= g2
        db //= g2
    n, d = na * db, nb * da
    if d < 0:
        n, d = -n, -d
    return fraction_of_ratio(n, d)


def _frac_min(a, b):  # min(a, b): the first unless the second is smaller
    return b if b._numerator * a._denominator < a._numerator * b._denominator else a


def _frac_max(a, b):  # max(a, b): the first unless the second is larger
    return b if b._numerator * a._denominator > a._numerator * b._denominator else a


_FRACTION_BINARY: dict[str, Callable] = {
    "add": _frac_add,
    "sub": _frac_sub,
    "mul": _frac_mul,
    "div": _frac_div,
    "min": _frac_min,
    "max": _frac_max,
}


@dataclass(frozen=True)
class Arith:
    op: str
    args: tuple

    def value(self, env):
        vals = [a.value(env) for a in self.args]
        if any(v is None for v in vals):
            return None
        if self.op == "div" and any(v == 0 for v in vals[1:]):
            return None  # undefined; contract bounds (baseline_peak_kw > 0) keep this unreachable
        return ARITH[self.op](*vals)

    def compile(self):
        """The same function as ``value``, as nested closures (no tree walk, no dispatch per call)."""
        fns = tuple(a.compile() for a in self.args)
        op = self.op
        if len(fns) == 2 and op in _BINARY:
            f, g = fns
            fast = _FRACTION_BINARY[op]
            if op == "div":

                def run(env):
                    a, b = f(env), g(env)
                    if type(a) is Fraction and type(b) is Fraction:
                        return None if b._numerator == 0 else _frac_div(a, b)
                    if a is None or b is None or b == 0:
                        return None
                    return a / b

                return run
            fn = _BINARY[op]

            def run(env):
                a, b = f(env), g(env)
                if type(a) is Fraction and type(b) is Fraction:
                    return fast(a, b)
                if a is None or b is None:
                    return None
                return fn(a, b)

            return run
        value = self.value
        return value  # three or more arguments: rare, the tree walk is fine

    def fold(self, vals, add, mul, div, pick):
        """``vals`` (this node's arguments in another representation: Polars columns, kernel
        registers) combined left to right with that representation's operations; ``add`` takes
        ``negate=True`` for sub, ``pick`` takes ``smaller=`` for min/max."""
        acc = vals[0]
        for v in vals[1:]:
            if self.op == "add":
                acc = add(acc, v)
            elif self.op == "sub":
                acc = add(acc, v, negate=True)
            elif self.op == "mul":
                acc = mul(acc, v)
            elif self.op == "div":
                acc = div(acc, v)
            else:
                acc = pick(acc, v, smaller=self.op == "min")
        return acc

    def refs(self):
        return set().union(*(a.refs() for a in self.args))


# --- tests -----------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    op: str
    left: Any
    right: Any

    def holds(self, env):
        a, b = self.left.value(env), self.right.value(env)
        if a is None or b is None:
            return None
        return COMPARISONS[self.op].holds(a, b)

    def refs(self):
        return self.left.refs() | self.right.refs()


@dataclass(frozen=True)
class Truth:
    field: Field
    expected: bool

    def holds(self, env):
        v = self.field.value(env)
        return None if v is None else v is self.expected

    def refs(self):
        return self.field.refs()


@dataclass(frozen=True)
class Present:
    section: str

    def holds(self, env):
        return self.section in env.present

    def refs(self):
        return {("section", self.section)}


@dataclass(frozen=True)
class Hit:
    table: str

    def holds(self, env):
        return env.tables.get(self.table) is not None

    def refs(self):
        return {("table", self.table)}


@dataclass(frozen=True)
class Status:
    outcome: str
    allowed: frozenset

    def holds(self, env):
        return env.status[self.outcome] in self.allowed

    def refs(self):
        return {("outcome", self.outcome)}


@dataclass(frozen=True)
class All:
    tests: tuple

    def holds(self, env):
        return all(t.holds(env) for t in self.tests)

    def refs(self):
        return set().union(*(t.refs() for t in self.tests))


@dataclass(frozen=True)
class AnyOf:
    tests: tuple

    def holds(self, env):
        return any(t.holds(env) for t in self.tests)

    def refs(self):
        return set().union(*(t.refs() for t in self.tests))


@dataclass(frozen=True)
class Not:
    test: Any

    def holds(self, env):
        return not self.test.holds(env)

    def refs(self):
        return self.test.refs()


# --- parsing ---------------------------------------------------------------------
@dataclass
class Scope:
    """What names a rule may use, and where errors should point."""

    file: str
    fields: dict  # path -> kind
    params: dict  # name -> Parameter
    sections: tuple
    vars: set
    tables: set
    outcomes: dict  # outcome -> allowed statuses (outcomes decided earlier only)


def _single(raw, scope, key):
    if not isinstance(raw, dict) or len(raw) != 1:
        raise BadExpressionError(scope.file, key, f"expected a one-key mapping, got {raw!r}")
    return next(iter(raw.items()))


def parse_term(raw, scope: Scope, key: str):
    if isinstance(raw, str):
        if _NUMBER.match(raw):
            return Const(to_fraction(raw))
        if raw in scope.vars:
            return Var(raw)
        if raw in scope.tables:
            return TableOutput(raw)
        if raw in scope.fields:
            kind = scope.fields[raw]
            if kind not in ("decimal", "integer"):
                raise BadExpressionError(scope.file, key, f"field {raw} is a {kind}, not a number")
            return Field(raw, kind)
        if raw in scope.params:
            if scope.params[raw].index:
                raise BadExpressionError(
                    scope.file,
                    key,
                    f"parameter {raw} is indexed by {scope.params[raw].index}; "
                    f"use {{lookup: [{raw}, {scope.params[raw].index}]}}",
                )
            return Param(raw)
        raise UnknownReferenceError(scope.file, key, f"unknown name {raw!r}: not a field, parameter, variable or table")
    if isinstance(raw, bool) or not isinstance(raw, dict):
        raise BadExpressionError(scope.file, key, f"expected a name, a quoted number or an operation, got {raw!r}")
    op, args = _single(raw, scope, key)
    here = f"{key}.{op}"
    if op == "label":
        if not isinstance(args, str):
            raise BadExpressionError(scope.file, here, "a label is text")
        return Label(args)
    if op == "lookup":
        if not (isinstance(args, list) and len(args) == 2 and all(isinstance(a, str) for a in args)):
            raise BadExpressionError(scope.file, here, "expected [indexed_parameter, key_field]")
        pname, fname = args
        if pname not in scope.params:
            raise UnknownReferenceError(scope.file, here, f"unknown parameter {pname!r}")
        if fname not in scope.fields:
            raise UnknownReferenceError(scope.file, here, f"unknown field {fname!r}")
        if scope.params[pname].index != fname:
            raise BadExpressionError(scope.file, here, f"parameter {pname} is not indexed by {fname}")
        return Lookup(pname, Field(fname, scope.fields[fname]))
    if op in ARITH:
        if not isinstance(args, list) or len(args) < 2:
            raise BadExpressionError(scope.file, here, "expected a list of at least two terms")
        return Arith(op, tuple(parse_term(a, scope, f"{here}[{i}]") for i, a in enumerate(args)))
    raise BadExpressionError(
        scope.file, here, f"unknown operation {op!r} (expected one of {', '.join([*ARITH, 'lookup', 'label'])})"
    )


def _field_of_kind(name, scope, key, kinds):
    if name not in scope.fields:
        raise UnknownReferenceError(scope.file, key, f"unknown field {name!r}")
    if scope.fields[name] not in kinds:
        raise BadExpressionError(scope.file, key, f"field {name} is a {scope.fields[name]}, expected {'/'.join(kinds)}")
    return Field(name, scope.fields[name])


def parse_test(raw, scope: Scope, key: str, top: bool = True):
    op, args = _single(raw, scope, key)
    here = f"{key}.{op}"
    if op in COMPARISONS:
        if not isinstance(args, list) or len(args) != 2:
            raise BadExpressionError(scope.file, here, "expected [left, right]")
        if isinstance(args[1], dict) and "label" in args[1]:
            left = _field_of_kind(args[0], scope, f"{here}[0]", ("label", "text"))
            if op not in ("eq", "neq"):
                raise BadExpressionError(scope.file, here, "labels compare only with eq/neq")
            return Compare(op, left, parse_term(args[1], scope, f"{here}[1]"))
        return Compare(op, parse_term(args[0], scope, f"{here}[0]"), parse_term(args[1], scope, f"{here}[1]"))
    if op in ("is_true", "is_false"):
        return Truth(_field_of_kind(args, scope, here, ("boolean",)), op == "is_true")
    if op == "present":
        if args not in scope.sections:
            raise UnknownReferenceError(
                scope.file, here, f"unknown section {args!r} (expected one of {', '.join(scope.sections)})"
            )
        return Present(args)
    if op == "hit":
        if args not in scope.tables:
            raise UnknownReferenceError(scope.file, here, f"unknown table {args!r}")
        return Hit(args)
    if op == "status":
        if not top:
            raise BadExpressionError(scope.file, here, "a status test must stand alone, not inside all/any/not")
        if (
            not isinstance(args, dict)
            or set(args) - {"outcome", "in", "not_in"}
            or "outcome" not in args
            or len(set(args) & {"in", "not_in"}) != 1
        ):
            raise BadExpressionError(
                scope.file, here, "expected {outcome: name, in: [statuses]} or {outcome: name, not_in: [statuses]}"
            )
        outcome = args["outcome"]
        if outcome not in scope.outcomes:
            raise UnknownReferenceError(
                scope.file,
                f"{here}.outcome",
                f"unknown outcome {outcome!r} (an outcome may depend only on outcomes decided before it)",
            )
        valid = scope.outcomes[outcome]
        listed = args.get("in", args.get("not_in"))
        if not isinstance(listed, list) or not set(listed) <= valid:
            raise BadExpressionError(scope.file, here, f"statuses must be a list drawn from {sorted(valid)}")
        allowed = frozenset(listed) if "in" in args else frozenset(valid - set(listed))
        return Status(outcome, allowed)
    if op in ("all", "any"):
        if not isinstance(args, list) or not args:
            raise BadExpressionError(scope.file, here, "expected a non-empty list of tests")
        parts = tuple(parse_test(a, scope, f"{here}[{i}]", top=False) for i, a in enumerate(args))
        return All(parts) if op == "all" else AnyOf(parts)
    if op == "not":
        return Not(parse_test(args, scope, here, top=False))
    raise BadExpressionError(
        scope.file,
        here,
        f"unknown test {op!r} (expected one of "
        f"{', '.join([*COMPARISONS, 'is_true', 'is_false', 'present', 'hit', 'status', 'all', 'any', 'not'])})",
    )


def walk(node):
    """Every node of a tree, depth first (the Rete and columnar compilers both use it)."""
    yield node
    for child in ("args", "tests"):
        for sub in getattr(node, child, ()):
            yield from walk(sub)
    for child in ("left", "right", "test", "key", "field"):
        sub = getattr(node, child, None)
        if sub is not None and not isinstance(sub, (str, bool)):
            yield from walk(sub)
