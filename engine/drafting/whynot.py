"""Why not? The smallest changes to an application that would turn a denial into a grant.

Nothing here knows a rule by name. For each reason that blocks the outcome, the rule's own
test is walked: a comparison of something computed from fields with a threshold is solved
for each field it reads (inverting add/sub/mul/div/min/max and ``let`` variables along the one
path that leads to the field), the boundary is rounded to a value the contract accepts on the
side that passes, and a boolean test is flipped. A status test on an earlier outcome (reporting
not met) recurses into that outcome's failing reasons. For a granted outcome with a rate table,
each higher tier is a suggestion too. Every suggestion is then re-decided by the real engine,
and the status and amount it reports are the ones shown — so a suggestion is never a guess.

A levy is owed while every criterion holds, so each criterion that can be made to fail is a way
to become exempt (a recycling system, no non-degradable packaging), each verified alone. With
unknown fields (a partial application, engine/partial) only the suggestions that hold whatever
the unknowns are remain: a comparison is solved only where every other value it reads is known,
an unknown field may itself be the change, and every suggestion is verified by a partial
decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from engine.backends.rete.engine import ReteEngine
from engine.contract.application import Application, parse_application
from engine.contract.decision import Decision
from engine.decimals import fmt_plain, round_half_up
from engine.rulebook.checks import FIELD_RANGES
from engine.rulebook.comparisons import COMPARISONS
from engine.rulebook.evaluate import Env, field_values
from engine.rulebook.expressions import All, AnyOf, Arith, Compare, Field, Hit, Not, Param, Status, Truth, Var
from engine.rulebook.loader import STATUSES, Rulebook

#: Facts about who the enterprise is or what it received before: not something it can change.
FIXED_PREFIXES = ("enterprise.", "period.", "history.")


@dataclass
class Change:
    path: str
    old: object
    new: object

    def text(self) -> str:
        return f"{self.path} {_show(self.old)} → {_show(self.new)}"


@dataclass
class Suggestion:
    reason: str  # the reason code it clears, or the tier it reaches
    changes: list
    via: str = ""  # what the rule computes from the fields (e.g. a ratio), old → new
    status: str = ""  # verified by re-deciding
    amount: str | None = None
    unit: str | None = None
    remaining: list = field(default_factory=list)
    delta: Decimal | None = None
    note: str = ""
    needs: list | None = None  # verified on a partial application: what it still needs

    def to_dict(self):
        return {
            "reason": self.reason,
            "changes": [{"path": c.path, "from": _show(c.old), "to": _show(c.new)} for c in self.changes],
            "via": self.via,
            "verified": {
                "status": self.status,
                "amount": self.amount,
                "unit": self.unit,
                "remaining_reasons": self.remaining,
                **({} if self.needs is None else {"needs": self.needs}),
            },
            "amount_change": None if self.delta is None else format(self.delta, "f"),
            "note": self.note,
        }


@dataclass
class WhyNot:
    outcome: str
    status: str
    amount: str | None
    unit: str | None
    reasons: list  # codes now
    blockers: dict  # code -> [Suggestion] (each clears that reason)
    unfixable: dict  # code -> why no data change clears it
    combined: Suggestion | None  # one change set that clears every reason, verified
    tiers: list  # higher tiers for a granted outcome, verified
    kind: str = "benefit"
    needs: list | None = None  # a partial application's: the unknown fields the outcome needs
    open: dict = field(default_factory=dict)  # code -> why it cannot be settled while fields are unknown

    def to_dict(self) -> dict:
        """The answer as JSON data, as `explain --format json` prints it and POST /v1/explain returns it."""
        partial = {} if self.needs is None else {"needs": self.needs, "not_known_yet": self.open}
        return {
            "outcome": self.outcome,
            "status": self.status,
            "amount": self.amount,
            "unit": self.unit,
            "reasons": self.reasons,
            **partial,
            "suggestions": {code: [s.to_dict() for s in sugs] for code, sugs in self.blockers.items()},
            "cannot_change": self.unfixable,
            "combined": self.combined.to_dict() if self.combined else None,
            "higher_tiers": [s.to_dict() for s in self.tiers],
        }


def _show(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if v is None:
        return "(absent)"
    return fmt_plain(v)


# --- evaluation helpers --------------------------------------------------------------
class _Ctx:
    def __init__(self, book: Rulebook, app: Application, unknown: frozenset = frozenset()):
        self.book, self.app, self.unknown = book, app, unknown
        resolved = book.params_at(app.period.end)
        self.params = {n: v for n, (v, _) in resolved.items()}
        self.fields, self.present = field_values(app)
        self.fields.update(dict.fromkeys(unknown))  # stand-ins are no facts: an unknown reads as absent
        self.lets = {o.name: dict(o.lets) for o in book.outcomes}
        self.status: dict = {}  # statuses of the decision, for status tests
        self.analyses: dict = {}  # a partial application's: outcome -> what the analysis found

    def reads_unknown(self, o, test) -> bool:
        """Whether ``test`` of outcome ``o`` reads an unknown field, through the outcome it tests."""
        from engine.partial.analysis import fields_read

        if isinstance(test, Status):
            return bool(self.analyses[test.outcome].reads & self.unknown)
        return bool(fields_read(test, o) & self.unknown)

    def env(self, outcome: str, fields: dict | None = None) -> Env:
        o = self.book.outcome(outcome)
        env = Env(fields or self.fields, self.present, self.params)
        env.status = self.status
        for name, term in o.lets:
            env.vars[name] = term.value(env)
        for t in o.tables:  # hit policy first, as the engines do
            value = t.input.value(env)
            for row in t.rows:
                if value is not None and value >= row.min.value(env):
                    env.tables[t.name] = (row.id, row.output.value(env))
                    break
        return env


def _fields_of(term, lets) -> set:
    out = set()
    for kind, name in term.refs():
        if kind == "field":
            out.add(name)
        elif kind == "var" and name in lets:
            out |= _fields_of(lets[name], lets)
    return out


def _invert(term, path, target: Fraction, env, lets):
    """The value of field ``path`` that makes ``term`` equal ``target`` (others fixed), or None."""
    if isinstance(term, Field):
        return target if term.path == path else None
    if isinstance(term, Var):
        return _invert(lets[term.name], path, target, env, lets) if term.name in lets else None
    if not isinstance(term, Arith):
        return None
    holders = [i for i, a in enumerate(term.args) if path in _fields_of(a, lets)]
    if len(holders) != 1:
        return None  # the field appears in several operands: not solvable by one path
    i = holders[0]
    vals = [a.value(env) for a in term.args]
    if any(v is None for j, v in enumerate(vals) if j != i):
        return None
    others = [v for j, v in enumerate(vals) if j != i]
    if term.op == "add":
        sub = target - sum(others, Fraction(0))
    elif term.op == "sub":
        sub = (
            target + sum(others[0:], Fraction(0))
            if i == 0
            else vals[0] - target - sum((v for j, v in enumerate(vals) if j not in (0, i)), Fraction(0))
        )
    elif term.op == "mul":
        prod = Fraction(1)
        for v in others:
            prod *= v
        if prod == 0:
            return None
        sub = target / prod
    elif term.op == "div":
        rest = Fraction(1)
        for v in vals[1:] if i == 0 else [v for j, v in enumerate(vals[1:], 1) if j != i]:
            if v == 0:
                return None
            rest *= v
        if i == 0:
            sub = target * rest
        else:
            if target == 0:
                return None
            sub = vals[0] / (target * rest)
    elif term.op in ("min", "max"):
        sub = target  # the operand must be the binding one; verification checks
    else:
        return None
    return _invert(term.args[i], path, sub, env, lets)


def _places(x: Fraction) -> int | None:
    d, p2, p5 = x.denominator, 0, 0
    while d % 2 == 0:
        d //= 2
        p2 += 1
    while d % 5 == 0:
        d //= 5
        p5 += 1
    return max(p2, p5) if d == 1 else None


def _candidates(path: str, boundary: Fraction, current) -> list[Fraction]:
    """Values near the boundary that the contract accepts for ``path``, nearest first."""
    r = FIELD_RANGES.get(path)
    places = r.places if r and r.places is not None else None
    if places is None:
        here = [_places(boundary) or 0, _places(Fraction(current)) or 0 if current is not None else 0]
        places = min(max(here), 6) if _places(boundary) is not None else 2
    unit = Fraction(1, 10**places)
    floor = (boundary / unit).__floor__() * unit
    ceil = (boundary / unit).__ceil__() * unit
    out = []
    for v in (floor, ceil, floor - unit, ceil + unit):
        if v in out:
            continue
        if r and (
            (r.lo is not None and (v < r.lo or (v == r.lo and not r.lo_incl)))
            or (r.hi is not None and (v > r.hi or (v == r.hi and not r.hi_incl)))
        ):
            continue
        out.append(v)
    return out


def _typed(path: str, v: Fraction):
    kind = "integer" if FIELD_RANGES.get(path) and FIELD_RANGES[path].places == 0 else "decimal"
    if kind == "integer":
        return int(v)
    places = _places(v) or 0
    return (
        Decimal(v.numerator) / Decimal(v.denominator)
        if places == 0
        else (Decimal(v.numerator) / Decimal(v.denominator)).quantize(Decimal(1).scaleb(-places))
    )


# --- fixes for one test ---------------------------------------------------------------
def _solve_compare(ctx, outcome, test: Compare, want: bool = True) -> list[list[Change]]:
    """Change sets (one field each) that make ``test`` hold, nearest first."""
    env = ctx.env(outcome)
    lets = ctx.lets[outcome]
    out = []
    for side, other in ((test.left, test.right), (test.right, test.left)):
        target = other.value(env)
        if target is None:
            continue
        for path in sorted(_fields_of(side, lets)):
            current = ctx.fields.get(path)
            if path.startswith(FIXED_PREFIXES) or path not in FIELD_RANGES:
                continue
            if current is None and path not in ctx.unknown:
                continue
            boundary = _invert(side, path, Fraction(target), env, lets)
            if boundary is None:
                continue
            near = boundary if current is None else current  # an unknown field: the value nearest the threshold
            best = None
            for v in _candidates(path, boundary, current):
                trial = dict(ctx.fields)
                trial[path] = v
                # holds only when every other value the test reads is known: no guess about an unknown
                if test.holds(ctx.env(outcome, trial)) is want:
                    if best is None or abs(v - near) < abs(best - near):
                        best = v
            if best is not None:
                out.append([Change(path, current, _typed(path, best))])
    return out


def negated(book: Rulebook, test):
    """The test that holds exactly when ``test`` fails (what makes a levy's criterion an exemption)."""
    if isinstance(test, Compare):
        return Compare(COMPARISONS[test.op].negation, test.left, test.right)
    if isinstance(test, Truth):
        return Truth(test.field, not test.expected)
    if isinstance(test, All):
        return AnyOf(tuple(negated(book, t) for t in test.tests))
    if isinstance(test, AnyOf):
        return All(tuple(negated(book, t) for t in test.tests))
    if isinstance(test, Not):
        return test.test
    if isinstance(test, Status):
        return Status(test.outcome, frozenset(book.outcome(test.outcome).statuses) - test.allowed)
    return Not(test)


def fixes_for(ctx, outcome: str, test, depth: int = 0) -> tuple[list, list]:
    """(alternative change sets that make ``test`` hold, notes on what cannot be changed)."""
    env = ctx.env(outcome)
    if test.holds(env):
        return [[]], []
    if isinstance(test, Compare):
        alts = _solve_compare(ctx, outcome, test)
        read = _fields_of(test.left, ctx.lets[outcome]) | _fields_of(test.right, ctx.lets[outcome])
        fixed = sorted(p for p in read if p.startswith(FIXED_PREFIXES))
        unknown = sorted(p for p in read if p in ctx.unknown)
        if alts:
            return alts, []
        if fixed:
            return alts, [f"depends on {', '.join(fixed)}, which the enterprise cannot change"]
        return alts, [f"depends on {', '.join(unknown)}, not known yet"] if unknown else []
    if isinstance(test, Truth):
        path = test.field.path
        if path.startswith(FIXED_PREFIXES):
            return [], [f"{path} is a recorded fact, not something the enterprise can change"]
        return [[Change(path, ctx.fields.get(path), test.expected)]], []
    if isinstance(test, Hit):
        table = next(t for t in ctx.book.outcome(outcome).tables if t.name == test.table)
        lowest = table.rows[-1]
        return _solve_compare(ctx, outcome, Compare("gte", table.input, lowest.min)), []
    if isinstance(test, Status) and depth < 4:
        dep = ctx.book.outcome(test.outcome)
        denv = ctx.env(dep.name)
        for e in (*ctx.book.exceptions, *dep.applies):
            holds = e.when.holds(denv)
            if holds is None:
                return [], [f"whether {dep.name} applies ({e.code}) is not known yet"]
            if not holds:
                return [], [f"{dep.name} is not applicable ({e.code})"]
        merged, notes = [], []
        for c in dep.criteria:
            alts, why = fixes_for(ctx, dep.name, c.test, depth + 1)
            if not alts:
                return [], why or [f"{dep.name}: {c.code} cannot be cleared by changing the data"]
            merged += alts[0]
            notes += why
        return [merged], notes
    if isinstance(test, All):
        merged, notes = [], []
        for t in test.tests:
            alts, why = fixes_for(ctx, outcome, t, depth)
            if not alts:
                return [], why
            merged += alts[0]
        return [merged], notes
    if isinstance(test, AnyOf):
        alts, notes = [], []
        for t in test.tests:
            a, why = fixes_for(ctx, outcome, t, depth)
            alts += a
            notes += why
        return alts, notes
    return [], [f"a {type(test).__name__} test is not solved automatically"]


# --- verification ------------------------------------------------------------------
def _apply(app: Application, changes: list[Change]) -> Application:
    doc = app.model_dump(mode="json")
    for c in changes:
        node = doc
        *head, last = c.path.split(".")
        for part in head:
            node = node[part]
        node[last] = c.new if isinstance(c.new, (bool, int)) else format(c.new, "f")
    return parse_application(doc)


class _Decider:
    """Re-decides a changed application: with the engine, or partially while fields are unknown
    (a field a suggestion sets is known from then on)."""

    def __init__(self, book: Rulebook, unknown: frozenset):
        self.book, self.unknown = book, unknown
        self.engine = ReteEngine.for_rulebook(book)

    def __call__(self, app: Application, changes=()) -> Decision:
        if not self.unknown:
            return self.engine.decide(app)
        from engine.partial import PartialApplication, decide_partial

        return decide_partial(self.book, PartialApplication(app, self.unknown - {c.path for c in changes}))


def _verify(decide, app, outcome, s: Suggestion, base_amount: str | None):
    decision = decide(_apply(app, s.changes), s.changes)
    out = decision["outcomes"][outcome]
    s.status, s.amount, s.unit = out["status"], out["amount"], out["unit"]
    s.remaining = [r["code"] for r in out["reasons"]]
    if "needs" in out:
        s.needs = out["needs"]
    if out["amount"] is not None:
        s.delta = Decimal(out["amount"]) - Decimal(base_amount or "0")
    return s


def _via(ctx, outcome, term, changes) -> str:
    """The computed quantity (a let variable or table input) before and after, if any."""
    if not isinstance(term, Var):
        return ""
    before = ctx.env(outcome).vars.get(term.name)
    trial = dict(ctx.fields)
    for c in changes:
        trial[c.path] = Fraction(c.new) if not isinstance(c.new, bool) else c.new
    after = ctx.env(outcome, trial).vars.get(term.name)
    return f"{term.name} {_ratio(before, term, ctx)} → {_ratio(after, term, ctx)}"


def _ratio(v, term, ctx) -> str:
    """A table input compared with ratio thresholds reads as a percentage (27.0 %)."""
    if v is None:
        return "?"
    for o in ctx.book.outcomes:
        for t in o.tables:
            if t.input == term and any(
                isinstance(r.min, Param) and ctx.book.params[r.min.name].unit == "ratio" for r in t.rows
            ):
                return f"{round_half_up(Fraction(v) * 100, 1)} %"
    return fmt_plain(v)


def why_not(book: Rulebook, app: Application, outcome: str, unknown: frozenset = frozenset()) -> WhyNot:
    """How ``outcome`` could be granted, met or (a levy) exempt; ``unknown``: the fields of a
    partial application that are not known (``app`` holds stand-ins there)."""
    o = book.outcome(outcome)
    decide = _Decider(book, frozenset(unknown))
    decision = decide(app)
    now = decision["outcomes"][outcome]
    ctx = _Ctx(book, app, decide.unknown)
    ctx.status = {name: out["status"] for name, out in decision["outcomes"].items()}
    codes = [r["code"] for r in now["reasons"]]
    result = WhyNot(
        outcome, now["status"], now["amount"], now["unit"], codes, {}, {}, None, [], o.kind, now.get("needs")
    )
    ok = STATUSES[o.kind][0]
    if now["status"] == "not_applicable":
        result.unfixable = {r["code"]: r["message"] for r in now["reasons"]}
        return result
    # what stands in the way: a denial's reasons; every criterion of a levy (all hold when levied)
    blocking = list(o.criteria) if o.kind == "levy" else [c for c in o.criteria if c.code in codes]
    if decide.unknown:
        blocking = _open_criteria(book, ctx, o, result)
    if o.kind == "levy":
        if now["status"] != STATUSES[o.kind][1]:
            _exemptions(ctx, decide, app, o, blocking, now, result)
        return result
    if now["status"] != ok:
        chosen = []
        for c in blocking:
            alts, notes = fixes_for(ctx, outcome, c.test)
            if not alts:
                why = "; ".join(notes) or "no change to the application's data clears it"
                (result.open if ctx.reads_unknown(o, c.test) else result.unfixable)[c.code] = why
                continue
            sugs = []
            for changes in alts:
                term = (
                    c.test.left
                    if isinstance(c.test, Compare)
                    else next((t.input for t in o.tables if isinstance(c.test, Hit) and t.name == c.test.table), None)
                )
                s = Suggestion(c.code, changes, via=_via(ctx, outcome, term, changes) if term is not None else "")
                sugs.append(_verify(decide, app, outcome, s, now["amount"]))
            sugs.sort(key=lambda s: (c.code in s.remaining, _size(s.changes)))
            result.blockers[c.code] = sugs
            chosen += sugs[0].changes
        if result.blockers and not result.unfixable:
            merged = _merge(chosen)
            result.combined = _verify(decide, app, outcome, Suggestion("all", merged), now["amount"])
    # higher tiers: for a granted outcome, and after the combined fix for a denied one
    base_changes = [] if now["status"] == ok else (result.combined.changes if result.combined else None)
    if base_changes is not None:
        result.tiers = _higher_tiers(book, decide, app, o, base_changes, now["amount"])
    return result


def _open_criteria(book: Rulebook, ctx, o, result: WhyNot) -> list:
    """A partial application's criteria of ``o`` that do not hold for sure (a levy's: that may
    hold), and a note on each exemption that may still apply."""
    from engine.partial.analysis import TRUE, analyze, facts_of

    fields, present = field_values(ctx.app)
    ctx.analyses = analyze(book, facts_of(book, fields, present, ctx.unknown, ctx.app.period.end))
    a = ctx.analyses[o.name]
    for e in (*book.exceptions, *o.applies):
        if e.when.holds(ctx.env(o.name)) is None:
            result.open[e.code] = f"whether the outcome applies is not known yet: {e.message['en']}"
    if o.kind == "levy":
        return [c for c, t in a.truths if True in t]
    return [c for c, t in a.truths if t != TRUE]


def _exemptions(ctx, decide, app, o, criteria, now, result: WhyNot) -> None:
    """Each way to make one of a levy's criteria fail, verified alone: any one exempts."""
    for c in criteria:
        alts, notes = fixes_for(ctx, o.name, negated(ctx.book, c.test))
        alts = [changes for changes in alts if changes]
        if not alts:
            why = "; ".join(notes) or "no change to the application's data earns this exemption"
            (result.open if ctx.reads_unknown(o, c.test) else result.unfixable)[c.code] = why
            continue
        sugs = [_verify(decide, app, o.name, Suggestion(c.code, changes), now["amount"]) for changes in alts]
        sugs.sort(key=lambda s: (s.status != STATUSES[o.kind][1], _size(s.changes)))
        result.blockers[c.code] = sugs


def _size(changes) -> Fraction:
    total = Fraction(0)
    for c in changes:
        if isinstance(c.new, bool) or isinstance(c.old, bool) or c.old is None:
            total += 1
        else:
            old = Fraction(c.old)
            total += abs(Fraction(c.new) - old) / max(abs(old), Fraction(1))
    return total


def _merge(changes) -> list:
    out = {}
    for c in changes:
        out[c.path] = c
    return list(out.values())


def _higher_tiers(book, decide, app, o, base_changes, base_amount) -> list:
    start = _apply(app, base_changes) if base_changes else app
    ctx = _Ctx(book, start, decide.unknown - {c.path for c in base_changes})
    env = ctx.env(o.name)
    out = []
    for t in o.tables:
        value = t.input.value(env)
        if value is None:
            continue
        for row in t.rows:
            reach = row.min.value(env)
            if reach is None or value >= reach:
                break  # rows are tried in order: this one (and those below) already hold
            for changes in _solve_compare(ctx, o.name, Compare("gte", t.input, row.min)):
                rate = (
                    book.params[row.output.name].literal_at(start.period.end)
                    if isinstance(row.output, Param)
                    else fmt_plain(row.output.value(env))
                )
                s = Suggestion(
                    f"{t.name}.{row.id}",
                    _merge(base_changes + changes),
                    via=_via(ctx, o.name, t.input, changes),
                    note=f"moves you to {row.id}: {rate} {t.unit}",
                )
                out.append(_verify(decide, app, o.name, s, base_amount))
    return out[::-1]  # the nearest tier first


# --- text ------------------------------------------------------------------------------
def render(w: WhyNot, book: Rulebook | None = None) -> str:
    """``w`` as text in the language in force (engine/drafting/whynot_text.py)."""
    from engine.drafting.whynot_text import render_text

    return render_text(w, book)
