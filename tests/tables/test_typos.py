"""Typos refused: a filter naming no outcome or status exits 2 with the valid names; a misspelt
field gets the one it was probably meant to be."""

from __future__ import annotations

import json

import pytest
from tablekit import run

from engine.cli.filter_names import outcome_names
from engine.rulebook.loader import load_rulebook
from engine.rulebook.statuses import ALL_STATUSES

#: these tests read shuangtan as a user does by default: in Chinese
pytestmark = pytest.mark.zh


def test_the_names_a_filter_knows_are_the_rulebooks():
    book = load_rulebook()
    assert outcome_names() == sorted(o.name for o in book.outcomes)
    assert set(ALL_STATUSES) == {s for o in book.outcomes for s in o.statuses}


@pytest.mark.parametrize(
    "value, words",
    [
        ("storage=granted", ["storage_subsidy", "是否应为 storage_subsidy"]),
        ("storage_subsidy=grant", ["granted", "是否应为 granted"]),
        ("storage_subsidy=", ["met, not_met, granted"]),
    ],
)
@pytest.mark.parametrize("command", ["list", "confirm"])
def test_an_unknown_outcome_or_status_lists_the_valid_ones(value, words, command, sqlite_url):
    args = ["--all-proposed", "--by", "zhao"] if command == "confirm" else []
    r = run(command, "--db", sqlite_url, *args, "--outcome", value)
    assert r.exit_code == 2, r.output
    assert "'--outcome' 的值无效" in r.output
    for w in words:
        assert w in r.output, r.output


def test_a_known_outcome_and_status_are_accepted(sqlite_url):
    assert run("list", "--db", sqlite_url, "--outcome", "storage_subsidy=granted").exit_code == 0
    assert run("list", "--db", sqlite_url, "--outcome", "storage_subsidy").exit_code == 0


def test_an_unknown_status_filter_lists_the_valid_ones(sqlite_url):
    r = run("list", "--db", sqlite_url, "--status", "decide")
    assert r.exit_code == 2 and "'decided'" in r.output


def test_a_misspelt_json_field_gets_a_did_you_mean(tmp_path, root):
    doc = json.loads((root / "examples/applications/taiyuan-pv-storage-warehouse.json").read_text(encoding="utf-8"))
    doc["storage"]["discharge_kwh"] = doc["storage"].pop("discharged_kwh")
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    r = run("check", path)
    assert r.exit_code == 2
    assert "storage.discharge_kwh" in r.output and "是否应为 storage.discharged_kwh" in r.output
