"""Official notices from a stored decision: one context, four formats.

``notice_context`` builds everything a notice says (engine/notices/letter.py: the letter as an
administrative document; annex.py: the review details; findings.py: each criterion and reason
phrased; wording.py: labels, numbers and units) in one language, from the decision as written,
the rulebook snapshot it was made under and the authority file. Markdown and HTML are Jinja2
templates over it (templates/notices/), PDF is the HTML through WeasyPrint, DOCX is written from
the same context by docx.py. Every figure is exact (decimal strings and Fractions, never floats).
"""

from __future__ import annotations

import datetime as dt
import re

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from engine.authority import Authority
from engine.contract.application import Application
from engine.cst import CST
from engine.decimals import fmt_money
from engine.errors import ShuangtanError
from engine.notices import fonts
from engine.notices.annex import annex, shown_outcomes
from engine.notices.findings import Findings, decided_fields, decision_env
from engine.notices.letter import letter
from engine.notices.wording import TEMPLATES, Datum, Figure, Number, Phrase, Words, join, labels, say  # noqa: F401 (labels: for issuing)
from engine.rulebook.loader import Rulebook

KINDS = ("approval", "denial", "rectification", "levy")
#: Not called for by a decision's outcomes: issued for a decision a later one replaced.
REVOCATION = "revocation"
DOCUMENT_KINDS = (*KINDS, REVOCATION)
#: zh-en: the Chinese letter, its English translation (for reference), then the Chinese annex.
BILINGUAL = "zh-en"
LANGS = ("zh", "en", BILINGUAL)
#: Text formats are templates; pdf is the HTML typeset, docx is written from the context.
TEXT_FORMATS = ("md", "html")
FORMATS = ("md", "html", "pdf", "docx")
#: 《中华人民共和国行政复议法》(2023 修订) 第二十条: 自知道或者应当知道该行政行为之日起六十日内提出
RECONSIDERATION_DAYS = 60


money = fmt_money  # the templates' ``money`` filter: '1500000.00' -> '1,500,000.00'


#: Bidirectional controls (LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM, ALM) and other control
#: characters: shown as a visible ``{U+202E}``, never obeyed, so a name cannot reverse the text
#: around it. The contract refuses them in new input; the record may hold older data.
_INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Markdown's inline syntax: code, emphasis, links and images, headings, strikethrough, maths.
_MD_SYNTAX = re.compile(r"([\\`*\[\]#~$])")
#: An ``&`` that starts a character reference (``&#x202E;``, ``&lt;``); "A&B" is left as it is.
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
#: Bare URLs that GFM turns into links: ``http://``, ``www.``.
_MD_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<=\bwww)(\.)")


def visible(text: str) -> str:
    """``text`` with bidirectional and control characters shown as ``{U+XXXX}``."""
    return _INVISIBLE.sub(lambda m: f"{{U+{ord(m.group()):04X}}}", text)


def _md_plain(value: str) -> str:
    return visible(value.replace("<", "&lt;").replace("|", "\\|").replace("\r", " ").replace("\n", " "))


def _md_text(value):
    """Markdown output: inert HTML and intact tables, whatever an enterprise calls itself.

    Data (``Datum``, alone or inside a ``Phrase``) is made inert (``md_inert``); our own words
    keep tables intact. Macro output is marked safe by the templates (``|safe``) and passes
    through unchanged.
    """
    if isinstance(value, Datum):
        return md_inert(value)
    if isinstance(value, Phrase):
        return Markup("".join(md_inert(p) if isinstance(p, Datum) else _md_plain(p) for p in value.parts))
    if isinstance(value, str) and not isinstance(value, Markup):
        return _md_plain(value)  # without "<" no tag can start; "|" would split a table cell
    return value


def _html_text(value):
    """HTML output: autoescaped by Jinja2 after this; bidirectional controls made visible."""
    if isinstance(value, Phrase):
        return Markup("".join(_html_part(p) for p in value.parts))
    if isinstance(value, (Figure, Datum)):
        return _html_part(value)
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


