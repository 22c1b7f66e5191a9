"""What the examination found, outcome by outcome, in the notice's language.

Each criterion of an outcome is phrased from its test and the values it read (met as met, unmet
as unmet); each other reason (a rate tier, a cap, a metered value overruling a declaration, a
reviewer's change) from its code and values; the evidence and parameters are labelled with
their units. The values are the ones the decision was made on: for a metered decision, the
meter's, with the declaration beside them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from engine.contract.application import Application
from engine.notices.wording import Datum, Phrase, Shown, Words, join, say
from engine.rulebook.evaluate import Env, field_values
from engine.rulebook.expressions import (
    All,
    AnyOf,
    Arith,
    Compare,
    Const,
    Field,
    Hit,
    Lookup,
    Not,
    Param,
    Present,
    Status,
    TableOutput,
    Truth,
    Var,
)
from engine.rulebook.loader import Outcome, Rulebook

#: Reasons a notice phrases itself (criteria codes are phrased from their tests).
CAPPED, METERED = "CAPPED", "DECLARED_DIFFERS_FROM_METERED"
HISTORY, OVERRIDE, ZERO, PERIOD = (
    "HISTORY_FROM_RECORD",
    "OFFICER_OVERRIDE",
    "GRANT_ROUNDS_TO_ZERO",
    "PERIOD_ALREADY_DECIDED",
)


@dataclass
class Finding:
    text: Phrase
    code: str
    met: bool | None = None  # a criterion: held or not; None for a further finding
    short: Phrase | None = None  # a failed check without its own reasons (a letter says them once)


@dataclass
class OutcomeFindings:
    name: str
    outcome: Outcome
    out: dict
    env: Env
    criteria: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)  # tier, cap, metering, review

    @property
    def unmet(self) -> list[Finding]:
        return [f for f in self.criteria if f.met is False]

    @property
    def met(self) -> list[Finding]:
        return [f for f in self.criteria if f.met]


class Findings:
    """The findings of one decision, per outcome, on the values it was decided on."""

    def __init__(self, book: Rulebook, decision: dict, base: Env, words: Words, metering: dict | None):
        self.book, self.decision, self.base, self.w = book, decision, base, words
        self.metering = metering  # the decision's metering block, or None
        self._seen: dict[str, OutcomeFindings] = {}

    # --- per outcome --------------------------------------------------------------------
    def of(self, name: str) -> OutcomeFindings:
        if name not in self._seen:
            self._seen[name] = self._build(name)
        return self._seen[name]

    def _build(self, name: str) -> OutcomeFindings:
        o, out = self.book.outcome(name), self.decision["outcomes"][name]
        env = outcome_env(o, self.base)
        f = OutcomeFindings(name, o, out, env)
        if out["status"] == "not_applicable":
            return f
        failing = {r["code"] for r in out["reasons"]}
        for c in o.criteria:
            held = c.code not in failing
            short = None
            if isinstance(c.test, Status) and not held:
                status = self.decision["outcomes"][c.test.outcome]["status"]
                other = self.book.outcome(c.test.outcome)
                short = say(self.w.say["status"], outcome=self.w.title(other), status=self.w.lab["status"][status])
            f.criteria.append(Finding(self.test(c.test, env, o, held), c.code, held, short))
        criteria = {c.code for c in o.criteria}
        for r in out["reasons"]:
            if r["code"] not in criteria:
                f.notes.append(Finding(self.reason(r, o, env), r["code"]))
        return f

    # --- tests --------------------------------------------------------------------------
    def test(self, test, env: Env, o: Outcome, held: bool) -> Phrase:
        """A criterion's test as the finding it made (``held``: as the decision found it)."""
        s, w = self.w.say, self.w
        if isinstance(test, Compare):
            left, lunit, a = self.term(test.left, env, o)
            right, _, b = self.term(test.right, env, o, unit=lunit)
            if a is None or b is None:
                return say(s["not_declared"], label=(left if a is None else right) or "")
            pattern = s["compare"][test.op]["met" if held else "unmet"]
            shown_b = say(s["labelled"], label=right, value=w.about(b)) if right else w.about(b)
            return say(pattern, left=left or "", **{"is": w.verb(a)}, a=a.text, b=shown_b)
        if isinstance(test, Truth):
            value = env.fields.get(test.field.path)
            entry = w.lab["fields"].get(test.field.path, {})
            if value is None:
                return say(s["not_declared"], label=entry.get("label", test.field.path))
            return Phrase((entry.get("yes" if value else "no", entry.get("label", test.field.path)),))
        if isinstance(test, Status):
            other = self.book.outcome(test.outcome)
            status = self.decision["outcomes"][test.outcome]["status"]
            phrase = say(s["status"], outcome=w.title(other), status=w.lab["status"][status])
            if not held and status == "not_met":  # why the check failed, in its own words
                why = [x.text for x in self.of(test.outcome).unmet]
                if why:
                    phrase = join([phrase, join(why, s["all"])], "（" if w.lang == "zh" else " (")
                    phrase = join([phrase, "）" if w.lang == "zh" else ")"], "")
            return phrase
        if isinstance(test, Hit):
            table = next(t for t in o.tables if t.name == test.table)
            label, unit, a = self.term(table.input, env, o)
            hit = env.tables.get(table.name)
            if a is None:
                return say(s["not_declared"], label=label or "")
            if hit is not None:
                row = next(r for r in table.rows if r.id == hit[0])
                low = w.number(row.min.value(env), unit)
                output = w.number(hit[1], table.unit)
                return say(s["hit"], input=label or "", **{"is": w.verb(a)}, a=a.text, min=low.text, output=output.text)
            lowest = min((r.min.value(env) for r in table.rows), default=None)
            return say(s["no_hit"], input=label or "", **{"is": w.verb(a)}, a=a.text, min=w.number(lowest, unit).text)
        if isinstance(test, All):
            return join([self.test(t, env, o, held) for t in test.tests], s["all"])
        if isinstance(test, AnyOf):
            return join([self.test(t, env, o, held) for t in test.tests], s["any"])
        if isinstance(test, Not):
            return say(s["not"], test=self.test(test.test, env, o, not held))
        if isinstance(test, Present):
            return Phrase((w.field_label(test.section),))
        return Phrase(())

    def term(self, node, env: Env, o: Outcome, unit: str | None = None) -> tuple[str | None, str | None, Shown | None]:
        """(label, unit, shown value) of a term; a constant takes the unit of what it is compared with."""
        w = self.w
        if isinstance(node, Field):
            u = w.field_unit(node.path)
            v = env.fields.get(node.path)
            return w.field_label(node.path), u, None if v is None else w.number(v, u)
        if isinstance(node, Var):
            u = w.var_unit(o.name, node.name)
            v = env.vars.get(node.name)
            return w.var_label(o.name, node.name), u, None if v is None else w.number(v, u)
        if isinstance(node, Param):
            u = self.book.params[node.name].unit
            return w.param_label(node.name), u, w.number(env.params[node.name], u)
        if isinstance(node, Lookup):
            u = self.book.params[node.param].unit
            return w.param_label(node.param), u, w.number(node.value(env), u)
        if isinstance(node, TableOutput):
            table = next(t for t in o.tables if t.name == node.table)
            v = node.value(env)
            return w.table_label(o.name, node.table), table.unit, None if v is None else w.number(v, table.unit)
        if isinstance(node, Const):
            return None, unit, w.number(node.number, unit)
        value = node.value(env) if hasattr(node, "value") else None
        return None, unit, None if value is None else w.number(value, unit)

    # --- other reasons ------------------------------------------------------------------
    def reason(self, r: dict, o: Outcome, env: Env) -> Phrase:
        s, w, code, values = self.w.say, self.w, r["code"], r.get("values") or {}
        table = next((t for t in o.tables if t.reason == code), None)
        if table is not None:
            label, unit, a = self.term(table.input, env, o)
            hit = env.tables.get(table.name)
            if a is not None and hit is not None:
                return say(
                    s["tier"],
                    input=label or "",
                    **{"is": w.verb(a)},
                    a=a.text,
                    output=w.number(hit[1], table.unit).text,
                )
        if code == CAPPED and o.unit and o.amount is not None and o.amount.cap is not None:
            cap_label, _, _ = self.term(o.amount.cap, env, o)
            return say(
                s["capped"],
                uncapped=w.amount(str(values["uncapped"]), o.unit),
                cap=w.amount(str(values["cap"]), o.unit),
                cap_label=cap_label or "",
            )
        if code == METERED:
            fact = r["rule"].removeprefix("metering.")
            label, unit = self.fact_label(fact)
            return say(
                s["metered_differs"],
                label=label,
                declared=w.number(values.get("declared"), unit).text,
                metered=w.number(values.get("metered"), unit).text,
                tolerance=w.number(values.get("tolerance"), "ratio" if unit == "ratio" else unit).text,
            )
        if code == HISTORY:
            return Phrase((s["history"],))
        if code == OVERRIDE:
            return say(
                s["override"],
                engine=self._result(values.get("engine"), o),
                decided=self._result(values.get("decided"), o),
                reason=Datum(str(values.get("reason", ""))),
            )
        if code == ZERO and "amount" in values and o.unit:
            return say(s["zero"], amount=w.amount(str(values["amount"]), o.unit))
        if code == PERIOD:
            return Phrase((s["period_decided"],))
        message = r.get("message_zh", r["message"]) if w.lang == "zh" else r["message"]
        return say(s["other"], message=Datum(message))

    def _result(self, result, o: Outcome) -> str:
        if not isinstance(result, dict):
            return str(result)
        label = self.w.lab["status"].get(result.get("status"), str(result.get("status")))
        amount = result.get("amount")
        return label + (f" {self.w.amount(str(amount), o.unit)}" if amount is not None and o.unit else "")

    def fact_label(self, fact: str) -> tuple[str, str | None]:
        """The label and unit of a metered fact (the field or outcome value it stands for)."""
        spec = self.book.metering
        check = next((c for c in spec.checks if c.fact == fact), None) if spec is not None else None
        declared = check.declared if check is not None else fact
        if declared in self.w.lab["fields"]:
            return self.w.field_label(declared), self.w.field_unit(declared)
        outcome, _, var = declared.partition(".")
        return self.w.var_label(outcome, var), self.w.var_unit(outcome, var)

    # --- the amount ---------------------------------------------------------------------
    def calculation(self, f: OutcomeFindings) -> Phrase | None:
        """How the amount was computed: the formula's factors, the result, its rounding."""
        o, out, w = f.outcome, f.out, self.w
        if o.amount is None or o.unit is None or out["status"] not in ("granted", "levied") or out["amount"] is None:
            return None
        if any(r["code"] == OVERRIDE for r in out["reasons"]):
            return None  # the reviewer's amount, not the formula's
        raw = o.amount.formula.value(f.env)
        if raw is None:
            return None
        result = w.number(raw, o.unit, most=4)
        phrase = say(w.say["formula_eq"], formula=self.formula(o.amount.formula, f.env, o), result=result.text)
        rounded = Fraction(Decimal(out["amount"]))
        if rounded != raw and not any(r["code"] == CAPPED for r in out["reasons"]):
            phrase = join([phrase, say(w.say["rounded"], amount=w.amount(out["amount"], o.unit))], "")
        return phrase

    def formula(self, node, env: Env, o: Outcome) -> Phrase:
        if isinstance(node, Arith) and node.op == "mul":
            return join([self.formula(a, env, o) for a in node.args], self.w.say["times"])
        if isinstance(node, Arith):
            return Phrase(())
        label, _, shown = self.term(node, env, o)
        text = shown.text if shown is not None else self.w.lab["annex"]["none"]
        return say(self.w.say["labelled"], label=label, value=text) if label else Phrase((text,))


