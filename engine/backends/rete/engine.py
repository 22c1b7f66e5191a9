"""Compile the rulebook to a durable_rules (Rete) ruleset and decide one application at a time.

durable_rules compares numbers as C doubles, so exact arithmetic happens here in Python
(fractions) *before* the network: every comparison of the rule files reaches the engine as
the exact three-way sign of ``left - right`` (-1, 0, 1), and the engine matches the rule's
own operator against 0 (``gte`` -> ``$gte 0``). Booleans and labels go in as they are.

What the network does: applicability (named exemptions), tier selection (hit policy
*first*), one rule per failing criterion (all failing reasons are listed), and chaining
between outcomes through status facts (reporting not met -> every benefit denied).
Amounts are settled in Python, exactly, by the outcome's settle rule.

The ruleset is registered through durable's Python host (without its background timers), and
each decision then drives durable's C engine directly (``_fire``): the host's per-action JSON
parse of the matched fact and state re-serialisation cost more than the network itself.

The safety measures of shared/DURABLE_RULES.md are applied: one live sid at a time,
``delete_state`` in ``finally``, a final rule at pri 65535 so an action always fires,
a type discriminator ``t`` in every pattern (so the engine's state fact never matches),
an action's exception abandons the action and surfaces as EngineError, idempotent reason
actions (``$or`` fires per true branch), status facts only asserted where a later rule
consumes them, and field names checked for 32-bit FNV-1a collisions.
"""

from __future__ import annotations

import itertools
import json
import threading
from decimal import Decimal
from fractions import Fraction
from typing import Any

import durable_rules_engine as dr_c
import orjson
from durable import engine as dr_engine

from engine.contract.application import Application
from engine.contract.decision import CONTRACT, Decision, OutcomeDoc
from engine.decimals import fmt_amount, fmt_plain, fmt_scaled, round_half_up_scaled
from engine.errors import EngineError, HashCollisionError
from engine.rulebook.comparisons import COMPARISONS
from engine.rulebook.evaluate import (
    Env,
    displayer,
    field_values,
    named_ref,
    param_displays,
    ref_reader,
    substituter,
)
from engine.rulebook.expressions import (
    All,
    AnyOf,
    Compare,
    Const,
    Field,
    Hit,
    Label,
    Not,
    Param,
    Present,
    Status,
    Truth,
)
from engine.rulebook.loader import STATUSES, Outcome, Rulebook

# json.dumps(x, ensure_ascii=False) builds a new encoder per call; this is the same encoder, built once.
_DUMPS = json.JSONEncoder(ensure_ascii=False).encode


def _fact_json(fact: dict) -> str:
    """The application fact as JSON text for the C engine (compact; only the parsed content matters)."""
    try:
        return orjson.dumps(fact).decode()
    except TypeError:  # orjson.JSONEncodeError: a lone surrogate, an int beyond 64 bits
        return _DUMPS(fact)


class _QuietHost(dr_engine.Host):
    """The stock Host runs background timer threads that crash with several sids (DURABLE_RULES.md)."""

    def _run(self):
        pass


_HOST = None
_HOST_LOCK = threading.Lock()
_ENGINES: dict[str, ReteEngine] = {}
# durable_rules' operator matching a comparison's sign against 0 (equality is a plain match), and its negation's
_PASS = {name: None if name == "eq" else f"${name}" for name in COMPARISONS}
_NEGATE = {name: _PASS[c.negation] for name, c in COMPARISONS.items()}


def _host():
    global _HOST
    if _HOST is None:
        _HOST = _QuietHost()
    return _HOST


def fnv1a_32(text: str) -> int:
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def sign(a: Fraction, b: Fraction) -> int:
    if type(a) is Fraction and type(b) is Fraction:  # cross-multiplied: skips the numbers.Rational ABC check
        x = a.numerator * b.denominator - b.numerator * a.denominator
        return (x > 0) - (x < 0)
    return (a > b) - (a < b)