def _html_part(part: str) -> Markup:
    """One part of a sentence, escaped; a figure (an amount with its unit) and a short code-like
    datum (an application id, a credit code, a 文号) kept on one line."""
    text = Markup.escape(visible(part))
    if isinstance(part, (Figure, Number)) or (
        isinstance(part, Datum) and len(part) <= 40 and part.isascii() and " " not in part
    ):
        return Markup(f'<span class="fig">{text}</span>')
    return text


def md_inert(value) -> Markup:
    """Data from an application or an account (a name, an officer, an id) as Markdown that says
    exactly what it is: every character with meaning in Markdown escaped, one line, no links.

    A name such as ``[点我](http://evil/x.png) ![](http://t/p.png) **粗** # 标题 <b>x</b>`` is
    shown as those characters, not as a link, a remote image (a tracking pixel for the officer
    who previews it), bold text, a heading or a tag.
    """
    text = visible(str(value)).replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    text = text.replace("\u2028", " ").replace("\u2029", " ")
    text = _MD_ENTITY.sub("&amp;", text).replace("<", "&lt;")  # entities (&#x202E;) and tags
    text = _MD_SYNTAX.sub(r"\\\1", text)
    text = re.sub("_+", lambda m: m.group() if _intraword(m) else "\\_" * len(m.group()), text)
    text = _MD_AUTOLINK.sub(lambda m: "\\" + m.group(), text)
    return Markup(text.replace("|", "\\|"))


def _intraword(m: re.Match) -> bool:
    """A run of ``_`` between two letters or digits cannot open or close emphasis (``snake_case``)."""
    text, i, j = m.string, m.start(), m.end()
    return i > 0 and j < len(text) and text[i - 1].isalnum() and text[j].isalnum()


def md_code(value) -> Markup:
    """A code span around data (a file name): a fence longer than any run of backticks inside."""
    text = visible(str(value)).replace("\r", " ").replace("\n", " ")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


def environment(fmt: str) -> Environment:
    if fmt not in TEXT_FORMATS:
        raise ValueError(f"unknown notice format {fmt!r}")
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=fmt == "html",
        finalize=_md_text if fmt == "md" else _html_text,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = money
    env.filters["md"] = md_inert
    env.filters["md_code"] = md_code
    return env


def applicable_kinds(decision: dict) -> list[str]:
    """The notices a decision calls for, in a fixed order."""
    outs = decision["outcomes"].values()
    kinds = []
    if any(o["status"] == "granted" for o in outs):
        kinds.append("approval")
    if any(o["status"] == "denied" for o in outs):
        kinds.append("denial")
    if any((o.get("notice") or {}).get("kind") == "rectification" for o in outs):
        kinds.append("rectification")
    if any(o["status"] == "levied" for o in outs):
        kinds.append("levy")
    return kinds


