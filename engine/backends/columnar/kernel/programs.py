"""A rulebook's register programs for the kernel (engine/backends/columnar/program.py compiles
them) over the register layout of kernel/layout.py, and the label texts a rulebook names.
"""

from __future__ import annotations

from engine.backends.columnar import program as cp
from engine.backends.columnar.kernel.layout import (
    BOOLEAN,
    FIRST_LABEL,
    FIRST_SECTION,
    LABEL_FIELDS,
    N_INPUTS,
    NUMERIC,
    OPTIONAL_SECTIONS,
)
from engine.rulebook.expressions import Compare, Label, Lookup, walk


def _trees(book):
    for e in book.exceptions:
        yield e.when
    for o in book.outcomes:
        yield from (e.when for e in o.applies)
        yield from (t for _, t in o.lets)
        yield from (c.test for c in o.criteria)
        for t in o.tables:
            yield t.input
            for r in t.rows:
                yield r.min
                yield r.output
        if o.amount is not None:
            yield o.amount.formula
            if o.amount.cap is not None:
                yield o.amount.cap


def labels_of(book, param_sets: list[dict]) -> dict:
    """Label field -> every text the rules name for it (lookup keys, compared labels), sorted."""
    found: dict[str, set] = {p: set() for p in LABEL_FIELDS}
    for tree in _trees(book):
        for node in walk(tree):
            if isinstance(node, Lookup) and node.key.path in found:
                for params in param_sets:
                    found[node.key.path] |= {k for k in params[node.param] if k != "default"}
            if isinstance(node, Compare) and isinstance(node.right, Label) and node.left.path in found:
                found[node.left.path].add(node.right.text)
    return {p: tuple(sorted(v)) for p, v in found.items()}


_PROGRAMS: dict = {}


def program_for(book, params: dict, key, scales: dict, limits: dict, labels: dict, codes: dict):
    """The compiled program, its limits lowered (largest first) until every bound fits int64."""
    ck = (id(book), key, tuple(sorted(scales.items())), tuple(sorted(limits.items())), tuple(sorted(labels.items())))
    hit = _PROGRAMS.get(ck)
    if hit is not None and hit[0] is book:
        return hit[1], hit[2]
    limits = dict(limits)
    regs = {p: i for i, p in enumerate(NUMERIC)}
    regs.update({p: len(NUMERIC) + i for i, p in enumerate(BOOLEAN)})
    regs.update({f"__p:{s}": FIRST_SECTION + i for i, s in enumerate(OPTIONAL_SECTIONS)})
    label_reg = {p: FIRST_LABEL + i for i, p in enumerate(LABEL_FIELDS)}
    prog = None
    for _ in range(400):
        layout = cp.Layout(
            field_reg=regs,
            scales=scales,
            limits=limits,
            label_reg=label_reg,
            labels=labels,
            n_inputs=N_INPUTS,
        )
        try:
            prog = cp.compile_program(book, params, layout, codes)
            break
        except cp.TooWide as exc:
            involved = [p for p in exc.fields if limits[p] >= 10]
            if not involved:
                break
            widest = max(involved, key=lambda p: (limits[p], p))
            limits[widest] //= 10
    if len(_PROGRAMS) > 64:
        _PROGRAMS.clear()
    _PROGRAMS[ck] = (book, prog, limits)
    return prog, limits
