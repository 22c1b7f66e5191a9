"""The open endpoints answer what the CLI prints: the rulebook, and decisions of the contract."""

import json

from repo import WORKED_EXAMPLE

from engine.rulebook.loader import load_rulebook
from engine.service.app import DIGEST_HEADER, VERSION_HEADER


def test_every_answer_names_the_ruleset(client, book):
    for r in (client.get("/v1/health"), client.get("/v1/nothing-here"), client.post("/v1/check", content=b"{")):
        assert r.headers[VERSION_HEADER] == book.version
        assert r.headers[DIGEST_HEADER] == book.digest
    assert client.get("/v1/health").json()["ruleset"] == {"version": book.version, "digest": book.digest}


def test_openapi_and_docs(client):
    spec = client.get("/openapi.json").json()
    assert "/v1/check" in spec["paths"] and "/v1/applications/{app_id}/confirm" in spec["paths"]
    assert "Application" in spec["components"]["schemas"] and "Decision" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_ruleset_outcomes_parameters(client, book):
    r = client.get("/v1/ruleset").json()
    assert r["digest"] == book.digest and r["outcomes"] == [o.name for o in book.outcomes]
    assert "T §6.2.3" in r["sources"]
    listed = client.get("/v1/outcomes").json()
    assert [o["name"] for o in listed] == r["outcomes"]
    o = client.get("/v1/outcomes/storage_subsidy").json()
    assert [c["code"] for c in o["criteria"]] == [c.code for c in book.outcome("storage_subsidy").criteria]
    assert o["tables"][0]["rows"] and o["amount"]["cap"] == "remaining_cap" and "remaining_cap" in o["lets"]
    assert "T §6.2.3" in o["sources"]
    assert client.get("/v1/outcomes/no_such").status_code == 404
    p = client.get("/v1/parameters/storage_subsidy.tier_30_rate", params={"on": "2026-06-01"}).json()
    assert p["unit"] == "yuan/kWh" and p["history"][0] == {"effective_from": "2026-01-01", "value": "0.80"}
    assert p["value_on"] == {"effective_from": "2026-01-01", "value": "0.80"}
    before = client.get("/v1/parameters/storage_subsidy.tier_30_rate", params={"on": "2020-01-01"}).json()
    assert before["value_on"] is None
    assert client.get("/v1/parameters/storage_subsidy.tier_30_rate", params={"on": "soon"}).status_code == 422
    assert len(client.get("/v1/parameters").json()) == len(book.params)


def test_check_is_the_cli_document(client, cli):
    r = client.post("/v1/check", content=WORKED_EXAMPLE.read_bytes())
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    printed = cli("check", WORKED_EXAMPLE, "--format", "json")
    assert printed.exit_code == 0
    assert r.json() == json.loads(printed.output)
    assert r.json()["outcomes"]["storage_subsidy"]["amount"] == "280000.00"
    assert r.json()["outcomes"]["equipment_subsidy"]["amount"] == "640000.00"


def test_check_partial_and_explain_are_the_cli_documents(client, cli, tmp_path):
    given = {"application_id": "A-1", "period": {"start": "2026-01-01", "end": "2026-12-31"}}
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(given))
    r = client.post("/v1/check", params={"partial": "true", "lang": "en"}, json=given)
    assert r.status_code == 200 and r.headers["content-language"] == "en"
    assert r.json() == json.loads(cli("check", path, "--partial", "--format", "json").output)
    assert r.json()["partial"]["questions"]
    r = client.post("/v1/explain", params={"outcome": "storage_subsidy"}, content=WORKED_EXAMPLE.read_bytes())
    printed = cli("explain", WORKED_EXAMPLE, "--why-not", "storage_subsidy", "--format", "json")
    assert r.status_code == 200 and r.json() == json.loads(printed.output)
    assert (
        client.post("/v1/explain", params={"outcome": "nope"}, content=WORKED_EXAMPLE.read_bytes()).status_code == 422
    )


def test_pinned_ruleset(client, book, service_url):
    """The digest in force, or a snapshot in the record; anything else is unsupported_ruleset."""
    from repo import REFORMS

    from engine.records.deciding import store_snapshot
    from engine.records.store import open_store
    from engine.rulebook.reforms import load_reform

    raw = WORKED_EXAMPLE.read_bytes()
    same = client.post("/v1/check", content=raw, headers={DIGEST_HEADER: book.digest})
    assert same.status_code == 200 and same.json()["ruleset"]["digest"] == book.digest
    tilted = load_rulebook(None, [load_reform(REFORMS / "remote-region-tilt.yaml")])
    refused = client.post("/v1/check", content=raw, headers={DIGEST_HEADER: tilted.digest})
    assert refused.status_code == 422 and refused.json()["code"] == "unsupported_ruleset"
    assert refused.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/health", headers={DIGEST_HEADER: "latest"}).json()["code"] == "unsupported_ruleset"
    store = open_store(service_url)
    with store.session() as s:
        store_snapshot(s, tilted)
    store.dispose()
    pinned = client.post("/v1/check", content=raw, headers={DIGEST_HEADER: tilted.digest})
    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["ruleset"] == {"version": tilted.version, "digest": tilted.digest}
    assert pinned.headers[DIGEST_HEADER] == tilted.digest and pinned.headers[VERSION_HEADER] == tilted.version