def outcome_env(o: Outcome, base: Env) -> Env:
    """``base`` with the outcome's own values (let) and the rows its tables hit."""
    env = Env(base.fields, base.present, base.params, base.literals)
    env.status = base.status
    for name, term in o.lets:
        env.vars[name] = term.value(env)
    for t in o.tables:
        value = t.input.value(env)
        if value is None:
            continue
        for row in t.rows:  # hit policy "first": the first row whose minimum the value reaches
            if value >= row.min.value(env):
                env.tables[t.name] = (row.id, row.output.value(env))
                break
    return env


def decided_fields(app: Application, decision: dict) -> tuple[dict, set, dict]:
    """The field values the decision was made on: for a metered decision the meter's (from its
    ``metering`` block), else the declaration's; with the declared values the meter replaced."""
    from engine.telemetry.metering import FACT_FIELDS

    fields, present = field_values(app)
    declared: dict = {}
    block = decision.get("metering") or {}
    if block.get("used") == "metered":
        for fact, path in FACT_FIELDS.items():
            if fact in block["facts"] and block["facts"][fact] is not None:
                declared[path] = fields.get(path)
                fields[path] = Fraction(Decimal(str(block["facts"][fact])))
    return fields, present, declared


def decision_env(book: Rulebook, fields: dict, present: set, when: dt.date, decision: dict) -> Env:
    params = book.values_at(when)
    literals = {n: p.literal_at(when) for n, p in book.params.items() if not p.index}
    env = Env(fields, present, params, literals)
    env.status = {k: v["status"] for k, v in decision["outcomes"].items()}
    return env


def reason_texts(book: Rulebook, app, decision: dict, lang: str) -> dict[tuple[str, str], str]:
    """(outcome, reason code) -> the reason as a notice words it in ``lang``, for every reason the
    findings phrase (a failed criterion, a rate tier, a cap…): ratios as percentages, amounts
    grouped, units and labels named. A reason not in it is shown by its own message."""
    fields, present, _ = decided_fields(app, decision)
    base = decision_env(book, fields, present, app.period.end, decision)
    findings = Findings(book, decision, base, Words(lang), decision.get("metering") or None)
    texts: dict[tuple[str, str], str] = {}
    for name in decision["outcomes"]:
        of = findings.of(name)
        for f in of.unmet + of.notes:
            texts[(name, f.code)] = str(f.short or f.text)
    return texts
