"""The speed-ups of the Rete path must agree exactly with the slow code they replace."""
import random

import pytest
from hypothesis import given, settings, strategies as st
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from engine.application import _USCC_ALPHABET, _valid_uscc


def _stdnum_accepts_unchanged(code: str) -> bool:
    try:
        return uscc.validate(code) == code
    except StdnumError:
        return False


def _valid_code(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(rng.choice(_USCC_ALPHABET) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def test_fast_credit_code_check_accepts_what_stdnum_accepts_and_nothing_else():
    rng = random.Random(1)
    tricky = "0123456789ABCDEFGHJKLMNPQRTUWXYIOSVZabcxy -–—\u0660\uff11"
    accepted = rejected = 0
    for _ in range(20_000):
        code = _valid_code(rng)
        if rng.random() < 0.7:  # one to three characters changed: wrong check digits, bad letters, dashes
            chars = list(code)
            for _ in range(rng.randint(1, 3)):
                chars[rng.randrange(18)] = rng.choice(tricky)
            code = "".join(chars)
        if rng.random() < 0.05:
            code = code[: rng.randrange(18)] if rng.random() < 0.5 else code + rng.choice(tricky)
        fast = _valid_uscc(code)
        assert fast == _stdnum_accepts_unchanged(code), code
        accepted += fast
        rejected += not fast
    assert accepted > 5_000 and rejected > 5_000  # both sides exercised


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXYIOZa- ", min_size=16, max_size=20))
def test_fast_credit_code_check_never_accepts_what_stdnum_refuses(code):
    if _valid_uscc(code):
        assert _stdnum_accepts_unchanged(code)


@pytest.mark.parametrize("code", ["91110000600037341L", "91140100MA0K2B3C4D"])
def test_fast_credit_code_check_on_known_codes(code):
    assert _valid_uscc(code) == _stdnum_accepts_unchanged(code)
