"""What the rulebook decides while some fields are unknown, by reasoning over the rules themselves.

Each unknown field stands for every value the contract allows it (engine/partial/domains); each
term of the rule language is evaluated to an exact interval of the values it can take, each test
to the set of truth values it can have, and each outcome, in the rulebook's order, to the set of
statuses it can reach and the range of its amount -- the way the engines decide it: the first
exemption that fails makes it not applicable, every failing criterion is a reason, the first
table row whose minimum the input reaches is the tier, the amount is rounded half up once and
then capped. A status test on an earlier outcome reads the statuses that outcome can reach.

The analysis never samples and never guesses: where it cannot tell (two operands that depend on
the same field are taken as independent), it keeps every possibility, so an outcome it calls
settled is the same for every completion of the application, and an outcome none of whose
fields is unknown is evaluated exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from engine.partial.domains import BOOLEANS, Labels, domain
from engine.partial.intervals import Interval, add, div, hull, maximum, minimum, mul, neg, rounded
from engine.rulebook.comparisons import COMPARISONS
from engine.rulebook.expressions import (
    All,
    AnyOf,
    Arith,
    Compare,
    Const,
    Field,
    Hit,
    Label,
    Lookup,
    Not,
    Param,
    Present,
    Status,
    TableOutput,
    Truth,
    Var,
)
from engine.rulebook.loader import STATUSES, Criterion, Exemption, Outcome, Row, Rulebook

TRUE, FALSE = frozenset({True}), frozenset({False})
BOTH = frozenset({True, False})


@dataclass(frozen=True)
class Facts:
    """What is known of one application: its fields (None where unknown), the sections it
    declares, the parameters in force on its date."""

    fields: dict
    unknown: frozenset
    present: frozenset
    params: dict
    literals: dict
    when: dt.date


@dataclass(frozen=True)
class TableResult:
    input: Interval
    rows: tuple  # the rows that can be hit, in order
    none: bool  # whether no row may be hit
    output: Interval | None  # the outputs of the rows that can be hit


@dataclass
class OutcomeAnalysis:
    """The statuses an outcome can reach, and what is certain about it."""

    outcome: Outcome
    statuses: tuple  # the statuses it can reach, in the outcome's order
    amount: Interval | None = None  # granted or levied amount, in units of 10**-places (None: no amount)
    exemption: Exemption | None = None  # an exemption that fails whatever the unknowns are (the reason of n/a)
    truths: tuple = ()  # (criterion, truth values) when the outcome may apply
    rows: dict = field(default_factory=dict)  # table name -> the row it hits, when there is one
    uncapped: Interval | None = None
    cap: Interval | None = None
    capped: frozenset = FALSE
    needs: frozenset = frozenset()  # unknown fields that could change its status, amount or reasons
    reads: frozenset = frozenset()  # every field it reads, through the outcomes it depends on
    env: Any = None  # the abstract environment it was evaluated in (its variables)

    @property
    def settled(self) -> bool:
        if len(self.statuses) != 1:
            return False
        ok = STATUSES[self.outcome.kind][0]
        return (
            self.statuses[0] != ok or self.outcome.amount is None or (self.amount is not None and self.amount.is_point)
        )

    @property
    def failing(self) -> list[Criterion]:
        """The criteria that fail whatever the unknowns are (each a reason of a denial)."""
        return [c for c, t in self.truths if t == FALSE]

    def amount_range(self) -> Interval | None:
        """The amounts the outcome can end with over the statuses it can reach (None: no amount)."""
        o = self.outcome
        if o.amount is None:
            return None
        ok, ko = STATUSES[o.kind]
        parts = []
        if ko in self.statuses:
            parts.append(Interval.point(Fraction(0)))
        if ok in self.statuses and self.amount is not None:
            parts.append(self.amount)
        if ok in self.statuses and self.amount is None:
            parts.append(Interval.everything(undefined=True))
        return hull(parts) if parts else None


class _Env:
    """What one outcome's terms read, as abstract values."""

    def __init__(self, facts: Facts, status: dict):
        self.facts = facts
        self.status = status  # outcome -> statuses it can reach
        self.vars: dict = {}
        self.tables: dict = {}
        self.hit_assumed = False  # inside the amount: the outcome is granted, so its tables hit


