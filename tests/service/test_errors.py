"""Every error is problem+json naming what is wrong; no input is a 500."""

import json

from conftest import bearer
from repo import WORKED_EXAMPLE

from engine.i18n.problems import problem_line
from engine.service.problems import MEDIA_TYPE


def _problem(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == MEDIA_TYPE
    body = r.json()
    assert body["status"] == status and body["code"] == code and body["title"] and body["detail"]
    assert body["type"] == f"urn:shuangtan:problem:{code}"
    return body


def test_malformed_json_is_400(client):
    for raw in (b"{", b"", b"\xff\xfe{}", b"[1,"):
        _problem(client.post("/v1/check", content=raw), 400, "malformed_json")


def test_invalid_application_names_every_field_as_the_cli_does(client, cli, tmp_path):
    doc = json.loads(WORKED_EXAMPLE.read_text())
    doc["enterprise"]["credit_code"] = "91140100MA0L3K2P5X"
    doc["storage"]["platform"]["reporting_completeness"] = "1.5"
    doc["period"]["end"] = "2026-13-01"
    doc["surprise"] = 1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    body = _problem(client.post("/v1/check", content=path.read_bytes()), 422, "invalid_application")
    printed = cli("check", path)
    assert printed.exit_code == 2
    cli_lines = [line.strip() for line in printed.output.splitlines() if line.startswith("  ")]
    # the same problems, the CLI naming each field by its label before its path
    assert [problem_line(e["path"], e["message"], "en") for e in body["errors"]] == cli_lines
    assert all(
        e["path"] in line and line.endswith(e["message"]) for e, line in zip(body["errors"], cli_lines, strict=True)
    )
    assert len(body["errors"]) == 4


def test_duplicate_key_is_an_invalid_application(client):
    body = _problem(
        client.post("/v1/check", content=b'{"application_id": "A", "application_id": "B"}'), 422, "invalid_application"
    )
    assert body["errors"][0]["path"] == "application_id"


def test_over_a_mebibyte_is_413(client):
    big = b'{"application_id": "' + b"x" * (1 << 20) + b'"}'
    _problem(client.post("/v1/check", content=big), 413, "too_large")

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b" " * 65536

    _problem(client.post("/v1/check", content=chunks()), 413, "too_large")


def test_unknown_route_and_method(client):
    _problem(client.get("/v1/nope"), 404, "not_found")
    _problem(client.delete("/v1/check"), 405, "method_not_allowed")


def test_bad_query_is_422_by_path(client):
    body = _problem(
        client.post("/v1/check?partial=perhaps", content=WORKED_EXAMPLE.read_bytes()), 422, "invalid_request"
    )
    assert body["errors"][0]["path"] == "query.partial"


def test_authentication_and_roles(client, tokens):
    body = _problem(client.get("/v1/applications"), 401, "unauthenticated")
    assert "bearer" in body["detail"].lower()
    assert client.get("/v1/applications").headers["www-authenticate"].startswith("Bearer")
    _problem(client.get("/v1/applications", headers={"Authorization": "Basic abc"}), 401, "unauthenticated")
    _problem(client.get("/v1/applications", headers=bearer("st_wang_" + "0" * 64)), 401, "unauthenticated")
    _problem(client.get("/v1/applications", headers=bearer("nonsense")), 401, "unauthenticated")
    _problem(client.get("/v1/applications", headers=bearer("a.b.c")), 401, "unauthenticated")  # no OIDC configured
    forged = tokens["wang"][:-1] + ("0" if tokens["wang"][-1] != "0" else "1")
    _problem(client.get("/v1/applications", headers=bearer(forged)), 401, "unauthenticated")
    assert client.get("/v1/applications", headers=bearer(tokens["wang"])).status_code == 200
    _problem(client.get("/v1/audit", headers=bearer(tokens["wang"])), 403, "forbidden")
    _problem(client.post("/v1/applications/X/proposal", headers=bearer(tokens["qinghe"])), 403, "forbidden")
    _problem(client.get("/v1/applications", headers=bearer(tokens["ding"])), 403, "forbidden")


def test_open_endpoints_are_rate_limited_per_client(make_client, service_url):
    client = make_client(service_url, rate=1, burst=3)
    assert [client.get("/v1/health").status_code for _ in range(3)] == [200] * 3
    body = _problem(client.get("/v1/health"), 429, "rate_limited")
    assert "testclient" in body["detail"]
    assert int(client.get("/v1/health").headers["retry-after"]) >= 1


def test_guessing_tokens_is_rate_limited(make_client, service_url):
    client = make_client(service_url, rate=1, burst=2)
    statuses = [client.get("/v1/applications", headers=bearer("st_wang_" + "1" * 64)).status_code for _ in range(4)]
    assert statuses[:2] == [401, 401] and statuses[-1] == 429
