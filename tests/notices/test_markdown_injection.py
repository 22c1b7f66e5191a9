"""Markdown notices show data from an application or an account as inert text.

An enterprise or officer name is written by the applicant or an account holder: in a Markdown
notice it must not become a link, a remote image (a tracking pixel for the officer who previews
it), emphasis, a heading or an HTML tag, nor reverse the text around it with a bidirectional
control. The record may hold data submitted before the contract refused such names, so these
tests build the application without validation (``model_copy``), as old data would be.

The rendered notices are parsed with markdown-it-py (CommonMark, with GFM tables,
strikethrough and bare-URL links) to see what a previewer would actually show.
"""

import datetime as dt
import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from engine.authority import resolve_authority
from engine.backends import decide
from engine.contract.application import parse_application
from engine.notices import render as notices
from engine.rulebook.loader import load_rulebook

ROOT = Path(__file__).resolve().parents[2]
BOOK = load_rulebook()
EXAMPLE = json.loads((ROOT / "examples/applications/taiyuan-pv-storage-warehouse.json").read_text())
HOSTILE = "[点我](http://evil/x.png) ![](http://t/p.png) **粗** # 标题 <b>x</b>"
GFM = MarkdownIt("commonmark", {"linkify": True}).enable(["table", "strikethrough", "linkify"])


def notices_for(
    name: str = EXAMPLE["enterprise"]["name"],
    officer: str = "王芳",
    lang="zh",
    fmt="md",
    confirmer: str = "赵敏",
    authority: str = "某市能源局（示例）",
) -> dict:
    app = parse_application(json.dumps(EXAMPLE, ensure_ascii=False).encode())
    app = app.model_copy(update={"enterprise": app.enterprise.model_copy(update={"name": name})})  # old data
    decision = decide(BOOK, app)
    out = {}
    for kind in notices.applicable_kinds(decision):
        ctx = notices.notice_context(
            kind,
            decision=decision,
            app=app,
            book=BOOK,
            decision_id=7,
            officer=officer,
            decided_at=dt.datetime(2027, 1, 2, 3, 4),
            notice_date=dt.date(2027, 1, 15),
            lang=lang,
            notice_no="晋能源补〔2027〕1号",
            authority=resolve_authority(),
            authority_name=authority,
            confirmer=confirmer,
            confirmed_at=dt.datetime(2027, 1, 3, 4, 5),
        )
        out[kind] = notices.render(kind, ctx, fmt)
    return out


def html_of(md: str) -> str:
    return GFM.render(md)


def test_the_example_has_notices_of_several_kinds():
    assert set(notices_for()) >= {"approval", "denial", "levy"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_hostile_enterprise_name_renders_as_inert_text(lang):
    plain = {kind: html_of(md) for kind, md in notices_for(lang=lang).items()}
    for kind, md in notices_for(HOSTILE, lang=lang).items():
        html = html_of(md)
        for live in ("<img", "<a ", "<b>", "<h1>标题", "<strong>粗</strong>", "<em>"):
            assert html.count(live) == plain[kind].count(live), (kind, live)
        # ... and the officer reading it sees exactly the name that was submitted, as the addressee
        shown = HOSTILE.replace("<", "&lt;").replace(">", "&gt;")
        assert f"<p>{shown}{'：' if lang == 'zh' else ':'}</p>" in html or f"To {shown}:" in html, kind
        assert f"| {shown} |" in md.replace("\\", "") or shown in html, kind


def test_hostile_officer_confirmer_and_authority_names_render_as_inert_text():
    officer = "![](http://t/p.png) [x](javascript:alert(1)) _i_ `c` ~~s~~ | www.evil.example"
    for kind, md in notices_for(officer=officer, confirmer=officer, authority=officer).items():
        html = html_of(md)
        assert "<img" not in html and "<a " not in html and "<code>c</code>" not in html, kind
        assert "<del>" not in html and "<em>" not in html, kind
        assert officer.replace("<", "&lt;") in html  # one cell, the whole name: the pipe did not split it


@pytest.mark.parametrize(
    "name",
    [
        "A\u202eB",  # RIGHT-TO-LEFT OVERRIDE
        "A\u202bB\u202c",  # RIGHT-TO-LEFT EMBEDDING, POP DIRECTIONAL FORMATTING
        "A\u2067B\u2069",  # RIGHT-TO-LEFT ISOLATE, POP DIRECTIONAL ISOLATE
        "A\u200fB",  # RIGHT-TO-LEFT MARK
        "A&#x202E;B",  # the same character as a character reference
    ],
)
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_a_bidirectional_control_in_a_name_is_shown_not_obeyed(name, fmt):
    for kind, text in notices_for(name, fmt=fmt).items():
        shown = html_of(text) if fmt == "md" else text
        for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f":
            assert c not in shown, (kind, hex(ord(c)))
        assert "&#x202E;" not in shown.replace("&amp;#x202E;", ""), kind
        assert "A{U+" in shown or "A&amp;#x202E;B" in shown, kind


def test_md_inert_escapes_every_markdown_construct():
    for text in [HOSTILE, "a*b*c", "_x_", "__init__", "`x`", "~~x~~", "$x$", "\\*", "a|b", "<i>x</i>", "http://x.y"]:
        html = html_of(f"name: {notices.md_inert(text)}")
        assert html == f"<p>name: {text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</p>\n", text


def test_md_inert_leaves_ordinary_names_byte_for_byte():
    for text in ["太原绿储物流有限公司", "N-2026-0001", "A_2026_1", "wang", "太原(绿储) A&B 物流", "Lüliang Co., Ltd."]:
        assert notices.md_inert(text) == text


def test_md_inert_puts_everything_on_one_line():
    assert "\n" not in notices.md_inert("a\n# heading\r\n> quote\u2028b")


def test_a_file_name_with_backticks_stays_in_its_code_span():
    for name in ["a`b.csv", "`x`", "``y", "plain.csv"]:
        html = html_of(f"file: {notices.md_code(name)}")
        assert html == f"<p>file: <code>{name}</code></p>\n", name
    assert notices.md_code("taiyuan-2026.csv") == "`taiyuan-2026.csv`"
