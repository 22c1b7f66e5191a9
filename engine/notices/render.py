"""Official notices rendered with Jinja2 from a stored decision (templates/notices/).

Every figure comes from the decision document as written (decimal strings, formatted with
thousands separators through Decimal, never through float); every reason is shown with its
clause and source; the criteria an outcome met are recovered from the rulebook snapshot the
decision was made under, with the field values that were considered.
"""

from __future__ import annotations

import datetime as dt
import re

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from engine.contract.application import Application
from engine.cst import CST
from engine.decimals import fmt_money, fmt_plain
from engine.errors import ShuangtanError
from engine.notices import fonts
from engine.resources import bundled
from engine.rulebook.comparisons import COMPARISONS
from engine.rulebook.evaluate import Env, display, field_values, ref_values
from engine.rulebook.expressions import Compare, Hit, Status, Truth
from engine.rulebook.loader import Rulebook
from engine.rulebook.yamlfile import load_yaml

TEMPLATES = bundled("templates") / "notices"
KINDS = ("approval", "denial", "rectification", "levy")
#: Not called for by a decision's outcomes: issued for a decision a later one replaced.
REVOCATION = "revocation"
DOCUMENT_KINDS = (*KINDS, REVOCATION)
#: Notices print times in China Standard Time; the record keeps UTC.
LANGS = ("zh", "en")
FORMATS = ("md", "html")
#: 《中华人民共和国行政复议法》(2023 修订) 第二十条: 自知道或者应当知道该行政行为之日起六十日内提出
RECONSIDERATION_DAYS = 60
_BENEFIT, _CHECK = ("granted", "denied"), ("met", "not_met")


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


def _md_text(value):
    """Markdown output: inert HTML and intact tables, whatever an enterprise calls itself.

    Macro output is marked safe by the templates (``|safe``) and passes through unchanged.
    """
    if isinstance(value, str) and not isinstance(value, Markup):
        # Without "<" no tag can start; "|" would split a table cell.
        return visible(value.replace("<", "&lt;").replace("|", "\\|").replace("\r", " ").replace("\n", " "))
    return value


def _html_text(value):
    """HTML output: autoescaped by Jinja2 after this; bidirectional controls made visible."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


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
    if fmt not in FORMATS:
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


def labels() -> dict:
    return load_yaml(TEMPLATES / "labels.yaml", "templates/notices/labels.yaml")


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
def _outcome_nodes(o):
    nodes = [e.when for e in o.applies] + [t for _, t in o.lets] + [c.test for c in o.criteria]
    for t in o.tables:
        nodes.append(t.input)
    if o.amount:
        nodes.append(o.amount.formula)
        if o.amount.cap is not None:
            nodes.append(o.amount.cap)
    return nodes


def plain(value) -> str:
    """A field value as text; booleans first, so ``False`` is never shown as ``0``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return fmt_plain(value)


def _env_for(book: Rulebook, app: Application, decision: dict) -> Env:
    fields, present = field_values(app)
    when = app.period.end
    params = book.values_at(when)
    literals = {n: p.literal_at(when) for n, p in book.params.items() if not p.index}
    env = Env(fields, present, params, literals)
    env.status = {k: v["status"] for k, v in decision["outcomes"].items()}
    return env


def _evidence(book, o, base: Env) -> tuple[dict, Env]:
    env = Env(base.fields, base.present, base.params, base.literals)
    env.status = base.status
    for name, term in o.lets:
        env.vars[name] = term.value(env)
    seen = {}
    for node in _outcome_nodes(o):
        for kind, name in sorted(node.refs()):
            if kind == "field":
                seen[name] = plain(env.fields.get(name))
            elif kind == "var":
                seen[name] = plain(env.vars.get(name))
    return seen, env


def _reason(r: dict, lang: str) -> dict:
    return {
        "code": r["code"],
        "rule": r["rule"],
        "clause": r.get("clause") or "",
        "source": r["source"],
        "message": r.get("message_zh", r["message"]) if lang == "zh" else r["message"],
        "values": {
            k: (
                v
                if isinstance(v, str)
                else fmt_plain(v)
                if v is not None and not isinstance(v, (dict, list))
                else str(v)
            )
            for k, v in (r.get("values") or {}).items()
        },
    }


