"""Rendering a page: templates/pages/*.html.j2 (StrictUndefined, autoescaped), the text from the
catalogue (``pages.…`` keys of templates/messages/pages.yaml), in the request's language.

Every template extends ``layout.html.j2``; a fragment (``_*.html.j2``) is what htmx swaps in.
Each page gets ``t`` (the catalogue in the page's language), ``label`` (a field's label),
``money`` (an amount with thousands separators), the signed-in account and the CSRF token.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache
from urllib.parse import urlencode

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from engine.cst import shown_time
from engine.i18n import field, message, region, t, unit, use
from engine.i18n.problems import problem
from engine.resources import bundled
from engine.service.pages import sessions


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(bundled("templates") / "pages")),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["when"] = shown_time  # stored times are UTC; the bureau reads China Standard Time
    return env


def money(value: object) -> str:
    """``280000.00`` -> ``280,000.00``, digits as the decision wrote them (never through a float)."""
    if value is None:
        return ""
    try:
        return format(Decimal(str(value)), ",")
    except InvalidOperation:
        return str(value)


def context(request: Request, **values) -> dict:
    lang = sessions.language(request)
    s = sessions.session(request)

    def switch(to: str) -> str:
        query = {k: v for k, v in request.query_params.items() if k != "lang"}
        return f"{request.url.path}?{urlencode({**query, 'lang': to})}"

    return {
        "lang": lang,
        "t": lambda key, **kw: t(key, lang=lang, **kw),
        "label": lambda path: field(path, lang, with_path=False),
        # a contract problem (English, the contract's) as said in the page's language
        "problem": lambda message: problem(message, lang),
        "region": lambda code: region(code, lang),  # by its name, never its code
        "regions": lambda asked="": regions(asked, lang),
        "unit": lambda name: unit(name, lang),  # yuan/kWh -> 元/千瓦时
        # a record's or a job's own word (an audit action, a job state) by its key when the
        # catalogue has it, else as it is (a word added later is shown, not an error)
        "known": lambda key, default: t(key, lang=lang) if message(key, lang) is not None else default,
        "user": sessions.signed_in(request),
        "csrf": s.csrf,
        "path": request.url.path,
        "switch": switch,
        "labels": lambda paths: ("、" if lang == "zh" else ", ").join(field(p, lang, with_path=False) for p in paths),
        "statuses": lambda names: " / ".join(t(f"pages.status.{n}", lang=lang) for n in names),
        **values,
    }


def regions(asked: str, lang) -> list[tuple[str, str]]:
    """(code, name) of the regions the deployment names (templates/notices/labels.yaml), and the
    one asked for if it is another: a region is chosen by its name, never typed as a bare code."""
    from engine.notices.wording import Words

    codes = list(Words(lang).lab["regions"])
    if asked and asked not in codes:
        codes.append(asked)
    return [(code, region(code, lang)) for code in codes]


def render(name: str, ctx: dict) -> str:
    with use(ctx["lang"]):
        return environment().get_template(name).render(**ctx)


def page(request: Request, name: str, status: int = 200, **values) -> HTMLResponse:
    """The template ``name`` as an answer, the session's cookie and the language kept."""
    ctx = context(request, **values)
    response = HTMLResponse(render(name, ctx), status, headers={"Content-Language": ctx["lang"]})
    sessions.keep_language(request, response)
    sessions.save(request, response)
    return response


def problem_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error a person reads (the JSON API answers problem+json instead)."""
    return page(request, "error.html.j2", status, code=status, message=message)
