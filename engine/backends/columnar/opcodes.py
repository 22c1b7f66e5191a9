"""The native kernel's instruction set: one numbering shared by the program compiler
(engine/backends/columnar/program.py), which emits rows ``(op, dst, a, b, c, d)``, and the
interpreter (engine/backends/columnar/kernel/interpreter.py), which switches on them.

An op reads registers a and b unless listed otherwise in program.py's ``operands``; c and d are
literals or further registers as each op's comment says. Inside numba's nopython code an
IntEnum member is a compile-time constant, so the interpreter compares with ``Op.ADD`` at no cost.
"""

from __future__ import annotations

from enum import IntEnum


class Op(IntEnum):
    CONST = 0  # dst = consts[a]
    ADD = 1
    SUB = 2
    MUL = 3
    LT = 4  # comparisons: 0/1, 0 where either side is null
    LE = 5
    GT = 6
    GE = 7
    EQ = 8
    NE = 9
    AND = 10  # of always-valid 0/1 tests
    OR = 11
    PICKMIN = 12
    PICKMAX = 13
    IF = 14  # a then b else c
    NULL = 15
    SIGN = 16  # null on 0
    ABS = 17
    ROUND = 18  # half up of a / b
    INSET = 19  # status index a in the bit mask b
    ACC = 20  # a + b * literal c
    STATUS = 21  # from exemption index a and failing bits b
    COALESCE0 = 22
    LOOKUP = 23  # consts[b + label code a]
    NOT = 24
    ACCAND = 25  # a + (b and c) * literal d
    CODE = 26  # a << literal d, failing bits b << 1, 1 when capped (c) and granted
    AMOUNT = 27  # from status a: 2 null, 1 zero, else the amount b
