"""Server time of one self-check update on the pages (not a test; prints figures).

    .venv/bin/python benchmarks/bench_pages.py [--rounds 20]

The worked example is filled field by field, as a person types it (32 states, from the
application number alone to the whole application); each state is one update. Measured, each
state --rounds times, on one core:
  1. the update's own work: the form read into a document, the partial decision and the
     answer's HTML (engine/service/pages: forms.document, selfcheck.answer, the _answer template);
  2. the whole request in process through the ASGI app (TestClient, no socket): the envelope,
     the session cookie and its CSRF check, form parsing, the same work, the response — what the
     server spends on ``POST /check`` with ``HX-Request: true``;
  3. ``POST /check/whynot?outcome=…``, the same way: the why-not of one outcome settled and not
     won, which a page fetches only when its suggestions are opened.
Prints p50, p99 and the worst, in milliseconds, for each (goal: every update under 100 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

EXAMPLE = ROOT / "examples" / "applications" / "taiyuan-pv-storage-warehouse.json"


def states() -> list[dict]:
    """The form after each field of the worked example is typed, in the form's order."""
    from engine.contract.application import FIELDS
    from engine.service.pages.forms import values

    shown, declared = values(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    form: dict = {"sections": sorted(declared)}
    out = []
    for path in FIELDS:
        if path in shown:
            form = {**form, path: shown[path]}
            out.append(form)
    return out


def figures(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"{name}: {len(ms)} updates, p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, worst {ms[-1]:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    from fastapi.testclient import TestClient
    from starlette.datastructures import FormData

    import engine
    from engine.service.app import create_app
    from engine.service.pages import forms
    from engine.service.pages.render import environment
    from engine.service.pages.selfcheck import answer
    from engine.service.settings import Settings

    print(f"python {platform.python_version()} on {platform.machine()}, shuangtan {engine.__version__}")
    book = engine.load_rulebook()
    template = environment().get_template("_answer.html.j2")
    forms_ = states()
    ctx_base = {"lang": "zh", "t": lambda k, **kw: engine.i18n.t(k, lang="zh", **kw)}
    from engine.i18n import field
    from engine.i18n.problems import problem

    ctx_base.update(
        label=lambda p: field(p, "zh", with_path=False),
        labels=lambda ps: "、".join(field(p, "zh", with_path=False) for p in ps),
        statuses=lambda ns: " / ".join(engine.i18n.t(f"pages.status.{n}", lang="zh") for n in ns),
        problem=lambda m: problem(m, "zh"),
    )
    for form in forms_:  # warm: the rulebook's compiled engines, the templates
        template.render(**ctx_base, result=answer(book, forms.document(_multi(FormData, form)), False))

    work = []
    for _ in range(args.rounds):
        for form in forms_:
            started = time.perf_counter()
            result = answer(book, forms.document(_multi(FormData, form)), False)
            template.render(**ctx_base, result=result)
            work.append(time.perf_counter() - started)
    print(figures("1. the update's work (form → partial decision → HTML)", work))

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(f"sqlite:///{folder}/record.db", settings=Settings(rate=0))
        with TestClient(app) as client:
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
            headers = {"HX-Request": "true"}
            for form in forms_:
                client.post("/check", data={**form, "csrf": csrf}, headers=headers)
            whole, last = [], ""
            for _ in range(args.rounds):
                for form in forms_:
                    started = time.perf_counter()
                    r = client.post("/check", data={**form, "csrf": csrf}, headers=headers)
                    whole.append(time.perf_counter() - started)
                    assert r.status_code == 200, r.text[:300]
                    last = r.text
            assert "280,000.00" in last and "640,000.00" in last
            explained = []
            for _ in range(args.rounds):
                for form in forms_:
                    for name in re.findall(r'hx-post="/check/whynot\?outcome=(\w+)"', _answer(client, form, csrf)):
                        started = time.perf_counter()
                        r = client.post(f"/check/whynot?outcome={name}", data={**form, "csrf": csrf}, headers=headers)
                        explained.append(time.perf_counter() - started)
                        assert r.status_code == 200, r.text[:300]
    print(figures("2. POST /check (HX-Request) through the ASGI app, in process", whole))
    print(figures("3. POST /check/whynot, one outcome, when its suggestions are opened", explained))
    p99 = sorted(whole)[min(len(whole) - 1, round(0.99 * (len(whole) - 1)))] * 1000
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"goal: an update under 100 ms: p99 {p99:.1f} ms, {'met' if p99 < 100 else 'NOT met'} (load average {load})")


_ANSWERS: dict = {}


def _answer(client, form: dict, csrf: str) -> str:
    key = repr(sorted(form.items()))
    if key not in _ANSWERS:
        _ANSWERS[key] = client.post("/check", data={**form, "csrf": csrf}, headers={"HX-Request": "true"}).text
    return _ANSWERS[key]


def _multi(cls, form: dict):
    items = []
    for key, value in form.items():
        for v in value if isinstance(value, list) else [value]:
            items.append((key, v))
    return cls(items)


if __name__ == "__main__":
    main()