# --- context ---------------------------------------------------------------------------
def notice_context(
    kind: str,
    *,
    decision: dict,
    app: Application,
    book: Rulebook,
    decision_id: int,
    officer: str,
    decided_at: dt.datetime,
    notice_date: dt.date,
    lang: str,
    notice_no: str,
    authority: Authority,
    confirmer: str,
    confirmed_at: dt.datetime,
    authority_name: str | None = None,
    tz: dt.tzinfo = CST,
    revocation: dict | None = None,
) -> dict:
    """Everything a notice says, in ``lang``; the templates and the DOCX writer read nothing else.

    ``officer`` and ``confirmer`` are the display names of who proposed and who confirmed the
    decision (never logins); times are shown in ``tz`` (naive ones are taken as UTC).
    ``authority_name`` is the 发文机关 the document was numbered under (default: the file's).
    ``revocation`` (kind "revocation" only): what replaced the notices of this decision, see
    ``revocation_view``.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}")
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    if (kind == REVOCATION) != (revocation is not None):
        raise ValueError("a revocation notice, and only one, needs what replaced the decision")
    fields, present, declared = decided_fields(app, decision)
    base = decision_env(book, fields, present, app.period.end, decision)
    langs = ("zh", "en") if lang == BILINGUAL else (lang,)
    parts = {}
    for one in langs:
        w = Words(one)
        findings = Findings(book, decision, base, w, decision.get("metering") or None)
        view = _revocation_words(w, revocation) if revocation is not None else None
        names = authority.in_lang(one)
        if authority_name and one == "zh":
            names["name"] = authority_name
        facts = _facts(w, app, decision, decision_id, notice_no, notice_date)
        shown = shown_outcomes(kind, decision) if kind != REVOCATION else []
        history = decision.get("history") or {"differences": [], "declared": {}, "record": {}}
        rows = _annex_facts(
            w, app, decision, decision_id, officer, decided_at, confirmer, confirmed_at, notice_no, notice_date, tz
        )
        part_annex = annex(w, findings, rows, shown, declared, history if kind != REVOCATION else {})
        if view is not None:
            part_annex["revocation"] = view["annex"]
        parts[one] = {
            "t": w.lab,
            "letter": letter(kind, w, findings, facts, names, view),
            "annex": part_annex,
        }
    main = parts[langs[0]]
    return {
        "kind": kind,
        "lang": lang,
        "html_lang": "zh-CN" if langs[0] == "zh" else "en",
        "t": main["t"],
        "title": main["letter"]["title"],
        "application_id": Datum(decision["application_id"]),
        "letter": main["letter"],
        "translation": parts["en"]["letter"] if lang == BILINGUAL else None,
        # said in both languages: the reader of the translation is told in English that it is one
        "translation_note": (
            f"{main['t']['letter']['translation']} / {parts['en']['t']['letter']['translation']}"
            if lang == BILINGUAL
            else None
        ),
        "annex": main["annex"],
        "notice_no": Number(notice_no),
        "notice_date": notice_date.isoformat(),
    }


def _facts(w: Words, app: Application, decision: dict, decision_id: int, notice_no: str, notice_date: dt.date) -> dict:
    e = app.enterprise
    start, end = w.date(app.period.start), w.date(app.period.end)
    return {
        "enterprise": e.name,
        "notice_no": notice_no,
        "notice_date": notice_date,
        "start": start,
        "end": end,
        "opening": {
            "credit_code": Datum(e.credit_code),
            "app_id": Datum(decision["application_id"]),
            "start": start,
            "end": end,
        },
    }


def _annex_facts(
    w, app, decision, decision_id, officer, decided_at, confirmer, confirmed_at, notice_no, notice_date, tz
) -> list:
    A, e = w.lab["annex"], app.enterprise
    digest = decision["ruleset"]["digest"].removeprefix("sha256:")
    region = (
        f"{w.region(e.region_code)}（{e.region_code}）"
        if w.lang == "zh"
        else f"{w.region(e.region_code)} ({e.region_code})"
    )
    return [
        (A["enterprise"], Datum(e.name)),
        (A["credit_code"], Datum(e.credit_code)),
        (A["region"], region),
        (A["size"], w.lab["sizes"].get(e.size, e.size)),
        (A["application"], Datum(decision["application_id"])),
        (A["period"], f"{w.date(app.period.start)} – {w.date(app.period.end)}"),
        (A["notice_no"], Number(notice_no)),
        (A["notice_date"], w.date(notice_date)),
        (A["decision"], str(decision_id)),
        (A["officer"], Datum(officer)),
        (A["decided_at"], shown_time(decided_at, tz, A)),
        (A["confirmer"], Datum(confirmer)),
        (A["confirmed_at"], shown_time(confirmed_at, tz, A)),
        (A["ruleset"], say(A["ruleset_value"], version=str(decision["ruleset"]["version"]), digest=Datum(digest))),
    ]


def shown_time(when: dt.datetime, tz: dt.tzinfo, lab: dict) -> str:
    """A stored time (UTC; naive means UTC) as the notice prints it, in the authority's zone."""
    aware = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return f"{aware.astimezone(tz):%Y-%m-%d %H:%M} {lab['tz']}"


