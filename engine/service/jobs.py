"""Simulations as background jobs: POST /v1/simulations answers 202 at once; a thread of the
worker that took the job generates the population, runs `shuangtan simulate`'s code
(engine/drafting/simulate.py) and writes its files into the job's folder.

The job's state is a JSON file in its folder, written whole (``write_bytes_replacing``), so any
worker process of the same machine answers GET /v1/jobs/{id}. At most ``max_jobs`` run or wait
per worker (429 beyond), each population at most ``max_population`` rows. A worker that dies
mid-job leaves it ``running``; nothing restarts it (a new POST does).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from engine.atomic import write_bytes_replacing
from engine.service.settings import Settings

_ID_CHARS = set("0123456789abcdef")


class Busy(Exception):
    """No room for another job in this worker."""


class Jobs:
    def __init__(self, settings: Settings):
        self.settings = settings
        root = settings.jobs_dir or str(Path(tempfile.gettempdir()) / "shuangtan-jobs")
        self.root = Path(root)
        self._pool: ThreadPoolExecutor | None = None
        self._active = 0
        self._lock = threading.Lock()

    def _folder(self, job_id: str) -> Path | None:
        if len(job_id) != 32 or not set(job_id) <= _ID_CHARS:
            return None
        return self.root / job_id

    def read(self, job_id: str) -> dict | None:
        folder = self._folder(job_id)
        if folder is None:
            return None
        try:
            return json.loads((folder / "job.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def file(self, job_id: str, name: str) -> Path | None:
        """A file the finished job wrote (by its listed name only: no path reaches outside)."""
        job = self.read(job_id)
        folder = self._folder(job_id)
        if job is None or folder is None or name not in {f["name"] for f in job.get("files", [])}:
            return None
        return folder / "out" / name

    def _write(self, job: dict) -> None:
        folder = self.root / job["id"]
        folder.mkdir(parents=True, exist_ok=True)
        write_bytes_replacing(folder / "job.json", json.dumps(job, ensure_ascii=False).encode("utf-8"))

    def submit(self, who: str, spec: dict, books) -> dict:
        """Queue a simulation of ``spec`` under ``books`` (baseline, reform); its job as first written."""
        with self._lock:
            if self._active >= self.settings.max_jobs:
                raise Busy()
            self._active += 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shuangtan-job")
        job = {
            "id": secrets.token_hex(16),
            "state": "queued",
            "progress": 0.0,
            "submitted_by": who,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "finished_at": None,
            "error": None,
            "files": [],
            "summary": None,
            "spec": spec,
        }
        try:
            self._write(job)
            self._pool.submit(self._run, job, books)
        except BaseException:
            with self._lock:
                self._active -= 1
            raise
        return job

    def _run(self, job: dict, books) -> None:
        try:
            self._simulate(job, books)
        except Exception as exc:  # a job's failure is its state, shown to whoever polls it
            from engine.errors import internal_reason

            job.update(state="failed", error=internal_reason(exc))
        finally:
            job["finished_at"] = dt.datetime.now(dt.UTC).isoformat()
            try:
                self._write(job)
            finally:
                with self._lock:
                    self._active -= 1

    def _simulate(self, job: dict, books) -> None:
        from engine.drafting.population import generate, read_population
        from engine.drafting.simulate import simulate, write_outputs
        from engine.i18n import use

        spec = job["spec"]
        pop = spec["population"]
        job["state"] = "running"
        self._write(job)
        if "file" in pop:  # uploaded on the drafter's page, read once there already
            from engine.i18n import t

            frame = read_population(Path(pop["file"]))
            ends = frame["period.end"].drop_nulls()
            described = pop["name"]
            with use(spec.get("lang")):
                periods = t("report.periods_span", first=ends.min(), last=ends.max()) if ends.len() else "?"
        else:
            frame = generate(pop["n"], pop["seed"], pop["year"])
            described, periods = f"generated: n={pop['n']}, seed={pop['seed']}, year={pop['year']}", str(pop["year"])
        total, done = 2 * frame.height, 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            job["progress"] = round(min(done / total, 0.99), 4)
            self._write(job)

        base, reform = books
        result = simulate(frame, base, reform, spec["backend"], workers=1, progress=progress)
        out = self.root / job["id"] / "out"
        meta = {
            "population": described,
            "backend": spec["backend"],
            "periods": periods,
            "reforms": spec["reforms"],
            "baseline_reforms": spec["baseline_reforms"],
        }
        with use(spec.get("lang")):  # the report and charts in the asker's language (pages)
            names = write_outputs(result, out, meta)
        job["files"] = [{"name": n, "bytes": (out / n).stat().st_size} for n in names if (out / n).is_file()]
        job["summary"] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        job.update(state="done", progress=1.0)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
