"""Drafters' pages: the parameter browser, a reform editor, and simulations with their report.

The parameters are the rulebook in force (its history by effective date, unit, source, the
changes ahead of today). A reform typed in the editor is checked as `shuangtan` checks a reform
file (engine/rulebook/reforms.load_reform, then applied to the rulebook); once valid it is
written to the jobs folder as a file to download, and may be simulated on a generated population
against the baseline in the background (engine/service/jobs, as ``POST /v1/simulations``). A
job's page shows its progress (htmx polls it; without JavaScript, a refresh link), then the
summary, the charts and the files.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from engine.cst import as_cst
from engine.errors import RulebookError, ShuangtanError
from engine.i18n import t
from engine.i18n.problems import rulebook_error
from engine.notices.wording import Words
from engine.resources import bundled_reforms
from engine.service.app import book_of
from engine.service.jobs import Busy
from engine.service.pages import sessions
from engine.service.pages.guard import account, posted
from engine.service.pages.render import page, problem_page

router = APIRouter(include_in_schema=False)

MEDIA = {".md": "text/markdown; charset=utf-8", ".json": "application/json", ".csv": "text/csv; charset=utf-8"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,63}$")
DEFAULT_REFORM = "tier30-0.90-from-2027"


def _shown(literal) -> str:
    if isinstance(literal, dict):
        return ", ".join(f"{k}: {v}" for k, v in literal.items())
    return "—" if literal is None else str(literal)


@router.get("/parameters")
def parameters(request: Request) -> Response:
    who = account(request, "drafter")
    if isinstance(who, Response):
        return who
    book, today = book_of(request), as_cst(dt.datetime.now(dt.UTC)).date()
    rows = []
    labels = Words(sessions.language(request))
    for name in sorted(book.params):
        p = book.params[name]
        history = [(start, _shown(literal)) for start, _, literal in p.history]
        now = [h for h in history if h[0] <= today]
        rows.append(
            {
                "id": name,
                "description": p.description,
                "label": labels.param_label(name),
                "unit": p.unit,
                "reference": p.reference,
                "now": now[-1] if now else None,
                "history": history,
                "ahead": [h for h in history if h[0] > today],
            }
        )
    return page(request, "parameters.html.j2", parameters=rows, today=today, version=book.version)


def _reform_folder(request: Request) -> Path:
    folder = Path(request.app.state.service.jobs.root) / "reforms"  # beside the jobs (whose ids are hex)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _check(request: Request, text: str):
    """(the reform, the rulebook with it applied), or the reform file's errors."""
    from engine.rulebook.loader import load_rulebook
    from engine.rulebook.reforms import load_reform

    rules = request.app.state.service.settings.rules_dir
    with tempfile.TemporaryDirectory(prefix="shuangtan-reform-") as folder:
        path = Path(folder) / "reform.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            reform = load_reform(path)
            return reform, load_rulebook(rules, [reform]), None
        except RulebookError as exc:
            return None, None, rulebook_error(exc, sessions.language(request)).replace(str(path), "reform.yaml")
        except ShuangtanError as exc:
            return None, None, str(exc).replace(str(path), "reform.yaml")


def _editor(request: Request, status: int = 200, **values) -> Response:
    known = bundled_reforms()
    chosen = request.query_params.get("from") or DEFAULT_REFORM
    text = values.pop("text", None)
    if text is None:
        text = known[chosen].read_text(encoding="utf-8") if chosen in known else ""
    return page(
        request,
        "reforms.html.j2",
        status,
        bundled=sorted(known),
        text=text,
        n=values.pop("n", 2000),
        seed=values.pop("seed", 1),
        valid=values.pop("valid", None),
        error=values.pop("error", None),
        saved=values.pop("saved", None),
        max_population=request.app.state.service.settings.max_population,
    )


@router.get("/reforms")
def reforms(request: Request) -> Response:
    who = account(request, "drafter")
    if isinstance(who, Response):
        return who
    return _editor(request)


def _int(text, default: int, low: int, high: int) -> int | None:
    try:
        value = int(str(text).strip()) if str(text or "").strip() else default
    except ValueError:
        return None
    return value if low <= value <= high else None


