"""Partial decisions proved by property tests: random applications, random deletions, and for each
many random completions of what was deleted (boundary values included), decided in full by the
Rete engine as the oracle.

- soundness: an outcome the partial decision settles has the status and amount of every full
  decision of every completion, and each of its reasons holds there; an undetermined one names
  the status and an amount in its range;
- independence: an outcome none of whose inputs (the fields it reads, through the outcomes it
  depends on) was deleted is settled, and is exactly the full decision's outcome;
- needs: two completions that agree on an outcome's ``needs`` decide it alike.
"""

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from partialkit import BASE_APPLICATION, BOOK, applications, completions, deletions, given_paths, without

from engine.backends.rete.engine import ReteEngine
from engine.contract.application import parse_application
from engine.contract.decision import validate_decision
from engine.partial import decide_partial, parse_partial_application
from engine.rulebook.evaluate import Env, field_values
from engine.rulebook.expressions import Field, Status, walk

ENGINE = ReteEngine.for_rulebook(BOOK)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COMPLETIONS = 12


def full(doc):
    return ENGINE.decide(parse_application(doc))


def partial(doc):
    return decide_partial(BOOK, parse_partial_application(doc))


def _inputs() -> dict[str, set]:
    """outcome -> every field it reads, found by walking its rule trees (independently of the
    analysis), through the outcomes its status tests read."""
    out: dict[str, set] = {}
    for o in BOOK.outcomes:
        nodes = [e.when for e in (*BOOK.exceptions, *o.applies)] + [t for _, t in o.lets]
        nodes += [c.test for c in o.criteria]
        for t in o.tables:
            nodes += [t.input, *(r.min for r in t.rows), *(r.output for r in t.rows)]
        if o.amount is not None:
            nodes += [o.amount.formula] + ([o.amount.cap] if o.amount.cap is not None else [])
        read = set()
        for n in nodes:
            for sub in walk(n):
                if isinstance(sub, Field):
                    read.add(sub.path)
                if isinstance(sub, Status):
                    read |= out[sub.outcome]
        out[o.name] = read
    return out


INPUTS = _inputs()


def _exemption_fails(name: str, code: str, doc: dict) -> bool:
    """Whether exemption ``code`` of outcome ``name`` fails for the complete application ``doc``."""
    app = parse_application(doc)
    fields, present = field_values(app)
    env = Env(fields, present, BOOK.values_at(app.period.end))
    o = BOOK.outcome(name)
    e = next(e for e in (*BOOK.exceptions, *o.applies) if e.code == code)
    return e.when.holds(env) is False


def check_sound(decision: dict, world: dict) -> None:
    """Every outcome of the partial ``decision`` against the full decision of the complete ``world``."""
    truth = full(world)
    for name, out in decision["outcomes"].items():
        real = truth["outcomes"][name]
        if out["status"] == "undetermined":
            assert real["status"] in out["could_be"], (name, out, real["status"])
            span = out.get("amount_range")
            if span is not None and real["amount"] is not None:
                a = Decimal(real["amount"])
                assert span["min"] is None or Decimal(span["min"]) <= a, (name, span, a)
                assert span["max"] is None or a <= Decimal(span["max"]), (name, span, a)
            continue
        assert (out["status"], out["amount"], out["unit"]) == (real["status"], real["amount"], real["unit"]), name
        codes = [r["code"] for r in real["reasons"]]
        for r in out["reasons"]:
            if out["status"] == "not_applicable" and r["code"] != codes[0]:
                assert _exemption_fails(name, r["code"], world), (name, r["code"])
                continue
            assert r["code"] in codes, (name, r["code"], codes)
            if None not in r.get("values", {}).values() and "?" not in r["message"]:
                assert r in real["reasons"], (name, r, real["reasons"])
        if not out.get("needs"):
            assert out["reasons"] == real["reasons"], name
    assert set(decision["outcomes"]) == set(truth["outcomes"])


