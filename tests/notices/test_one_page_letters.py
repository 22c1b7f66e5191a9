"""A letter that fits on one page stays on one page: its 落款, seal and 抄送 with it, the annex
after. Every kind of every bundled example, zh and en, as PDF (WeasyPrint) and as DOCX (laid out
by LibreOffice, when it is installed)."""

import datetime as dt
import json
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
import recordkit

from engine.records import service as records
from engine.records.store import open_store
from engine.records.store.models import SubmissionIn, TelemetryIn

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples/applications"
TELEMETRY = ROOT / "examples/telemetry/taiyuan-2026.csv"
DAY = dt.date(2027, 12, 22)  # a long English date ("22 December 2027")
CC = {"zh": "抄送", "en": "Copies to"}
ANNEX = {"zh": "基本情况", "en": "Particulars"}  # the annex's first heading


@pytest.fixture(scope="module")
def decided(tmp_path_factory, book):
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('one-page') / 'r.db'}")
    recordkit.staff(store)
    ids = []
    for f in sorted(EXAMPLES.glob("*.json")):
        raw = f.read_bytes()
        app_id = json.loads(raw)["application_id"]
        records.submit(store, SubmissionIn(raw=raw, submitted_by=recordkit.OFFICER))
        if "taiyuan" in f.name:
            item = TelemetryIn(raw=TELEMETRY.read_bytes(), filename=TELEMETRY.name, submitted_by=recordkit.OFFICER)
            records.attach_telemetry(store, app_id, item, book)
        records.decide(store, app_id, book, recordkit.OFFICER, again=True)
        records.confirm(store, app_id, book, recordkit.REVIEWER)
        ids.append(app_id)
    yield store, ids
    store.dispose()


def _documents(decided, fmt):
    store, ids = decided
    for app_id in ids:
        for lang in ("zh", "en"):
            _, docs = records.notice_documents(store, app_id, lang, fmt, DAY)
            for kind, data in docs:
                yield f"{app_id}.{kind}.{lang}", lang, data


def _letter_on_page_one(pages: list[str], lang: str) -> bool:
    return CC[lang] in pages[0] and ANNEX[lang] not in pages[0] and ANNEX[lang] in pages[1]


def test_every_pdf_letter_is_one_page_with_its_copies(decided):
    pytest.importorskip("weasyprint")
    from pypdf import PdfReader

    seen = 0
    for name, lang, pdf in _documents(decided, "pdf"):
        pages = [p.extract_text() or "" for p in PdfReader(BytesIO(pdf)).pages]
        assert _letter_on_page_one(pages, lang), (name, pages[0][-300:])
        seen += 1
    assert seen == 16  # 8 notices of the 4 examples, in 2 languages


@pytest.mark.skipif(shutil.which("soffice") is None, reason="no LibreOffice (apt-get install libreoffice-writer-nogui)")
def test_every_docx_letter_is_one_page_with_its_copies(decided, tmp_path):
    pytest.importorskip("docx")
    from pypdf import PdfReader

    names = {}
    for name, lang, data in _documents(decided, "docx"):
        (tmp_path / f"{name}.docx").write_bytes(data)
        names[name] = lang
    files = sorted(str(p) for p in tmp_path.glob("*.docx"))
    cmd = ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), *files]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    for name, lang in names.items():
        pages = [p.extract_text() or "" for p in PdfReader(str(tmp_path / f"{name}.pdf")).pages]
        assert _letter_on_page_one(pages, lang), (name, pages[0][-300:])
