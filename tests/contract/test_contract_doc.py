"""docs/contract.md describes every key of the decision as engine/contract/decision.py defines it."""

from pathlib import Path

import pytest

from engine.contract import decision as d
from engine.contract.flat import OUTCOME_COLUMNS, result_columns
from engine.rulebook.loader import load_rulebook

DOC = (Path(__file__).resolve().parents[2] / "docs" / "contract.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "shape",
    [
        d.Decision,
        d.OutcomeDoc,
        d.Reason,
        d.ParameterUsed,
        d.Notice,
        d.HistoryBlock,
        d.MeteringBlock,
        d.MeteringComparison,
        d.PartialBlock,
        d.Question,
        d.AmountRange,
        d.TotalsRange,
    ],
    ids=lambda t: t.__name__,
)
def test_every_key_is_described(shape):
    missing = [k for k in shape.__annotations__ if f"`{k}`" not in DOC]
    assert not missing, f"docs/contract.md does not describe {shape.__name__} keys {missing}"


def test_the_flat_columns_are_described():
    for c in OUTCOME_COLUMNS:
        assert f"`<outcome>.{c}`" in DOC
    book = load_rulebook()
    for c in result_columns(book):
        if not c.startswith(tuple(o.name + "." for o in book.outcomes)):
            assert f"`{c}`" in DOC, c


def test_the_document_points_nowhere_outside_the_repository():
    assert "../shared" not in DOC and "/work/" not in DOC
