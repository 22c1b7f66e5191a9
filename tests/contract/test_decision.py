"""The decision document's one definition (engine/contract/decision.py): real documents fit it,
and annotations return a new document, leaving the one they were given as it was."""

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.backends.rete.engine import ReteEngine
from engine.contract.application import History, loads_exact, parse_application
from engine.contract.decision import (
    decision_schema,
    validate_decision,
    with_history,
    with_metering,
    with_reasons,
)
from engine.records.deciding import evaluate
from engine.rulebook.loader import load_rulebook
from engine.telemetry.crosscheck import annotate, facts_for, metered_application
from engine.telemetry.reader import read_telemetry

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "applications").glob("*.json"))
WAREHOUSE = ROOT / "examples" / "applications" / "taiyuan-pv-storage-warehouse.json"
OVERRULED = History(
    storage_subsidy_granted_this_year_yuan=Decimal("1234.50"),
    freight_subsidy_granted_this_year_yuan=Decimal("0.00"),
    equipment_subsidy_received=True,
)


@pytest.fixture(scope="module")
def book():
    return load_rulebook()


def application(path):
    return parse_application(loads_exact(path.read_bytes()))


def reason(code="TEST_REASON"):
    return {"code": code, "rule": "test.rule", "message": "m", "message_zh": "m", "source": "T §1", "clause": "c"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_decision_fits_the_contract(book, path):
    decision = ReteEngine.for_rulebook(book).decide(application(path))
    assert validate_decision(decision) is decision
    assert list(decision) == ["contract", "application_id", "evaluated_on", "ruleset", "outcomes", "totals", "trace"]


def test_decisions_with_history_and_metering_fit_the_contract(book):
    telemetry = read_telemetry(ROOT / "examples" / "telemetry" / "taiyuan-2026.csv", 15)
    doc = evaluate(book, application(WAREHOUSE), OVERRULED, telemetry=telemetry)
    validate_decision(doc)
    assert list(doc)[-2:] == ["history", "metering"]
    codes = [r["code"] for r in doc["outcomes"]["storage_subsidy"]["reasons"]]
    assert "HISTORY_FROM_RECORD" in codes and "DECLARED_DIFFERS_FROM_METERED" in codes


def test_a_document_off_the_contract_is_refused_by_path(book):
    decision = copy.deepcopy(ReteEngine.for_rulebook(book).decide(application(WAREHOUSE)))
    decision["outcomes"]["storage_subsidy"]["status"] = "maybe"
    with pytest.raises(ValidationError, match=r"outcomes\.storage_subsidy\.status"):
        validate_decision(decision)
    del decision["totals"]
    with pytest.raises(ValidationError, match="totals"):
        validate_decision(decision)


def test_the_schema_names_every_top_level_key():
    schema = decision_schema()
    decision = schema["$defs"]["Decision"] if "$defs" in schema and "Decision" in schema["$defs"] else schema
    assert set(decision["properties"]) == {
        "contract",
        "application_id",
        "evaluated_on",
        "ruleset",
        "outcomes",
        "totals",
        "trace",
        "partial",
        "history",
        "metering",
    }
    assert set(decision["required"]) == {
        "contract",
        "application_id",
        "evaluated_on",
        "ruleset",
        "outcomes",
        "totals",
        "trace",
    }


def test_annotations_leave_the_given_document_as_it_was(book):
    decision = ReteEngine.for_rulebook(book).decide(application(WAREHOUSE))
    before = json.dumps(decision, ensure_ascii=False)
    block = {"used": "record", "declared": {}, "record": {}, "agrees": False, "differences": ["x"]}
    annotated = with_history(decision, block, [("storage_subsidy", reason())])
    assert json.dumps(decision, ensure_ascii=False) == before
    assert annotated["outcomes"]["storage_subsidy"]["reasons"][-1]["code"] == "TEST_REASON"
    assert annotated["history"] is block and "history" not in decision
    # only what changed is copied: untouched outcomes and the trace are shared
    assert annotated["trace"] is decision["trace"]
    assert annotated["outcomes"]["packaging_levy"] is decision["outcomes"]["packaging_levy"]
    assert annotated["outcomes"]["storage_subsidy"] is not decision["outcomes"]["storage_subsidy"]
    # key order is kept: the JSON text differs only by what was added
    assert list(annotated["outcomes"]) == list(decision["outcomes"])
    assert list(annotated["outcomes"]["storage_subsidy"]) == list(decision["outcomes"]["storage_subsidy"])


def test_the_metering_annotation_returns_a_new_document(book):
    app = application(WAREHOUSE)
    telemetry = read_telemetry(ROOT / "examples" / "telemetry" / "taiyuan-2026.csv", 15)
    facts = facts_for(book, app, telemetry)
    metered, comparisons = metered_application(book, app, facts)
    decision = ReteEngine.for_rulebook(book).decide(metered)
    before = json.dumps(decision, ensure_ascii=False)
    annotated = annotate(decision, book, app, facts, comparisons, telemetry)
    assert json.dumps(decision, ensure_ascii=False) == before
    assert "metering" in annotated and "metering" not in decision
    assert annotated["metering"]["differences"] == [c.fact for c in comparisons if c.differs]


def test_an_outcome_not_applicable_gains_no_annotation(book):
    decision = ReteEngine.for_rulebook(book).decide(application(EXAMPLES[0]))
    na = next(n for n, o in decision["outcomes"].items() if o["status"] == "not_applicable")
    decided = next(n for n, o in decision["outcomes"].items() if o["status"] != "not_applicable")
    annotated = with_reasons(decision, [(na, reason("A")), (decided, reason("B")), (decided, reason("C"))])
    assert annotated["outcomes"][na] is decision["outcomes"][na]
    assert [r["code"] for r in annotated["outcomes"][decided]["reasons"][-2:]] == ["B", "C"]
    assert len(decision["outcomes"][decided]["reasons"]) + 2 == len(annotated["outcomes"][decided]["reasons"])


def test_metering_without_reasons_adds_only_the_block(book):
    decision = ReteEngine.for_rulebook(book).decide(application(WAREHOUSE))
    annotated = with_metering(decision, {"used": "metered"})
    assert annotated["outcomes"] is decision["outcomes"]
    assert list(annotated) == [*decision, "metering"]
