"""The record's and the batch's commands speak Chinese by default, and the English of before with --lang en.

One small record is worked through every command an officer runs on it (users, submit, decide,
confirm, return, list, show, notice, replay, export, audit, db, tokens) and the batch commands
(evaluate, evaluate-columnar, verify-backends, template), once in each language. What Chinese
prints holds no English sentence (tests/i18n/test_no_english's detector, once the data — names,
account names, paths, ids, what the audit chain keeps — is taken out); what English prints holds
no Chinese but the data, and its lines are the ones scripts parse.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from repo import BATCH, EXAMPLES, WORKED_EXAMPLE
from test_no_english import CJK, english_words

from engine.cli import main
from engine.i18n import catalogue
from engine.rulebook.loader import load_rulebook

pytestmark = pytest.mark.zh
STAFF = ("li", "officer"), ("wang", "reviewer"), ("chen", "officer")


def run(lang: str, *args, input=None):
    result = CliRunner().invoke(main, ["--lang", lang, *map(str, args)], prog_name="shuangtan", input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def tour(lang: str, folder) -> tuple[dict[str, str], set[str]]:
    """Every command's output, by command line; and the data it prints (to take out)."""
    db = f"sqlite:///{folder / 'record.db'}"
    said: dict[str, str] = {}
    data = {str(folder), "os:" + __import__("getpass").getuser()}

    def go(*args, code: int | None = 0, input=None):
        r = run(lang, *args, input=input)
        if code is not None:
            assert r.exit_code == code, (args, r.output, r.stderr)
        line = " ".join(map(str, args)).replace(str(folder), "…")
        said[line if line not in said else f"{line} (#{len(said)})"] = r.stdout + r.stderr
        return r

    for name, role in STAFF:
        go("users", "add", name, "--role", role, "--db", db)
        data.add(name)
    go("users", "list", "--db", db)
    bad = folder / "bad.json"
    doc = json.loads(WORKED_EXAMPLE.read_text(encoding="utf-8"))
    doc["application_id"] = "APP-BAD-1"
    doc["storage"]["capacity_kwh"] = "-1"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    examples = sorted(EXAMPLES.glob("*.json"))
    go("submit", "--db", db, "--by", "li", *examples)
    go("submit", "--db", db, "--by", "li", examples[0])  # unchanged
    go("submit", "--db", db, "--by", "li", bad, code=1)
    go("submit", "--db", db, "--by", "li", BATCH / "applications.csv", code=1)
    go("decide", "--db", db, "--by", "li", "--all-pending", code=None)
    go("confirm", "--db", db, "--by", "wang", "--all-proposed", code=None)
    apps = [
        json.loads(line)["application_id"]
        for line in go("list", "--db", db, "--all", "--format", "json").stdout.splitlines()
    ]
    app = json.loads(WORKED_EXAMPLE.read_text(encoding="utf-8"))["application_id"]
    go("decide", "--db", db, "--by", "li", "--again", app)
    go("return", app, "--db", db, "--by", "wang", "--opinion", "请补正")
    go("decide", "--db", db, "--by", "li", "--again", app)
    go("confirm", app, "--db", db, "--by", "wang")
    go("list", "--db", db)
    go("list", "--db", db, "--limit", "2")
    go("list", "--db", db, "--offset", "999")
    for a in apps:
        go("show", a, "--db", db)
    go("show", "NO-SUCH-APP", "--db", db, code=1)
    go("notice", app, "--db", db, "--by", "chen", "--out", folder / "notices")
    go("show", app, "--db", db)  # with its notices
    go("replay", app, "--db", db)
    go("export", "--db", db, "--out", folder / "decisions.csv")
    go("audit", "verify", "--db", db)
    go("db", "upgrade", "--db", db)
    go("db", "status", "--db", db)
    go("tokens", "issue", "li", "--db", db)
    go("tokens", "revoke", "li", "--db", db)
    go("tokens", "revoke", "li", "--db", db)
    go("users", "disable", "chen", "--db", db)
    go("evaluate", BATCH / "applications.csv", "--out", folder / "o.jsonl")
    go("verify-backends", "--n", "200")
    go("evaluate-columnar", BATCH / "applications.jsonl", "--out", folder / "columnar.csv")
    go("template", "--out", folder / "template.xlsx")
    log = go("audit", "log", "--db", db).stdout.splitlines()
    del said["audit log --db " + db.replace(str(folder), "…")]
    # a link's actor, action and summary are what the chain keeps, as it was written: data
    data |= {"system", "submit", "validate"}
    said["audit log"] = "\n".join(re.sub(r"([）)])  .*$", r"\1", line) for line in log[:-1]) + "\n" + log[-1]
    for line in said["tokens issue li --db " + db.replace(str(folder), "…")].splitlines()[:1]:
        data.add(line)  # the token
    for p in [*examples, bad, BATCH / "applications.csv"]:
        data.add(str(p))
    return said, data


@pytest.fixture(scope="module")
def tours(tmp_path_factory):
    return {lang: tour(lang, tmp_path_factory.mktemp(lang)) for lang in ("zh", "en")}


