"""Test applications: the complete base application with dotted-path changes."""

import copy

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