# --- terms ------------------------------------------------------------------------
_OPS = {"add": add, "sub": lambda a, b: add(a, neg(b)), "mul": mul, "div": div, "min": minimum, "max": maximum}


def term(node, env: _Env):
    """The values ``node`` can take: an Interval for a number, Labels for a label."""
    if isinstance(node, Const):
        return Interval.point(node.number)
    if isinstance(node, Param):
        return Interval.point(env.facts.params[node.name])
    if isinstance(node, Field):
        value = env.facts.fields.get(node.path)
        if node.path in env.facts.unknown:
            return domain(node.path)
        if value is None:
            return Interval.everything(undefined=True)
        return Interval.point(value) if not isinstance(value, (bool, str)) else Labels(frozenset({value}))
    if isinstance(node, Var):
        return env.vars[node.name]
    if isinstance(node, TableOutput):
        result = env.tables[node.table]
        if result.output is None:
            return Interval.everything(undefined=True)
        if result.none and not env.hit_assumed:
            return Interval(result.output.lo, result.output.lo_closed, result.output.hi, result.output.hi_closed, True)
        return result.output
    if isinstance(node, Label):
        return Labels(frozenset({node.text}))
    if isinstance(node, Lookup):
        table = env.facts.params[node.param]
        if node.key.path in env.facts.unknown:
            return hull([Interval.point(v) for v in table.values()])
        return Interval.point(table.get(env.facts.fields.get(node.key.path), table["default"]))
    if isinstance(node, Arith):
        vals = [term(a, env) for a in node.args]
        acc = vals[0]
        for v in vals[1:]:
            acc = _OPS[node.op](acc, v)
        return acc
    raise TypeError(f"not a term: {node!r}")


# --- tests ------------------------------------------------------------------------
def truth(test, env: _Env) -> frozenset:
    """The truth values ``test`` can have (None: it may be undefined, as a comparison of a value
    that does not exist)."""
    out: set[bool | None]
    if isinstance(test, Compare):
        left, right = term(test.left, env), term(test.right, env)
        if isinstance(left, Labels) or isinstance(right, Labels):
            return _label_truth(test.op, left, right)
        d = add(left, neg(right))
        holds = COMPARISONS[test.op].holds
        out = {bool(holds(s, 0)) for s in d.signs()}
        if d.undefined:
            out.add(None)
        return frozenset(out)
    if isinstance(test, Truth):
        path = test.field.path
        if path in env.facts.unknown:
            return BOOLEANS
        value = env.facts.fields.get(path)
        return frozenset({None if value is None else value is test.expected})
    if isinstance(test, Present):
        return TRUE if test.section in env.facts.present else FALSE
    if isinstance(test, Hit):
        result = env.tables[test.table]
        return frozenset(([True] if result.rows else []) + ([False] if result.none else []))
    if isinstance(test, Status):
        return frozenset(s in test.allowed for s in env.status[test.outcome])
    if isinstance(test, (All, AnyOf)):
        # All can come out True only if every part can, and False if any part can; AnyOf the
        # other way round; either is unknown if any part may be
        parts = [truth(t, env) for t in test.tests]
        every, some = (True, False) if isinstance(test, All) else (False, True)
        out = {value for value, quantifier in ((every, all), (some, any)) if quantifier(value in p for p in parts)}
        if any(None in p for p in parts):
            out.add(None)
        return frozenset(out)
    if isinstance(test, Not):
        return frozenset(None if v is None else not v for v in truth(test.test, env))
    raise TypeError(f"not a test: {test!r}")


def _label_truth(op: str, left, right) -> frozenset:
    if not (isinstance(left, Labels) and isinstance(right, Labels)):
        return frozenset({True, False, None})
    if left.values is None or right.values is None:
        return BOTH
    equal = {a == b for a in left.values for b in right.values}
    return frozenset(equal if op == "eq" else {not e for e in equal})


