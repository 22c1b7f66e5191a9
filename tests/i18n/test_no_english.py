"""A Chinese user never meets an English sentence, an English user no Chinese but data.

The main commands are run as a user runs them (in-process, every word through engine/i18n):
in Chinese, what is left once codes, paths, numbers, units, file names and quoted data are taken
out must hold no ASCII word; in English, no CJK character but the data's (enterprise names, the
policy clauses the rules quote). A message added in one language only, or a sentence written
around the catalogue, fails here.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from repo import BATCH, BROKEN_REFORMS, EXAMPLES, REFORMS, ROOT, WORKED_EXAMPLE

from engine.cli import main
from engine.drafting.population import generate, write_population
from engine.rulebook.loader import load_rulebook

TELEMETRY = ROOT / "examples/telemetry/taiyuan-2026.csv"
#: ASCII words a Chinese text may hold: units, formats, standards, names of things.
ALLOWED = {
    "kWh", "kW", "Wh", "kg", "ms", "sha256", "JSON", "YAML", "UTF", "CSV", "GB", "T", "S", "YYYY", "MM", "DD",
    "true", "false", "NaN", "Infinity", "OPTIONS", "FILE", "OUTCOME", "shuangtan", "columnar", "rete", "Rete",
    "U", "e", "let", "description", "unit", "reference", "values", "not_applicable", "md", "png", "csv",
    "name", "parameters", "rules", "switch_off", "check", "show", "explain", "simulate",  # names of commands, keys
    "XLSX", "Excel", "WPS", "gbk",  # the spreadsheet programs officers use, an encoding's name
}  # fmt: skip
#: a token that is a code, a path, a file, an option, a number or a version: never a word
TECHNICAL = re.compile(r"[A-Z0-9_]+|.*[._/0-9§+-].*")
#: quoted data, and paths and codes in full-width parentheses (申报期（period）)
QUOTED = re.compile(r"`[^`]*`|“[^”]*”|'[^']*'|\"[^\"]*\"|（[\x21-\x7e]+）")
OPTION = re.compile(r"--[a-z][a-z-]*")  # an option named in a sentence: --encoding
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_./§+'-]*")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def english_words(text: str) -> list[str]:
    """The ASCII words of ``text`` that are neither technical nor allowed."""
    text = OPTION.sub(" ", QUOTED.sub(" ", text))
    return sorted({w for w in WORD.findall(text) if w not in ALLOWED and not TECHNICAL.fullmatch(w)})


@pytest.fixture(scope="module")
def data_texts():
    """The Chinese an English text may carry: the enterprises' names, the rules' quoted clauses."""
    names = {json.loads(p.read_text(encoding="utf-8"))["enterprise"]["name"] for p in EXAMPLES.glob("*.json")}
    book = load_rulebook()
    clauses = {o.clause for o in book.outcomes} | {c.clause for o in book.outcomes for c in o.criteria}
    clauses |= {s["section"] for s in book.sources.values()}
    if book.plausibility:
        clauses |= {c.clause for c in book.plausibility.checks}
    clauses |= {p.reference for p in book.params.values()}
    return sorted(names | clauses, key=len, reverse=True)


def run(lang: str, *args) -> str:
    result = CliRunner().invoke(main, ["--lang", lang, *map(str, args)], prog_name="shuangtan")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim")
    write_population(generate(300, 3), folder / "pop.parquet")
    outs = {}
    for lang in ("zh", "en"):
        out = folder / lang
        printed = run(
            lang, "simulate", "--population", folder / "pop.parquet", "--reform", REFORMS / "remote-region-tilt.yaml",
            "--out", out,
        )  # fmt: skip
        outs[lang] = printed + (out / "report.md").read_text(encoding="utf-8")
    return outs


def commands(tmp_path):
    bad = tmp_path / "bad.json"
    doc = json.loads(WORKED_EXAMPLE.read_text(encoding="utf-8"))
    doc["enterprise"]["credit_code"] = "91140100MA0L3K2P5A"
    doc["enterprise"]["size"] = "huge"
    doc["period"] = {"start": "2026-12-31", "end": "2026-01-01"}
    doc["storage"]["discharge_kwh"] = doc["storage"].pop("discharged_kwh")
    doc["storage"]["capacity_kwh"] = "-1"
    doc["packaging"]["recycling_rate"] = "1.5"
    doc["packaging"]["order_count"] = "12.5"
    doc["equipment"]["investment_yuan"] = "100.001"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    partial = tmp_path / "partial.json"
    doc = json.loads(WORKED_EXAMPLE.read_text(encoding="utf-8"))
    del doc["storage"]["discharged_kwh"], doc["packaging"]["recycling_rate"]
    partial.write_text(json.dumps(doc), encoding="utf-8")
    book = load_rulebook()
    runs = [("check", p) for p in sorted(EXAMPLES.glob("*.json"))]
    runs += [("check", "--partial", partial), ("check", bad), ("check", tmp_path / "missing.json")]
    runs += [("check", WORKED_EXAMPLE, "--telemetry", TELEMETRY)]
    runs += [("explain", p, "--why-not", o.name) for p in sorted(EXAMPLES.glob("*.json")) for o in book.outcomes]
    runs += [("explain", "--partial", partial, "--why-not", "storage_subsidy")]
    runs += [("rules", "list")] + [("rules", "show", o.name, "--on", "2026-06-01") for o in book.outcomes]
    runs += [("rules", "show", "no_such_outcome"), ("check", WORKED_EXAMPLE, "--no-such-option")]
    runs += [("check", WORKED_EXAMPLE, "--reform", p) for p in sorted(BROKEN_REFORMS.glob("*.yaml"))]
    runs += [("rules", "validate"), ("rules", "test")]
    runs += [("check", BATCH / "applications.csv"), ("check", BATCH / "applications.csv", "--encoding", "utf-8")]
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04junk")
    runs += [("check", junk), ("evaluate", junk, "--out", tmp_path / "o.jsonl")]
    bad_telemetry = tmp_path / "bad-telemetry.csv"
    rows = TELEMETRY.read_text(encoding="utf-8").splitlines()[:6]
    rows[1] = rows[1].replace(",0.00,", ",abc,", 1)
    rows[2] = rows[2].rsplit(",", 1)[0]
    rows[3] = rows[3].replace("T00:30", "T00:31", 1)
    bad_telemetry.write_text("\n".join([rows[0].replace("system_id", "system"), *rows[1:]]) + "\n", encoding="utf-8")
    runs += [("telemetry", "summarize", bad_telemetry), ("telemetry", "summarize", TELEMETRY)]
    runs += [
        ("telemetry", "summarize", TELEMETRY, "--system", "NOPE"),
        ("check", WORKED_EXAMPLE, "--telemetry", bad_telemetry),
    ]
    runs += [("rules", "validate", "--reform", p) for p in sorted(BROKEN_REFORMS.glob("*.yaml"))]
    return runs


def test_in_chinese_no_english_sentence_appears(tmp_path, simulated):
    found = {}
    for args in commands(tmp_path):
        words = english_words(run("zh", *args))
        if words:
            found[" ".join(map(str, args))] = words
    words = english_words(simulated["zh"])
    if words:
        found["simulate"] = words
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def test_in_english_no_chinese_appears_but_the_data(tmp_path, simulated, data_texts):
    found = {}
    for args in [*commands(tmp_path), None]:
        text = simulated["en"] if args is None else run("en", *args)
        for data in data_texts:
            text = text.replace(data, "")
        left = sorted(set(CJK.findall(text)))
        if left:
            found["simulate" if args is None else " ".join(map(str, args))] = "".join(left)
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def test_the_checker_finds_english_and_lets_codes_through():
    assert english_words("✔ 用户侧储能度电补贴：批准  280,000.00 yuan") == ["yuan"]
    assert english_words("适用档位 tier_30：0.80 元/千瓦时") == []
    assert english_words("[RATE_TIER] 申报期放电量（kWh）（storage.discharged_kwh）：必须是非负数") == []
    assert english_words("错误：invalid application") == ["application", "invalid"]
