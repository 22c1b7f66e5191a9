"""``--help`` speaks the language in force: Chinese for every command and option, English as written.

The whole click tree is walked (every command of ``engine.cli.main``, loaded): a command or option
with English help and no Chinese fails, and so does a Chinese entry naming no command or option
(stale). Arguments carry no help in click (their metavar is all ``--help`` shows of them).
"""

from __future__ import annotations

import json
import re

import click
import pytest
from click.testing import CliRunner
from test_no_english import english_words

from engine.cli import main
from engine.cli.help_text import (
    CLICK_WORDS,
    HelpContext,
    catalogue,
    command_help,
    option_help,
    option_key,
    short_help,
    walk,
    width,
    wrap,
)
from engine.i18n import t

#: names of things a Chinese help may carry as they are (products, formats, protocols)
NAMES = {
    "Parquet", "Excel", "Dask", "Markdown", "OpenAPI", "SQLAlchemy", "PostgreSQL", "WeasyPrint",
    "Bearer", "Lines", "API", "Web", "XLSX", "system", "claim", "zh", "en", "docx", "pdf",
}  # fmt: skip
HELP = "Show this message and exit."


def tree():
    return list(walk(main, click.Context(main, info_name="shuangtan", **main.context_settings)))


def options(cmd, ctx):
    """The options of ``cmd`` that --help shows with a text of their own (not --help itself)."""
    return [
        p for p in cmd.get_params(ctx) if isinstance(p, click.Option) and not p.hidden and p.help and p.help != HELP
    ]


def test_every_command_and_option_has_chinese():
    missing = []
    for path, cmd, ctx in tree():
        if not command_help(path):
            missing.append(path)
        missing += [f"{path} {option_key(p)}" for p in options(cmd, ctx) if not option_help(path, p)]
    assert not missing, "no Chinese in templates/help/zh.yaml for: " + ", ".join(missing)


def test_no_entry_names_a_command_or_option_that_does_not_exist():
    known = {path: {option_key(p): p for p in options(cmd, ctx)} for path, cmd, ctx in tree()}
    stale = []
    for path, entry in catalogue()["commands"].items():
        if path not in known:
            stale.append(path)
            continue
        stale += [f"{path} {flag}" for flag in (entry.get("options") or {}) if flag not in known[path]]
    used = {flag for opts in known.values() for flag in opts}
    stale += [f"shared {flag}" for flag in catalogue()["shared"] if flag not in used]
    assert not stale, "entries naming nothing: " + ", ".join(stale)


def test_a_shared_entry_translates_one_english_text():
    """An option whose English differs from another's of the same flag needs its own entry."""
    english: dict[str, set[str]] = {}
    for path, cmd, ctx in tree():
        own = (catalogue()["commands"].get(path) or {}).get("options") or {}
        for p in options(cmd, ctx):
            if option_key(p) not in own and option_key(p) in catalogue()["shared"]:
                english.setdefault(option_key(p), set()).add(p.help)
    differ = {flag: sorted(texts) for flag, texts in english.items() if len(texts) > 1}
    assert not differ, json.dumps(differ, indent=1)


def _help(*args, env=None):
    result = CliRunner().invoke(main, [*args, "--help"], prog_name="shuangtan", env=env, terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.stdout


def _prose(text: str, names: set[str]) -> str:
    """``text`` without what is not prose: flags, choices and defaults, ranges, file suffixes, URLs,
    and the names of commands and of option values."""
    # [text|json], [%Y-%m-%d], [PATH...] and click's extras, [默认：text；x>=1；必填] (values: data)
    text = re.sub(r"\[[\x20-\x7e]*\]|\[[^\]\s]*\]", " ", text)
    text = re.sub(r"[a-z]+://[\x21-\x7e]*|(?<![\w-])--?[\w-]+|[A-Za-z0-9_/-]*[./][A-Za-z][A-Za-z0-9]*", " ", text)
    if not names:
        return text
    pattern = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    return re.sub(rf"(?<![A-Za-z_-])(?:{pattern})(?![A-Za-z_-])", " ", text)


def _names(paths_and_commands) -> set[str]:
    """Command names and the values an option takes (``text``, ``json``, ``local``…)."""
    names = {"local"}  # --cluster's value for a local cluster
    for path, cmd, ctx in paths_and_commands:
        names |= set(path.split())
        for p in cmd.get_params(ctx):
            if isinstance(p.type, click.Choice):
                names |= {str(c) for c in p.type.choices}
    return names


@pytest.mark.zh
def test_every_help_is_chinese_by_default(monkeypatch):
    monkeypatch.delenv("SHUANGTAN_LANG", raising=False)
    found, wide = {}, []
    commands = tree()
    paths = [path for path, _, _ in commands]
    names = _names(commands)
    for path in paths:
        args = [] if path == "shuangtan" else path.split()
        text = _help(*args)
        assert text.startswith("用法：shuangtan"), text
        assert "显示本帮助并退出。" in text and "Show this message" not in text
        words = [w for w in english_words(_prose(text, names)) if w not in NAMES]
        if words:
            found[path] = words
        # wrapped to the width: only an option's own term (flags, choices) may run past it
        wide += [f"{path}: {line}" for line in text.splitlines() if width(line) > 100 and "-" not in line[:4]]
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)
    assert not wide, "\n".join(wide)


