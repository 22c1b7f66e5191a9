"""The rulebook compiled to one durable_rules (Rete) ruleset, and its registration.

What the network does: applicability (named exemptions), tier selection (hit policy
*first*), one rule per failing criterion (all failing reasons are listed), and chaining
between outcomes through status facts (reporting not met -> every benefit denied).
Every test reaches the network as a fact key: the exact sign of a comparison (matched against
0 with the rule's own operator), a boolean, a label, a section's presence.

The ruleset is registered through durable's Python host, without its background timers.
The safety measures of shared/DURABLE_RULES.md taken here: a final rule at pri 65535 so an
action always fires, a type discriminator ``t`` in every pattern (so the engine's state fact
never matches), status facts only asserted where a later rule consumes them, and field names
checked for 32-bit FNV-1a collisions.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from typing import Any, Protocol

from durable import engine as dr_engine

from engine.errors import HashCollisionError
from engine.rulebook.comparisons import COMPARISONS
from engine.rulebook.expressions import All, AnyOf, Compare, Hit, Label, Not, Present, Status, Truth
from engine.rulebook.loader import Outcome, Rulebook

# json.dumps(x, ensure_ascii=False) builds a new encoder per call; this is the same encoder, built once.
DUMPS = json.JSONEncoder(ensure_ascii=False).encode


class QuietHost(dr_engine.Host):
    """The stock Host runs background timer threads that crash with several sids (DURABLE_RULES.md)."""

    def _run(self):
        pass


_HOST = None
#: guards the one host's registrations (and the engines cache of the Rete backend)
HOST_LOCK = threading.Lock()
# durable_rules' operator matching a comparison's sign against 0 (equality is a plain match), and its negation's
_PASS = {name: None if name == "eq" else f"${name}" for name in COMPARISONS}
_NEGATE = {name: _PASS[c.negation] for name, c in COMPARISONS.items()}


def _host():
    global _HOST
    if _HOST is None:
        _HOST = QuietHost()
    return _HOST


def fnv1a_32(text: str) -> int:
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def register(name: str, ruleset: dict) -> Any:
    """Register ``ruleset`` under ``name`` (once per process) and return its C engine handle."""
    with HOST_LOCK:
        _host().register_rulesets({name: ruleset})
        return _host().get_ruleset(name)._handle


def check_hashes(atoms: list) -> None:
    """Refuse fact names whose FNV-1a hashes collide: durable_rules would confuse them."""
    names = ["t", "sid", "id", "o", "s", "$s"] + [k for k, _, _ in atoms]
    seen: dict[int, str] = {}
    for n in names:
        h = fnv1a_32(n)
        if h in seen and seen[h] != n:
            raise HashCollisionError("rules", n, f"fact name hashes like {seen[h]!r}")
        seen[h] = n


def depended_outcomes(book: Rulebook) -> set[str]:
    """Outcomes whose status a later criterion tests: only these assert a status fact."""
    return {t.outcome for o in book.outcomes for c in o.criteria for t in [c.test] if isinstance(t, Status)}


def status_prefixes(book: Rulebook) -> dict[tuple[str, str], str]:
    """(outcome, status) -> the status fact's JSON text up to its sid (appended per decision)."""
    return {
        (o.name, s): '{"t": "st", "o": %s, "s": %s, "sid": ' % (DUMPS(o.name), DUMPS(s))
        for o in book.outcomes
        for s in o.statuses
    }


class Compiled:
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


Action = Callable[[Any], None]


class ActionFactory(Protocol):
    """What builds the rules' actions (the Rete engine): one closure per rule."""

    def action_na(self, o: Outcome, e) -> Action: ...

    def action_row(self, o: Outcome, t, row) -> Action: ...

    def action_fail(self, o: Outcome, crit) -> Action: ...

    def action_settle(self, o: Outcome) -> Action: ...

    def action_final(self, settlers: list[tuple[str, Action]]) -> Action: ...


def build_rules(book: Rulebook, comp: Compiled, actions: ActionFactory) -> dict:
    """The durable_rules ruleset of ``book``: rule name -> patterns, priority and action."""
    rules: dict = {}
    settlers = {}
    depended = depended_outcomes(book)
    for i, o in enumerate(book.outcomes):
        base = (i + 1) * 1000
        tables = {t.name: t for t in o.tables}
        exemptions = list(book.exceptions) + list(o.applies)
        guard = [comp.passes(o.name, e.when, tables) for e in exemptions]
        for j, e in enumerate(exemptions):
            rules[f"{o.name}.not_applicable.{e.code}"] = {
                "all": [{"m": {"$and": [{"t": "app"}, *guard[:j], comp.fails(o.name, e.when, tables)]}}],
                "pri": base + 1,
                "run": actions.action_na(o, e),
            }
        for t in o.tables:
            for j, row in enumerate(t.rows):
                earlier = [comp.fails(o.name, Compare("gte", t.input, r.min), tables) for r in t.rows[:j]]
                here = comp.passes(o.name, Compare("gte", t.input, row.min), tables)
                rules[f"{o.name}.{t.name}.{row.id}"] = {
                    "all": [{"m": {"$and": [{"t": "app"}, *guard, *earlier, here]}}],
                    "pri": base + 20,
                    "run": actions.action_row(o, t, row),
                }
        for k, c in enumerate(o.criteria):
            name = f"{o.name}.criteria.{c.code}"
            if isinstance(c.test, Status):
                refused = sorted(set(book.outcome(c.test.outcome).statuses) - c.test.allowed)
                status_pat = {
                    "$and": [{"t": "st"}, {"o": c.test.outcome}, *({"$neq": {"s": s}} for s in c.test.allowed)]
                }
                assert refused, "a status test that allows every status can never fail"
                rules[name] = {
                    "all": [{"m": {"$and": [{"t": "app"}, *guard]}}, {"st": status_pat}],
                    "pri": base + 30 + k,
                    "run": actions.action_fail(o, c),
                }
            else:
                rules[name] = {
                    "all": [{"m": {"$and": [{"t": "app"}, *guard, comp.fails(o.name, c.test, tables)]}}],
                    "pri": base + 30 + k,
                    "run": actions.action_fail(o, c),
                }
        settlers[o.name] = actions.action_settle(o)
        if o.name in depended:
            # Outcomes others depend on settle inside the network so their status fact can chain;
            # the rest settle in the final rule (each fired action costs a JSON round trip).
            rules[f"{o.name}.settle"] = {
                "all": [{"m": {"t": "app"}}],
                "pri": base + 900,
                "run": settlers[o.name],
            }
    final = actions.action_final([(o.name, settlers[o.name]) for o in book.outcomes])
    rules["decision.totals"] = {"all": [{"m": {"t": "app"}}], "pri": 65535, "run": final}
    return rules