class _Compiled:
    """Fact keys for every atomic test, and their pass/fail patterns."""

    def __init__(self):
        self.keys: dict = {}  # (outcome, node) -> fact key
        self.atoms: list = []  # (key, outcome, node)
        self._n = itertools.count()

    def key(self, outcome, node, prefix):
        if all(kind in ("field", "param", "section") for kind, _ in node.refs()):
            outcome = None  # the same value for every outcome: one fact key, shared alpha nodes
        k = (outcome, node)
        if k not in self.keys:
            self.keys[k] = f"{prefix}{next(self._n)}"
            self.atoms.append((self.keys[k], outcome, node))
        return self.keys[k]

    def passes(self, o, test, tables):
        if isinstance(test, Compare):
            if isinstance(test.right, Label):
                k = self.key(o, test.left, "l")
                return {k: test.right.text} if test.op == "eq" else {"$neq": {k: test.right.text}}
            k = self.key(o, test, "c")
            return {k: 0} if _PASS[test.op] is None else {_PASS[test.op]: {k: 0}}
        if isinstance(test, Truth):
            return {self.key(o, test.field, "b"): test.expected}
        if isinstance(test, Present):
            return {self.key(None, test, "p"): True}
        if isinstance(test, Hit):
            return {
                "$or": [
                    self.passes(o, Compare("gte", tables[test.table].input, r.min), tables)
                    for r in tables[test.table].rows
                ]
            }
        if isinstance(test, All):
            return {"$and": [self.passes(o, t, tables) for t in test.tests]}
        if isinstance(test, AnyOf):
            return {"$or": [self.passes(o, t, tables) for t in test.tests]}
        if isinstance(test, Not):
            return self.fails(o, test.test, tables)
        raise TypeError(test)

    def fails(self, o, test, tables):
        if isinstance(test, Compare):
            if isinstance(test.right, Label):
                k = self.key(o, test.left, "l")
                return {"$neq": {k: test.right.text}} if test.op == "eq" else {k: test.right.text}
            k = self.key(o, test, "c")
            neg = _NEGATE[test.op]
            return {k: 0} if neg is None else {neg: {k: 0}}
        if isinstance(test, Truth):
            return {self.key(o, test.field, "b"): not test.expected}
        if isinstance(test, Present):
            return {self.key(None, test, "p"): False}
        if isinstance(test, Hit):
            return {
                "$and": [
                    self.fails(o, Compare("gte", tables[test.table].input, r.min), tables)
                    for r in tables[test.table].rows
                ]
            }
        if isinstance(test, All):
            return {"$or": [self.fails(o, t, tables) for t in test.tests]}
        if isinstance(test, AnyOf):
            return {"$and": [self.fails(o, t, tables) for t in test.tests]}
        if isinstance(test, Not):
            return self.passes(o, test.test, tables)
        raise TypeError(test)


class _Run:
    """The working memory of one decision (one live sid at a time, so one at a time)."""

    def __init__(self, env, shown):
        self.env = env
        self.shown = shown  # parameter displays of the decision's date
        self.na: dict = {}
        self.reasons: dict = {}
        self.rows: dict = {}
        self.out: dict = {}
        self.trace: list = []
        self.envs: dict = {}  # outcome -> its Env (let variables, tables)
        self.sid_json = None  # the decision's sid as JSON text, for the status facts


