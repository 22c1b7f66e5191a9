#!/usr/bin/env python3
"""Open an HTML notice in headless Chromium and save a PNG screenshot of it.

    .venv/bin/python scripts/screenshot_notice.py NOTICE.html OUT.png [--chromium /usr/bin/chromium]

Chromium is looked up as chromium, chromium-browser or google-chrome unless given.
Exit 2 when no browser is found (nothing to screenshot with).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser(given: str | None = None) -> str | None:
    if given:
        return given if Path(given).exists() or shutil.which(given) else None
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


def screenshot(html: Path, png: Path, browser: str, width: int = 1000, height: int = 1400) -> None:
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
        f"--screenshot={png.resolve()}",
        f"--window-size={width},{height}",
        html.resolve().as_uri(),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    if not png.is_file() or png.stat().st_size == 0:
        raise RuntimeError(f"{browser} wrote no screenshot")


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
    screenshot(args.html, args.png, browser, args.width, args.height)
    print(args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
