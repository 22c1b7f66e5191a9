"""The language a request asked for with ``?lang=`` (zh, en; zh-en speaks Chinese first).

The envelope speaks it (``engine.i18n.use``) for the whole request, so every text built from the
catalogue while answering follows it: problem titles and details, explanations, notices. A value
that is not a language is left to the route's own validation (422 naming ``query.lang``).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from engine.errors import ShuangtanError
from engine.i18n import Lang, parse_lang


def requested_lang(scope: dict) -> Lang | None:
    """The ``lang`` query parameter of the request ``scope``, or None (the default language)."""
    query = scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "lang":
            try:
                return parse_lang(value, "lang")
            except ShuangtanError:
                return None
    return None
