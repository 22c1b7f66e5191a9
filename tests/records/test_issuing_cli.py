"""`shuangtan notice`: one line per document with its 文号 and date; every refusal one line."""

import datetime as dt

import pytest
import recordkit

from engine.authority import resolve_authority
from engine.records.store import open_store

TODAY = resolve_authority().today(dt.datetime.now(dt.UTC))


@pytest.fixture
def record(record_url, book):
    store = open_store(record_url)
    recordkit.staff(store)
    recordkit.confirmed(store, "K-1", book)
    recordkit.propose(store, "K-2", book)
    store.dispose()
    return record_url


def test_issue_then_ask_again(record, cli, tmp_path):
    out = tmp_path / "out"
    r = cli("notice", "K-1", "--db", record, "--out", out, "--by", "chen", "--format", "md")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split()[:3] == ["approval", f"晋能源补〔{TODAY.year}〕1号", TODAY.isoformat()]
    assert [line.split()[0] for line in lines] == ["approval", "denial", "levy"]
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    r = cli("notice", "K-1", "--db", record, "--out", out, "--by", "chen", "--format", "md")
    assert r.exit_code == 0 and all(line.endswith("(as issued)") for line in r.output.splitlines())
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first


def test_every_refusal_is_one_line(record, cli, tmp_path):
    out = tmp_path / "out"
    cases = [
        (
            ["K-1", "--date", "2020-01-01", "--by", "chen"],
            "--date 2020-01-01: a notice is dated the day it is issued or later",
        ),
        (["K-1", "--by", "zhao"], "account zhao is a reviewer"),
        (["K-2", "--by", "chen"], "K-2: decision 2 is a proposal that awaits confirmation"),
        (["K-1", "--by", "chen", "--authority", tmp_path / "none.yaml"], "none.yaml: (top level): no such file"),
    ]
    for args, why in cases:
        r = cli("notice", "--db", record, "--out", out, *args)
        refused_account = "account" in why  # who acts: exit 2, like a bad option
        assert r.exit_code == (2 if refused_account else 1) and why in r.output, r.output
        assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert f"today {TODAY.isoformat()}" in cli("notice", "--db", record, "--out", out, *cases[0][0]).output


def test_the_authority_comes_from_the_environment(record, cli, tmp_path, monkeypatch):
    mine = tmp_path / "bureau.yaml"
    mine.write_text(
        "name: 太原市能源局\ndocument_number: 并能补字〔{year}〕第{seq}号\ntimezone: Asia/Shanghai\n"
        "contact: {person: 张三, phone: 0351-1234567, address: 太原市某路1号}\n"
        "reconsideration: 太原市人民政府\ncourt: 太原市小店区人民法院\n"
        "levy: {collector: 太原市财政局, account_name: 非税收入户, bank: 某银行, account: '6222 0000 1111', deadline_days: 10}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SHUANGTAN_AUTHORITY", str(mine))
    r = cli("notice", "K-1", "--db", record, "--out", tmp_path / "o", "--by", "chen", "--format", "md")
    assert r.exit_code == 0 and f"并能补字〔{TODAY.year}〕第1号" in r.output
    text = next((tmp_path / "o").glob("*.approval.zh.md")).read_text(encoding="utf-8")
    assert "**太原市能源局**" in text and "某市能源局" not in text
