"""Test applications: the complete base application, or the worked example, with changes."""

import copy
import json

from repo import WORKED_EXAMPLE

from engine.drafting.ruletests import BASE_APPLICATION


def doc(**changes):
    """The base application with changes keyed ``section__field``; a value of ``...`` deletes the key."""
    d = copy.deepcopy(BASE_APPLICATION)
    for path, value in changes.items():
        node, parts = d, path.split("__")
        for p in parts[:-1]:
            node = node[p]
        if value is ...:
            node.pop(parts[-1])
        else:
            node[parts[-1]] = value
    return d


def worked_example() -> dict:
    """The worked example of CONTRACT.md (examples/applications/taiyuan-pv-storage-warehouse.json), fresh."""
    return json.loads(WORKED_EXAMPLE.read_text(encoding="utf-8"))


def example(app_id, **changes) -> bytes:
    """The worked example under another id, as submitted bytes; ``changes`` maps dotted paths to
    new values, ``None`` deletes the key."""
    d = worked_example()
    d["application_id"] = app_id
    for path, value in changes.items():
        node = d
        parts = path.split(".")
        for p in parts[:-1]:
            node = node[p]
        if value is None:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return json.dumps(d, ensure_ascii=False, indent=1).encode()
