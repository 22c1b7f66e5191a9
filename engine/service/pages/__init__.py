"""The pages (issue 19): server-rendered HTML for enterprises, officers, drafters and auditors.

``install(app)`` mounts them beside the JSON API: the open self-check at ``/``, sign-in, the
applications (an enterprise's own; the officers' queue and review), the drafters' parameters,
reforms and simulations, the auditors' log, and ``/static/`` (the stylesheet and the one
vendored script, htmx). The pages call the library functions the API routes call; none calls the
API over HTTP. Modules: ``sessions`` (the signed cookie, CSRF, language), ``render`` (templates
under templates/pages/), ``guard``, ``forms`` (the application as a form) and one per audience.
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from starlette.responses import Response
    from starlette.staticfiles import StaticFiles

    from engine.resources import bundled
    from engine.service.pages import applications, auditor, drafter, guard, selfcheck, signin

    for module in (selfcheck, signin, applications, drafter, auditor):
        app.include_router(module.router)
    app.add_exception_handler(guard.Refused, lambda _request, exc: exc.response)
    # the notices as issued carry no icon of their own: a browser opening one asks for this
    app.add_api_route("/favicon.ico", lambda: Response(status_code=204), include_in_schema=False)
    app.mount("/static", StaticFiles(directory=str(bundled("templates") / "pages" / "static")), name="static")
