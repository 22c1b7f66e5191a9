"""The contract's helpers that other modules rely on are public: no module of engine/ reads a
private name (``_x``) of another module, by ``from … import _x`` or ``module._x``."""

import ast

from repo import ROOT


def _private_reads(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases, found = {}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("engine"):
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    found.append(f"from {node.module} import {a.name}")
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            aliases.update({a.asname: a.name for a in node.names if a.asname and a.name.startswith("engine")})
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_reads_another_modules_private_names():
    found = {
        str(p.relative_to(ROOT)): reads
        for p in sorted((ROOT / "engine").rglob("*.py"))
        if "migrations" not in p.parts and (reads := _private_reads(p))
    }
    assert found == {}


def test_the_contracts_validators_are_public_and_unchanged():
    from decimal import Decimal

    import pytest

    from engine.contract.application import check_credit_code, check_money, exact_decimal

    assert exact_decimal("12.50") == Decimal("12.50") and exact_decimal(3) == Decimal(3)
    assert check_money(Decimal("1.230")) == Decimal("1.230")
    with pytest.raises(ValueError, match="at most 2 decimal places"):
        check_money(Decimal("1.235"))
    assert check_credit_code("91140100MA0L3K2P5R") == "91140100MA0L3K2P5R"
    with pytest.raises(ValueError, match="upper case"):
        check_credit_code("91140100ma0l3k2p5r")
