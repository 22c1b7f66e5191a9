"""The rulebook compiled to a register program for the native kernel (engine/backends/columnar/kernel/).

The same tree and the same semantics as the Polars compiler (engine/backends/columnar/frame.py), emitted as
rows of integers ``(opcode, dst, a, b, c, d)`` over int64 registers, each with a validity flag,
instead of Polars expressions. Nothing is generated as source: the kernel is one fixed
interpreter, and the program is data.

Exactness: a value is a rational (numerator, denominator) of registers or folded constants,
as in engine/backends/columnar/exact.py. Every register carries an upper bound of its magnitude,
derived from per-field input limits; a program whose bound reaches 2**62 anywhere is refused
(``TooWide``), so the kernel never wraps. Rows whose inputs exceed the limits are not decided
by the kernel (the Polars path with Int128, or the Rete engine, decides them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from math import lcm

import numpy as np

from engine.backends.columnar.opcodes import Op
from engine.decimals import round_half_up as exact_round
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

FIT = 2**62

_CMP = {"lt": Op.LT, "lte": Op.LE, "gt": Op.GT, "gte": Op.GE, "eq": Op.EQ, "neq": Op.NE}


class TooWide(Exception):
    """An intermediate could reach 2**62 under the given input limits; ``fields``: the input
    fields whose limits it depends on (the ones to lower)."""

    def __init__(self, bound, fields=frozenset()):
        super().__init__(bound)
        self.fields = fields


def _sources(method):
    """The result depends on the operands' fields (V arguments); a TooWide names them."""

    def wrapped(self, *args, **kw):
        found = frozenset()
        for a in args:
            for v in a if isinstance(a, list) else [a]:
                if isinstance(v, V):
                    found |= v.src
        try:
            result = method(self, *args, **kw)
        except TooWide as exc:
            if exc.fields:
                raise
            raise TooWide(exc.args[0], found) from None
        if isinstance(result, V) and not result.src >= found:
            result = replace(result, src=result.src | found)
        return result

    return wrapped


class Unsupported(Exception):
    """A construct the kernel does not implement (the Polars path decides instead)."""


@dataclass(frozen=True)
class V:
    """An exact rational per row: num / den (register index or folded int), den > 0."""

    num: int  # a register (Reg) or a folded int
    den: int
    nb: int
    db: int
    src: frozenset = frozenset()  # the input fields this value depends on

    @property
    def constant(self) -> bool:
        return not isinstance(self.num, Reg) and not isinstance(self.den, Reg)

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.num, self.den)


class Reg(int):
    """A register index (an int subclass, so it is never mistaken for a folded constant)."""


def _check(bound: int):
    if bound >= FIT:
        raise TooWide(bound)


@dataclass
class Layout:
    """Where the kernel finds each input: registers 0..n-1 are the fields, then label codes."""

    field_reg: dict  # numeric or boolean field path -> register
    scales: dict  # numeric field path -> decimal scale of its mantissa
    limits: dict  # numeric field path -> max |mantissa| the program is proven for
    label_reg: dict  # label field path -> register of its label code
    labels: dict  # label field path -> tuple of label texts (code = index + 1; 0 = other)
    n_inputs: int


@dataclass
class Program:
    ops: np.ndarray  # int64 [k, 6]
    consts: np.ndarray  # int64
    n_regs: int
    status: list  # per outcome: register of the status index (0 ok, 1 ko, 2 n/a)
    code: list  # per outcome: register of the outcome code
    amount: list  # per outcome: register of the amount (count of 10**-places) or -1
    subsidy: int  # register of the subsidy total (count of 0.01 yuan)
    levy: int