# --- tables -----------------------------------------------------------------------
def table(t, env: _Env) -> TableResult:
    """The rows of a hit-policy-first table that its input can reach."""
    value = term(t.input, env)
    mins = [term(r.min, env) for r in t.rows]
    rows: list[Row] = []
    if not value.undefined and all(m.is_point for m in mins):
        # row j is hit by the inputs in [min_j, min of the rows before it)
        ceiling: tuple = (None, False)
        for r, m in zip(t.rows, mins):
            if (ceiling[0] is None or m.lo < ceiling[0]) and value.meets((m.lo, True), ceiling):
                rows.append(r)
            if ceiling[0] is None or m.lo < ceiling[0]:
                ceiling = (m.lo, False)
        none = value.meets((None, False), ceiling)
    else:
        reach = True  # every earlier row may fail
        for r in t.rows:
            passes = truth(Compare("gte", t.input, r.min), env)
            if reach and True in passes:
                rows.append(r)
            reach = reach and (False in passes or None in passes)
        none = reach
    output = hull([term(r.output, env) for r in rows]) if rows else None
    return TableResult(value, tuple(rows), none, output)


# --- the fields a node reads ---------------------------------------------------------
_READ: dict = {}


def fields_read(node, o: Outcome) -> frozenset:
    """Every field ``node`` reads, through the outcome's variables and tables (not through the
    outcomes its status tests read). The rule trees never change: each answer is kept (keyed by
    identity, the nodes kept alive with it)."""
    key = (id(node), id(o))
    hit = _READ.get(key)
    if hit is None or hit[0] is not node or hit[1] is not o:
        hit = _READ[key] = (node, o, frozenset(_fields_read(node, o)))
    return hit[2]


def table_fields(t, o: Outcome) -> frozenset:
    """Every field a table of ``o`` reads: its input, its rows' minimums and outputs."""
    nodes = (t.input, *(r.min for r in t.rows), *(r.output for r in t.rows))
    return frozenset().union(*(fields_read(n, o) for n in nodes))


def _fields_read(node, o: Outcome) -> set:
    lets = dict(o.lets)
    tables = {t.name: t for t in o.tables}
    out: set = set()
    todo = [node]
    seen: set = set()
    while todo:
        n = todo.pop()
        for kind, name in n.refs():
            if (kind, name) in seen:
                continue
            seen.add((kind, name))
            if kind == "field":
                out.add(name)
            elif kind == "var" and name in lets:
                todo.append(lets[name])
            elif kind == "table" and name in tables:
                t = tables[name]
                todo += [t.input, *(r.min for r in t.rows), *(r.output for r in t.rows)]
    return out


# --- outcomes ---------------------------------------------------------------------
def outcome_reads(book: Rulebook) -> dict[str, frozenset]:
    """outcome -> every field it reads, through the outcomes its status tests read."""
    cached = book.__dict__.get("_partial_reads")
    if cached is not None:
        return cached
    out: dict[str, frozenset] = {}
    for o in book.outcomes:
        reads: set = set()
        nodes = [e.when for e in (*book.exceptions, *o.applies)] + [t for _, t in o.lets]
        nodes += [c.test for c in o.criteria]
        if o.amount is not None:
            nodes += [o.amount.formula] + ([o.amount.cap] if o.amount.cap is not None else [])
        for n in nodes:
            reads |= fields_read(n, o)
        for t in o.tables:
            reads |= table_fields(t, o)
        for c in o.criteria:
            if isinstance(c.test, Status):
                reads |= out[c.test.outcome]
        out[o.name] = frozenset(reads)
    book.__dict__["_partial_reads"] = out
    return out


