"""Simulations as jobs: 202 with a Location to poll, then the report and files of `simulate`."""

import time

import pytest
from conftest import bearer

pytest.importorskip("polars")


def test_simulation_job_runs_in_the_background(make_client, service_url, tokens, tmp_path):
    client = make_client(service_url, jobs_dir=str(tmp_path / "jobs"), max_population=500)
    spec = {"reforms": ["remote-region-tilt"], "population": {"n": 300, "seed": 7}}
    r = client.post("/v1/simulations", json=spec, headers=bearer(tokens["ding"]))
    assert r.status_code == 202, r.text
    where = r.headers["location"]
    assert where == f"/v1/jobs/{r.json()['id']}" and r.json()["state"] in ("queued", "running")
    deadline = time.monotonic() + 240
    while True:
        job = client.get(where, headers=bearer(tokens["ding"])).json()
        if job["state"] in ("done", "failed") or time.monotonic() > deadline:
            break
        assert 0 <= job["progress"] < 1
        time.sleep(0.2)
    assert job["state"] == "done", job
    assert job["progress"] == 1.0 and job["summary"]["applications"] == 300
    names = {f["name"] for f in job["files"]}
    assert {"report.md", "summary.json", "by_region.csv", "changes.csv"} <= names
    report = client.get(job["report"], headers=bearer(tokens["ding"]))
    assert report.status_code == 200 and "remote-region-tilt" in report.text
    assert client.get(f"{where}/files/..%2Fjob.json", headers=bearer(tokens["ding"])).status_code == 404
    assert client.get(where, headers=bearer(tokens["wang"])).status_code == 403
    assert client.get("/v1/jobs/" + "0" * 32, headers=bearer(tokens["ding"])).status_code == 404


def test_simulation_requests_are_checked(make_client, service_url, tokens, tmp_path):
    client = make_client(service_url, jobs_dir=str(tmp_path / "jobs"), max_population=500)
    too_many = {"reforms": ["remote-region-tilt"], "population": {"n": 501, "seed": 1}}
    assert client.post("/v1/simulations", json=too_many, headers=bearer(tokens["ding"])).status_code == 422
    no_file = {"reforms": ["/etc/passwd"], "population": {"n": 5, "seed": 1}}
    r = client.post("/v1/simulations", json=no_file, headers=bearer(tokens["ding"]))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "reforms.0"
    assert client.post("/v1/simulations", json=too_many, headers=bearer(tokens["wang"])).status_code == 403
