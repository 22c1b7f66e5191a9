"""Chinese PDF notices are set in the packaged Noto Serif SC, embedded, even where the system has
no Chinese font (or no font at all); refused only when neither the package nor a system font is there."""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
import recordkit

from engine.notices import fonts
from engine.notices import render as notices
from engine.records import service as records
from engine.records.store import open_store
from engine.rulebook.loader import load_rulebook

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/applications/taiyuan-pv-storage-warehouse.json"
NOTO = "NotoSerifSC-Regular"  # the PostScript name inside the packaged font file
# fontconfig with no font directory: a machine with no system font of any kind.
EMPTY_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><cachedir>{cache}</cachedir></fontconfig>
"""


def weasyprint_or_skip():
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:  # WeasyPrint installed, but the system has no Pango: nothing to test here
        pytest.skip(f"PDF needs the system's Pango: {exc}")


@pytest.fixture(scope="module")
def approval_zh(tmp_path_factory) -> str:
    """The HTML approval notice of the worked example, in Chinese."""
    app_id = json.loads(EXAMPLE.read_text(encoding="utf-8"))["application_id"]
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('fonts') / 'r.db'}")
    try:
        recordkit.staff(store)
        recordkit.confirmed(store, app_id, load_rulebook(), raw=EXAMPLE.read_bytes())
        _, docs = records.notice_documents(store, app_id, "zh", "html", dt.date(2027, 1, 15))
    finally:
        store.dispose()
    return dict(docs)["approval"]


def embedded_fonts(pdf: bytes) -> dict[str, tuple[str, bool]]:
    """Each embedded font: its PDF name -> (the PostScript name inside the font program, has Han glyphs)."""
    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    found = {}
    for page in PdfReader(BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            if str(font["/BaseFont"]) in found:  # the same font on another page
                continue
            desc = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            fd = desc["/FontDescriptor"].get_object()
            key = next(k for k in ("/FontFile3", "/FontFile2", "/FontFile") if k in fd)
            program = TTFont(BytesIO(fd[key].get_object().get_data()))
            cmap = program.getBestCmap() or {}
            found[str(font["/BaseFont"])] = (program["name"].getDebugName(6), any(0x4E00 <= c <= 0x9FFF for c in cmap))
    return found


def text_of(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def test_the_pdf_extra_brings_noto_serif_sc():
    path = fonts.packaged_font(fonts.SERIF)
    assert path is not None, f"{fonts.DISTRIBUTION} is not installed: {fonts.INSTALL_HINT}"
    assert path.suffix == ".otf" and path.stat().st_size > 1_000_000
    css = fonts.font_face_css()
    assert f'font-family: "Noto Serif SC"; src: url("{path.as_uri()}")' in css and "U+4E00-9FFF" in css
    assert notices.chinese_font() == "Noto Serif SC"


def test_a_chinese_pdf_notice_embeds_the_packaged_font(approval_zh):
    assert fonts.packaged_font(fonts.SERIF) is not None, fonts.INSTALL_HINT
    weasyprint_or_skip()
    pdf = notices.to_pdf(approval_zh, "zh")
    embedded = embedded_fonts(pdf)
    han = {program for program, has_han in embedded.values() if has_han}
    assert han == {NOTO}, embedded  # every Han glyph is drawn from the packaged file, none from a system font
    assert any(name.endswith("+Noto-Serif-SC") for name in embedded), embedded
    text = text_of(pdf)
    assert "批准通知书" in text and "太原青禾电子商务有限公司" in text and "本通知书之日起" in text


def test_on_a_machine_without_any_system_font(approval_zh, tmp_path):
    """The same PDF where fontconfig knows no font at all: the packaged one is all there is, and enough."""
    assert fonts.packaged_font(fonts.SERIF) is not None, fonts.INSTALL_HINT
    weasyprint_or_skip()
    conf = tmp_path / "fonts.conf"
    conf.write_text(EMPTY_FONTCONFIG.format(cache=tmp_path / "cache"), encoding="utf-8")
    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "PYTHONPATH": str(ROOT)}
    if shutil.which("fc-list"):
        assert subprocess.run(["fc-list"], env=env, capture_output=True, text=True).stdout.strip() == ""
    html = tmp_path / "approval.html"
    html.write_text(approval_zh, encoding="utf-8")
    code = (
        "import sys; from pathlib import Path; from engine.notices.render import to_pdf; "
        "sys.stdout.buffer.write(to_pdf(Path(sys.argv[1]).read_text(encoding='utf-8'), 'zh'))"
    )
    run = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code, str(html)], env=env, capture_output=True, timeout=300
    )
    assert run.returncode == 0, run.stderr.decode()
    pdf = run.stdout
    assert {program for program, _ in embedded_fonts(pdf).values()} == {NOTO}
    # The one character of the notice Noto Serif SC lacks, the met-criterion mark ✔ (U+2714), has no
    # glyph here; WeasyPrint then writes its own encoding CMap, which pypdf cannot read but poppler can.
    (tmp_path / "a.pdf").write_bytes(pdf)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", tmp_path / "a.pdf", "-"], capture_output=True, text=True).stdout
        assert "批准通知书" in text and "太原青禾电子商务有限公司" in text
    if shutil.which("pdftoppm"):  # a page that rasterises (the picture itself was looked at by hand)
        subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", tmp_path / "a.pdf", tmp_path / "p"])
        assert (tmp_path / "p-1.png").stat().st_size > 10_000


def test_refused_only_when_neither_the_package_nor_a_system_font(monkeypatch):
    monkeypatch.setattr(fonts, "packaged_font", lambda face: None)
    monkeypatch.setattr(fonts, "system_chinese_font", lambda: None)
    with pytest.raises(notices.NoticeFontError) as refused:
        notices.to_pdf("<p>批准</p>", "zh")
    message = str(refused.value)
    assert "\n" not in message and "pip install 'shuangtan[pdf]'" in message and "fonts-noto-cjk" in message
    assert fonts.font_face_css() == ""
    notices.require_font("en")  # an English notice is not refused
    monkeypatch.setattr(fonts, "system_chinese_font", lambda: "WenQuanYi Zen Hei")
    assert notices.chinese_font() == "WenQuanYi Zen Hei"
    notices.require_font("zh")  # a system font is enough