@router.post("/reforms")
async def reform_action(request: Request) -> Response:
    form = await posted(request)
    who = account(request, "drafter")
    if isinstance(who, Response):
        return who
    lang = sessions.language(request)
    text = str(form.get("reform") or "")
    limit = request.app.state.service.settings.max_population
    n, seed = _int(form.get("n"), 2000, 1, limit), _int(form.get("seed"), 1, 0, 2**32 - 1)
    reform, book, error = await run_in_threadpool(_check, request, text)
    upload = form.get("population")
    population: dict = {}
    uploaded = isinstance(upload, UploadFile) and bool(upload.filename) and form.get("action") == "run"
    if isinstance(upload, UploadFile) and uploaded and reform is not None:
        population, error = await _population(request, upload, limit, lang)
    if reform is None or n is None or seed is None or error:
        error = error or f"{t('pages.drafter.population', lang)} / {t('pages.drafter.seed', lang)}: 1–{limit:,}"
        return _editor(request, 422, text=text, n=form.get("n"), seed=form.get("seed"), error=error)
    saved = _reform_folder(request) / f"{reform.name}.yaml"
    saved.write_text(text, encoding="utf-8")
    if form.get("action") != "run":
        return _editor(request, text=text, n=n, seed=seed, valid=reform.name, saved=saved.name)
    from engine.rulebook.loader import load_rulebook

    service = request.app.state.service
    spec = {
        "reforms": [reform.name],
        "baseline_reforms": [],
        "population": population if uploaded else {"n": n, "seed": seed, "year": 2027},
        "backend": "auto",
        "lang": lang,  # the report and its charts in the drafter's language
    }
    base = await run_in_threadpool(load_rulebook, service.settings.rules_dir, [])
    try:
        job = service.jobs.submit(who.name, spec, (base, book))
    except Busy:
        return _editor(request, 429, text=text, n=n, seed=seed, error=t("pages.drafter.busy", lang))
    return RedirectResponse(f"/jobs/{job['id']}", 303)


#: an uploaded population: the readers `shuangtan simulate --population` takes, and a bound on
#: the bytes as on the rows (settings.max_population)
_POPULATION_SUFFIXES = (".csv", ".xlsx", ".jsonl", ".parquet")
_MAX_POPULATION_BYTES = 64 << 20


async def _population(request: Request, upload: UploadFile, limit: int, lang) -> tuple[dict, str | None]:
    """The uploaded population, kept beside the jobs and read once here (every bad cell named
    before a job is queued): ({"file", "name", "n"}, None), or ({}, what is wrong with it)."""
    import uuid

    from engine.drafting.population import read_population

    name = Path(upload.filename or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in _POPULATION_SUFFIXES:
        return {}, t("pages.drafter.population_format", lang, name=name, formats="、".join(_POPULATION_SUFFIXES))
    data = await upload.read(_MAX_POPULATION_BYTES + 1)
    if len(data) > _MAX_POPULATION_BYTES:
        return {}, t("pages.drafter.population_bytes", lang, name=name, mb=_MAX_POPULATION_BYTES >> 20)
    folder = Path(request.app.state.service.jobs.root) / "populations"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    path.write_bytes(data)
    try:
        frame = await run_in_threadpool(read_population, path)
    except Exception as exc:  # the reader's refusals: a bad cell, a file that is not what it says
        path.unlink(missing_ok=True)
        problem = str(getattr(exc, "problem", exc)).splitlines()[0]
        return {}, t("pages.drafter.population_unreadable", lang, name=name, problem=problem)
    if not 1 <= frame.height <= limit:
        path.unlink(missing_ok=True)
        return {}, t("pages.drafter.population_rows", lang, name=name, n=f"{frame.height:,}", limit=f"{limit:,}")
    return {"file": str(path), "name": name, "n": frame.height}, None


@router.get("/reforms/files/{name}")
def reform_file(request: Request, name: str) -> Response:
    who = account(request, "drafter")
    if isinstance(who, Response):
        return who
    stem = name.removesuffix(".yaml")
    path = _reform_folder(request) / f"{stem}.yaml"
    if not _NAME.match(stem) or not path.is_file():
        return problem_page(request, 404, t("pages.error.not_found", sessions.language(request)))
    return FileResponse(path, media_type="application/yaml", filename=path.name)


@router.get("/jobs/{job_id}")
def job(request: Request, job_id: str) -> Response:
    who = account(request, "drafter")
    if isinstance(who, Response):
        return who
    found = request.app.state.service.jobs.read(job_id) if re.fullmatch(r"[0-9a-f]{32}", job_id) else None
    if found is None:
        return problem_page(request, 404, t("pages.error.not_found", sessions.language(request)))
    files = found.get("files", [])
    charts = [f["name"] for f in files if f["name"].endswith(".png")]
    summary = found.get("summary") or {}
    flat = {k: v for k, v in summary.items() if not isinstance(v, dict | list)}
    return page(
        request,
        "job.html.j2",
        job=found,
        charts=charts,
        files=files,
        summary=flat,
        money=summary.get("money") or {},
        units=summary.get("units") or {},
        titles={o.name: o.title for o in book_of(request).outcomes},
    )


@router.get("/jobs/{job_id}/files/{name}")
def job_file(request: Request, job_id: str, name: str) -> Response:
    who = account(request, "drafter")
    if isinstance(who, Response):
        return who
    path = request.app.state.service.jobs.file(job_id, name) if re.fullmatch(r"[0-9a-f]{32}", job_id) else None
    if path is None or not path.is_file():
        return problem_page(request, 404, t("pages.error.not_found", sessions.language(request)))
    media = "image/png" if path.suffix == ".png" else MEDIA.get(path.suffix, "application/octet-stream")
    return FileResponse(path, media_type=media)
