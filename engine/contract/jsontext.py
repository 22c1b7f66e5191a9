"""JSON read as the contract reads it: UTF-8, every number exact and bounded, each key once.

The one JSON reader of every command (check, submit, evaluate's JSON Lines on both backends,
simulate's populations), so that a document means the same everywhere: the raw bytes on record
cannot be read one way here and another way by a reader that keeps the first of two keys.
"""

from __future__ import annotations

import json
from typing import Any

from engine.contract.bounds import MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_VALUES, json_decimal, json_int
from engine.errors import UnreadableDocumentError

BOM = b"\xef\xbb\xbf"
SIZE_TEXT = f"larger than {MAX_DOCUMENT_BYTES:,} bytes, the contract's limit for one application"
DEPTH_TEXT = f"objects and arrays nested more than {MAX_DEPTH} deep"
VALUES_TEXT = f"more than {MAX_VALUES:,} values (an application has about 50)"


class NonFinite:
    """JSON's NaN/Infinity, kept as a marker so validation names the field that holds it."""

    def __init__(self, name: str):
        self.name = name

    def __str__(self):
        return self.name


class _Duplicate:
    """An object that gave a key twice, kept as a marker so the check after parsing can name
    the key by its full path (the hook sees an object before it knows where it sits)."""

    __slots__ = ("key",)

    def __init__(self, key: str):
        self.key = key


def _object(pairs: list) -> Any:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen = set()
    for key, _ in pairs:
        if key in seen:
            return _Duplicate(key)
        seen.add(key)
    raise AssertionError("unreachable: a shorter dict has a repeated key")


_CONTAINERS = (dict, list, _Duplicate)


def _problem(data: Any, where: str) -> tuple[str, str] | None:
    """(path, message) of the first duplicate key or over-deep nesting, or None."""
    todo = [(data, 1)]
    while todo:  # no paths on the way: the common case is a valid document
        node, depth = todo.pop()
        kind = type(node)
        if kind is _Duplicate or depth > MAX_DEPTH:
            return _locate(data, where)
        for value in node.values() if kind is dict else node:
            if type(value) in _CONTAINERS:
                todo.append((value, depth + 1))
    return None


def _locate(data: Any, where: str) -> tuple[str, str]:
    todo = [(data, "", 1)]
    while todo:
        node, path, depth = todo.pop()
        if type(node) is _Duplicate:
            return f"{path}{node.key}", "duplicate key: given more than once in its object"
        if depth > MAX_DEPTH:
            return where, DEPTH_TEXT
        for key, value in node.items() if type(node) is dict else enumerate(node):
            if type(value) in _CONTAINERS:
                todo.append((value, f"{path}{key}.", depth + 1))
    raise AssertionError("unreachable: _problem found a problem")


def decode_document(raw: bytes | bytearray, where: str = "(document)") -> str:
    """UTF-8 bytes (a BOM at the start allowed) to text, within the document size."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise UnreadableDocumentError([(where, SIZE_TEXT)])
    skip = 3 if raw[:3] == BOM else 0
    try:
        return bytes(raw[skip:]).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableDocumentError([(where, f"not valid UTF-8 (byte offset {exc.start + skip})")]) from None


def loads_exact(text: str | bytes | bytearray, where: str = "(document)") -> Any:
    """JSON with every number exact (int or Decimal; NaN/Infinity and over-long numbers become
    markers that validation names). Raises json.JSONDecodeError for bad syntax and
    UnreadableDocumentError (both ValueErrors) for a document the contract refuses to read."""
    if isinstance(text, (bytes, bytearray)):
        text = decode_document(text, where)
    elif len(text) > MAX_DOCUMENT_BYTES // 4 and len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise UnreadableDocumentError([(where, SIZE_TEXT)])
    if len(text) > MAX_VALUES and text.count(",") + text.count("{") + text.count("[") > MAX_VALUES:
        raise UnreadableDocumentError([(where, VALUES_TEXT)])
    try:
        data = json.loads(
            text, parse_float=json_decimal, parse_int=json_int, parse_constant=NonFinite, object_pairs_hook=_object
        )
    except RecursionError:  # json's C scanner stops near 1,000 levels; far beyond MAX_DEPTH anyway
        raise UnreadableDocumentError([(where, DEPTH_TEXT)]) from None
    if type(data) in _CONTAINERS:
        problem = _problem(data, where)
        if problem is not None:
            raise UnreadableDocumentError([problem])
    return data