class _Emitter:
    def __init__(self, layout: Layout):
        self.layout = layout
        self.ops: list = []
        self.consts: list = []
        self.n = layout.n_inputs
        self._const_regs: dict = {}
        self._const_of: dict = {}  # register -> its constant
        self._seen: dict = {}

    def reg(self) -> Reg:
        self.n += 1
        return Reg(self.n - 1)

    def emit(self, op, a=0, b=0, c=0, d=0) -> Reg:
        short = self._simplify(op, a, b, c, d)
        if short is not None:
            return short
        key = (op, a, b, c, d)
        if key in self._seen:  # every op is a pure function of its operands
            return self._seen[key]
        dst = self.reg()
        self.ops.append((op, dst, a, b, c, d))
        self._seen[key] = dst
        return dst

    def const(self, value: int) -> Reg:
        if abs(value) >= FIT:
            raise TooWide(value)
        if value not in self._const_regs:
            self.consts.append(value)
            self._const_regs[value] = self.emit(Op.CONST, len(self.consts) - 1)
            self._const_of[self._const_regs[value]] = value
        return self._const_regs[value]

    def _simplify(self, op, a, b, c, d):
        """An op whose result is already a register, given constant operands (a constant is
        always valid): fewer ops per row. AND and ACCAND only ever see 0/1 tests, ACC and ACCAND
        counters that are never null (see compile_program)."""
        k = self._const_of.get
        if op == Op.AND:
            if k(a) == 0 or k(b) == 0:
                return self.const(0)
            if k(a) == 1:
                return b
            if k(b) == 1:
                return a
        elif op == Op.OR:
            if k(a) == 1 or k(b) == 1:
                return self.const(1)
            if k(a) == 0:
                return b
            if k(b) == 0:
                return a
        elif op == Op.ADD:
            if k(b) == 0:
                return a
            if k(a) == 0:
                return b
        elif op == Op.IF and k(a) is not None:
            return b if k(a) != 0 else c
        elif op == Op.ACC:
            if k(b) == 0 or c == 0:
                return a
            if k(a) == 0 and c == 1:
                return b
        elif op == Op.ACCAND:
            if k(b) == 0 or k(c) == 0 or d == 0:
                return a
            if k(b) == 1:
                return self.emit(Op.ACC, a, c, d)
            if k(c) == 1:
                return self.emit(Op.ACC, a, b, d)
            if k(a) == 0 and d == 1:
                return self.emit(Op.AND, b, c)
        return None

    def as_reg(self, x) -> Reg:
        return x if isinstance(x, Reg) else self.const(x)

    # --- integer arithmetic with bounds (mirrors engine/backends/columnar/exact.py) ----------
    def mul(self, x, xb, y, yb):
        if not isinstance(x, Reg) and not isinstance(y, Reg):
            return x * y
        if not isinstance(x, Reg) and x == 1:
            return y
        if not isinstance(y, Reg) and y == 1:
            return x
        if (not isinstance(x, Reg) and x == 0) or (not isinstance(y, Reg) and y == 0):
            return 0
        _check(xb * yb)
        return self.emit(Op.MUL, self.as_reg(x), self.as_reg(y))

    def add(self, x, y, bound, negate=False):
        if not isinstance(x, Reg) and not isinstance(y, Reg):
            return x - y if negate else x + y
        if not isinstance(y, Reg) and y == 0:
            return x
        _check(bound)
        return self.emit(Op.SUB if negate else Op.ADD, self.as_reg(x), self.as_reg(y))

    def common(self, a: V, b: V):
        if not isinstance(a.den, Reg) and not isinstance(b.den, Reg):
            L = lcm(a.den, b.den)
            fa, fb = L // a.den, L // b.den
            return (self.mul(a.num, a.nb, fa, fa), self.mul(b.num, b.nb, fb, fb), L, max(a.nb * fa, b.nb * fb), L)
        return (
            self.mul(a.num, a.nb, b.den, b.db),
            self.mul(b.num, b.nb, a.den, a.db),
            self.mul(a.den, a.db, b.den, b.db),
            max(a.nb * b.db, b.nb * a.db),
            a.db * b.db,
        )


def _const(value) -> V:
    value = Fraction(value)
    return V(value.numerator, value.denominator, abs(value.numerator), value.denominator)


