"""Decide one application at a time with the rulebook compiled to a durable_rules (Rete) ruleset.

durable_rules compares numbers as C doubles, so exact arithmetic happens here in Python
(fractions) *before* the network: every comparison of the rule files reaches the engine as
the exact three-way sign of ``left - right`` (-1, 0, 1), and the engine matches the rule's
own operator against 0 (``gte`` -> ``$gte 0``). Booleans and labels go in as they are.

The network and its registration are ``network``; what its rules do when they fire is
``actions``. Each decision here drives durable's C engine directly (``_fire``): the host's
per-action JSON parse of the matched fact and state re-serialisation cost more than the
network itself. Of the safety measures of shared/DURABLE_RULES.md, these are here: one live
sid at a time, ``delete_state`` in ``finally``, and an action's exception abandoning the
action to surface as EngineError.
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from fractions import Fraction
from typing import Any

import durable_rules_engine as dr_c
import orjson

from engine.backends.rete.actions import RuleActions, WorkingMemory
from engine.backends.rete.network import DUMPS, HOST_LOCK, Compiled, build_rules, check_hashes, register
from engine.contract.application import Application
from engine.contract.decision import CONTRACT, Decision, OutcomeDoc
from engine.decimals import fmt_amount
from engine.errors import EngineError
from engine.rulebook.evaluate import Env, field_values, param_displays
from engine.rulebook.expressions import Compare, Const, Field, Param, Present
from engine.rulebook.loader import Rulebook


def _fact_json(fact: dict) -> str:
    """The application fact as JSON text for the C engine (compact; only the parsed content matters)."""
    try:
        return orjson.dumps(fact).decode()
    except TypeError:  # orjson.JSONEncodeError: a lone surrogate, an int beyond 64 bits
        return DUMPS(fact)


_ENGINES: dict[str, ReteEngine] = {}


def sign(a: Fraction, b: Fraction) -> int:
    if type(a) is Fraction and type(b) is Fraction:  # cross-multiplied: skips the numbers.Rational ABC check
        x = a.numerator * b.denominator - b.numerator * a.denominator
        return (x > 0) - (x < 0)
    return (a > b) - (a < b)


class ReteEngine(RuleActions):
    """Decide applications under one rulebook with durable_rules."""

    def __init__(self, book: Rulebook):
        super().__init__(book)
        self.name = f"shuangtan_{book.digest[7:23]}"
        self._days: dict = {}
        self._doc_rows: dict = {}
        self._literal_cache: dict = {}  # date -> literals of the parameters in force
        self._block_cache: dict = {}  # (outcome, date) -> its parameter block
        self._lock = threading.Lock()
        self._compiled = Compiled()
        self._params_of = {o.name: sorted(o.params()) for o in book.outcomes}
        self._ruleset = build_rules(book, self._compiled, self)
        check_hashes(self._compiled.atoms)
        self._plan = [self._plan_atom(key, oname, node) for key, oname, node in self._compiled.atoms]
        self._actions = {name: rule["run"] for name, rule in self._ruleset.items()}
        self.handle = register(self.name, self._ruleset)

    @classmethod
    def for_rulebook(cls, book: Rulebook) -> ReteEngine:
        """One engine per rulebook digest per process (a ruleset name can be registered once)."""
        with HOST_LOCK:
            eng = _ENGINES.get(book.digest)
        if eng is None:
            eng = cls(book)
            with HOST_LOCK:
                _ENGINES[book.digest] = eng
        return eng

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
                    sub = envs[oname] = self.lets_env(env, oname)
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

    def _literals(self, when):
        cache = self._literal_cache
        if when not in cache:
            cache[when] = {n: p.literal_at(when) for n, p in self.book.params.items() if not p.index}
        return cache[when]

    def _fire(self, fact_json: str, sid: str) -> None:
        """Assert the application fact and run every action the network schedules, in order.

        This drives durable_rules' C engine the way ``durable.engine.Ruleset._flush_actions``
        does, minus what our actions never use: the wrapper parses each matched fact from JSON,
        serialises the state back after every action and builds a closure with timestamps --
        about two thirds of the time of a decision. The network still decides which actions
        fire and in which order; the action name is the first key of the message text.
        """
        handle = self.handle
        offset = self.assert_json(fact_json)
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
            self.memory = WorkingMemory(env, shown)
            fact = self.facts(env, self.memory.envs, plan)
            sid = app.application_id
            fact["sid"] = sid
            self.memory.sid_json = DUMPS(sid)
            try:
                self._fire(_fact_json(fact), sid)
            except EngineError as exc:
                raise EngineError(f"{app.application_id}: {exc}") from exc.__cause__
            except Exception as exc:  # the C engine's errors are defects, not user errors
                raise EngineError(f"{app.application_id}: the inference engine failed: {exc}") from exc
            finally:
                try:
                    dr_c.delete_state(self.handle, sid)
                except Exception:
                    pass
            run, self.memory = self.memory, None
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