@pytest.mark.zh
def test_the_catalogue_texts_are_what_is_shown(monkeypatch):
    monkeypatch.delenv("SHUANGTAN_LANG", raising=False)
    text = _help("check")
    assert "对一份申请作出决定（FILE，或用 - 表示标准输入）。" in text
    assert "选项：" in text and "[默认：text]" in text
    assert "DECLARED_DIFFERS_FROM_METERED" in text
    listing = _help("rules")
    assert re.search(r"^  show +一个事项：其条款、审查条件、档位以及某日生效的参数。$", listing, re.M), listing
    assert "[必填]" in _help("submit")


@pytest.mark.parametrize("how", ["option", "option after --help", "environment"])
def test_english_help_is_clicks_as_written(how):
    """English as click renders the code's own text: the Chinese machinery leaves it alone."""
    for path, _cmd, ctx in tree():
        args = [] if path == "shuangtan" else path.split()
        if how == "environment":
            text = _help(*args, env={"SHUANGTAN_LANG": "en"})
        elif how == "option":
            text = _help("--lang", "en", *args, env={"SHUANGTAN_LANG": "zh"})
        elif not args:
            text = (
                CliRunner().invoke(main, ["--help", "--lang", "en"], prog_name="shuangtan", terminal_width=100).stdout
            )
        else:
            continue
        ctx.terminal_width = 100
        assert text == click.Context.get_help(ctx) + "\n", path
        assert text.startswith("Usage: shuangtan") and HELP in text


def test_chinese_wraps_by_columns_and_keeps_closing_marks_on_their_line():
    text = (
        "未填写的字段视为未知（绝不当作零，也不取默认值）：不论其取何值都不会改变的事项即为已定（docs/contract.md）。"
    )
    lines = wrap(text, 24)
    assert all(width(line) <= 24 for line in lines), lines
    assert "".join(lines) == text
    assert not any(line[0] in "，。；：）" for line in lines)
    assert wrap("a b c", 3) == ["a b", "c"]
    assert "docs/contract.md" in "\n".join(wrap(text, 12))  # a path is never cut


def test_a_short_help_is_the_first_sentence_cut_at_a_clause():
    assert short_help("查看规则集。\n\n更多。", 40) == "查看规则集。"
    assert (
        short_help("审计链：对记录的每一次写入，环环相扣，背地里的改动会暴露出来。", 30)
        == "审计链：对记录的每一次写入…"
    )
    assert width(short_help("一" * 50, 21)) <= 21


@pytest.mark.zh
def test_a_command_without_chinese_shows_its_english_rather_than_nothing(monkeypatch):
    monkeypatch.delenv("SHUANGTAN_LANG", raising=False)
    cmd = click.Command("untranslated", help="Untranslated text.", params=[click.Option(["--x"], help="An option.")])
    root = HelpContext(main, info_name="shuangtan")
    text = HelpContext(cmd, parent=root, info_name="untranslated").get_help()
    assert text.startswith("用法：shuangtan untranslated")
    assert "Untranslated text." in text and "An option." in text and "显示本帮助并退出。" in text


#: capitals of the English that the Chinese says in words
SAID_IN_WORDS = {"CST": "北京时间", "CONTRACT": "数据合同"}
FLAGS_AND_CODES = re.compile(r"--[a-z][\w-]*|\$?\b[A-Z][A-Z0-9_]{2,}\b")


def test_a_translation_names_the_flags_and_codes_its_english_names():
    """A flag, code or metavar added to the English and not to the Chinese is a stale translation."""
    stale = {}
    for path, cmd, ctx in tree():
        pairs = [("", cmd.help or "", command_help(path) or "")]
        pairs += [(option_key(p), p.help, option_help(path, p) or "") for p in options(cmd, ctx)]
        for flag, en, zh in pairs:
            missing = set(FLAGS_AND_CODES.findall(en)) - set(FLAGS_AND_CODES.findall(zh))
            missing = {m for m in missing if SAID_IN_WORDS.get(m, "\0") not in zh}
            if missing:
                stale[f"{path} {flag}".strip()] = sorted(missing)
    assert not stale, json.dumps(stale, ensure_ascii=False, indent=1)


def test_the_usage_prefix_is_the_one_errors_use():
    assert CLICK_WORDS["Usage"] == t("errors.usage_prefix", lang="zh")


@pytest.mark.zh
def test_a_group_run_bare_shows_its_help_alone(monkeypatch):
    monkeypatch.delenv("SHUANGTAN_LANG", raising=False)
    result = CliRunner().invoke(main, ["rules"], prog_name="shuangtan", terminal_width=100)
    assert result.exit_code == 2
    assert result.stderr.strip() == _help("rules").strip()
