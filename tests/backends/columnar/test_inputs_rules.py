"""The columnar validity mask reads the contract's constraints from the model through the
contract's public validators (engine/contract/application.py): money places and the credit
code are recognised, only the dates are left to a check it does not know."""

from engine.backends.columnar.inputs import RULES
from engine.contract.application import Application, check_credit_code, check_money, leaf_fields
from engine.rulebook.checks import FIELD_RANGES


def test_money_and_credit_code_fields_are_recognised_by_the_public_validators():
    money = {
        p for p, info in leaf_fields(Application) if any(getattr(m, "func", None) is check_money for m in info.metadata)
    }
    assert "equipment.investment_yuan" in money and "packaging.order_value_yuan" in money
    assert {p for p, r in RULES.items() if r.money} == money
    assert {
        p
        for p, info in leaf_fields(Application)
        if any(getattr(m, "func", None) is check_credit_code for m in info.metadata)
    } == {"enterprise.credit_code"}
    assert [p for p, r in RULES.items() if r.credit_code] == ["enterprise.credit_code"]
    assert {p for p, r in RULES.items() if r.unknown_check} == {"period.start", "period.end"}  # ISO dates: as before
    assert {p for p, r in FIELD_RANGES.items() if r.places == 2} == money  # the rulebook checks agree
