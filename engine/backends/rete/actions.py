"""The rules' actions: what each rule of the network does when it fires, filling the working
memory of the decision in progress (reasons, tier rows, settled outcomes, the trace).

Amounts are settled here in Python, exactly, by the outcome's settle rule. Reason actions are
idempotent (``$or`` fires once per true branch); an action's exception abandons the action and
surfaces as EngineError (``ReteEngine._fire``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import durable_rules_engine as dr_c

from engine.backends.rete.network import depended_outcomes, status_prefixes
from engine.decimals import fmt_amount, fmt_plain, fmt_scaled, round_half_up_scaled
from engine.errors import EngineError
from engine.rulebook.evaluate import Env, displayer, named_ref, ref_reader
from engine.rulebook.expressions import Compare, Hit
from engine.rulebook.loader import STATUSES, Outcome, Rulebook
from engine.rulebook.reasons import capped_reason, exemption_reason, failure_reason, failure_wording, tier_reason


class WorkingMemory:
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


class RuleActions:
    """Builds the actions of the network's rules; they read and fill ``memory``, the working
    memory of the one decision in progress (set by the deciding engine, a subclass)."""

    handle: Any  # the registered ruleset's C engine handle, set once the rules are built

    def __init__(self, book: Rulebook):
        self.book = book
        self.memory: WorkingMemory | None = None
        self._lets = {o.name: [(name, term.compile()) for name, term in o.lets] for o in book.outcomes}
        # Outcomes with neither let variables nor tables read and write nothing of their own:
        # they share the application's environment instead of copying it per decision.
        self._own_env = {o.name for o in book.outcomes if o.lets or o.tables}
        self._status_prefix = status_prefixes(book)
        self._depended = depended_outcomes(book)

    def _trace(self, rule, facts):
        self.memory.trace.append({"rule": rule, "facts": facts})

    def action_na(self, o: Outcome, e):
        rule = f"{o.name}.not_applicable.{e.code}"
        refs = ref_reader(e.when)

        def run(c):
            r = self.memory
            if o.name in r.na:
                return
            r.na[o.name] = exemption_reason(o, e)
            r.trace.append({"rule": rule, "facts": refs(r.env, r.shown)})

        return run

    def action_row(self, o: Outcome, t, row):
        rule = f"{o.name}.{t.name}.{row.id}"
        input_fn, output_fn = t.input.compile(), row.output.compile()
        show_min, show_output = displayer(row.min), displayer(row.output)

        def run(c):
            r = self.memory
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

    def action_fail(self, o: Outcome, crit):
        rule = f"{o.name}.criteria.{crit.code}"
        wording = failure_wording(crit)
        refs = ref_reader(crit.test)
        oname, code = o.name, crit.code
        compare, hit = isinstance(crit.test, Compare), isinstance(crit.test, Hit)
        if compare:
            show_lhs, show_rhs = displayer(crit.test.left), displayer(crit.test.right)
            sorted_refs = sorted(crit.test.refs())
            # the sides are usually plain names, whose display the reason's values already hold
            lhs_key, rhs_key = named_ref(crit.test.left, sorted_refs), named_ref(crit.test.right, sorted_refs)
        elif hit:
            hit_input = self.book_table(o, crit.test.table).input.compile()

        def run(c):
            r = self.memory
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
            bucket.append(failure_reason(o, crit, wording, subst, facts))
            r.trace.append({"rule": rule, "facts": facts})

        return run

    @staticmethod
    def book_table(o, name):
        return next(t for t in o.tables if t.name == name)

    def _outcome_env(self, o: Outcome):
        """Variables of ``o`` computed once per decision (they are outcome-local)."""
        r = self.memory
        if r is None:
            raise EngineError("an outcome's variables were asked for outside a decision")
        env = r.envs.get(o.name)
        if env is None:  # only for outcomes with no atom in the fact
            env = r.envs[o.name] = self.lets_env(r.env, o.name)
        return env  # its tables are filled in by the row actions as they fire

    def action_settle(self, o: Outcome):
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
            r = self.memory
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
                    reasons.append(tier_reason(o, t, row.id, shown_value, low, out))
                if o.amount is not None:
                    # rounded once, half up, as whole units of 10**-places: no Decimal on the way
                    value = round_half_up_scaled(formula(env), places)
                    if cap_fn is not None:
                        cap = round_half_up_scaled(cap_fn(env), places)
                        if value > cap:
                            shown_value, shown_cap = fmt_scaled(value, places), fmt_scaled(cap, places)
                            reasons.append(capped_reason(o, shown_value, shown_cap))
                            value = cap
                    amount = fmt_scaled(value, places)
            r.env.status[oname] = status
            r.out[oname] = (status, amount, reasons)
            r.trace.append({"rule": rule, "facts": {"status": status, "amount": amount}})
            if c is not None and chained:
                # A status value no later rule needs is not handled: nothing to chain.
                self.assert_json(f"{status_prefix[status]}{r.sid_json}}}", handled_only=False)

        return run

    def action_final(self, settlers):
        def run(c):
            out = self.memory.out
            for name, settle in settlers:
                if name not in out:
                    settle(None)
            self._trace("decision.totals", {})

        return run

    def lets_env(self, env, oname):
        if oname not in self._own_env:
            return env
        sub = Env(env.fields, env.present, env.params, env.literals)
        sub.status = env.status
        for name, term in self._lets.get(oname, ()):
            sub.vars[name] = term(sub)
        return sub

    def assert_json(self, text: str, handled_only: bool = True) -> int:
        """Assert a fact (JSON text) into the C engine; the state offset it landed in."""
        code, offset = dr_c.assert_fact(self.handle, text)
        if code == 1:  # ERR_EVENT_NOT_HANDLED: no rule's pattern takes it
            if handled_only:
                raise EngineError("the inference engine did not handle the application fact")
            return 0
        if code == 2:  # ERR_EVENT_OBSERVED: identical content asserted twice
            raise EngineError("the inference engine saw the same fact twice")
        return offset
