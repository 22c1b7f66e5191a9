"""The Chinese typefaces notices and charts are set in, on any machine.

The ``[pdf]`` extra installs Noto Serif SC and Noto Sans SC as plain font files inside a Python
package (pylopdf-fonts-zh-cn, SIL Open Font License 1.1), so a machine with no Chinese system
font still sets Chinese in a real typeface: WeasyPrint and Chromium load the files through
``@font-face`` (:func:`font_face_css`), matplotlib through its font manager. Without the package,
whatever Chinese font fontconfig offers is what a PDF can embed (:func:`system_chinese_font`).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path

#: The distribution of the ``[pdf]`` extra that carries the font files, and its import name.
DISTRIBUTION = "pylopdf-fonts-zh-cn"
MODULE = "pylopdf_fonts_zh_cn"
INSTALL_HINT = "pip install 'shuangtan[pdf]'"

#: Han ideographs, CJK and full-width punctuation. Latin text keeps the document's own fonts, which
#: have a bold face (the packaged files are Regular only, and WeasyPrint does not embolden); where
#: no other font exists at all, fontconfig still falls back to the packaged one.
CJK_RANGES = (
    "U+2E80-2FDF, U+3000-303F, U+3190-319F, U+31C0-31EF, U+3200-33FF, U+3400-4DBF, "
    "U+4E00-9FFF, U+F900-FAFF, U+FE10-FE1F, U+FE30-FE4F, U+FF00-FFEF, U+20000-2FA1F"
)


@dataclass(frozen=True)
class Face:
    family: str  # the name CSS and matplotlib know it by (also the file's own family name)
    filename: str  # inside the package


SERIF = Face("Noto Serif SC", "NotoSerifSC-Regular.otf")  # notices
SANS = Face("Noto Sans SC", "NotoSansSC-Regular.otf")  # charts


@cache
def packaged_font(face: Face) -> Path | None:
    """The installed font file of ``face``, or None without the ``[pdf]`` extra."""
    try:
        path = files(MODULE) / face.filename
    except ModuleNotFoundError:
        return None
    # WeasyPrint, Chromium and matplotlib all need a file on disk, not a resource inside a zip.
    return path if isinstance(path, Path) and path.is_file() else None


def font_face_css(faces: tuple[Face, ...] = (SERIF,)) -> str:
    """``@font-face`` rules for the packaged ``faces`` (file:// URLs), or "" when none is installed.

    Notices are set in the serif alone; each face listed is a file WeasyPrint reads per document."""
    rules = []
    for face in faces:
        path = packaged_font(face)
        if path is not None:
            rules.append(
                f'@font-face {{ font-family: "{face.family}"; src: url("{path.as_uri()}") format("opentype"); '
                f"unicode-range: {CJK_RANGES}; }}"
            )
    return "\n".join(rules)


@lru_cache(maxsize=1)
def system_chinese_font() -> str | None:
    """A font family fontconfig offers for Chinese (what WeasyPrint would embed), or None."""
    if shutil.which("fc-list") is None:
        return None
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    families = sorted(line.split(",")[0].strip() for line in out.splitlines() if line.strip())
    return families[0] if families else None


@cache
def matplotlib_fallbacks() -> tuple[str, ...]:
    """Register the packaged Noto Sans SC with matplotlib's font manager (once); the families
    to list after a chart's own font, so Chinese labels draw instead of empty boxes."""
    path = packaged_font(SANS)
    if path is None:
        return ()
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(path))
    return (SANS.family,)
