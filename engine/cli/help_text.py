"""``--help`` in the language in force: English as written in the code, Chinese from one catalogue.

gettext-like: the English help stays where the command is (its docstring, its options' ``help=``),
so whoever writes a command writes its English once, next to the code; the Chinese lives in
``templates/help/zh.yaml``, keyed by command path and option. It is not under
``templates/messages/`` because that catalogue holds every text in both languages under identical
keys, and copying the English of ~200 options there would leave two Englishes to drift apart.
Completeness is a test instead (tests/i18n/test_help_chinese.py walks the whole click tree: a
command or option without Chinese, or a Chinese entry naming nothing, fails).

The hook is the context: every command gets :class:`HelpContext` (the root's class sets it, and
:func:`adopt` gives it to each command as ``LazyGroup`` loads it), whose ``get_help`` renders the
Chinese when Chinese is in force, click's own English otherwise. ``--help`` is eager, but
``--lang`` on the root comes before any subcommand's ``--help`` and is in force by then.

Chinese needs its own wrapping: click's wraps at spaces and counts characters, so a paragraph of
Chinese (no spaces, each character two columns wide) would come out as one line twice too long.
"""

from __future__ import annotations

import inspect
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import Any

import click

from engine.resources import bundled
from engine.rulebook.yamlfile import load_yaml

#: click's own words, in its English (what click writes) -> Chinese. "Usage" is the catalogue's
#: errors.usage_prefix (a test holds them equal): --help need not load the whole catalogue.
CLICK_WORDS = {
    "Usage": "用法：",
    "Show this message and exit.": "显示本帮助并退出。",
    "Options": "选项",
    "Commands": "命令",
    "default": "默认",
    "required": "必填",
    "env var": "环境变量",
}


@cache
def catalogue() -> dict[str, Any]:
    """``{"commands": {path: {"help": ..., "options": {flag: ...}}}, "shared": {flag: ...}}``."""
    where = "templates/help/zh.yaml"
    data = load_yaml(bundled("templates") / "help" / "zh.yaml", where)
    if not isinstance(data, dict) or set(data) != {"commands", "shared"}:
        raise ValueError(f"{where}: the top level is exactly commands and shared")
    return data


def option_key(param: click.Parameter) -> str:
    """The name an option goes by in the catalogue: its first flag as declared (``--by``)."""
    return param.opts[0]


def command_key(ctx: click.Context) -> str:
    """``check``, ``rules show``; the root group is ``shuangtan``."""
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name or ctx.command.name or "")
        ctx = ctx.parent
    return " ".join(reversed(names)) or "shuangtan"


def command_help(path: str) -> str | None:
    entry = catalogue()["commands"].get(path)
    return entry.get("help") if isinstance(entry, dict) else None


def option_help(path: str, param: click.Parameter) -> str | None:
    """The Chinese of an option: the command's own entry, else the shared one for its flag."""
    key = option_key(param)
    entry = catalogue()["commands"].get(path) or {}
    own = (entry.get("options") or {}).get(key)
    if own is not None:
        return str(own)
    if param.help == "Show this message and exit.":
        return CLICK_WORDS[param.help]
    shared = catalogue()["shared"].get(key)
    return None if shared is None else str(shared)


class HelpContext(click.Context):
    def get_help(self) -> str:
        from engine.i18n.language import language

        try:
            lang = language()
        except Exception:  # a bad $SHUANGTAN_LANG is named by the command; help is still wanted
            lang = "zh"
        if lang == "en":
            return super().get_help()
        formatter = ChineseFormatter(width=self.terminal_width, max_width=self.max_content_width)
        format_help(self, formatter)
        return formatter.getvalue().rstrip("\n")


def adopt(command: click.Command) -> None:
    """Give ``command`` (and, for a group, every command under it) the Chinese help."""
    if command.context_class is click.Context:
        command.context_class = HelpContext
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            adopt(sub)


def format_help(ctx: click.Context, formatter: click.HelpFormatter) -> None:
    """As ``click.Command.format_help``, the texts from the catalogue."""
    cmd = ctx.command
    path = command_key(ctx)
    cmd.format_usage(ctx, formatter)
    # untranslated, the English shows (as gettext does); the tests allow none
    text = command_help(path) or inspect.cleandoc(cmd.help or "").partition("\f")[0]
    if text:
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(text.strip())
    rows = []
    for param in cmd.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None or not isinstance(param, click.Option):
            continue
        rows.append((record[0], _with_extras(option_help(path, param) or param.help or "", param, ctx)))
    if rows:
        with formatter.section(CLICK_WORDS["Options"]):
            formatter.write_dl(rows)
    if isinstance(cmd, click.Group):
        _format_commands(cmd, ctx, path, formatter)


