#!/usr/bin/env python3
"""Every kind of notice for the bundled examples, as PDF and DOCX, turned into PNG pages to look at.

    .venv/bin/python scripts/notice_pages.py [--pdf-only] [OUT_DIR]      (default: out/pages)

The bundled examples are submitted to a fresh record (the Taiyuan one with its telemetry),
proposed, confirmed and issued in zh and en as PDF and DOCX; a corrected Lüliang application
varies its approval (a 变更/撤销 notice). Each PDF becomes ``KIND-CASE-LANG-pdf-N.png`` with
``pdftoppm -r 60`` (CASE: the example's first word); each DOCX is converted to PDF with
LibreOffice (``soffice``) when it is installed and becomes ``KIND-CASE-LANG-docx-N.png``. Prints each PNG's path.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout, not installed

from engine.records import accounts  # noqa: E402
from engine.records import service as records  # noqa: E402
from engine.records.store import open_store  # noqa: E402
from engine.records.store.models import SubmissionIn, TelemetryIn  # noqa: E402
from engine.rulebook.loader import load_rulebook  # noqa: E402

EXAMPLES = ROOT / "examples/applications"
TELEMETRY = ROOT / "examples/telemetry/taiyuan-2026.csv"
STAFF = {"wang": ("officer", "王芳"), "zhao": ("reviewer", "赵敏"), "chen": ("officer", "陈静")}


def _decide(store, book, raw: bytes, telemetry: Path | None = None) -> str:
    app_id = json.loads(raw)["application_id"]
    records.submit(store, SubmissionIn(raw=raw, submitted_by="wang"))
    if telemetry is not None:
        item = TelemetryIn(raw=telemetry.read_bytes(), filename=telemetry.name, submitted_by="wang")
        records.attach_telemetry(store, app_id, item, book)
    records.decide(store, app_id, book, "wang", again=True)
    records.confirm(store, app_id, book, "zhao")
    return app_id


def notices(work: Path) -> dict[tuple[str, str, str, str], Path]:
    """{(kind, case, lang, fmt): path}: every notice of every example in zh and en, pdf and docx."""
    book = load_rulebook()
    store = open_store(f"sqlite:///{work / 'record.db'}")
    try:
        for name, (role, shown) in STAFF.items():
            accounts.add_account(store, name, role, "notice_pages", display_name=shown)
        paths: dict[tuple[str, str, str, str], Path] = {}

        def issue(case: str, app_id: str) -> None:
            for lang in ("zh", "en"):
                for fmt in ("pdf", "docx"):
                    for n in records.issue_notices(store, app_id, work / lang / fmt, "chen", lang, fmt):
                        paths[(n.kind, case, lang, fmt)] = n.path

        for f in sorted(EXAMPLES.glob("*.json")):
            case = f.stem.split("-")[0]
            issue(case, _decide(store, book, f.read_bytes(), TELEMETRY if case == "taiyuan" else None))
        lvliang = json.loads((EXAMPLES / "lvliang-sme-green-packaging.json").read_text(encoding="utf-8"))
        lvliang["packaging"]["order_count"] //= 2  # a corrected version, after the first was issued: 变更/撤销
        issue("lvliang2", _decide(store, book, json.dumps(lvliang, ensure_ascii=False).encode()))
        return paths
    finally:
        store.dispose()


def main(argv: list[str]) -> int:
    pdf_only = "--pdf-only" in argv
    argv = [a for a in argv if a != "--pdf-only"]
    out = Path(argv[0]) if argv else ROOT / "out/pages"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*-pdf-*.png" if pdf_only else "*.png"):
        old.unlink()
    soffice = None if pdf_only else shutil.which("soffice")
    with tempfile.TemporaryDirectory(prefix="notice-pages-") as tmp:
        work = Path(tmp)
        pdfs = {}
        for (kind, case, lang, fmt), path in sorted(notices(work).items()):
            if fmt == "pdf":
                pdfs[f"{kind}-{case}-{lang}-pdf"] = path
            elif soffice is not None:  # one LibreOffice run per language: it starts slowly
                pdfs[f"{kind}-{case}-{lang}-docx"] = work / "converted" / lang / (path.stem + ".pdf")
        if soffice is not None:
            for lang in ("zh", "en"):
                docx = sorted(str(p) for p in (work / lang / "docx").glob("*.docx"))
                subprocess.run(
                    [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(work / "converted" / lang), *docx],
                    check=True,
                    capture_output=True,
                    timeout=900,
                )
        for stem, pdf in pdfs.items():
            subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(out / stem)], check=True, timeout=120)
    for png in sorted(out.glob("*.png")):
        print(png)
    if soffice is None and not pdf_only:
        print("no soffice: the DOCX were not turned into pages (apt-get install libreoffice-writer-nogui)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
