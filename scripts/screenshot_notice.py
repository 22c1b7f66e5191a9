#!/usr/bin/env python3
"""Open an HTML notice in headless Chromium and save a PNG screenshot of it, never one of tofu.

    .venv/bin/python scripts/screenshot_notice.py NOTICE.html OUT.png [--chromium /usr/bin/chromium]

The page is given the packaged Chinese fonts of the [pdf] extra through @font-face (the notice
itself is left as it is), then checked in the browser: every character it shows must be drawn
with a real glyph, not the empty box a font draws for a character it lacks.

Chromium is looked up as chromium, chromium-browser or google-chrome unless given.
Exit 2 when no browser is found (nothing to screenshot with); exit 3, with the characters named,
when the page would show empty boxes (no PNG is written).
"""

from __future__ import annotations

import argparse
import html as htmllib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, not installed

from engine.notices.fonts import INSTALL_HINT, font_face_css  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome")

# Runs in the page once its fonts are loaded: draws each distinct character the page shows and
# compares it with the drawing of a code point no font has (plane 16, private use), which is the
# missing-glyph box of the same font stack. A character drawn exactly like it is tofu. Where the
# answer goes, an attribute of <html>, is what --dump-dom prints.
CHECK_JS = r"""
<script>
(async () => {
  await document.fonts.ready;
  const style = getComputedStyle(document.body);
  const text = document.body.innerText;
  const font = `48px ${style.fontFamily}`;
  await document.fonts.load(font, text);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 64;
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  const draw = (ch) => {
    ctx.clearRect(0, 0, 64, 64);
    ctx.font = font;
    ctx.textBaseline = "top";
    ctx.fillText(ch, 4, 4);
    return Array.from(ctx.getImageData(0, 0, 64, 64).data).join(",");
  };
  const box = draw("\u{10FFFD}");
  const chars = [...new Set(Array.from(text))].filter((c) => c.codePointAt(0) > 0x7e && c.trim());
  const tofu = chars.filter((c) => draw(c) === box);
  const faces = [...document.fonts].map((f) => `${f.family}: ${f.status}`);
  document.documentElement.dataset.glyphCheck = JSON.stringify({checked: chars.length, tofu, faces});
})();
</script>
"""


def find_browser(given: str | None = None) -> str | None:
    if given:
        return given if Path(given).exists() or shutil.which(given) else None
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


def with_fonts(page: str) -> str:
    """The notice with the packaged @font-face rules and the glyph check added to its <head>."""
    extra = f"<style>\n{font_face_css()}\n</style>\n{CHECK_JS}"
    head = re.search(r"</head\s*>", page, re.I)
    return page[: head.start()] + extra + page[head.start() :] if head else extra + page


def _chromium(browser: str, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        *args,
    ]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)


def glyph_check(page: Path, browser: str) -> dict:
    """What the page's check found: characters checked, those drawn as tofu, the font faces."""
    dom = _chromium(browser, "--virtual-time-budget=15000", "--dump-dom", page.resolve().as_uri()).stdout
    found = re.search(r'data-glyph-check="([^"]*)"', dom)
    if not found:
        raise RuntimeError(f"{browser} did not run the glyph check (no result in the page)")
    return json.loads(htmllib.unescape(found.group(1)))


def screenshot(html: Path, png: Path, browser: str, width: int = 1000, height: int = 1400) -> dict:
    """Check the page for tofu, then screenshot it; ValueError (nothing written) on tofu."""
    with tempfile.TemporaryDirectory(prefix="notice-") as tmp:
        page = Path(tmp) / html.name
        page.write_text(with_fonts(html.read_text(encoding="utf-8")), encoding="utf-8")
        check = glyph_check(page, browser)
        if check["tofu"]:
            shown = " ".join(f"{c} (U+{ord(c):04X})" for c in check["tofu"][:20])
            fonts = "not even the packaged Noto Serif SC" if font_face_css() else f"{INSTALL_HINT} brings Noto Serif SC"
            raise ValueError(
                f"{len(check['tofu'])} character(s) would print as empty boxes: {shown}; no font here has them ({fonts})"
            )
        _chromium(browser, f"--screenshot={png.resolve()}", f"--window-size={width},{height}", page.as_uri())
    if not png.is_file() or png.stat().st_size == 0:
        raise RuntimeError(f"{browser} wrote no screenshot")
    return check


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path)
    ap.add_argument("png", type=Path)
    ap.add_argument("--chromium", default=None)
    ap.add_argument("--width", type=int, default=1000)
    ap.add_argument("--height", type=int, default=1400)
    args = ap.parse_args(argv)
    browser = find_browser(args.chromium)
    if browser is None:
        print("no Chromium found (apt-get install chromium)", file=sys.stderr)
        return 2
    try:
        screenshot(args.html, args.png, browser, args.width, args.height)
    except ValueError as exc:
        print(f"{args.html}: {exc}", file=sys.stderr)
        return 3
    print(args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