def outcome_view(book: Rulebook, name: str, out: dict, base: Env, lang: str, lab: dict, notice_date: dt.date) -> dict:
    o = book.outcome(name)
    evidence, env = _evidence(book, o, base)
    failing = {r["code"] for r in out["reasons"]}
    criteria = {c.code for c in o.criteria}
    met = (
        []
        if out["status"] == "not_applicable"
        else [
            {
                "code": c.code,
                "rule": c.rule,
                "clause": c.clause,
                "test": describe(c.test, env, book, o, lab),
                "values": ref_values(c.test, env),
            }
            for c in o.criteria
            if c.code not in failing
        ]
    )
    reasons = [_reason(r, lang) for r in out["reasons"]]
    notice = None
    if out.get("notice"):
        days = int(out["notice"]["deadline_days"])
        notice = {
            "kind": out["notice"]["kind"],
            "deadline_days": days,
            "deadline": (notice_date + dt.timedelta(days=days)).isoformat(),
        }
    return {
        "name": name,
        "title": out["title"][lang],
        "title_other": out["title"]["en" if lang == "zh" else "zh"],
        "status": out["status"],
        "status_label": lab["status"][out["status"]],
        "amount": money(out["amount"]) if out["amount"] is not None else None,
        "unit": lab["unit"].get(out["unit"], out["unit"]) if out["unit"] else None,
        "source": out["source"],
        "clause": o.clause,
        "reasons": reasons,
        "unmet": [r for r in reasons if r["code"] in criteria],
        "other_reasons": [r for r in reasons if r["code"] not in criteria],
        "met": met,
        "evidence": evidence,
        "parameters": [
            {
                "name": k,
                "value": v["value"]
                if isinstance(v["value"], str)
                else "; ".join(f"{a}: {b}" for a, b in v["value"].items()),
                "unit": v["unit"],
                "effective_from": v["effective_from"],
                "reference": v["reference"],
            }
            for k, v in out["parameters"].items()
        ],
        "notice": notice,
        "earmark": (out.get("earmark") or {}).get(lang),
    }


def describe(test, env: Env, book: Rulebook, o, lab: dict) -> str:
    """A met test as the comparison that held, with the values used (``0.97 ≥ 0.95``)."""
    if isinstance(test, Compare):
        return f"{_name(test.left)} {display(test.left, env)} {COMPARISONS[test.op].symbol} {display(test.right, env)}"
    if isinstance(test, Truth):
        return f"{test.field.path} = {plain(env.fields.get(test.field.path))}"
    if isinstance(test, Status):
        return f"{test.outcome}: {lab['status'][env.status[test.outcome]]}"
    if isinstance(test, Hit):
        table = next(t for t in o.tables if t.name == test.table)
        return f"{table.input_name} {plain(table.input.value(env))}"
    return "; ".join(f"{k} = {v}" for k, v in ref_values(test, env).items())