def analyze(book: Rulebook, facts: Facts, known: dict | None = None) -> dict[str, OutcomeAnalysis]:
    """Every outcome of ``book`` for these facts, in the rulebook's order. ``known``: outcome ->
    status of outcomes already decided exactly (none of their fields unknown), taken as they are."""
    status: dict = {}
    out: dict[str, OutcomeAnalysis] = {}
    reads = outcome_reads(book)
    for o in book.outcomes:
        if known and o.name in known:
            a = OutcomeAnalysis(o, (known[o.name],), reads=reads[o.name])
        else:
            a = _outcome(book, o, facts, status, out, reads[o.name])
        out[o.name] = a
        status[o.name] = frozenset(a.statuses)
    return out


def _outcome(book: Rulebook, o: Outcome, facts: Facts, status: dict, done: dict, reads: frozenset) -> OutcomeAnalysis:
    env = _Env(facts, status)
    unknown = facts.unknown
    ok, ko = STATUSES[o.kind]
    exemptions = [*book.exceptions, *o.applies]
    needs: set = set()
    result = OutcomeAnalysis(o, (), reads=reads, env=env)
    statuses = set()
    reach = True  # every exemption so far may hold
    for e in exemptions:
        values = truth(e.when, env)
        if len(values) > 1:
            needs |= fields_read(e.when, o) & unknown
        if False in values or None in values:
            statuses.add("not_applicable")
            if values == FALSE:
                result.exemption = e
        if True not in values:
            reach = False
            break
    if reach:  # it may apply
        for name, t in o.lets:
            env.vars[name] = term(t, env)
        for t in o.tables:
            env.tables[t.name] = table(t, env)
        truths = []
        for c in o.criteria:
            values = truth(c.test, env)
            truths.append((c, values))
            if len(values) > 1:
                if isinstance(c.test, Status):
                    needs |= done[c.test.outcome].needs
                else:
                    needs |= fields_read(c.test, o) & unknown
        result.truths = tuple(truths)
        if any(False in v for _, v in truths):
            statuses.add(ko)
        if all(True in v or None in v for _, v in truths):
            statuses.add(ok)
            needs |= _granted(o, env, result, unknown)
    result.statuses = tuple(s for s in o.statuses if s in statuses)
    result.needs = frozenset(needs)
    return result


def _granted(o: Outcome, env: _Env, result: OutcomeAnalysis, unknown: frozenset) -> set:
    """Tiers, amount and cap when the outcome is granted (or levied); the unknown fields they read
    that leave the tier, the amount or the cap undecided."""
    needs: set = set()
    for t in o.tables:
        r = env.tables[t.name]
        if len(r.rows) == 1 and not r.none:
            result.rows[t.name] = r.rows[0]
        elif len(r.rows) > 1:
            needs |= table_fields(t, o) & unknown
    if o.amount is None:
        return needs
    env.hit_assumed = True
    places = o.amount.places
    value = rounded(term(o.amount.formula, env), places)
    amount = value
    if o.amount.cap is not None:
        cap = rounded(term(o.amount.cap, env), places)
        result.uncapped, result.cap = value, cap
        result.capped = frozenset(s > 0 for s in add(value, neg(cap)).signs())
        amount = minimum(value, cap)
        if len(result.capped) > 1:
            needs |= (fields_read(o.amount.formula, o) | fields_read(o.amount.cap, o)) & unknown
    env.hit_assumed = False
    result.amount = None if amount.undefined else amount
    if not amount.is_point:
        needs |= fields_read(o.amount.formula, o) & unknown
        if o.amount.cap is not None:
            needs |= fields_read(o.amount.cap, o) & unknown
    return needs


def facts_of(book: Rulebook, fields: dict, present: Iterable[str], unknown: Iterable[str], when: dt.date) -> Facts:
    """The facts of an application on its date (``fields`` as ``field_values`` reads them)."""
    unknown = frozenset(unknown)
    params = book.values_at(when)
    literals = {n: p.literal_at(when) for n, p in book.params.items() if not p.index}
    known = {p: (None if p in unknown else v) for p, v in fields.items()}
    return Facts(known, unknown, frozenset(present), params, literals, when)
