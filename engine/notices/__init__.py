"""Official notices: Jinja2 templates rendered to Markdown, HTML and PDF (WeasyPrint, with the packaged
Chinese font), from one context per decision.
"""

from __future__ import annotations

from engine.lazy import lazy_exports

__all__ = [
    "FORMATS",
    "KINDS",
    "LANGS",
    "applicable_kinds",
    "font_face_css",
    "notice_context",
    "packaged_font",
    "to_pdf",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "notice_context": "render",
        "applicable_kinds": "render",
        "to_pdf": "render",
        "KINDS": "render",
        "LANGS": "render",
        "FORMATS": "render",
        "packaged_font": "fonts",
        "font_face_css": "fonts",
    },
)