def _name(term) -> str:
    return getattr(term, "path", None) or getattr(term, "name", None) or ""


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
    authority: str,
    confirmer: str,
    confirmed_at: dt.datetime,
    tz: dt.tzinfo = CST,
    revocation: dict | None = None,
) -> dict:
    """Everything a template may read; the templates read nothing else (StrictUndefined).

    ``officer`` and ``confirmer`` are the display names of who proposed and who confirmed the
    decision (never logins); times are shown in ``tz`` (naive ones are taken as UTC).
    ``revocation`` (kind "revocation" only): what replaced the notices of this decision, see
    ``revocation_view``.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}")
    if (kind == REVOCATION) != (revocation is not None):
        raise ValueError("a revocation notice, and only one, needs what replaced the decision")
    lab = labels()[lang]
    base = _env_for(book, app, decision)
    views = {
        name: outcome_view(book, name, out, base, lang, lab, notice_date) for name, out in decision["outcomes"].items()
    }
    e = app.enterprise
    history = decision.get("history") or {"differences": [], "declared": {}, "record": {}}
    granted = [v for v in views.values() if v["status"] == "granted"]
    denied = [v for v in views.values() if v["status"] == "denied"]
    levied = [v for v in views.values() if v["status"] == "levied"]
    checks = [v for v in views.values() if v["status"] in _CHECK]
    rectification = [v for v in views.values() if v["notice"] and v["notice"]["kind"] == "rectification"]
    shown = {
        "approval": granted + checks,
        "denial": denied + checks,
        "rectification": rectification + denied + checks,
        "levy": levied,
        REVOCATION: [],
    }[kind]
    if kind == REVOCATION:  # what the old decision found is not restated, only that it no longer stands
        history = {"differences": [], "declared": {}, "record": {}}
    return {
        "kind": kind,
        "lang": lang,
        "t": lab,
        "notice_no": notice_no,
        "notice_date": notice_date.isoformat(),
        "authority": {"name": authority},
        "revocation": revocation,
        "enterprise": {
            "name": e.name,
            "credit_code": e.credit_code,
            "region_code": e.region_code,
            "region": lab["regions"].get(e.region_code, e.region_code),
            "size": e.size,
        },
        "application_id": decision["application_id"],
        "period": {"start": app.period.start.isoformat(), "end": app.period.end.isoformat()},
        "decision": {
            "id": decision_id,
            "officer": officer,
            "decided_at": shown_time(decided_at, tz, lab),
            "confirmer": confirmer,
            "confirmed_at": shown_time(confirmed_at, tz, lab),
            "evaluated_on": decision["evaluated_on"],
            "ruleset_version": decision["ruleset"]["version"],
            "ruleset_digest": decision["ruleset"]["digest"],
        },
        "outcomes": views,
        "granted": granted,
        "denied": denied,
        "levied": levied,
        "checks": checks,
        "rectification": rectification,
        "totals": {
            "subsidy_yuan": money(decision["totals"]["subsidy_yuan"]),
            "levy_yuan": money(decision["totals"]["levy_yuan"]),
        },
        "history": {
            "differences": [
                {"field": f, "declared": history["declared"][f], "record": history["record"][f]}
                for f in history["differences"]
            ]
        },
        "metering": None if kind == REVOCATION else _metering(decision.get("metering"), lang),
        "reconsideration": {
            "days": RECONSIDERATION_DAYS,
            "by": (notice_date + dt.timedelta(days=RECONSIDERATION_DAYS)).isoformat(),
        },
        "sources": _sources(book, shown, lab),
    }


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
    lang: str,
) -> dict:
    """What a revocation notice says replaced the old one: the old notices (number, kind, date),
    the amounts each decision confirmed, the decision now in force and the numbers of its notices."""
    lab = labels()[lang]
    return {
        "old_notices": [
            {"number": n, "title": lab["title"].get(k, k), "date": d.isoformat()} for n, k, d in old_notices
        ],
        "old_decision": {
            "subsidy_yuan": money(old_totals["subsidy_yuan"]),
            "levy_yuan": money(old_totals["levy_yuan"]),
        },
        "new_decision": {
            "id": new_decision_id,
            "application_id": new_application_id,
            "confirmed_at": shown_time(new_confirmed_at, tz, lab),
            "subsidy_yuan": money(new_totals["subsidy_yuan"]),
            "levy_yuan": money(new_totals["levy_yuan"]),
        },
        "new_notices": list(new_notices),
    }


def _metering(block: dict | None, lang: str) -> dict | None:
    """The declared-versus-metered table of a decision decided on telemetry (else None)."""
    if not block:
        return None
    f = block["facts"]
    return {
        "file": block["telemetry"]["file"],
        "sha256": block["telemetry"]["sha256"],
        "period": f"{f['period']['start']} – {f['period']['end']}",
        "window": f["daytime_window"],
        "received": f"{f['intervals_received']:,} / {f['intervals_expected']:,}",
        "gaps": len(f["gaps"]),
        "missing": sum(g["intervals"] for g in f["gaps"]),
        "rows": [
            {
                "label": c["label"][lang],
                "declared": c["declared"],
                "metered": c["metered"],
                "tolerance": c["limit"],
                "differs": c["differs"],
            }
            for c in block["comparisons"]
        ],
    }


def _sources(book: Rulebook, shown: list, lab: dict) -> list[dict]:
    """Every source the notice cites (outcomes and their reasons), spelled out."""
    cited = sorted(
        {
            part.strip()
            for v in shown
            for r in [{"source": v["source"]}, *v["reasons"]]
            for part in r["source"].split(";")
        }
    )
    return [
        {"key": k, "document": book.sources[k]["document"], "section": book.sources[k]["section"]}
        if k in book.sources
        else {"key": k, "document": lab["record_source"], "section": ""}
        for k in cited
    ]


def render(kind: str, context: dict, fmt: str) -> str:
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    return environment(fmt).get_template(f"{kind}.{fmt}.j2").render(**context)


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
    if lang == "zh" and chinese_font() is None:
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