def revocation_view(
    *,
    old_notices: list[tuple[str, str, dt.date]],
    old_totals: dict,
    new_decision_id: int,
    new_application_id: str,
    new_confirmed_at: dt.datetime,
    new_totals: dict,
    new_notices: list[str],
    tz: dt.tzinfo = CST,
    lang: str = "zh",
) -> dict:
    """What a revocation notice says replaced the old one: the old notices (number, kind, date),
    the amounts each decision confirmed, the decision now in force and the numbers of its notices
    (the facts; ``notice_context`` words them in each language the notice is printed in)."""
    return {
        "old_notices": list(old_notices),
        "old_totals": dict(old_totals),
        "new_decision_id": new_decision_id,
        "new_application_id": new_application_id,
        "new_confirmed_at": new_confirmed_at,
        "new_totals": dict(new_totals),
        "new_notices": list(new_notices),
        "tz": tz,
    }


def _revocation_words(w: Words, r: dict) -> dict:
    L, A = w.lab["letter"], w.lab["annex"]
    table = {
        "head": [A["notice_no"], A["document"], A["notice_date"]],
        "rows": [[Number(n), w.lab["title"].get(k, k), w.date(d)] for n, k, d in r["old_notices"]],
    }
    old, new = r["old_totals"], r["new_totals"]
    totals = say(
        L["revocation_totals"],
        old_subsidy=w.money(old["subsidy_yuan"]),
        old_levy=w.money(old["levy_yuan"]),
        new_subsidy=w.money(new["subsidy_yuan"]),
        new_levy=w.money(new["levy_yuan"]),
    )
    numbers = r["new_notices"]
    return {
        "new_confirmed_at": shown_time(r["new_confirmed_at"], r["tz"], A),
        "table": table,
        "totals": totals,
        "new": say(L["revocation_new"], numbers=join([Number(n) for n in numbers], L["list_sep"]))
        if numbers
        else L["revocation_new_none"],
        "annex": {
            "head": ["", A["decision"], A["total_subsidy"], A["total_levy"]],
            "rows": [
                [A["previous"], "", w.money(old["subsidy_yuan"]), w.money(old["levy_yuan"])],
                [A["current"], str(r["new_decision_id"]), w.money(new["subsidy_yuan"]), w.money(new["levy_yuan"])],
            ],
            "application": Datum(r["new_application_id"]),
        },
    }


def render(kind: str, context: dict, fmt: str) -> str:
    """The notice as Markdown or HTML text."""
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    return environment(fmt).get_template(f"notice.{fmt}.j2").render(**context)


def document(kind: str, context: dict, fmt: str) -> bytes:
    """The notice as the bytes of a file in ``fmt`` (md, html, pdf, docx), from one context."""
    if fmt == "pdf":
        return to_pdf(render(kind, context, "html"), context["lang"].partition("-")[0])
    if fmt == "docx":
        from engine.notices.docx import to_docx

        return to_docx(context)
    if fmt not in TEXT_FORMATS:
        raise ValueError(f"unknown notice format {fmt!r}")
    return render(kind, context, fmt).encode("utf-8")


class NoticeFontError(ShuangtanError):
    """A Chinese PDF was asked for with no Chinese font at hand: it would print empty boxes."""


def chinese_font() -> str | None:
    """The font family a PDF notice sets Chinese in: the packaged Noto Serif SC (the ``[pdf]``
    extra), else one the system's fontconfig offers, else None."""
    if fonts.packaged_font(fonts.SERIF) is not None:
        return fonts.SERIF.family
    return fonts.system_chinese_font()


def require_font(lang: str) -> None:
    """NoticeFontError when a PDF in ``lang`` cannot be typeset here."""
    if lang.startswith("zh") and chinese_font() is None:
        raise NoticeFontError(
            f"no Chinese font for a Chinese PDF notice (it would print empty boxes): {fonts.INSTALL_HINT} "
            "(Noto Serif SC), or a system font (Debian: apt-get install fonts-noto-cjk), "
            "or issue it with --format html or --lang en"
        )


def to_pdf(html: str, lang: str = "zh") -> bytes:
    """PDF from the HTML notice (WeasyPrint, when installed). A PDF embeds its fonts, so a
    Chinese notice made without a Chinese font would be an official document of empty boxes:
    refused instead. The packaged fonts come in as a stylesheet of their own, so the HTML notice
    itself never names a file on this machine."""
    require_font(lang)
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    config = FontConfiguration()
    faces = fonts.font_face_css()
    sheets = [CSS(string=faces, font_config=config)] if faces else []
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(stylesheets=sheets, font_config=config)
