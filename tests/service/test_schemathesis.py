"""Schemathesis over every operation of the OpenAPI document: no input is a 500, and every answer
is one the document declares (status, content type, headers, body schema).

Bounded: a few examples per operation (hypothesis derandomised, so a run is repeatable), on a
record holding the worked example decided and confirmed, with the token of a role that may call
each operation (so the generated input gets past authentication to the code behind it).
"""

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from conftest import add_staff, bearer, issue_tokens
from hypothesis import HealthCheck, settings
from people import seed_url
from repo import WORKED_EXAMPLE
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine.records import service as records
from engine.records.store import open_store
from engine.records.store.models import SubmissionIn
from engine.rulebook.loader import load_rulebook

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _api():
    """The app over a fresh record (built when the module is collected: Schemathesis reads the
    OpenAPI document to make one test per operation)."""
    folder = Path(tempfile.mkdtemp(prefix="shuangtan-schemathesis-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    url = seed_url(f"sqlite:///{folder / 'record.db'}")
    add_staff(url)
    store = open_store(url)
    records.submit(store, SubmissionIn(raw=WORKED_EXAMPLE.read_bytes(), submitted_by="qinghe"))
    book = load_rulebook()
    records.decide(store, "APP-2026-000123", book, "wang")
    records.confirm(store, "APP-2026-000123", book, "li")
    store.dispose()
    from engine.service.app import create_app
    from engine.service.settings import Settings

    app = create_app(url, book, Settings(rate=0, jobs_dir=str(folder / "jobs"), max_population=50))
    return app, issue_tokens(url, ["wang", "shen", "ding"])


APP, TOKENS = _api()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


def _token(path: str, tokens: dict) -> str:
    if path.startswith("/v1/audit"):
        return tokens["shen"]
    if path.startswith(("/v1/simulations", "/v1/jobs")):
        return tokens["ding"]
    return tokens["wang"]


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation(case):
    case.call_and_validate(headers=bearer(_token(case.path, TOKENS)), checks=CHECKS)
