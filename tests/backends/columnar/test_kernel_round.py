"""The kernel's ROUND op (half up of a / b through a float quotient below 2**52, integers above)
against Python's exact integers, over the whole range the program's bounds admit."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backends.columnar.kernel.interpreter import execute
from engine.backends.columnar.kernel.layout import BLOCK
from engine.backends.columnar.opcodes import Op

LIMIT = 2**61  # the program proves every intermediate below 2**62


def exact(x: int, q: int) -> int:
    r = (abs(x) * 2 + q) // (q * 2)
    return -r if x < 0 else r


def rounded(xs, qs, valid=None):
    m = len(xs)
    regs = np.zeros((3, BLOCK), dtype=np.int64)
    vals = np.ones((3, BLOCK), dtype=np.uint8)
    regs[0, :m], regs[1, :m] = xs, qs
    if valid is not None:
        vals[0, :m] = valid
    ops = np.array([[Op.ROUND, 2, 0, 1, 0, 0]], dtype=np.int64)
    execute(m, ops, np.zeros(1, dtype=np.int64), regs, vals, True)
    return regs[2, :m].tolist(), vals[2, :m].tolist()


pairs = st.tuples(
    st.one_of(st.integers(-LIMIT, LIMIT), st.integers(-(2**53), 2**53)),
    st.one_of(st.integers(1, 2**40), st.integers(1, LIMIT), st.sampled_from([1, 2, 3, 7, 10, 100, 10**6])),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(pairs, min_size=1, max_size=64))
def test_round_half_up_is_exact_on_both_sides_of_2_pow_52(rows):
    xs, qs = zip(*rows)
    got, valid = rounded(xs, qs)
    assert got == [exact(x, q) for x, q in rows] and valid == [1] * len(rows)


def test_round_at_the_float_edges_and_ties():
    edges = [2**52 - 1, 2**52, 2**53 - 1, 2**53 + 1, 2**61, 5, 15, 25, 2**52 - 3]
    rows = [(s * x, q) for x in edges for q in (1, 2, 3, 10, 2**26 + 1, 2**52 - 1) for s in (1, -1)]
    got, _ = rounded(*zip(*rows))
    assert got == [exact(x, q) for x, q in rows]
    assert rounded([5, -5, 15, 14], [10, 10, 10, 10])[0] == [1, -1, 2, 1]  # half up, away from zero


def test_a_null_operand_gives_a_null_result():
    got, valid = rounded([7, 7], [2, 2], valid=[0, 1])
    assert valid == [0, 1] and got[1] == 4
