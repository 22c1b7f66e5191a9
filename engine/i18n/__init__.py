"""What shuangtan says to a person, in Chinese (the default) or English: one catalogue.

Every sentence a user reads — summaries, explanations, errors, ``rules list/show``, reports,
charts, pages — comes from ``templates/messages/*.yaml`` through :func:`t`; field names come from
``engine.contract.labels`` through :func:`field`. A catalogue file is one area (``cli.yaml`` →
keys ``cli.…``), shaped like the notices' ``labels.yaml``: a ``zh:`` tree and an ``en:`` tree
with the same keys (a key in one language only fails tests/i18n). Patterns hold ``{name}``
placeholders filled by plain replacement, never ``str.format`` (a catalogue is data, and data
is not code).

The language is, in order: :func:`use` (``--lang`` on the command line, ``?lang=`` in the
service), then ``SHUANGTAN_LANG``, then Chinese.
"""

from __future__ import annotations

from engine.i18n.catalogue import LANGS, Lang, catalogue, message, t
from engine.i18n.labels import field
from engine.i18n.language import language, parse_lang, use
from engine.i18n.numbers import amount, number, percent, region, unit

__all__ = [
    "LANGS",
    "Lang",
    "amount",
    "catalogue",
    "field",
    "language",
    "message",
    "number",
    "parse_lang",
    "percent",
    "region",
    "t",
    "unit",
    "use",
]
