"""scripts/screenshot_notice.py gives the page the packaged font and refuses to save a picture of tofu."""

import subprocess
import sys
from pathlib import Path

import pytest

from engine.notices import fonts

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>t</title></head>
<body style="font-family: 'Noto Serif SC', serif; font-size: 24px"><h1>批准通知书</h1><p>{text}</p></body></html>"""

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)")


def shoot(tmp_path, text):
    html = tmp_path / "page.html"
    html.write_text(PAGE.format(text=text), encoding="utf-8")
    png = tmp_path / "page.png"
    script = ROOT / "scripts/screenshot_notice.py"
    run = subprocess.run(
        [sys.executable, str(script), str(html), str(png), "--chromium", str(CHROMIUM), "--height", "300"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return run, png


def test_chinese_is_drawn_with_the_packaged_font(tmp_path):
    assert fonts.packaged_font(fonts.SERIF) is not None, fonts.INSTALL_HINT
    run, png = shoot(tmp_path, "太原青禾电子商务有限公司，依据下列政策条款。")
    assert run.returncode == 0, run.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_character_no_font_has_is_refused(tmp_path):
    assert fonts.packaged_font(fonts.SERIF) is not None, fonts.INSTALL_HINT
    # U+3000F (CJK Extension G) is in no Noto SC font and in no common system font either.
    run, png = shoot(tmp_path, "企业名称：太原\U0003000f科技有限公司")
    assert run.returncode == 3, run.stderr
    assert "U+3000F" in run.stderr and "empty boxes" in run.stderr and "U+592A" not in run.stderr
    assert not png.exists()
