"""Rule files to JSON and back without losing a type, so a snapshot recompiles to the same digest.

The strict YAML loader gives Decimal for every non-integer number; plain JSON would turn those
into floats or strings and change what the rulebook compiles to. Decimals are therefore tagged.
"""

from __future__ import annotations

import json
from decimal import Decimal

_TAG = "$decimal"


def _encode(obj):
    if isinstance(obj, Decimal):
        return {_TAG: str(obj)}
    raise TypeError(f"a rule file holds a {type(obj).__name__}, which a snapshot cannot keep")


def _decode(obj: dict):
    if len(obj) == 1 and _TAG in obj:
        return Decimal(obj[_TAG])
    return obj


def dumps_files(files: dict) -> str:
    return json.dumps(files, default=_encode, ensure_ascii=False, sort_keys=True)


def loads_files(text: str) -> dict:
    return json.loads(text, object_hook=_decode)