@SETTINGS
@given(st.data())
def test_settled_outcomes_hold_for_the_real_values_and_every_completion(data):
    doc = data.draw(applications())
    gone = data.draw(deletions(doc))
    decision = partial(without(doc, gone))
    validate_decision(decision)
    for out in decision["outcomes"].values():
        event(
            "undetermined"
            if out["status"] == "undetermined"
            else "settled with needs"
            if out.get("needs")
            else "settled"
        )
    check_sound(decision, doc)
    for _ in range(COMPLETIONS):
        check_sound(decision, data.draw(completions(without(doc, gone), gone)))


@SETTINGS
@given(st.data())
def test_an_outcome_whose_inputs_are_all_given_is_settled_exactly(data):
    doc = data.draw(applications())
    gone = set(data.draw(deletions(doc)))
    decision, truth = partial(without(doc, gone)), full(doc)
    for name, out in decision["outcomes"].items():
        if INPUTS[name] & gone:
            continue
        assert out["status"] != "undetermined", (name, gone)
        expected = truth["outcomes"][name] if not gone else {**truth["outcomes"][name], "needs": []}
        assert out == expected, name


@SETTINGS
@given(st.data())
def test_completions_that_agree_on_what_an_outcome_needs_decide_it_alike(data):
    doc = data.draw(applications())
    gone = data.draw(deletions(doc))
    hollow = without(doc, gone)
    decision = partial(hollow)
    first = data.draw(completions(hollow, gone))
    for name, out in decision["outcomes"].items():
        needs = set(out.get("needs", ()))
        second = data.draw(completions(first, [p for p in gone if p not in needs]))
        a, b = full(first)["outcomes"][name], full(second)["outcomes"][name]
        assert (a["status"], a["amount"], [r["code"] for r in a["reasons"]]) == (
            b["status"],
            b["amount"],
            [r["code"] for r in b["reasons"]],
        ), (name, needs, gone)


@SETTINGS
@given(applications())
def test_a_complete_application_decided_partially_is_the_full_document_byte_for_byte(doc):
    want = json.dumps(full(doc), ensure_ascii=False, indent=2)
    assert json.dumps(partial(doc), ensure_ascii=False, indent=2) == want


@SETTINGS
@given(st.data())
def test_only_partial_decisions_carry_the_partial_keys(data):
    doc = data.draw(applications())
    gone = data.draw(deletions(doc))
    decision = partial(without(doc, gone))
    partial_keys = {"needs", "could_be", "amount_range"}
    if not gone:
        assert "partial" not in decision
        assert not any(partial_keys & set(out) for out in decision["outcomes"].values())
        return
    assert decision["partial"]["unknown"] == [p for p in given_paths(doc) if p in gone]
    assert all("needs" in out for out in decision["outcomes"].values())
    for out in decision["outcomes"].values():
        assert ("could_be" in out) == (out["status"] == "undetermined")
    asked = [q["field"] for q in decision["partial"]["questions"]]
    assert set(asked) == {p for out in decision["outcomes"].values() for p in out["needs"]}
    assert set(asked) <= set(decision["partial"]["unknown"])


def test_the_oracle_catches_a_wrong_settlement():
    """The soundness check fails on a decision that settles what it cannot (it is not vacuous)."""
    doc = without(BASE_APPLICATION, ["storage.discharged_kwh"])
    decision = partial(doc)
    assert decision["outcomes"]["storage_subsidy"]["status"] == "undetermined"
    forged = {**decision, "outcomes": {**decision["outcomes"]}}
    forged["outcomes"]["storage_subsidy"] = {
        **forged["outcomes"]["storage_subsidy"],
        "status": "granted",
        "amount": "280000.00",
    }
    nothing = {**BASE_APPLICATION, "storage": {**BASE_APPLICATION["storage"], "discharged_kwh": "0"}}
    with pytest.raises(AssertionError):
        check_sound(forged, nothing)