class _Compiler:
    def __init__(self, book, params: dict, layout: Layout, em: _Emitter):
        self.book, self.params, self.layout, self.em = book, params, layout, em
        self._null: Reg | None = None

    def null(self) -> V:
        if self._null is None:
            self._null = self.em.emit(Op.NULL)
        return V(self._null, 1, 0, 1)

    # --- terms -----------------------------------------------------------------
    def term(self, node, scope) -> V:
        if isinstance(node, Field):
            p = node.path
            if p not in self.layout.scales:
                raise Unsupported(p)
            lim = self.layout.limits[p]
            one = 10 ** self.layout.scales[p]
            return V(Reg(self.layout.field_reg[p]), one, lim, one, frozenset([p]))
        if isinstance(node, Const):
            return _const(node.number)
        if isinstance(node, Param):
            return _const(self.params[node.name])
        if isinstance(node, Var):
            return scope["vars"][node.name]
        if isinstance(node, TableOutput):
            return scope["tables"][node.table]
        if isinstance(node, Lookup):
            return self._lookup(node)
        if isinstance(node, Arith):
            return node.fold(
                [self.term(a, scope) for a in node.args], self._q_add, self._q_mul, self._q_div, self._q_pick
            )
        raise Unsupported(repr(node))

    def _lookup(self, node: Lookup) -> V:
        table = {k: Fraction(v) for k, v in self.params[node.param].items()}
        default = table.pop("default")
        if all(v == default for v in table.values()):
            return _const(default)
        path = node.key.path
        labels = self.layout.labels.get(path)
        if labels is None or any(k not in labels for k in table):
            raise Unsupported(f"lookup on {path}")
        L = lcm(default.denominator, *[v.denominator for v in table.values()])
        nums = [default.numerator * (L // default.denominator)]
        for label in labels:
            v = table.get(label, default)
            nums.append(v.numerator * (L // v.denominator))
        bound = max(map(abs, nums))
        _check(bound)
        em = self.em
        start = len(em.consts)
        em.consts.extend(nums)
        return V(em.emit(Op.LOOKUP, Reg(self.layout.label_reg[path]), start, len(nums)), L, bound, L)

    @_sources
    def _q_add(self, a: V, b: V, negate=False) -> V:
        if a.constant and b.constant:
            return _const(a.fraction - b.fraction if negate else a.fraction + b.fraction)
        an, bn, den, nb, db = self.em.common(a, b)
        return V(self.em.add(an, bn, 2 * nb, negate), den, 2 * nb, db)

    @_sources
    def _q_mul(self, a: V, b: V) -> V:
        em = self.em
        if a.constant and b.constant:
            return _const(a.fraction * b.fraction)
        if a.constant and not isinstance(b.den, Reg):
            a, b = b, a
        if b.constant and not isinstance(a.den, Reg):
            f = Fraction(b.num, b.den * a.den)
            return V(
                em.mul(a.num, a.nb, f.numerator, abs(f.numerator)),
                f.denominator,
                a.nb * abs(f.numerator),
                f.denominator,
            )
        return V(em.mul(a.num, a.nb, b.num, b.nb), em.mul(a.den, a.db, b.den, b.db), a.nb * b.nb, a.db * b.db)

    @_sources
    def _q_div(self, a: V, b: V) -> V:
        em = self.em
        if b.constant:
            if b.num == 0:
                return self.null()
            return self._q_mul(a, _const(Fraction(b.den, b.num)))
        _check(b.nb)
        bn = em.as_reg(b.num)
        num = em.mul(a.num, a.nb, b.den, b.db)
        den = em.mul(a.den, a.db, b.num, b.nb)
        _check(max(a.nb * b.db, a.db * b.nb))
        sign = em.emit(Op.SIGN, bn)  # null on a zero divisor, as in Polars
        return V(
            em.emit(Op.MUL, em.as_reg(num), sign),
            em.emit(Op.MUL, em.emit(Op.ABS, em.as_reg(den)), em.emit(Op.ABS, sign)),
            a.nb * b.db,
            a.db * b.nb,
        )

    @_sources
    def _q_pick(self, a: V, b: V, smaller: bool) -> V:
        em = self.em
        if a.constant and b.constant:
            return _const(min(a.fraction, b.fraction) if smaller else max(a.fraction, b.fraction))
        an, bn, den, nb, db = em.common(a, b)
        _check(nb)
        return V(em.emit(Op.PICKMIN if smaller else Op.PICKMAX, em.as_reg(an), em.as_reg(bn)), den, nb, db)

    @_sources
    def select(self, cases: list, values: list) -> V:
        """The first value whose case holds; null when none (cases: always-valid bool registers)."""
        em = self.em
        if all(not isinstance(v.den, Reg) for v in values):
            L = lcm(*[v.den for v in values])
            nb = max(v.nb * (L // v.den) for v in values)
            _check(nb)
            acc = self.null().num
            for case, v in reversed(list(zip(cases, values))):
                n = em.as_reg(em.mul(v.num, v.nb, L // v.den, L // v.den))
                acc = em.emit(Op.IF, case, n, acc)
            return V(acc, L, nb, L)
        nb, db = max(v.nb for v in values), max(v.db for v in values)
        _check(max(nb, db))
        num = den = self.null().num
        for case, v in reversed(list(zip(cases, values))):
            num = em.emit(Op.IF, case, em.as_reg(v.num), num)
            den = em.emit(Op.IF, case, em.as_reg(v.den), den)
        return V(num, den, nb, db)

    @_sources
    def round_half_up(self, a: V, places: int):
        """(register or int count of 10**-places, bound)."""
        if a.constant:
            q = int(exact_round(a.fraction, places).scaleb(places))
            return q, abs(q)
        em = self.em
        scale = 10**places
        n = em.mul(a.num, a.nb, scale, scale)
        nb = a.nb * scale
        _check(2 * nb + a.db)
        _check(2 * a.db)
        return em.emit(Op.ROUND, em.as_reg(n), em.as_reg(a.den)), nb + 1

    # --- tests: (passes, fails) always-valid bool registers ----------------------
    def lit(self, value: bool) -> Reg:
        return self.em.const(1 if value else 0)

    def test(self, node, scope):
        em = self.em
        if isinstance(node, Compare):
            if isinstance(node.right, Label):
                path = node.left.path
                labels = self.layout.labels.get(path)
                if labels is None or node.right.text not in labels:
                    raise Unsupported(f"label {node.right.text!r} of {path}")
                code = self.layout.label_reg[path]
                k = em.const(labels.index(node.right.text) + 1)
                eq = em.emit(Op.EQ, Reg(code), k)  # a label code is never null on a vouched row
                ne = em.emit(Op.NOT, eq)
                return (eq, ne) if node.op == "eq" else (ne, eq)
            a, b = self.term(node.left, scope), self.term(node.right, scope)
            if a.constant and b.constant:
                r = COMPARISONS[node.op].holds(a.fraction, b.fraction)
                return self.lit(r), self.lit(not r)
            left, right = self._compare(a, b)
            return self._cmp(node.op, em.as_reg(left), em.as_reg(right))
        if isinstance(node, Truth):
            p = node.field.path
            if p not in self.layout.field_reg or p in self.layout.scales:
                raise Unsupported(p)
            r = Reg(self.layout.field_reg[p])
            return self._cmp("eq" if node.expected else "neq", r, em.const(1))
        if isinstance(node, Present):
            r = Reg(self.layout.field_reg[f"__p:{node.section}"])
            return r, em.emit(Op.NOT, r)
        if isinstance(node, Hit):
            t = scope["table_defs"][node.table]
            rows = [self.test(Compare("gte", t.input, r.min), scope) for r in t.rows]
            return self._any([p for p, _ in rows]), self._all([f for _, f in rows])
        if isinstance(node, All):
            parts = [self.test(t, scope) for t in node.tests]
            return self._all([p for p, _ in parts]), self._any([f for _, f in parts])
        if isinstance(node, AnyOf):
            parts = [self.test(t, scope) for t in node.tests]
            return self._any([p for p, _ in parts]), self._all([f for _, f in parts])
        if isinstance(node, Not):
            p, f = self.test(node.test, scope)
            return f, p
        if isinstance(node, Status):
            statuses = self.book.outcome(node.outcome).statuses
            mask = sum(1 << i for i, s in enumerate(statuses) if s in node.allowed)
            inside = em.emit(Op.INSET, Reg(scope["status"][node.outcome]), mask)
            return inside, em.emit(Op.NOT, inside)
        raise Unsupported(repr(node))

    @_sources
    def _compare(self, a: V, b: V):
        left, right, _, nb, _ = self.em.common(a, b)
        _check(nb)
        return left, right

    def _cmp(self, op, left: Reg, right: Reg):
        """(holds, fails), both false where either side is null."""
        em = self.em
        holds = em.emit(_CMP[op], left, right)
        fails = em.emit(_CMP[COMPARISONS[op].negation], left, right)
        return holds, fails

    def _all(self, regs):
        acc = regs[0]
        for r in regs[1:]:
            acc = self.em.emit(Op.AND, acc, r)
        return acc

    def _any(self, regs):
        acc = regs[0]
        for r in regs[1:]:
            acc = self.em.emit(Op.OR, acc, r)
        return acc


def compile_program(book, params: dict, layout: Layout, codes: dict) -> Program:
    """One program for one parameter set; ``codes``: outcome name -> OutcomeCodes (its shift)."""
    em = _Emitter(layout)
    comp = _Compiler(book, params, layout, em)
    status_regs: dict[str, Reg] = {}
    code_regs, amount_regs, bounds, srcs = [], [], {}, {}
    for o in book.outcomes:
        scope: dict[str, dict] = {"vars": {}, "tables": {}, "table_defs": {}, "status": status_regs}
        for name, term in o.lets:
            scope["vars"][name] = comp.term(term, scope)
        na, guard = em.const(0), comp.lit(True)
        for i, e in enumerate([*book.exceptions, *o.applies], start=1):
            p, f = comp.test(e.when, scope)
            na = em.emit(Op.ACCAND, na, guard, f, i)  # at most one fires: the first failing
            guard = em.emit(Op.AND, guard, p)
        for t in o.tables:
            scope["table_defs"][t.name] = t
            earlier, cases, outs = guard, [], []
            for r in t.rows:
                p, f = comp.test(Compare("gte", t.input, r.min), scope)
                cases.append(em.emit(Op.AND, earlier, p))
                outs.append(comp.term(r.output, scope))
                earlier = em.emit(Op.AND, earlier, f)
            scope["tables"][t.name] = comp.select(cases, outs)
        bits = em.const(0)
        for k, c in enumerate(o.criteria):
            _, f = comp.test(c.test, scope)
            bits = em.emit(Op.ACCAND, bits, guard, f, 1 << k)
        status = em.emit(Op.STATUS, na, bits)
        status_regs[o.name] = status
        capped, bound, amount = comp.lit(False), 0, -1
        if o.amount is not None:
            formula = comp.term(o.amount.formula, scope)
            q, bound = comp.round_half_up(formula, o.amount.places)
            if o.amount.cap is not None:
                cap = comp.term(o.amount.cap, scope)
                cq, cb = comp.round_half_up(cap, o.amount.places)
                if max(bound, cb) >= FIT:
                    raise TooWide(max(bound, cb), formula.src | cap.src)
                qr, cr = em.as_reg(q), em.as_reg(cq)
                capped = em.emit(Op.GT, qr, cr)
                q, bound = em.emit(Op.IF, capped, cr, qr), max(bound, cb)
            srcs[o.name] = formula.src | (cap.src if o.amount.cap is not None else frozenset())
            if bound >= FIT:
                raise TooWide(bound, srcs[o.name])
            # status 2 (not applicable): null; 1 (refused): 0; else the amount
            amount = em.emit(Op.AMOUNT, status, em.as_reg(q))
        # na << shift, failing bits << 1, and 1 when capped and granted (na and bits both 0)
        code = em.emit(Op.CODE, na, bits, capped, codes[o.name].shift)
        code_regs.append(code)
        amount_regs.append(amount)
        bounds[o.name] = bound

    def total(names):
        bound = sum(bounds[n] for n in names)
        if bound >= FIT:
            raise TooWide(bound, frozenset().union(*[srcs[n] for n in names]))
        acc = em.const(0)
        for n in names:
            acc = em.emit(Op.ADD, acc, em.emit(Op.COALESCE0, amount_regs[[o.name for o in book.outcomes].index(n)]))
        return acc

    subsidy = total(
        [o.name for o in book.outcomes if o.amount is not None and o.unit == "yuan" and o.kind == "benefit"]
    )
    levy = total([o.name for o in book.outcomes if o.amount is not None and o.kind == "levy"])
    ops = _live(em.ops, [*status_regs.values(), *code_regs, *[a for a in amount_regs if a >= 0], subsidy, levy])
    return Program(
        ops=np.array(ops, dtype=np.int64).reshape(-1, 6),
        consts=np.array(em.consts or [0], dtype=np.int64),
        n_regs=em.n,
        status=[status_regs[o.name] for o in book.outcomes],
        code=code_regs,
        amount=amount_regs,
        subsidy=subsidy,
        levy=levy,
    )


# registers each opcode reads (the rest of the row are literals)
_READS = {
    Op.CONST: (),
    Op.NULL: (),
    Op.SIGN: (2,),
    Op.ABS: (2,),
    Op.NOT: (2,),
    Op.INSET: (2,),
    Op.COALESCE0: (2,),
    Op.LOOKUP: (2,),
    Op.ACC: (2, 3),
    Op.IF: (2, 3, 4),
    Op.ACCAND: (2, 3, 4),
    Op.CODE: (2, 3, 4),
    Op.AMOUNT: (2, 3),
}


def operands(row) -> tuple:
    """Positions in an op row that are registers it reads."""
    return _READS.get(row[0], (2, 3))


def _live(ops: list, outputs: list) -> list:
    """The ops the outputs depend on, in order (a test's unused side is never computed)."""
    needed = set(outputs)
    keep = []
    for row in reversed(ops):
        if row[1] in needed:
            keep.append(row)
            needed.update(row[i] for i in _READS.get(row[0], (2, 3)))
    return keep[::-1]
