"""A proposal's document is kept as the data its stored text decodes to, without decoding it.

deciding.evaluated hands on the engine's decision itself beside its JSON text (decoding 10 kB
back was a quarter of deciding). That holds only while the engine's decisions carry JSON's
values alone; these tests fail the day one carries a Decimal, a tuple or a date.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import orjson
from repo import RULE_TESTS

from engine.contract.application import History
from engine.drafting.population import generate, write_population
from engine.drafting.ruletests import discover, load_cases
from engine.errors import ShuangtanError
from engine.records.deciding import evaluated, proposal_document
from engine.records.standing import Standing


def _cases():
    return [c for f in discover([RULE_TESTS]) for c in load_cases(f) if not c.partial and c.telemetry is None]


RECORD = History(
    storage_subsidy_granted_this_year_yuan=Decimal("1200.50"),
    freight_subsidy_granted_this_year_yuan=Decimal("0.00"),
    equipment_subsidy_received=True,
)


def _same_as_stored(doc: dict, text: str) -> None:
    assert orjson.loads(text) == doc
    # equal is not enough: a tuple equals no list, but 1 == 1.0 and a Decimal would not survive here
    assert orjson.dumps(doc).decode() == text


def test_every_rule_test_case_decides_to_the_data_its_text_holds(book):
    from engine.contract.application import parse_application

    cases = _cases()
    assert len(cases) > 100  # the bundled rule tests: a discovery that found none would pass
    decided = 0
    for case in cases:
        try:
            app = parse_application(case.document)
            doc, text = evaluated(book, app, RECORD)
        except ShuangtanError:
            continue  # a case that expects an error has no document
        _same_as_stored(doc, text)
        decided += 1
    assert decided > 100


def test_a_population_and_the_record_s_own_rules_keep_it_too(book, tmp_path):
    from engine.contract.application import parse_application

    path = tmp_path / "population.jsonl"
    write_population(generate(300, seed=7), path)
    counted = 0
    for raw in path.read_bytes().splitlines():
        app = parse_application(raw)
        # an earlier decision of the same days: the one-payment rule rewrites the document
        other = Standing(
            decision_id=41,
            application_id="OTHER-1",
            state="in_force",
            period_year=app.period.end.year,
            period_start=app.period.start,
            period_end=app.period.start + dt.timedelta(days=3),
            storage_yuan=RECORD.storage_subsidy_granted_this_year_yuan,
            freight_yuan=RECORD.freight_subsidy_granted_this_year_yuan,
            equipment=False,
        )
        for counting in ([], [other]):
            doc, _holds, text = proposal_document(book, app, counting)
            _same_as_stored(doc, text)
            counted += 1
    assert counted == 600
