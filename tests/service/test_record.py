"""The record through the API: identities, four eyes, notices, and every read in the audit chain."""

from urllib.parse import quote

from appdoc import example
from conftest import OTHER_ENTERPRISE, bearer
from repo import WORKED_EXAMPLE

from engine.records.audit import verify
from engine.records.store import open_store

APP = "APP-2026-000123"


def _submit(client, token, raw, **params):
    return client.post("/v1/applications", content=raw, headers=bearer(token), params=params)


def test_submit_propose_confirm_and_fetch_the_notice(client, tokens, service_url):
    r = _submit(client, tokens["qinghe"], WORKED_EXAMPLE.read_bytes())
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/v1/applications/{APP}" and r.json()["outcome"] == "new"
    assert _submit(client, tokens["qinghe"], WORKED_EXAMPLE.read_bytes()).json()["outcome"] == "unchanged"

    r = client.post(f"/v1/applications/{APP}/proposal", headers=bearer(tokens["wang"]), json={"opinion": "材料齐全"})
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "proposed" and r.json()["totals"]["subsidy_yuan"] == "920000.00"
    again = client.post(f"/v1/applications/{APP}/proposal", headers=bearer(tokens["li"]))
    assert again.status_code == 409 and again.json()["code"] == "already_proposed"
    assert again.json()["decision_id"] == 1 and "awaits review" in again.json()["detail"]

    own = client.post(f"/v1/applications/{APP}/confirm", headers=bearer(tokens["wang"]))
    assert own.status_code == 409 and own.json()["code"] == "four_eyes"
    assert "another officer or reviewer confirms" in own.json()["detail"]  # the suite speaks English
    said = client.post(f"/v1/applications/{APP}/confirm", headers=bearer(tokens["wang"]), params={"lang": "zh"})
    assert said.json()["code"] == "four_eyes" and "须由另一名经办人员或复核人员确认" in said.json()["detail"]
    r = client.post(f"/v1/applications/{APP}/confirm", headers=bearer(tokens["li"]), json={"opinion": "同意"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "in_force" and r.json()["reviewer"] == "li"
    twice = client.post(f"/v1/applications/{APP}/confirm", headers=bearer(tokens["zhao"]))
    assert twice.status_code == 409 and twice.json()["code"] == "review_conflict"
    decided = client.post(f"/v1/applications/{APP}/proposal", headers=bearer(tokens["wang"]))
    assert decided.status_code == 409 and decided.json()["code"] == "already_decided"

    r = client.post(f"/v1/applications/{APP}/notices", headers=bearer(tokens["wang"]), json={"format": "pdf"})
    assert r.status_code == 201, r.text
    issued = r.json()["notices"]
    assert [n["kind"] for n in issued] == ["approval", "denial", "levy"]
    number = issued[0]["number"]
    assert issued[0]["href"] == f"/v1/notices/{quote(number, safe='')}.pdf?lang=zh"
    pdf = client.get(issued[0]["href"], headers=bearer(tokens["qinghe"]))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert client.get(issued[0]["href"], headers=bearer(tokens[OTHER_ENTERPRISE[0]])).status_code == 404
    assert client.get(f"/v1/notices/{quote(number, safe='')}.html", headers=bearer(tokens["wang"])).status_code == 404

    shown = client.get(f"/v1/applications/{APP}", headers=bearer(tokens["qinghe"])).json()
    assert [n["number"] for n in shown["notices"]] == [n["number"] for n in issued]
    assert shown["decisions"][0]["state"] == "in_force" and shown["versions"][0]["submitted_by"] == "qinghe"

    log = client.get("/v1/audit", headers=bearer(tokens["shen"]), params={"actor": "qinghe"}).json()["entries"]
    reads = [e for e in log if e["action"] == "read"]
    assert {(e["entity"], e["fieldset"]) for e in reads} == {("notice", "issued"), ("submission", "received")}
    assert client.get("/v1/audit/verify", headers=bearer(tokens["shen"])).json()["ok"] is True
    store = open_store(service_url)
    assert verify(store).ok
    store.dispose()


def test_enterprises_see_only_their_own(client, tokens):
    assert (
        _submit(
            client,
            tokens["wang"],
            example("APP-OTHER", **{"enterprise.credit_code": OTHER_ENTERPRISE[1], "enterprise.region_code": "140200"}),
        ).status_code
        == 201
    )
    assert _submit(client, tokens["qinghe"], WORKED_EXAMPLE.read_bytes()).status_code == 201
    theirs = client.get("/v1/applications/APP-OTHER", headers=bearer(tokens["qinghe"]))
    missing = client.get("/v1/applications/APP-NEVER", headers=bearer(tokens["qinghe"]))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"].replace("APP-OTHER", "X") == missing.json()["detail"].replace("APP-NEVER", "X")
    listed = client.get("/v1/applications", headers=bearer(tokens["qinghe"])).json()
    assert [a["application_id"] for a in listed["applications"]] == [APP]
    everyone = client.get("/v1/applications", headers=bearer(tokens["zhao"])).json()
    assert everyone["total"] == 2
    only = client.get("/v1/applications", headers=bearer(tokens["zhao"]), params={"region": "140200"}).json()
    assert [a["application_id"] for a in only["applications"]] == ["APP-OTHER"]
    # an enterprise submitting for another credit code: kept on record, rejected by path
    r = _submit(client, tokens["qinghe"], example("APP-MINE", **{"enterprise.credit_code": OTHER_ENTERPRISE[1]}))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "enterprise.credit_code"
    assert r.json()["submission"]["status"] == "rejected"
    # and acting on another's application is as if it did not exist
    tel = client.put("/v1/applications/APP-OTHER/telemetry", content=b"x", headers=bearer(tokens["qinghe"]))
    assert tel.status_code == 404


def test_return_and_telemetry(client, tokens):
    from repo import ROOT

    assert _submit(client, tokens["li"], WORKED_EXAMPLE.read_bytes()).status_code == 201
    bad = client.put(
        f"/v1/applications/{APP}/telemetry", content=b"interval_start\nnot a time\n", headers=bearer(tokens["li"])
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_telemetry" and bad.json()["errors"]
    csv = (ROOT / "examples/telemetry/taiyuan-2026.csv").read_bytes()
    good = client.put(
        f"/v1/applications/{APP}/telemetry", content=csv, headers={**bearer(tokens["li"]), "Content-Type": "text/csv"}
    )
    assert good.status_code == 200, good.text
    assert good.json()["valid"] is True
    proposal = client.post(f"/v1/applications/{APP}/proposal", headers=bearer(tokens["wang"]))
    assert proposal.json()["telemetry_id"] == good.json()["id"]
    assert (
        client.post(f"/v1/applications/{APP}/return", headers=bearer(tokens["zhao"]), json={"opinion": " "}).status_code
        == 422
    )
    r = client.post(f"/v1/applications/{APP}/return", headers=bearer(tokens["zhao"]), json={"opinion": "重新核对"})
    assert r.status_code == 200 and r.json()["state"] == "returned"
    assert client.post("/v1/applications/NOPE/confirm", headers=bearer(tokens["zhao"])).status_code == 404
    bad_override = client.post(
        f"/v1/applications/{APP}/confirm", headers=bearer(tokens["zhao"]), json={"overrides": ["x"]}
    )
    assert bad_override.status_code == 422


def test_revoked_and_reissued_tokens_stop_working(client, tokens, service_url):
    from conftest import issue_tokens

    from engine.service import tokens as service_tokens

    assert client.get("/v1/applications", headers=bearer(tokens["wang"])).status_code == 200
    fresh = issue_tokens(service_url, ["wang"])["wang"]
    assert client.get("/v1/applications", headers=bearer(tokens["wang"])).status_code == 401
    assert client.get("/v1/applications", headers=bearer(fresh)).status_code == 200
    store = open_store(service_url)
    assert service_tokens.revoke(store, "wang", "os:test") is True
    assert verify(store).ok
    store.dispose()
    assert client.get("/v1/applications", headers=bearer(fresh)).status_code == 401


def test_many_at_once(client, tokens):
    ids = [f"APP-B-{i}" for i in range(3)]
    for i, a in enumerate(ids):
        month = f"2026-{i + 1:02d}"
        raw = example(
            a, **{"period.start": f"{month}-01", "period.end": f"{month}-28", "storage.capacity_kwh": "100000"}
        )
        assert _submit(client, tokens["li"], raw).status_code == 201
    r = client.post("/v1/proposals", headers=bearer(tokens["wang"]), json={"application_ids": [*ids, "APP-NONE"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["done"] == 3, body
    assert body["refused"] == 1
    assert [i["application_id"] for i in body["items"]] == [*ids, "APP-NONE"]
    assert body["items"][-1]["error"]["status"] == 404 and body["items"][0]["decision"]["state"] == "proposed"
    again = client.post("/v1/proposals", headers=bearer(tokens["wang"]), json={"application_ids": ids[:1]}).json()
    assert again["items"][0]["error"]["code"] == "already_proposed"
    own = client.post("/v1/confirmations", headers=bearer(tokens["wang"]), json={"application_ids": ids}).json()
    assert own["done"] == 0 and "another officer" in own["items"][0]["error"]["message"]
    r = client.post("/v1/confirmations", headers=bearer(tokens["zhao"]), json={"application_ids": ids}).json()
    assert r["done"] == 3, r
    assert {i["decision"]["state"] for i in r["items"]} == {"in_force"}
    assert (
        client.post("/v1/proposals", headers=bearer(tokens["qinghe"]), json={"application_ids": ids}).status_code == 403
    )
    assert client.post("/v1/proposals", headers=bearer(tokens["wang"]), json={"application_ids": []}).status_code == 422
