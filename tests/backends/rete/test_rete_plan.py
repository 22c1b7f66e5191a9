"""The Rete engine's prepared paths against the tree-walking reference they replace.

Fact building uses a per-date plan with parameters and constants inlined as numerator and
denominator; reasons read their values through prepared readers and take lhs/rhs from them;
messages are filled through str.format_map. Each must agree exactly with the plain reading of
the rule tree (``node.value``, ``ref_values``, ``display``, ``string.Template``).
"""

import datetime as dt
import string

import pytest

from engine.backends.columnar.verify import Generator
from engine.backends.rete.engine import ReteEngine
from engine.contract.application import parse_application
from engine.contract.flat import document_from_flat
from engine.errors import InvalidApplicationError
from engine.rulebook.evaluate import Env, display, field_values, ref_values
from engine.rulebook.evaluate import named_ref as _named_ref
from engine.rulebook.evaluate import ref_reader as _ref_reader
from engine.rulebook.evaluate import substituter as _substituter
from engine.rulebook.expressions import Compare, Present
from engine.rulebook.loader import load_rulebook

BOOK = load_rulebook()
ENGINE = ReteEngine.for_rulebook(BOOK)


def _applications(n, seed, when):
    gen = Generator(BOOK, seed=seed, when=when, invalid_share=0)
    apps = []
    for i in range(n):
        try:
            apps.append(parse_application(document_from_flat(gen.application(i))))
        except InvalidApplicationError:
            continue
    assert len(apps) > n * 0.8
    return apps


APPS = _applications(600, 3, dt.date(2026, 12, 31)) + _applications(300, 4, dt.date(2027, 6, 30))


def _reference_env(app, oname):
    """An outcome's environment built by walking the tree (no compiled closures)."""
    fields, present = field_values(app)
    _, params, literals, _, _ = ENGINE._day(app.period.end)
    env = Env(fields, present, params, literals)
    for name, term in dict((o.name, o.lets) for o in BOOK.outcomes).get(oname, ()):
        env.vars[name] = term.value(env)
    return env


def _sign(a, b):
    return (a > b) - (a < b)


def test_fact_from_the_per_date_plan_equals_the_tree_reading_of_every_atom():
    checked = 0
    for app in APPS:
        fields, present = field_values(app)
        _, params, literals, _, plan = ENGINE._day(app.period.end)
        fact = ENGINE.facts(Env(fields, present, params, literals), {}, plan)
        expected = {"t": "app"}
        for key, oname, node in ENGINE._compiled.atoms:
            ref = _reference_env(app, oname)
            if isinstance(node, Present):
                expected[key] = node.section in present
            elif isinstance(node, Compare):
                a, b = node.left.value(ref), node.right.value(ref)
                if a is not None and b is not None:
                    expected[key] = _sign(a, b)
            else:
                v = node.value(ref)
                if v is not None:
                    expected[key] = v
        assert list(fact.items()) == list(expected.items()), app.application_id
        checked += sum(1 for k in fact if k.startswith("c"))
    assert checked > 5_000  # comparisons on both sides of every threshold were exercised


def test_fact_without_a_given_plan_is_the_same_fact():
    for app in APPS[:100]:
        fields, present = field_values(app)
        _, params, literals, _, plan = ENGINE._day(app.period.end)
        env = Env(fields, present, params, literals)
        assert ENGINE.facts(env, {}, plan) == ENGINE.facts(env)


def test_prepared_reason_values_and_sides_equal_ref_values_and_display():
    criteria = [(o, c) for o in BOOK.outcomes for c in o.criteria]
    named = 0
    for app in APPS[:300]:
        shown = ENGINE._day(app.period.end)[3]
        for o, crit in criteria:
            env = _reference_env(app, o.name)
            env.status = {p.name: "met" for p in BOOK.outcomes}
            want = ref_values(crit.test, env)
            got = _ref_reader(crit.test)(env, shown)
            assert list(got.items()) == list(want.items()), (o.name, crit.code)
            if isinstance(crit.test, Compare):
                refs = sorted(crit.test.refs())
                for side in (crit.test.left, crit.test.right):
                    key = _named_ref(side, refs)
                    if key is not None:
                        assert got[key] == display(side, env), (o.name, crit.code, key)
                        named += 1
    assert named > 1_000


@pytest.mark.parametrize(
    "text",
    [
        "${lhs} is below ${rhs}",
        "$lhs {not a field} $$5 ${rhs}}",
        "{0} {lhs!r} $lhs",
        "no placeholder {x}",
        "比例 ${lhs} 低于 ${rhs}",
        "$$lhs $lhs$rhs",
    ],
)
def test_message_templates_fill_like_string_template(text):
    subst = {"lhs": "27.5", "rhs": "{30}"}
    assert _substituter(text, ("lhs", "rhs"))(subst) == string.Template(text).substitute(subst)


def test_every_rulebook_message_fills_like_string_template():
    for o in BOOK.outcomes:
        for c in o.criteria:
            names = ("lhs", "rhs") if isinstance(c.test, Compare) else ("value",)
            subst = dict.fromkeys(names, "1.5")
            for text in c.message.values():
                try:
                    want = string.Template(text).substitute(subst)
                except (KeyError, ValueError):
                    continue
                assert _substituter(text, names)(subst) == want
