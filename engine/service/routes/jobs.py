"""Simulations for drafters: POST /v1/simulations (202, Location: /v1/jobs/{id}), GET /v1/jobs/{id}
(state, progress, report and files), GET /v1/jobs/{id}/files/{name}."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse, JSONResponse

from engine.i18n import t
from engine.service.jobs import Busy
from engine.service.models import JobFile, JobOut, SimulationIn
from engine.service.problems import Problem
from engine.service.security import Identity, allow

router = APIRouter(prefix="/v1", tags=["drafting"])

MEDIA = {
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".png": "image/png",
}


def _job_out(job: dict) -> JobOut:
    base = f"/v1/jobs/{job['id']}"
    files = [JobFile(name=f["name"], bytes=f["bytes"], href=f"{base}/files/{f['name']}") for f in job.get("files", [])]
    report = next((f.href for f in files if f.name == "report.md"), None)
    return JobOut(
        **{k: v for k, v in job.items() if k in JobOut.model_fields and k != "files"}, files=files, report=report
    )


def _books(request: Request, names: list[str], baseline: list[str]):
    from engine.resources import bundled_reforms
    from engine.rulebook.loader import load_rulebook
    from engine.rulebook.reforms import load_reform

    known = bundled_reforms()
    for i, name in enumerate([*baseline, *names]):
        if name.removesuffix(".yaml") not in known:
            where = f"baseline_reforms.{i}" if i < len(baseline) else f"reforms.{i - len(baseline)}"
            text = t("service.problem.job_reform", name=repr(name[:80]), known=", ".join(known))
            raise Problem(422, "invalid_request", text, [(where, text)])
    rules = request.app.state.service.settings.rules_dir
    base = [load_reform(known[n.removesuffix(".yaml")]) for n in baseline]
    both = base + [load_reform(known[n.removesuffix(".yaml")]) for n in names]
    return load_rulebook(rules, base), load_rulebook(rules, both)


@router.post(
    "/simulations",
    status_code=202,
    response_model=JobOut,
    responses={202: {"description": "Accepted: poll the job at Location"}},
)
def simulations(request: Request, body: SimulationIn, identity: Identity = Depends(allow("drafter"))) -> JSONResponse:
    """Simulate a generated population under the baseline and a reform (bundled reforms by name)."""
    service = request.app.state.service
    limit = service.settings.max_population
    if body.population.n > limit:
        raise Problem(
            422,
            "invalid_request",
            t("service.problem.job_size", limit=f"{limit:,}"),
            [("population.n", t("service.problem.job_size", limit=f"{limit:,}"))],
        )
    try:
        import polars  # noqa: F401
    except ImportError:
        raise Problem(422, "unavailable", t("service.problem.job_extra")) from None
    books = _books(request, body.reforms, body.baseline_reforms)
    try:
        job = service.jobs.submit(identity.name, body.model_dump(), books)
    except Busy:
        text = t("service.problem.job_busy", n=service.settings.max_jobs)
        raise Problem(429, "busy", text, headers={"Retry-After": "10"}) from None
    href = f"/v1/jobs/{job['id']}"
    return JSONResponse(_job_out(job).model_dump(mode="json"), 202, headers={"Location": href})


JobId = Path(min_length=1, max_length=64)


@router.get("/jobs/{job_id}", response_model=JobOut)
def job(request: Request, job_id: str = JobId, identity: Identity = Depends(allow("drafter"))) -> JobOut:
    found = request.app.state.service.jobs.read(job_id)
    if found is None:
        raise Problem(404, "not_found", t("service.problem.job_missing", job_id=job_id[:64]))
    return _job_out(found)


@router.get(
    "/jobs/{job_id}/files/{name}",
    response_class=FileResponse,
    responses={
        200: {
            "description": "A file the simulation wrote",
            "content": {m.split(";")[0]: {"schema": {"type": "string", "format": "binary"}} for m in MEDIA.values()},
        }
    },
)
def job_file(
    request: Request,
    job_id: str = JobId,
    name: str = Path(min_length=1, max_length=100),
    identity: Identity = Depends(allow("drafter")),
) -> FileResponse:
    path = request.app.state.service.jobs.file(job_id, name)
    if path is None or not path.is_file():
        raise Problem(404, "not_found", t("service.problem.job_file", job_id=job_id[:64], name=name[:100]))
    return FileResponse(path, media_type=MEDIA.get(path.suffix, "application/octet-stream"))
