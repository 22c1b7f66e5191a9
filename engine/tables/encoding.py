"""Which encoding a CSV file is in: UTF-8 (with or without Excel's BOM) or GBK/GB18030.

Excel's "CSV UTF-8" writes a BOM; Excel's plain "CSV" and WPS on a Chinese Windows write GBK.
GB18030 is a superset of GBK (every GBK file decodes the same under it), so one name covers
both. The choice is made once per file on its first block, strictly: the block decodes as
UTF-8, or else it decodes as GB18030, or else it is UTF-8 and each row holding a byte that is
not is rejected with its row (never a guess per row: a file is in one encoding).
"""

from __future__ import annotations

import codecs

from engine.contract.jsontext import BOM

#: what ``--encoding`` accepts: the name a user types to the codec Python reads it with
ENCODINGS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030"}
#: bytes of a file's start the choice is made on (a file read from a pipe gives what it has)
SNIFF = 1 << 16


def _decodes(head: bytes, codec: str) -> bool:
    """Whether ``head`` is text in ``codec``, a character cut by the block's end allowed."""
    try:
        codecs.getincrementaldecoder(codec)("strict").decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def detect(head: bytes, explicit: str | None = None) -> str:
    """The Python codec to read a CSV file starting with ``head``: ``utf-8-sig`` or ``gb18030``."""
    if explicit:
        return ENCODINGS[explicit.lower()]
    if head.startswith(BOM) or head.isascii() or _decodes(head, "utf-8"):
        return "utf-8-sig"
    return "gb18030" if _decodes(head, "gb18030") else "utf-8-sig"


def encoding_name(codec: str) -> str:
    """The codec as a user names it (in a message): UTF-8 or GB18030."""
    return "GB18030" if codec == "gb18030" else "UTF-8"


def decode(data: bytes, explicit: str | None = None) -> str:
    """A whole small file (telemetry) as text under ``detect``; UnicodeDecodeError when a byte
    is not in the chosen encoding (the caller names it)."""
    return data.decode(detect(data[:SNIFF], explicit))