class ReteEngine:
    """Decide applications under one rulebook with durable_rules."""

    def __init__(self, book: Rulebook):
        self.book = book
        self.name = f"shuangtan_{book.digest[7:23]}"
        self._run: _Run | None = None
        self._days: dict = {}
        self._doc_rows: dict = {}
        self._literal_cache: dict = {}  # date -> literals of the parameters in force
        self._block_cache: dict = {}  # (outcome, date) -> its parameter block
        self._lock = threading.Lock()
        self._compiled = _Compiled()
        self._params_of = {o.name: sorted(o.params()) for o in book.outcomes}
        self._lets = {o.name: [(name, term.compile()) for name, term in o.lets] for o in book.outcomes}
        self._status_prefix = {
            (o.name, s): '{"t": "st", "o": %s, "s": %s, "sid": ' % (_DUMPS(o.name), _DUMPS(s))
            for o in book.outcomes
            for s in o.statuses
        }
        self._ruleset = self._compile()
        self._check_hashes()
        self._plan = [self._plan_atom(key, oname, node) for key, oname, node in self._compiled.atoms]
        # Outcomes with neither let variables nor tables read and write nothing of their own:
        # they share the application's environment instead of copying it per decision.
        self._own_env = {o.name for o in book.outcomes if o.lets or o.tables}
        self._actions = {name: rule["run"] for name, rule in self._ruleset.items()}
        with _HOST_LOCK:
            _host().register_rulesets({self.name: self._ruleset})
            self._handle = _host().get_ruleset(self.name)._handle

    @classmethod
    def for_rulebook(cls, book: Rulebook) -> ReteEngine:
        """One engine per rulebook digest per process (a ruleset name can be registered once)."""
        with _HOST_LOCK:
            eng = _ENGINES.get(book.digest)
        if eng is None:
            eng = cls(book)
            with _HOST_LOCK:
                _ENGINES[book.digest] = eng
        return eng

    # --- compilation -----------------------------------------------------------
    def _compile(self) -> dict:
        comp, rules = self._compiled, {}
        self._settlers = {}
        depended = {
            t.outcome for o in self.book.outcomes for c in o.criteria for t in [c.test] if isinstance(t, Status)
        }
        self._depended = depended
        for i, o in enumerate(self.book.outcomes):
            base = (i + 1) * 1000
            tables = {t.name: t for t in o.tables}
            exemptions = list(self.book.exceptions) + list(o.applies)
            guard = [comp.passes(o.name, e.when, tables) for e in exemptions]
            for j, e in enumerate(exemptions):
                rules[f"{o.name}.not_applicable.{e.code}"] = {
                    "all": [{"m": {"$and": [{"t": "app"}, *guard[:j], comp.fails(o.name, e.when, tables)]}}],
                    "pri": base + 1,
                    "run": self._action_na(o, e),
                }
            for t in o.tables:
                for j, row in enumerate(t.rows):
                    earlier = [comp.fails(o.name, Compare("gte", t.input, r.min), tables) for r in t.rows[:j]]
                    here = comp.passes(o.name, Compare("gte", t.input, row.min), tables)
                    rules[f"{o.name}.{t.name}.{row.id}"] = {
                        "all": [{"m": {"$and": [{"t": "app"}, *guard, *earlier, here]}}],
                        "pri": base + 20,
                        "run": self._action_row(o, t, row),
                    }
            for k, c in enumerate(o.criteria):
                name = f"{o.name}.criteria.{c.code}"
                if isinstance(c.test, Status):
                    refused = sorted(set(self.book.outcome(c.test.outcome).statuses) - c.test.allowed)
                    status_pat = {
                        "$and": [{"t": "st"}, {"o": c.test.outcome}, *({"$neq": {"s": s}} for s in c.test.allowed)]
                    }
                    assert refused, "a status test that allows every status can never fail"
                    rules[name] = {
                        "all": [{"m": {"$and": [{"t": "app"}, *guard]}}, {"st": status_pat}],
                        "pri": base + 30 + k,
                        "run": self._action_fail(o, c),
                    }
                else:
                    rules[name] = {
                        "all": [{"m": {"$and": [{"t": "app"}, *guard, comp.fails(o.name, c.test, tables)]}}],
                        "pri": base + 30 + k,
                        "run": self._action_fail(o, c),
                    }
            self._settlers[o.name] = self._action_settle(o)
            if o.name in depended:
                # Outcomes others depend on settle inside the network so their status fact can chain;
                # the rest settle in the final rule (each fired action costs a JSON round trip).
                rules[f"{o.name}.settle"] = {
                    "all": [{"m": {"t": "app"}}],
                    "pri": base + 900,
                    "run": self._settlers[o.name],
                }
        rules["decision.totals"] = {"all": [{"m": {"t": "app"}}], "pri": 65535, "run": self._action_final()}
        return rules

    def _check_hashes(self):
        names = ["t", "sid", "id", "o", "s", "$s"] + [k for k, _, _ in self._compiled.atoms]
        seen = {}
        for n in names:
            h = fnv1a_32(n)
            if h in seen and seen[h] != n:
                raise HashCollisionError("rules", n, f"fact name hashes like {seen[h]!r}")
            seen[h] = n

    # --- actions ---------------------------------------------------------------
    def _trace(self, rule, facts):
        self._run.trace.append({"rule": rule, "facts": facts})

    def _action_na(self, o: Outcome, e):
        rule = f"{o.name}.not_applicable.{e.code}"
        refs = ref_reader(e.when)

        def run(c):
            r = self._run
            if o.name in r.na:
                return
            r.na[o.name] = {
                "code": e.code,
                "rule": rule,
                "message": e.message["en"],
                "message_zh": e.message["zh"],
                "source": e.source or o.source,
                "clause": e.clause or o.clause,
            }
            r.trace.append({"rule": rule, "facts": refs(r.env, r.shown)})

        return run

    def _action_row(self, o: Outcome, t, row):
        rule = f"{o.name}.{t.name}.{row.id}"
        input_fn, output_fn = t.input.compile(), row.output.compile()
        show_min, show_output = displayer(row.min), displayer(row.output)

        def run(c):
            r = self._run
            env = self._outcome_env(o)
            value = input_fn(env)
            output = output_fn(env)
            r.rows[(o.name, t.name)] = (row, value, output)
            env.tables[t.name] = output and (row.id, output)
            r.trace.append(
                {
                    "rule": rule,
                    "facts": {
                        "input": fmt_plain(value),
                        "min": show_min(env),
                        "output": show_output(env),
                        "unit": t.unit,
                    },
                }
            )

        return run

    def _action_fail(self, o: Outcome, crit):
        rule = f"{o.name}.criteria.{crit.code}"
        names = ("lhs", "rhs") if isinstance(crit.test, Compare) else ("value",) if isinstance(crit.test, Hit) else ()
        template_en, template_zh = substituter(crit.message["en"], names), substituter(crit.message["zh"], names)
        refs = ref_reader(crit.test)
        oname, code, source = o.name, crit.code, crit.source or o.source
        compare, hit = isinstance(crit.test, Compare), isinstance(crit.test, Hit)
        if compare:
            show_lhs, show_rhs = displayer(crit.test.left), displayer(crit.test.right)
            sorted_refs = sorted(crit.test.refs())
            # the sides are usually plain names, whose display the reason's values already hold
            lhs_key, rhs_key = named_ref(crit.test.left, sorted_refs), named_ref(crit.test.right, sorted_refs)
        elif hit:
            hit_input = self.book_table(o, crit.test.table).input.compile()

        def run(c):
            r = self._run
            bucket = r.reasons.get(oname)
            if bucket is None:
                bucket = r.reasons[oname] = []
            elif any(x["code"] == code for x in bucket):
                return  # $or fires once per true branch
            env = r.envs.get(oname) or self._outcome_env(o)
            facts = refs(env, r.shown)
            subst = {}
            if compare:
                subst = {
                    "lhs": show_lhs(env) if lhs_key is None else facts[lhs_key],
                    "rhs": show_rhs(env) if rhs_key is None else facts[rhs_key],
                }
            elif hit:
                subst = {"value": fmt_plain(hit_input(env))}
            bucket.append(
                {
                    "code": code,
                    "rule": crit.rule,
                    "message": template_en(subst),
                    "message_zh": template_zh(subst),
                    "source": source,
                    "clause": crit.clause,
                    "values": facts,
                }
            )
            r.trace.append({"rule": rule, "facts": facts})

        return run

    @staticmethod
    def book_table(o, name):
        return next(t for t in o.tables if t.name == name)

    def _outcome_env(self, o: Outcome):
        """Variables of ``o`` computed once per decision (they are outcome-local)."""
        r = self._run
        if r is None:
            raise EngineError("an outcome's variables were asked for outside a decision")
        env = r.envs.get(o.name)
        if env is None:  # only for outcomes with no atom in the fact
            env = r.envs[o.name] = self._lets_env(r.env, o.name)
        return env  # its tables are filled in by the row actions as they fire

    def _action_settle(self, o: Outcome):
        rule = f"{o.name}.settle"
        ok, ko = STATUSES[o.kind]
        zero = None if o.amount is None else fmt_amount(Decimal(0), o.amount.places)
        places = None if o.amount is None else o.amount.places
        formula = None if o.amount is None else o.amount.formula.compile()
        cap_fn = None if o.amount is None or o.amount.cap is None else o.amount.cap.compile()
        shown = {id(row): (displayer(row.min), displayer(row.output)) for t in o.tables for row in t.rows}

        status_prefix = {s: self._status_prefix[(o.name, s)] for s in o.statuses}
        oname, chained = o.name, o.name in self._depended

        def run(c):
            r = self._run
            env = r.envs.get(oname) or self._outcome_env(o)
            reasons, amount = [], None
            if oname in r.na:
                status, reasons = "not_applicable", [r.na[oname]]
            elif r.reasons.get(oname):
                status, reasons, amount = ko, r.reasons[oname], zero
            else:
                status = ok
                for t in o.tables:
                    row, value, output = r.rows[(o.name, t.name)]
                    show_min, show_output = shown[id(row)]
                    low, out, shown_value = show_min(env), show_output(env), fmt_plain(value)
                    reasons.append(
                        {
                            "code": t.reason,
                            "rule": f"{o.name}.{t.name}",
                            "source": o.source,
                            "message": f"{t.input_name} {shown_value} ≥ {low}: tier {row.id}, {out} {t.unit}",
                            "message_zh": f"{shown_value} ≥ {low}，适用档位 {row.id}：{out} {t.unit}",
                            "clause": o.clause,
                            "values": {"row": row.id, "input": shown_value, "output": out},
                        }
                    )
                if o.amount is not None:
                    # rounded once, half up, as whole units of 10**-places: no Decimal on the way
                    value = round_half_up_scaled(formula(env), places)
                    if cap_fn is not None:
                        cap = round_half_up_scaled(cap_fn(env), places)
                        if value > cap:
                            shown_value, shown_cap = fmt_scaled(value, places), fmt_scaled(cap, places)
                            reasons.append(
                                {
                                    "code": "CAPPED",
                                    "rule": f"{o.name}.cap",
                                    "source": o.source,
                                    "message": f"{shown_value} {o.unit} is capped "
                                    f"at the remaining {shown_cap} {o.unit}",
                                    "message_zh": f"{shown_value} {o.unit} 超过剩余上限，按 {shown_cap} {o.unit} 计",
                                    "clause": o.clause,
                                    "values": {"uncapped": shown_value, "cap": shown_cap},
                                }
                            )
                            value = cap
                    amount = fmt_scaled(value, places)
            r.env.status[oname] = status
            r.out[oname] = (status, amount, reasons)
            r.trace.append({"rule": rule, "facts": {"status": status, "amount": amount}})
            if c is not None and chained:
                # A status value no later rule needs is not handled: nothing to chain.
                self._assert_json(f"{status_prefix[status]}{r.sid_json}}}", handled_only=False)

        return run

    def _action_final(self):
        settlers = [(o.name, self._settlers[o.name]) for o in self.book.outcomes]

        def run(c):
            out = self._run.out
            for name, settle in settlers:
                if name not in out:
                    settle(None)
            self._trace("decision.totals", {})

        return run

    # --- evaluation ------------------------------------------------------------
    @staticmethod
    def _plan_atom(key, oname, node):
        """How ``facts`` computes one atom: (key, kind, outcome, what), the commonest shapes inlined."""
        if isinstance(node, Present):
            return key, 0, None, node.section
        if isinstance(node, Compare):
            left, right = node.left, node.right
            if oname is None and isinstance(left, Field) and isinstance(right, Param):
                return key, 3, oname, (left.path, right.name)
            if oname is None and isinstance(left, Field) and isinstance(right, Const):
                return key, 4, oname, (left.path, right.number)
            return key, 1, oname, (left.compile(), right.compile())
        if oname is None and isinstance(node, Field):
            return key, 5, oname, node.path
        return key, 2, oname, node.compile()

    def facts(self, env: Env, envs: dict | None = None, plan: list | None = None) -> dict:
        """The fact asserted for one application: exact signs, booleans, labels, presence.

        ``envs`` receives each outcome's environment (its ``let`` variables) for the actions to reuse;
        ``plan`` is ``_plan_for(env.params)`` when the caller has it already.
        """
        fact: dict[str, Any] = {"t": "app"}
        envs = {} if envs is None else envs
        present, fields = env.present, env.fields
        if None not in envs:
            envs[None] = env
        for key, kind, oname, node in plan or self._plan_for(env.params):
            if kind == 4:  # a field against a fixed Fraction: node is (path, value, numerator, denominator)
                a = fields.get(node[0])
                if type(a) is Fraction:  # sign() inlined (properties skipped)
                    x = a._numerator * node[3] - node[2] * a._denominator  # type: ignore[attr-defined]  # Fraction's slots: its properties cost a call per read here
                    fact[key] = (x > 0) - (x < 0)
                elif a is not None:
                    fact[key] = sign(a, node[1])
                continue
            if kind == 0:  # a section's presence
                fact[key] = node in present  # node: the section name
                continue
            if kind == 3:  # a field against a parameter that is not a Fraction (not seen in the rules)
                a, b = fields.get(node[0]), env.params[node[1]]
            elif kind == 5:  # a boolean or label field
                v = fields.get(node)
                if v is not None:
                    fact[key] = v
                continue
            else:
                sub = envs.get(oname)
                if sub is None:
                    sub = envs[oname] = self._lets_env(env, oname)
                if kind == 2:  # a boolean or label term
                    v = node(sub)
                    if v is not None:
                        fact[key] = v
                    continue
                a, b = node[0](sub), node[1](sub)
            # a comparison: the exact sign of left - right
            if type(a) is Fraction and type(b) is Fraction:  # sign() inlined (properties skipped)
                x = a._numerator * b._denominator - b._numerator * a._denominator  # type: ignore[attr-defined]  # Fraction's slots: its properties cost a call per read here
                fact[key] = (x > 0) - (x < 0)
            elif a is not None and b is not None:
                fact[key] = sign(a, b)
        return fact

    def _plan_for(self, params: dict) -> list:
        """``_plan`` with each parameter compared to a field replaced by its value (``decide``: once a day)."""
        plan = []
        for key_, kind, oname, node in self._plan:
            if kind == 3:
                value = params[node[1]]
                if type(value) is Fraction:
                    kind, node = 4, (node[0], value, value._numerator, value._denominator)  # type: ignore[attr-defined]  # Fraction's slots: its properties cost a call per read here
            elif kind == 4:
                value = node[1]
                if type(value) is Fraction:
                    node = (node[0], value, value._numerator, value._denominator)  # type: ignore[attr-defined]  # Fraction's slots: its properties cost a call per read here
                else:
                    kind, node = 1, (Field(node[0], "decimal").compile(), Const(value).compile())
            plan.append((key_, kind, oname, node))
        return plan

    def _lets_env(self, env, oname):
        if oname not in self._own_env:
            return env
        sub = Env(env.fields, env.present, env.params, env.literals)
        sub.status = env.status
        for name, term in self._lets.get(oname, ()):
            sub.vars[name] = term(sub)
        return sub

    def _literals(self, when):
        cache = self._literal_cache
        if when not in cache:
            cache[when] = {n: p.literal_at(when) for n, p in self.book.params.items() if not p.index}
        return cache[when]

    def _assert_json(self, text: str, handled_only: bool = True) -> int:
        """Assert a fact (JSON text) into the C engine; the state offset it landed in."""
        code, offset = dr_c.assert_fact(self._handle, text)
        if code == 1:  # ERR_EVENT_NOT_HANDLED: no rule's pattern takes it
            if handled_only:
                raise EngineError("the inference engine did not handle the application fact")
            return 0
        if code == 2:  # ERR_EVENT_OBSERVED: identical content asserted twice
            raise EngineError("the inference engine saw the same fact twice")
        return offset

    def _fire(self, fact_json: str, sid: str) -> None:
        """Assert the application fact and run every action the network schedules, in order.

        This drives durable_rules' C engine the way ``durable.engine.Ruleset._flush_actions``
        does, minus what our actions never use: the wrapper parses each matched fact from JSON,
        serialises the state back after every action and builds a closure with timestamps --
        about two thirds of the time of a decision. The network still decides which actions
        fire and in which order; the action name is the first key of the message text.
        """
        handle = self._handle
        offset = self._assert_json(fact_json)
        started = dr_c.start_action_for_state(handle, offset)
        message = started[1] if started else None
        actions = self._actions
        while message:
            name = message[2 : message.find('"', 2)]
            if name not in actions:  # not the plain '{"name":' prefix: read it properly
                name = next(iter(json.loads(message)))
            try:
                actions[name](sid)
            except BaseException as exc:
                dr_c.abandon_action(handle, offset)
                raise EngineError(f"a rule action failed ({name}): {exc!r}") from exc
            message = dr_c.complete_and_start_action(handle, offset)

    def _day(self, when):
        """Once per date: the parameters in force ((value, effective_from) each), their values, literals
        and displays, and the fact plan with those values inlined."""
        day = self._days.get(when)
        if day is None:
            resolved = self.book.params_at(when)
            params, literals = {name: v for name, (v, _) in resolved.items()}, self._literals(when)
            day = self._days[when] = (
                resolved,
                params,
                literals,
                param_displays(params, literals),
                self._plan_for(params),
            )
        return day

    def decide(self, app: Application) -> Decision:
        when = app.period.end
        resolved, params, literals, shown, plan = self._day(when)  # shared by every decision that day: read only
        fields, present = field_values(app)
        env = Env(fields, present, params, literals)
        with self._lock:
            self._run = _Run(env, shown)
            fact = self.facts(env, self._run.envs, plan)
            sid = app.application_id
            fact["sid"] = sid
            self._run.sid_json = _DUMPS(sid)
            try:
                self._fire(_fact_json(fact), sid)
            except EngineError as exc:
                raise EngineError(f"{app.application_id}: {exc}") from exc.__cause__
            except Exception as exc:  # the C engine's errors are defects, not user errors
                raise EngineError(f"{app.application_id}: the inference engine failed: {exc}") from exc
            finally:
                try:
                    dr_c.delete_state(self._handle, sid)
                except Exception:
                    pass
            run, self._run = self._run, None
        missing = [o.name for o in self.book.outcomes if o.name not in run.out]
        if missing:
            raise EngineError(f"{app.application_id}: no decision for {', '.join(missing)}")
        return self._document(app, run, resolved)

    def _parameter_block(self, o, when, resolved) -> dict:
        """Parameters an outcome read, as in force on ``when`` (same for every application that day)."""
        cache = self._block_cache
        key = (o.name, when)
        items = cache.get(key)
        if items is None:
            items = cache[key] = tuple(
                (
                    name,
                    {
                        "value": self.book.params[name].literal_at(when),
                        "unit": self.book.params[name].unit,
                        "effective_from": resolved[name][1].isoformat(),
                        "reference": self.book.params[name].reference,
                    },
                )
                for name in self._params_of[o.name]
            )
        return {k: v.copy() for k, v in items}  # callers may mutate their document: fresh dicts

    def _document_rows(self, when, resolved) -> tuple:
        """What ``_document`` needs of each outcome on ``when``, looked up once per date."""
        rows = []
        for o in self.book.outcomes:
            self._parameter_block(o, when, resolved)  # fills the cache read below
            rows.append(
                (
                    o.name,
                    o.unit,
                    o.title,
                    o.source,
                    self._block_cache[(o.name, when)],
                    o.on_not_met,
                    o.earmark,
                    o.unit == "yuan",
                    o.kind == "levy",
                )
            )
        return tuple(rows), when.isoformat()

    def _document(self, app, run, resolved) -> Decision:
        day_rows = self._doc_rows.get(app.period.end)
        if day_rows is None:
            day_rows = self._doc_rows[app.period.end] = self._document_rows(app.period.end, resolved)
        rows, evaluated_on = day_rows
        outcomes: dict[str, OutcomeDoc] = {}
        subsidy, levy, out = Decimal("0.00"), Decimal("0.00"), run.out
        for name, unit, title, source, items, on_not_met, earmark, yuan, levy_kind in rows:
            status, amount, reasons = out[name]
            na = status == "not_applicable"
            doc: OutcomeDoc = {
                "status": status,
                "amount": None if na else amount,
                "unit": None if na else unit,
                "reasons": reasons,
                "title": title,
                "source": source,
                "parameters": {k: v.copy() for k, v in items},
            }  # callers may mutate: fresh dicts
            if on_not_met and status == "not_met":
                doc["notice"] = {
                    "kind": on_not_met["notice"],
                    "deadline_days": int(resolved[on_not_met["deadline_days"]][0]),
                }
            if earmark:
                doc["earmark"] = earmark
            outcomes[name] = doc
            if yuan and status == "granted":
                subsidy += Decimal(amount)
            if levy_kind and status == "levied":
                levy += Decimal(amount)
        return {
            "contract": CONTRACT,
            "application_id": app.application_id,
            "evaluated_on": evaluated_on,
            "ruleset": {"version": self.book.version, "digest": self.book.digest},
            "outcomes": outcomes,
            "totals": {"subsidy_yuan": fmt_amount(subsidy, 2), "levy_yuan": fmt_amount(levy, 2)},
            "trace": run.trace,
        }