def _without(text: str, data: set[str]) -> str:
    for item in sorted(data, key=len, reverse=True):
        text = re.sub(rf"(?<![\w/.-]){re.escape(item)}(?![\w.-])", " ", text)
    text = re.sub(r"APP-[\w-]+|Q-\d+|sqlite:///\S+|\S+\.(?:json|csv|html|xlsx|jsonl|db)\b", " ", text)
    return text


def test_in_chinese_the_record_and_the_batch_say_no_english_sentence(tours):
    said, data = tours["zh"]
    found = {}
    for command, text in said.items():
        if "--format json" in command:  # machine-readable, the same in both languages
            continue
        words = english_words(_without(text, data))
        if words:
            found[command] = words
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def test_in_english_no_chinese_but_the_data(tours):
    said, data = tours["en"]
    names = {json.loads(p.read_text(encoding="utf-8"))["enterprise"]["name"] for p in EXAMPLES.glob("*.json")}
    names |= set(re.findall(r"[\u4e00-\u9fff（）]+", (BATCH / "applications.csv").read_text(encoding="utf-8")))
    names |= {"请补正"}
    found = {}
    for command, text in said.items():
        text = re.sub(r"\S+〔\d+〕\d+号", " ", _without(text, data | names))  # notice numbers
        left = sorted(set(CJK.findall(text)))
        if left:
            found[command] = "".join(left)
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def first(said: dict[str, str], command: str) -> str:
    """What the first run of ``command`` (its words before the options and files) printed."""
    return next(text for line, text in said.items() if line.startswith(command))


def test_the_english_lines_are_the_ones_scripts_parse(tours):
    said, _ = tours["en"]
    submit = first(said, "submit")
    assert re.search(
        r"^received   APP-\S+ v1  \S+: submission \d+, sha256 [0-9a-f]{16}…, status pending$", submit, re.M
    )
    assert re.search(r"^4 file\(s\): 4 accepted, 0 rejected$", submit, re.M)
    submits = [text for line, text in said.items() if line.startswith("submit")]
    assert re.search(
        r"^unchanged  APP-\S+ v1  \S+: identical to version 1 \(sha256 [0-9a-f]{12}…\); nothing stored$",
        submits[1],
        re.M,
    )
    batch = said[next(k for k in said if k.startswith("submit") and k.endswith("applications.csv"))]
    assert re.search(r"^\d+ submission\(s\) from 1 file\(s\): \d+ accepted, 1 rejected$", batch, re.M)
    evaluate = first(said, "evaluate")
    assert re.search(
        r"^decided 4, rejected 1, total 5 in \d+\.\d\d s \([\d,]+ decisions/s, \d+ process(es)?\)$", evaluate, re.M
    )
    assert "note: rejected records were not kept; pass --rejects FILE to keep them" in evaluate
    assert re.search(
        r"^decision \d+ in force  APP-\S+: subsidy [\d.]+ yuan, levy [\d.]+ yuan; \w+ \w+", first(said, "confirm"), re.M
    )
    assert re.search(r"^\d+ proposed, 0 not decided$", first(said, "decide"), re.M)
    assert re.search(r"^\d+ application\(s\)$", said["list --db sqlite:///…/record.db"], re.M)
    assert "application(s): --offset 999 is past the last" in said[next(k for k in said if "--offset 999" in k)]
    assert "NO-SUCH-APP: no submission with this application id on record" in first(said, "show NO-SUCH-APP")
    assert "identical: the re-evaluation gives the same decision" in first(said, "replay")
    verify = first(said, "audit verify")
    assert re.search(r"^audit chain intact: \d+ links, \d+ rows; head [0-9a-f]{64} \(link \d+\)$", verify, re.M)
    assert re.search(r"^\d+ decision\(s\) exported$", first(said, "export"), re.M)
    assert "0 disagreements" in first(said, "verify-backends")
    assert re.search(
        r"^decided 4, rejected 1, total 5 in \d+\.\d\d s \([\d,]+ applications/s\)$",
        first(said, "evaluate-columnar"),
        re.M,
    )


def test_in_chinese_the_same_lines_say_it_in_chinese(tours):
    said, _ = tours["zh"]
    submit = first(said, "submit")
    assert re.search(r"^已接收  APP-\S+ 第 1 版  \S+：提交 \d+，sha256 [0-9a-f]{16}…，状态 待认定$", submit, re.M)
    assert "4 个文件：接收 4 份，退回 0 份" in submit
    assert re.search(r"^已认定 4 份，退回 1 份，共 5 份，用时 \d+\.\d\d 秒", first(said, "evaluate"), re.M)
    assert "用户侧储能度电补贴：批准" in first(said, "confirm")
    assert "APP-2026-000123：补贴 920,000.00元" in first(said, "confirm")
    assert "NO-SUCH-APP：记录中没有此申请编号的提交" in first(said, "show NO-SUCH-APP")
    assert re.search(r"^审计链完好：\d+ 个链节", first(said, "audit verify"), re.M)


def test_the_outcome_titles_list_shows_are_the_rulebooks():
    """list must not load the rulebook, so the catalogue keeps the titles: they must not drift."""
    book = load_rulebook()
    zh = {
        k.removeprefix("record_cli.outcome."): v
        for k, v in catalogue()["zh"].items()
        if k.startswith("record_cli.outcome.")
    }
    assert zh == {o.name: o.title["zh"] for o in book.outcomes}