def _with_extras(text: str, param: click.Option, ctx: click.Context) -> str:
    extra = param.get_help_extra(ctx)
    items = []
    if "envvars" in extra:
        items.append(f"{CLICK_WORDS['env var']}：{', '.join(extra['envvars'])}")
    if "default" in extra:
        items.append(f"{CLICK_WORDS['default']}：{extra['default']}")
    if "range" in extra:
        items.append(extra["range"])
    if "required" in extra:
        items.append(CLICK_WORDS["required"])
    if not items:
        return text
    extras = f"[{'；'.join(items)}]"
    return f"{text}  {extras}" if text else extras


def _format_commands(group: click.Group, ctx: click.Context, path: str, formatter: click.HelpFormatter) -> None:
    names = group.list_commands(ctx)
    # a command the group has not loaded yet (LazyGroup) is listed from the catalogue alone
    names = [n for n in names if not (n in group.commands and group.commands[n].hidden)]
    if not names:
        return
    limit = formatter.width - 6 - max(len(n) for n in names)
    prefix = "" if path == "shuangtan" else path + " "
    rows = []
    for name in names:
        text = command_help(prefix + name)
        if text is None:  # untranslated: click's English summary
            cmd = group.get_command(ctx, name)
            text = cmd.get_short_help_str(limit) if cmd is not None else ""
        rows.append((name, short_help(text, limit)))
    with formatter.section(CLICK_WORDS["Commands"]):
        formatter.write_dl(rows)


def short_help(text: str, limit: int) -> str:
    """The first sentence (up to 。) in at most ``limit`` columns: cut, as click cuts the English,
    after the last clause that fits (or mid-clause when none does), marked with …"""
    first = text.strip().split("\n", 1)[0]
    end = first.find("。")
    if end != -1:
        first = first[: end + 1]
    if width(first) <= limit:
        return first
    out = ""
    for char in first:
        if width(out + char) > limit - 2:
            break
        out += char
    clause = max(out.rfind(mark) for mark in "，；：、")
    if clause >= len(out) // 2:
        out = out[:clause]
    return out.rstrip("，、；：（ ") + "…"


def width(text: str) -> int:
    """Columns ``text`` takes on a terminal: a CJK character or full-width sign takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


#: what a line may break between: a run of ASCII (a word, a path, a flag), a bracket without spaces
#: ([默认：text；x>=1]) or one CJK character, each with the closing marks that may not start a line
#: and the opening ones that may not end one
_UNIT = re.compile(
    r"\s+|\[[^\]\s]{1,40}\][，。；：、）]*|[（“‘「《【\[(]*(?:[\x21-\x7e]+?(?=\s|$|[^\x00-\x7f])|[^\s\x00-\x7f])[，。；：、）”’」》】！？…]*"
)


def wrap(text: str, limit: int, initial: str = "", subsequent: str = "") -> list[str]:
    """``text`` (one paragraph) in lines of at most ``limit`` columns where it can break."""
    lines: list[str] = []
    line = initial
    bare = True  # nothing but the indent on the line yet
    for unit in _UNIT.findall(" ".join(text.split())):
        if unit.isspace():
            if not bare:
                line += " "
            continue
        if not bare and width(line + unit) > limit:
            lines.append(line.rstrip(" "))
            line, bare = subsequent, True
        line += unit
        bare = False
    lines.append(line.rstrip(" "))
    return lines


class ChineseFormatter(click.HelpFormatter):
    """click's formatter with Chinese headings and wrapping that counts columns, not characters."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, CLICK_WORDS["Usage"] if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
        for i, para in enumerate(paragraphs):
            if i:
                self.write("\n")
            self.write("\n".join(wrap(para, self.width, indent, indent)) + "\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first_col = min(max((width(r[0]) for r in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            text_width = max(self.width - first_col - 2, 10)
            lines = _wrap_paragraphs(second, text_width)
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write((f"{'':>{first_col + self.current_indent}}{line}" if line else "") + "\n")


def _wrap_paragraphs(text: str, limit: int) -> list[str]:
    out: list[str] = []
    for i, para in enumerate(p for p in re.split(r"\n\s*\n", text) if p.strip()):
        if i:
            out.append("")
        out.extend(wrap(para, limit))
    return out or [""]


def walk(command: click.Command, ctx: click.Context) -> Iterable[tuple[str, click.Command, click.Context]]:
    """Every command under ``command`` (itself first), with its catalogue path and a context."""
    yield command_key(ctx), command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                # with the command's context_settings, as click makes it (a context without them
                # would leave the command's --help option cached without -h)
                yield from walk(sub, click.Context(sub, parent=ctx, info_name=name, **sub.context_settings))
