"""A native kernel for the columnar backend: one fixed interpreter of compiled rule programs.

Two passes. ``Checked`` validates a population once: it reads the Arrow buffers of a frame,
checks every row against the contract model (the same checks as engine/backends/columnar/inputs.py, read
from the pydantic model's metadata) and keeps per row an ok flag, its period end and its input
registers (label texts coded in the population's own dictionary). ``run`` then decides one
rulebook over those validated rows: its date groups, the input limits its exactness proof
lowered, its label codes, and its program (engine/backends/columnar/program.py) block by block over
int64 registers, writing the typed output buffers (status and reason indices, Decimal128
amounts) in place. Any number of rulebooks share one ``Checked`` (simulate: baseline and reforms).

Nothing here depends on a rule: the interpreter is a fixed switch over opcodes, compiled by
numba once (``cache=True``); the program is data. A row the kernel does not vouch for (invalid
or unusual input, an uncovered date, a magnitude beyond the program's proven limits) is marked,
and the caller decides it on the Polars path (and from there the Rete engine) instead.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import threading

import numba as nb
import numpy as np
import polars as pl
import pyarrow as pa

from engine.backends.columnar import program as cp
from engine.backends.columnar.inputs import _DATE_TEXT, _DECIMAL_TEXT, _USCC_VALUE, RULES
from engine.contract.application import _USCC_WEIGHTS, FIELDS, SECTIONS
from engine.rulebook.expressions import Compare, Label, Lookup, walk

START_LIMIT = 10**18
_EXACT_FLOAT = 2**52  # below it an int64 is an exact double, with room for a sum
BLOCK = 1024  # rows per interpreter step (registers stay in cache)
_INTS = (pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16, pl.UInt32)
_SECTIONS = SECTIONS[:-1]  # sections whose absence is allowed (history has defaults)
_EPOCH = dt.date(1970, 1, 1)
_USCC_WEIGHTS32 = np.array(_USCC_WEIGHTS, dtype=np.int32)
_USCC_LIMIT = np.array([10] * 8 + [31] * 9, dtype=np.uint8)  # positions 1-8: digits only

NUMERIC = [p for p, k in FIELDS.items() if k in ("decimal", "integer")]
BOOLEAN = [p for p, k in FIELDS.items() if k == "boolean"]
DATES = [p for p, k in FIELDS.items() if k == "date"]
TEXT = [p for p, k in FIELDS.items() if k in ("text", "label")]
LABEL_FIELDS = ("enterprise.region_code", "enterprise.size")
SECTION_SIZE = np.array(
    [sum(1 for p in NUMERIC + BOOLEAN if p.split(".")[0] == s) for s in SECTIONS[:-1]], dtype=np.int64
)
# the kernel counts present fields per section over numeric and boolean fields only
_SECTIONS_COUNTABLE = not any(p.split(".")[0] in SECTIONS[:-1] for p in DATES + TEXT)
_EMPTY_U8 = np.zeros(0, dtype=np.uint8)
_EMPTY_I64 = np.zeros(0, dtype=np.int64)
_EMPTY_I32 = np.zeros(0, dtype=np.int32)
for _a in (_EMPTY_U8, _EMPTY_I64, _EMPTY_I32):  # read-only, like the Arrow buffers beside them
    _a.setflags(write=False)


def _section(path: str) -> int:
    head = path.split(".")[0]
    return _SECTIONS.index(head) if head in _SECTIONS else -1


# --- simple patterns ------------------------------------------------------------------
_SIMPLE = re.compile(r"^\^\[([^\]\\]+)\]\{([0-9]+)(?:,([0-9]+))?\}\$$")


def byte_class(pattern: str):
    """(table of 256 allowed bytes, min, max) for ``^[class]{m,n}$`` over ASCII, else None."""
    m = _SIMPLE.match(pattern)
    if not m:
        return None
    body, lo = m.group(1), int(m.group(2))
    hi = int(m.group(3)) if m.group(3) is not None else lo
    table = np.zeros(256, dtype=np.uint8)
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            a, b = ord(body[i]), ord(body[i + 2])
            if a > b or b > 127:
                return None
            table[a : b + 1] = 1
            i += 3
        else:
            if ord(body[i]) > 127 or body[i] == "^" and i == 0:
                return None
            table[ord(body[i])] = 1
            i += 1
    return table, lo, hi


# --- the interpreter -----------------------------------------------------------------
# Small functions, each compiled once; the parallel driver only calls them block by block.
@nb.njit(cache=True, inline="always")
def _bit(bitmap, i):
    """Bit i (unsigned: no negative-index fix-up) of an Arrow bitmap, as uint8."""
    i = np.uint64(i)
    return np.uint8((bitmap[i >> np.uint64(3)] >> (i & np.uint64(7))) & np.uint8(1))


@nb.njit(cache=True)
def _text_match(data, start, length, strings, soffs, first, count):
    """1-based index of the string among strings[first:first+count] equal to the bytes, or 0."""
    for k in range(count):
        s0 = soffs[first + k]
        if soffs[first + k + 1] - s0 != length:
            continue
        same = True
        for t in range(length):
            if data[start + t] != strings[s0 + t]:
                same = False
                break
        if same:
            return k + 1
    return 0


@nb.njit(cache=True)
def _dates(r0, m, ok, ends, date_data, date_valid, date_meta, bad):
    """Both dates present, start ≤ end, at most 366 days; the period end (days since 1970),
    whose parameter group each rulebook checks when it decides."""
    if date_meta[0, 0] != 1 or date_meta[1, 0] != 1:
        ok[:m] = 0
        return
    s_has, s_off, e_has, e_off = date_meta[0, 1] == 1, date_meta[0, 2], date_meta[1, 1] == 1, date_meta[1, 2]
    sdata, edata, svalid, evalid = date_data[0], date_data[1], date_valid[0], date_valid[1]
    anybad = bad.shape[0] > 0
    for j in range(m):
        i = r0 + j
        good = True
        if anybad and bad[i]:
            good = False
        if s_has and _bit(svalid, i + s_off) == 0:
            good = False
        if e_has and _bit(evalid, i + e_off) == 0:
            good = False
        sd = np.int64(sdata[i + s_off])
        ed = np.int64(edata[i + e_off])
        if not (sd <= ed and ed - sd < 366):
            good = False
        ends[i] = ed
        ok[j] = 1 if good else 0


@nb.njit(cache=True)
def _numeric(r0, m, ok, rv, vv, cs, data, valid, meta, rng, limit):
    """One numeric column into a register: present values checked against the contract's
    range and the program's proven limit; absent ones take the default (or null)."""
    kind, hasb, off, required, sec = meta[0], meta[1] == 1, meta[2], meta[3] == 1, meta[4]
    dflt = meta[6] if meta[5] == 1 else 0
    dvalid = np.uint8(1 if meta[5] == 1 else 0)
    must = required and sec < 0
    lower, upper = -limit, limit
    if rng[0] == 1:
        lower = max(lower, rng[1] + 1)
    if rng[2] == 1:
        lower = max(lower, rng[3])
    if rng[4] == 1:
        upper = min(upper, rng[5])
    money = rng[6]
    if kind == 0:
        for j in range(m):
            rv[j] = dflt
            vv[j] = dvalid
        if must:
            ok[:m] = 0
        return
    # Straight loops, one concern each, with unsigned indices: each vectorises (a signed index
    # costs a negative-index fix-up, and one loop storing to four arrays is left scalar).
    base = np.uint64(r0 + off)
    if hasb:  # presence first: vv holds it until the defaults below
        for j in range(m):
            i = base + np.uint64(j)
            vv[j] = _bit(valid, i)
    else:
        vv[:m] = 1
    if kind == 2:  # Decimal128: the high word must be the low word's sign
        for j in range(m):
            i = np.uint64(2) * (base + np.uint64(j))
            lo = data[i]
            rv[j] = lo if data[i + np.uint64(1)] == (lo >> 63) else upper + 1  # refused below
    else:
        for j in range(m):
            rv[j] = data[base + np.uint64(j)]
    insec = np.int64(1 if sec >= 0 else 0)
    absent_fails = np.uint8(1 if must else 0)
    for j in range(m):  # a null slot's value was read but is not used
        p = vv[j]
        lo = rv[j]
        bad = np.uint8((lo < lower) | (lo > upper)) & p
        ok[j] &= ~(bad | ((p ^ 1) & absent_fails))
        cs[j] += p * insec
        rv[j] = lo if p else dflt
        vv[j] = p | dvalid
    if money > 1:
        for j in range(m):
            if vv[j] and rv[j] % money != 0:
                ok[j] = 0


@nb.njit(cache=True)
def _boolean(r0, m, ok, rv, vv, cs, data, valid, meta):
    """One boolean column (Arrow bits) into a register; absent values take the default."""
    kind, hasb, off, required, sec = meta[0], meta[1] == 1, meta[2], meta[3] == 1, meta[4]
    dflt = meta[6] if meta[5] == 1 else 0
    dvalid = np.uint8(1 if meta[5] == 1 else 0)
    must = required and sec < 0
    if kind == 0:
        rv[:m] = dflt
        vv[:m] = dvalid
        if must:
            ok[:m] = 0
        return
    base = np.uint64(r0 + off)  # straight loops, as _numeric
    if hasb:
        for j in range(m):
            i = base + np.uint64(j)
            vv[j] = _bit(valid, i)
    else:
        vv[:m] = 1
    insec = np.int64(1 if sec >= 0 else 0)
    absent_fails = np.uint8(1 if must else 0)
    for j in range(m):
        p = vv[j]
        i = base + np.uint64(j)
        rv[j] = np.int64(_bit(data, i)) if p else dflt
        ok[j] &= ~((p ^ 1) & absent_fails)
        cs[j] += p * insec
        vv[j] = p | dvalid


@nb.njit(cache=True, inline="always")
def _count_chars(ln, min_len, max_len):
    """Whether a text of ``ln`` UTF-8 bytes must have its characters counted against its length
    bounds (-1: none): they lie between a quarter of the bytes and the bytes."""
    return (max_len >= 0 and ln > max_len) or (min_len >= 0 and ln < 4 * min_len)


@nb.njit(cache=True)
def _inspect(arr, which, where, pos, lens, m, ok, lab_r, meta, tab, plo, phi, strings, soffs):
    """Content checks of this block's texts whose bytes lie in ``arr`` (rows with where == which,
    text at arr[pos:pos+lens]): pattern, length in characters, credit-code check character, and
    beyond 7 bytes choices and label. A loop per block, not a call per text: a call per row
    passing arrays costs reference counting that outweighs the checks."""
    pat, min_len, max_len, cc = meta[5], meta[6], meta[7], meta[8] == 1
    ch0, chn, lab, lb0, lbn = meta[9], meta[10], meta[11], meta[12], meta[13]
    for j in range(m):
        if where[j] != which:
            continue
        s0 = pos[j]
        ln = lens[j]
        good = True
        if pat >= 0 and which == 2:  # (a text inside its view was matched as it was read)
            g = np.uint8(plo <= ln <= phi)
            for t in range(ln):
                g &= tab[arr[s0 + t]]
            good = g != 0
        if good and _count_chars(ln, min_len, max_len):
            chars = 0
            for t in range(ln):
                chars += (arr[s0 + t] & 0xC0) != 0x80
            if (min_len >= 0 and chars < min_len) or (max_len >= 0 and chars > max_len):
                good = False
        if good and cc:
            if ln != 18:
                good = False
            else:  # 17 characters weighted, mod 31; the first 8 are digits
                total = np.int32(0)
                over = np.uint8(0)
                for t in range(17):
                    v = _USCC_VALUE[arr[s0 + t]]
                    over |= np.uint8(v >= _USCC_LIMIT[t])
                    total += np.int32(v) * _USCC_WEIGHTS32[t]
                last = _USCC_VALUE[arr[s0 + 17]]
                good = over == 0 and last < 31 and (31 - total % 31) % 31 == last
        if ln > 7:
            if good and chn > 0 and _text_match(arr, s0, ln, strings, soffs, ch0, chn) == 0:
                good = False
            if lab >= 0 and lbn > 0:
                lab_r[j] = _text_match(arr, s0, ln, strings, soffs, lb0, lbn)
        if not good:
            ok[j] = 0


@nb.njit(cache=True)
def _text(r0, m, ok, lab_r, lab_v, views32, views8, data, starts, valid, meta, tab, plo, phi, strings, soffs, keys):
    """One text column (Arrow string views: up to 12 bytes inside the view, longer ones in data
    buffers, here one array, ``starts`` where each buffer begins): absence, pattern (a byte class),
    length in characters, credit-code check character, choices; and its label code (1-based
    among the rules' labels, 0 for any other text). Texts of up to 7 bytes are compared with
    choices and labels as one integer; the bytes of the others are inspected block-wise."""
    kind, hasb, off, required = meta[0], meta[1] == 1, meta[2], meta[3] == 1
    pat, min_len, max_len, cc = meta[5], meta[6], meta[7], meta[8] == 1
    ch0, chn, lab, lb0, lbn = meta[9], meta[10], meta[11], meta[12], meta[13]
    labelled = lab >= 0 and lbn > 0
    if lab >= 0:
        lab_r[:m] = 0
        lab_v[:m] = 1
    if kind == 0:
        if required:
            ok[:m] = 0
        return
    where = np.zeros(m, dtype=np.uint8)  # 1: bytes in the view, 2: in data, 0: not needed
    pos = np.zeros(m, dtype=np.int64)
    lens = np.zeros(m, dtype=np.int64)
    for j in range(m):
        i = r0 + j + off
        ln = np.int64(views32[4 * i])
        if hasb and _bit(valid, i) == 0:
            ln = 0
        lens[j] = ln
        if ln == 0:  # null or "": absent
            if required:
                ok[j] = 0
            continue
        if ln <= 7:  # its first 8 bytes as one integer
            key = (np.int64(views32[4 * i + 1]) & 0xFFFFFFFF) | (np.int64(views32[4 * i + 2]) << 32)
            key = (key & ((np.int64(1) << (8 * ln)) - 1)) | (ln << 56)
            if chn > 0:
                hit = 0
                for k in range(chn):
                    hit |= keys[ch0 + k] == key
                if not hit:
                    ok[j] = 0
            if labelled:
                code = 0
                for k in range(lbn):
                    code = k + 1 if keys[lb0 + k] == key else code
                lab_r[j] = code
        count_chars = _count_chars(ln, min_len, max_len)
        inline = ln <= 12
        if inline and pat >= 0:  # twelve bytes in the view, zero past the text: no branch per byte
            g = np.uint8(plo <= ln <= phi)
            for t in range(12):
                g &= tab[views8[16 * i + 4 + t]] | np.uint8(t >= ln)
            if g == 0:
                ok[j] = 0
        if (pat >= 0 and not inline) or cc or count_chars or (ln > 7 and (chn > 0 or labelled)):
            if inline:  # inside the view itself
                where[j] = 1
                pos[j] = 16 * i + 4
            elif data.shape[0] > 0:
                where[j] = 2
                pos[j] = starts[views32[4 * i + 2]] + views32[4 * i + 3]
            else:  # bytes not joined (Inputs): the careful path checks this row
                ok[j] = 0
    _inspect(views8, 1, where, pos, lens, m, ok, lab_r, meta, tab, plo, phi, strings, soffs)
    _inspect(data, 2, where, pos, lens, m, ok, lab_r, meta, tab, plo, phi, strings, soffs)


@nb.njit(cache=True)
def _sections(m, ok, count, sec_size, regs, vals, base):
    """A section is absent (no field given) or whole (every field given); its presence flag."""
    for s in range(count.shape[0]):
        cs = count[s]
        rp = regs[base + s]
        vp = vals[base + s]
        full = sec_size[s]
        for j in range(m):
            c = cs[j]
            if c != 0 and c != full:
                ok[j] = 0
            rp[j] = 1 if c > 0 else 0
            vp[j] = 1
            cs[j] = 0


@nb.njit(cache=True)
def _execute(m, ops, consts, regs, vals, first):
    """The program over one block: each op a tight loop over the block's rows, indexing the
    register file in two dimensions (a row view per operand would cost reference counting per
    op and block). Ops whose result is never null (tests, counters, lookups) leave its validity
    as allocated: 1."""
    for k in range(ops.shape[0]):
        op = ops[k, 0]
        d = ops[k, 1]
        a = ops[k, 2]
        b = ops[k, 3]
        c = ops[k, 4]
        if op == 0:  # CONST: registers keep it from the chunk's first block on
            if first:
                x = consts[a]
                for j in range(m):
                    regs[d, j] = x
        elif op == 15:  # NULL
            for j in range(m):
                regs[d, j] = 0
                vals[d, j] = 0
        elif op == 16:  # SIGN, null on 0
            for j in range(m):
                x = regs[a, j]
                regs[d, j] = 1 if x > 0 else (-1 if x < 0 else 0)
                vals[d, j] = vals[a, j] & (x != 0)
        elif op == 17:  # ABS
            for j in range(m):
                regs[d, j] = abs(regs[a, j])
                vals[d, j] = vals[a, j]
        elif op == 24:  # NOT (of an always-valid bool)
            for j in range(m):
                regs[d, j] = 1 - regs[a, j]
        elif op == 19:  # INSET: status index in a bit mask
            for j in range(m):
                regs[d, j] = (b >> regs[a, j]) & 1
        elif op == 22:  # COALESCE0
            for j in range(m):
                regs[d, j] = regs[a, j] if vals[a, j] else 0
        elif op == 23:  # LOOKUP: consts[start + label code]
            for j in range(m):
                regs[d, j] = consts[b + regs[a, j]]
        elif op == 20:  # ACC: a + b * literal
            for j in range(m):
                regs[d, j] = regs[a, j] + regs[b, j] * c
        elif op == 25:  # ACCAND: a + (b and c) * literal
            lit = ops[k, 5]
            for j in range(m):
                regs[d, j] = regs[a, j] + (regs[b, j] & regs[c, j]) * lit
        elif op == 26:  # CODE: a << shift, failing bits b << 1, 1 when capped (c) and granted
            shift = ops[k, 5]
            for j in range(m):
                na = regs[a, j]
                bits = regs[b, j]
                regs[d, j] = (na << shift) + bits * 2 + (regs[c, j] if na == 0 and bits == 0 else 0)
        elif op == 27:  # AMOUNT from status a: 2 null, 1 zero, else the amount b
            for j in range(m):
                s = regs[a, j]
                keep = -np.int64((s != 1) & (s != 2))
                regs[d, j] = regs[b, j] & keep
                vals[d, j] = np.uint8(s != 2) & (np.uint8(s == 1) | vals[b, j])
        elif op == 14:  # IF a then b else c (masks, not branches: the loop vectorises)
            for j in range(m):
                t = regs[a, j] != 0
                pick = -np.int64(t)
                regs[d, j] = (regs[b, j] & pick) | (regs[c, j] & ~pick)
                t8 = np.uint8(t)
                vals[d, j] = (vals[b, j] & t8) | (vals[c, j] & (t8 ^ 1))
        elif op == 1:
            for j in range(m):
                regs[d, j] = regs[a, j] + regs[b, j]
                vals[d, j] = vals[a, j] & vals[b, j]
        elif op == 2:
            for j in range(m):
                regs[d, j] = regs[a, j] - regs[b, j]
                vals[d, j] = vals[a, j] & vals[b, j]
        elif op == 3:
            for j in range(m):
                regs[d, j] = regs[a, j] * regs[b, j]
                vals[d, j] = vals[a, j] & vals[b, j]
        elif op == 4:
            for j in range(m):
                regs[d, j] = (regs[a, j] < regs[b, j]) & vals[a, j] & vals[b, j]
        elif op == 5:
            for j in range(m):
                regs[d, j] = (regs[a, j] <= regs[b, j]) & vals[a, j] & vals[b, j]
        elif op == 6:
            for j in range(m):
                regs[d, j] = (regs[a, j] > regs[b, j]) & vals[a, j] & vals[b, j]
        elif op == 7:
            for j in range(m):
                regs[d, j] = (regs[a, j] >= regs[b, j]) & vals[a, j] & vals[b, j]
        elif op == 8:
            for j in range(m):
                regs[d, j] = (regs[a, j] == regs[b, j]) & vals[a, j] & vals[b, j]
        elif op == 9:
            for j in range(m):
                regs[d, j] = (regs[a, j] != regs[b, j]) & vals[a, j] & vals[b, j]
        elif op == 10:
            for j in range(m):
                regs[d, j] = regs[a, j] & regs[b, j]
        elif op == 11:
            for j in range(m):
                regs[d, j] = regs[a, j] | regs[b, j]
        elif op == 12:
            for j in range(m):
                x = regs[a, j]
                y = regs[b, j]
                regs[d, j] = x if x <= y else y
                vals[d, j] = vals[a, j] & vals[b, j]
        elif op == 13:
            for j in range(m):
                x = regs[a, j]
                y = regs[b, j]
                regs[d, j] = x if x >= y else y
                vals[d, j] = vals[a, j] & vals[b, j]
        elif op == 18:  # ROUND half up of a / b (b > 0 wherever both are valid)
            # (2|x| + q) // 2q through a float quotient, exact while the numerator is below
            # 2**52: it is then an exact double; so is the denominator (or it exceeds 2**53 and
            # the quotient is below one half); the correctly rounded quotient errs by less than
            # Q * 2**-53 < 1 / (2 * den), less than the gap 1 / den to the next integer, so its
            # truncation is the floor. A float division vectorises; an integer one per row does
            # not. Rows at or above 2**52 are divided again in integers below.
            wide = 0
            for j in range(m):
                v = vals[a, j] & vals[b, j]
                y = regs[b, j]
                q = y if (v and y > 0) else 1
                x = regs[a, j]
                num = abs(x) * 2 + q
                den = q * 2
                r = np.int64(np.float64(num) / np.float64(den))
                wide |= num >= _EXACT_FLOAT
                regs[d, j] = -r if x < 0 else r
                vals[d, j] = v
            if wide:  # (registers are written once: a and b still hold the operands)
                for j in range(m):
                    v = vals[a, j] & vals[b, j]
                    y = regs[b, j]
                    q = y if (v and y > 0) else 1
                    x = regs[a, j]
                    if abs(x) * 2 + q >= _EXACT_FLOAT:
                        r = (abs(x) * 2 + q) // (q * 2)
                        regs[d, j] = -r if x < 0 else r
        elif op == 21:  # STATUS from exemption index and failing bits
            for j in range(m):
                regs[d, j] = (2 if regs[a, j] > 0 else 0) + (1 if regs[b, j] > 0 else 0)


@nb.njit(cache=True)
def _pack_bits(flags, m, bits, at, merge):
    """The 0/1 ``flags[:m]`` into ``bits`` from byte ``at`` (ORed in with ``merge``, else
    written), eight to a byte, least significant first (Arrow's validity order); ``flags`` past
    m are 0 up to a multiple of 8. Eight flags read as one little-endian word, times
    0x0102040810204080, hold their byte in the product's top 8 bits (tests/test_columnar_kernel.py
    checks all 256 patterns)."""
    words = flags.view(np.uint64)
    for q in range((m + 7) // 8):
        byte = np.uint8((words[q] * np.uint64(0x0102040810204080)) >> np.uint64(56))
        bits[at + q] = (bits[at + q] | byte) if merge else byte


@nb.njit(cache=True)
def _outputs(
    r0,
    m,
    ok,
    regs,
    vals,
    every,
    out_status,
    out_code,
    out_amount,
    out_tot,
    lut,
    lutlen,
    st_out,
    rs_out,
    am_out,
    am_bits,
    tot_out,
    vouched,
):
    """The typed output buffers of the rows vouched for in this block, column by column.
    ``every``: this pass is the only one (one parameter group), so every row is written, a row
    not vouched for with zeros, without a branch; else other rows keep what another group's
    pass wrote."""
    for j in range(m):
        vouched[r0 + j] = ok[j] if every else vouched[r0 + j] | ok[j]
    flags = np.zeros(BLOCK, dtype=np.uint8)  # whole words: rows past m stay 0
    for o in range(out_status.shape[0]):
        rs = regs[out_status[o]]
        rc = regs[out_code[o]]
        so = st_out[o]
        ro = rs_out[o]
        lo = lut[o]
        size = lutlen[o]
        if every:
            for j in range(m):
                code = rc[j]
                keep = ok[j] != 0 and 0 <= code < size
                so[r0 + j] = np.uint8(rs[j]) if ok[j] != 0 else np.uint8(0)
                ro[r0 + j] = lo[min(max(code, 0), size - 1)] if keep else 0
        else:
            for j in range(m):
                if ok[j]:
                    code = rc[j]
                    so[r0 + j] = rs[j]
                    ro[r0 + j] = lo[code] if 0 <= code < size else 0
    a = 0
    for o in range(out_amount.shape[0]):
        r = out_amount[o]
        if r < 0:
            continue
        ra = regs[r]
        va = vals[r]
        ao = am_out[a]
        bits = am_bits[a]
        if every:
            for j in range(m):
                x = ra[j] if (ok[j] & va[j]) != 0 else 0
                ao[r0 + j, 0] = x
                ao[r0 + j, 1] = x >> 63
        else:
            for j in range(m):
                if ok[j] and va[j]:
                    x = ra[j]
                    ao[r0 + j, 0] = x
                    ao[r0 + j, 1] = x >> 63
        for j in range(m):
            flags[j] = ok[j] & va[j]
        _pack_bits(flags, m, bits, r0 >> 3, not every)  # r0 is a multiple of 8: whole bytes
        a += 1
    for t in range(2):
        rt = regs[out_tot[t]]
        to = tot_out[t]
        if every:
            for j in range(m):
                x = rt[j] if ok[j] != 0 else 0
                to[r0 + j, 0] = x
                to[r0 + j, 1] = x >> 63
        else:
            for j in range(m):
                if ok[j]:
                    x = rt[j]
                    to[r0 + j, 0] = x
                    to[r0 + j, 1] = x >> 63


@nb.njit(cache=True)
def _validate_block(r0, m, ok, regs, vals, count, ends, vin):
    """Every contract check of one block's rows: their input registers (regs[register, row]),
    ok flags and period ends. ``vin``: the population's buffers and metadata (Checked.inputs)."""
    (
        num_data,
        num_valid,
        num_meta,
        num_rng,
        lim,
        bool_data,
        bool_valid,
        bool_meta,
        txt_v32,
        txt_v8,
        txt_data,
        txt_starts,
        txt_valid,
        txt_meta,
        pat_tab,
        pat_len,
        strings,
        soffs,
        keys,
        date_data,
        date_valid,
        date_meta,
        bad,
        sec_size,
    ) = vin
    F = num_meta.shape[0]
    FB = bool_meta.shape[0]
    base_sec = F + FB
    base_lab = base_sec + sec_size.shape[0]
    _dates(r0, m, ok, ends, date_data, date_valid, date_meta, bad)
    for f in range(F):
        _numeric(
            r0,
            m,
            ok,
            regs[f],
            vals[f],
            count[max(num_meta[f, 4], 0)],
            num_data[f],
            num_valid[f],
            num_meta[f],
            num_rng[f],
            lim,
        )
    for f in range(FB):
        _boolean(
            r0,
            m,
            ok,
            regs[F + f],
            vals[F + f],
            count[max(bool_meta[f, 4], 0)],
            bool_data[f],
            bool_valid[f],
            bool_meta[f],
        )
    _sections(m, ok, count, sec_size, regs, vals, base_sec)
    for f in range(txt_meta.shape[0]):
        lab = max(txt_meta[f, 11], 0)
        pat = max(txt_meta[f, 5], 0)
        _text(
            r0,
            m,
            ok,
            regs[base_lab + lab],
            vals[base_lab + lab],
            txt_v32[f],
            txt_v8[f],
            txt_data[f],
            txt_starts[f],
            txt_valid[f],
            txt_meta[f],
            pat_tab[pat],
            pat_len[pat, 0],
            pat_len[pat, 1],
            strings,
            soffs,
            keys,
        )


@nb.njit(cache=True, parallel=True)
def _validate(n, vin, in_regs, in_vals, ok_out, ends, threads):
    """Every contract check, once per population, kept for every rulebook that decides it:
    the rows' input registers block by block (in_regs[block, register, row]), ok flags, ends."""
    # numba's parallel loops take no tuple of tuples: unpacked here, packed again per block
    (
        num_data,
        num_valid,
        num_meta,
        num_rng,
        lim,
        bool_data,
        bool_valid,
        bool_meta,
        txt_v32,
        txt_v8,
        txt_data,
        txt_starts,
        txt_valid,
        txt_meta,
        pat_tab,
        pat_len,
        strings,
        soffs,
        keys,
        date_data,
        date_valid,
        date_meta,
        bad,
        sec_size,
    ) = vin
    nsec = sec_size.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    nchunks = min(nblocks, 4 * threads)
    per = (nblocks + nchunks - 1) // nchunks
    for ch in nb.prange(nchunks):
        ok = np.zeros(BLOCK, dtype=np.uint8)
        count = np.zeros((nsec, BLOCK), dtype=np.int64)
        for blk in range(ch * per, min(nblocks, (ch + 1) * per)):
            r0 = blk * BLOCK
            m = min(BLOCK, n - r0)
            _validate_block(
                r0,
                m,
                ok,
                in_regs[blk],
                in_vals[blk],
                count,
                ends,
                (
                    num_data,
                    num_valid,
                    num_meta,
                    num_rng,
                    lim,
                    bool_data,
                    bool_valid,
                    bool_meta,
                    txt_v32,
                    txt_v8,
                    txt_data,
                    txt_starts,
                    txt_valid,
                    txt_meta,
                    pat_tab,
                    pat_len,
                    strings,
                    soffs,
                    keys,
                    date_data,
                    date_valid,
                    date_meta,
                    bad,
                    sec_size,
                ),
            )
            ok_out[r0 : r0 + m] = ok[:m]


@nb.njit(cache=True, parallel=True)
def _decide(
    n,
    group,
    gtab,
    gbase,
    fused,
    vin,
    in_regs,
    in_vals,
    valid,
    ends,
    chk_reg,
    chk_lim,
    lab_reg,
    lab_out,
    lab_map,
    ops,
    consts,
    n_regs,
    src,
    out_status,
    out_code,
    out_amount,
    out_tot,
    lut,
    lutlen,
    st_out,
    rs_out,
    am_out,
    am_bits,
    tot_out,
    vouched,
    threads,
):
    """One rulebook's program over the rows of one parameter group: rows within the program's
    proven limits (chk_reg/chk_lim: the fields whose limits it lowered) are decided and their
    outputs written in place. ``fused``: each block is validated here, into the program's own
    registers (one rulebook, one pass: no population-wide copy of the inputs); else the rows
    come validated in in_regs/in_vals/valid (Checked.validated, shared between rulebooks)."""
    (
        num_data,
        num_valid,
        num_meta,
        num_rng,
        lim,
        bool_data,
        bool_valid,
        bool_meta,
        txt_v32,
        txt_v8,
        txt_data,
        txt_starts,
        txt_valid,
        txt_meta,
        pat_tab,
        pat_len,
        strings,
        soffs,
        keys,
        date_data,
        date_valid,
        date_meta,
        bad,
        sec_size,
    ) = vin
    nsec = sec_size.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    nchunks = min(nblocks, 4 * threads)
    per = (nblocks + nchunks - 1) // nchunks
    ngt = gtab.shape[0]
    for ch in nb.prange(nchunks):
        regs = np.zeros((n_regs, BLOCK), dtype=np.int64)
        vals = np.ones((n_regs, BLOCK), dtype=np.uint8)
        ok = np.zeros(BLOCK, dtype=np.uint8)
        count = np.zeros((nsec, BLOCK), dtype=np.int64)
        first = True
        for blk in range(ch * per, min(nblocks, (ch + 1) * per)):
            r0 = blk * BLOCK
            m = min(BLOCK, n - r0)
            if fused:
                _validate_block(
                    r0,
                    m,
                    ok,
                    regs,
                    vals,
                    count,
                    ends,
                    (
                        num_data,
                        num_valid,
                        num_meta,
                        num_rng,
                        lim,
                        bool_data,
                        bool_valid,
                        bool_meta,
                        txt_v32,
                        txt_v8,
                        txt_data,
                        txt_starts,
                        txt_valid,
                        txt_meta,
                        pat_tab,
                        pat_len,
                        strings,
                        soffs,
                        keys,
                        date_data,
                        date_valid,
                        date_meta,
                        bad,
                        sec_size,
                    ),
                )
            else:
                for j in range(m):
                    ok[j] = valid[r0 + j]
            inr = regs if fused else in_regs[blk]
            inv = vals if fused else in_vals[blk]
            any_ok = 0
            for j in range(m):
                kk = ends[r0 + j] - gbase
                g = ok[j] != 0 and 0 <= kk < ngt and gtab[max(min(kk, ngt - 1), 0)] == group
                ok[j] = 1 if g else 0
                any_ok |= ok[j]
            for c in range(chk_reg.shape[0]):
                rv = inr[chk_reg[c]]
                vv = inv[chk_reg[c]]
                top = chk_lim[c]
                for j in range(m):
                    x = rv[j]
                    ok[j] &= ~np.uint8(((x < -top) | (x > top)) & (vv[j] == 1))
            if any_ok == 0:
                if fused:  # every byte of a reused output block is written
                    _outputs(
                        r0,
                        m,
                        ok,
                        regs,
                        vals,
                        fused,
                        out_status,
                        out_code,
                        out_amount,
                        out_tot,
                        lut,
                        lutlen,
                        st_out,
                        rs_out,
                        am_out,
                        am_bits,
                        tot_out,
                        vouched,
                    )
                continue
            if not fused:
                for c in range(src.shape[0]):  # the validated inputs the program reads
                    r = src[c]
                    for j in range(m):
                        regs[r, j] = inr[r, j]
                        vals[r, j] = inv[r, j]
                for c in range(lab_reg.shape[0]):  # population label codes -> this rulebook's
                    rl = lab_reg[c]
                    ro = lab_out[c]
                    for j in range(m):
                        regs[ro, j] = lab_map[c, inr[rl, j]]
            _execute(m, ops, consts, regs, vals, first)
            first = False
            _outputs(
                r0,
                m,
                ok,
                regs,
                vals,
                fused,
                out_status,
                out_code,
                out_amount,
                out_tot,
                lut,
                lutlen,
                st_out,
                rs_out,
                am_out,
                am_bits,
                tot_out,
                vouched,
            )


# --- inputs: Arrow buffers of the frame, read in place ------------------------------------
def _bitmap(arr: pa.Array):
    """(validity bitmap as uint8, has one)."""
    buf = arr.buffers()[0]
    if buf is None or arr.null_count == 0:
        return _EMPTY_U8, 0
    return np.frombuffer(buf, dtype=np.uint8), 1


def _joined(bufs: list) -> tuple:
    """The data buffers of a string-view column as one array, and where each begins (a copy of
    the long strings' bytes: numba reads one plain array in a tight loop, a list's items not)."""
    starts = np.zeros(len(bufs) + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(b) for b in bufs])
    data = np.concatenate(bufs) if bufs else _EMPTY_U8
    data.setflags(write=False)
    starts.setflags(write=False)
    return data, starts


def _single(series: pl.Series, views: bool = False) -> pa.Array:
    # Polars' own string layout (views) is handed over without a copy; the older large_string
    # layout would copy every string.
    arr = series.to_arrow(compat_level=pl.CompatLevel.newest()) if views else series.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = pa.concat_arrays(arr.chunks) if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def _absent_expr(frame: pl.DataFrame, path: str) -> pl.Expr:
    c = pl.col(path)
    return (c.is_null() | (c == "")) if frame.schema[path] == pl.Utf8 else c.is_null()


class Inputs:
    """Everything the kernel reads, with ``bad``: rows to leave to the careful path (a value in
    a spelling or type the kernel does not read, e.g. "1e3" or a float column)."""

    def __init__(self, frame: pl.DataFrame):
        self.n = frame.height
        self.keep = []  # Arrow arrays whose buffers the kernel reads
        bad = []
        casts = {}
        schema = frame.schema  # looked up once: each .schema builds a new one
        for path in FIELDS:
            if isinstance(schema.get(path), (pl.Categorical, pl.Enum)):
                casts[path] = pl.col(path).cast(pl.Utf8)
        if casts:
            frame = frame.with_columns(**casts)
        self.frame = frame
        schema = frame.schema
        self.scales = {}
        num_data, num_valid, num_meta, num_rng = [], [], [], []
        for path in NUMERIC:
            rule, kind = RULES[path], FIELDS[path]
            arr, scale = None, 0
            if path in schema and not rule.unknown_check:
                dtype = schema[path]
                s = frame.get_column(path)
                if isinstance(dtype, pl.Decimal) and kind == "decimal":
                    arr, scale = _single(s), dtype.scale
                elif dtype == pl.Int64 or dtype in _INTS:
                    arr = _single(s if dtype == pl.Int64 else s.cast(pl.Int64))
                elif dtype == pl.Utf8 and kind == "decimal":
                    c = pl.col(path)
                    fmt = c.str.contains(_DECIMAL_TEXT).fill_null(False)
                    places = c.str.extract(r"\.([0-9]+)$", 1).str.len_chars().fill_null(0)
                    scale = frame.select(pl.when(fmt).then(places).max()).item() or 0
                    conv = frame.select(
                        pl.when(fmt).then(c).str.to_decimal(scale=scale).alias("d"),
                        (~fmt & ~_absent_expr(frame, path)).alias("bad"),
                    )
                    arr = _single(conv.get_column("d").cast(pl.Decimal(38, scale)))
                    bad.append(conv.get_column("bad"))
            if arr is not None and pa.types.is_decimal(arr.type) and not pa.types.is_decimal128(arr.type):
                arr = None  # another decimal width: left to the careful path
            if arr is None:
                if path in schema:
                    bad.append(frame.select(~_absent_expr(frame, path)).to_series())
                num_data.append(_EMPTY_I64)
                num_valid.append(_EMPTY_U8)
                num_meta.append((0, 0, 0))
            else:
                self.keep.append(arr)
                wide = pa.types.is_decimal(arr.type)
                data = np.frombuffer(arr.buffers()[1], dtype=np.int64)
                bm, has = _bitmap(arr)
                num_data.append(data)
                num_valid.append(bm)
                num_meta.append((2 if wide else 1, has, arr.offset))
            self.scales[path] = scale
            one = 10**scale
            rng = [0] * 7
            if rule.gt is not None:
                rng[0], rng[1] = 1, int(rule.gt) * one
            if rule.ge is not None:
                rng[2], rng[3] = 1, int(rule.ge) * one
            if rule.le is not None:
                rng[4], rng[5] = 1, int(rule.le) * one
            if rule.money and scale > 2:
                rng[6] = 10 ** (scale - 2)
            num_rng.append(rng)
            default = 0 if rule.default is None else int(rule.default) * one
            num_meta[-1] = (*num_meta[-1], int(rule.required), _section(path), int(rule.default is not None), default)
        self.num = (
            tuple(num_data),
            tuple(num_valid),
            np.array(num_meta, dtype=np.int64).reshape(-1, 7),
            np.array(num_rng, dtype=np.int64).reshape(-1, 7),
        )

        bool_data, bool_valid, bool_meta = [], [], []
        for path in BOOLEAN:
            rule = RULES[path]
            meta = (0, 0, 0)
            data = valid = _EMPTY_U8
            if path in schema and schema[path] == pl.Boolean:
                arr = _single(frame.get_column(path))
                self.keep.append(arr)
                data = np.frombuffer(arr.buffers()[1], dtype=np.uint8)
                valid, has = _bitmap(arr)
                meta = (1, has, arr.offset)
            elif path in schema:
                bad.append(frame.select(~_absent_expr(frame, path)).to_series())
            bool_data.append(data)
            bool_valid.append(valid)
            bool_meta.append(
                (*meta, int(rule.required), _section(path), int(rule.default is not None), int(bool(rule.default)))
            )
        self.bool = (tuple(bool_data), tuple(bool_valid), np.array(bool_meta, dtype=np.int64).reshape(-1, 7))

        date_data, date_valid, date_meta = [], [], []
        self.end = None
        for path in DATES:
            s = None
            if path in schema:
                dtype = schema[path]
                if dtype == pl.Date:
                    s = frame.get_column(path)
                elif dtype == pl.Utf8:
                    c = pl.col(path)
                    s = frame.select(
                        pl.when(c.str.contains(_DATE_TEXT)).then(c).str.to_date("%Y-%m-%d", strict=False)
                    ).to_series()
            if s is None:
                date_data.append(_EMPTY_I32)
                date_valid.append(_EMPTY_U8)
                date_meta.append((0, 0, 0))
                continue
            if path == "period.end":
                self.end = s
            arr = _single(s)
            self.keep.append(arr)
            date_data.append(np.frombuffer(arr.buffers()[1], dtype=np.int32))
            bm, has = _bitmap(arr)
            date_valid.append(bm)
            date_meta.append((1, has, arr.offset))
        self.dates = (tuple(date_data), tuple(date_valid), np.array(date_meta, dtype=np.int64))

        self.strings: list[str] = []
        txt_v32, txt_v8, txt_data, txt_starts, txt_valid, txt_meta, pats = [], [], [], [], [], [], []
        self.label_slots = {}
        for path in TEXT:
            rule = RULES[path]
            meta = [
                0,
                0,
                0,
                int(rule.required),
                _section(path),
                -1,
                -1 if rule.min_len is None else rule.min_len,
                -1 if rule.max_len is None else rule.max_len,
                int(rule.credit_code),
                0,
                0,
                -1,
                0,
                0,
            ]
            v32, v8, bufs, valid = _EMPTY_I32, _EMPTY_U8, [], _EMPTY_U8
            simple = byte_class(rule.pattern) if rule.pattern else None
            if path in schema and schema[path] == pl.Utf8 and not rule.unknown_check:
                arr = _single(frame.get_column(path), views=True)
                if not pa.types.is_string_view(arr.type):
                    arr = arr.cast(pa.string_view())
                self.keep.append(arr)
                v32 = np.frombuffer(arr.buffers()[1], dtype=np.int32)
                v8 = np.frombuffer(arr.buffers()[1], dtype=np.uint8)
                bufs = [np.frombuffer(b, dtype=np.uint8) for b in arr.buffers()[2:]]
                valid, has = _bitmap(arr)
                meta[0:3] = [1, has, arr.offset]
                if rule.pattern and simple is None:  # a pattern the byte table cannot express
                    bad.append(
                        frame.select(
                            ~_absent_expr(frame, path) & ~pl.col(path).str.contains(rule.pattern).fill_null(False)
                        ).to_series()
                    )
            elif path in schema:
                bad.append(frame.select(~_absent_expr(frame, path)).to_series())
            if simple is not None:
                meta[5] = len(pats)
                pats.append(simple)
            if rule.choices:
                meta[9], meta[10] = len(self.strings), len(rule.choices)
                self.strings += list(rule.choices)
            if path in LABEL_FIELDS:
                meta[11] = self.label_slots[path] = LABEL_FIELDS.index(path)  # the program's order
            txt_v32.append(v32)
            txt_v8.append(v8)
            # Long strings' bytes are joined only where every one is read; a column read only
            # now and then (a name beyond its byte-length bound) leaves those rows to the careful path.
            data, starts = _joined(
                bufs if rule.pattern or rule.credit_code or rule.choices or path in LABEL_FIELDS else []
            )
            txt_data.append(data)
            txt_starts.append(starts)
            txt_valid.append(valid)
            txt_meta.append(meta)
        self.txt_meta = np.array(txt_meta, dtype=np.int64)
        self.txt = (tuple(txt_v32), tuple(txt_v8), tuple(txt_data), tuple(txt_starts), tuple(txt_valid))
        pats = pats or [(np.zeros(256, dtype=np.uint8), 0, 0)]  # a placeholder row when none
        self.pat_tab = np.array([p[0] for p in pats], dtype=np.uint8).reshape(-1, 256)
        self.pat_len = np.array([(p[1], p[2]) for p in pats], dtype=np.int64).reshape(-1, 2)
        if bad:
            flags = pl.DataFrame([b.alias(f"b{i}") for i, b in enumerate(bad)])
            self.bad = np.array(
                flags.select(pl.any_horizontal(pl.all()).fill_null(True)).to_series().to_numpy(), dtype=np.uint8
            )
            self.bad.setflags(write=False)  # one compiled signature: read-only like the rest
        else:
            self.bad = _EMPTY_U8

    def with_labels(self, labels: dict):
        """The string table (choices, then each label field's labels) and the text metadata."""
        strings = list(self.strings)
        meta = self.txt_meta.copy()
        for k, path in enumerate(TEXT):
            if path in labels:
                meta[k, 12], meta[k, 13] = len(strings), len(labels[path])
                strings += list(labels[path])
        raw = [s.encode() for s in strings]
        offs = np.zeros(len(raw) + 1, dtype=np.int64)
        offs[1:] = np.cumsum([len(b) for b in raw])
        blob = np.frombuffer(b"".join(raw) or b"\0", dtype=np.uint8)
        keys = np.array(
            [int.from_bytes(b, "little") | len(b) << 56 if len(b) <= 7 else -1 for b in raw] or [-1], dtype=np.int64
        )
        return meta, blob, offs, keys


# --- programs ------------------------------------------------------------------------------
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
    found = {p: set() for p in LABEL_FIELDS}
    for tree in _trees(book):
        for node in walk(tree):
            if isinstance(node, Lookup) and node.key.path in found:
                for params in param_sets:
                    found[node.key.path] |= {k for k in params[node.param] if k != "default"}
            if isinstance(node, Compare) and isinstance(node.right, Label) and node.left.path in found:
                found[node.left.path].add(node.right.text)
    return {p: tuple(sorted(v)) for p, v in found.items()}


_PROGRAMS: dict = {}
# One kernel call at a time per process: it already uses every core, and numba's fallback
# threading layer (workqueue) aborts on concurrent parallel calls from several threads.
_RUNNING = threading.Lock()


def program_for(book, params: dict, key, scales: dict, limits: dict, labels: dict, codes: dict):
    """The compiled program, its limits lowered (largest first) until every bound fits int64."""
    ck = (id(book), key, tuple(sorted(scales.items())), tuple(sorted(limits.items())), tuple(sorted(labels.items())))
    hit = _PROGRAMS.get(ck)
    if hit is not None and hit[0] is book:
        return hit[1], hit[2]
    limits = dict(limits)
    nfield = len(NUMERIC)
    regs = {p: i for i, p in enumerate(NUMERIC)}
    regs.update({p: nfield + i for i, p in enumerate(BOOLEAN)})
    regs.update({f"__p:{s}": nfield + len(BOOLEAN) + i for i, s in enumerate(_SECTIONS)})
    label_reg = {p: nfield + len(BOOLEAN) + len(_SECTIONS) + i for i, p in enumerate(LABEL_FIELDS)}
    prog = None
    for _ in range(400):
        layout = cp.Layout(
            field_reg=regs,
            scales=scales,
            limits=limits,
            label_reg=label_reg,
            labels=labels,
            n_inputs=nfield + len(BOOLEAN) + len(_SECTIONS) + len(LABEL_FIELDS),
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


def _decimal(name: str, buf: np.ndarray, bits: np.ndarray | None, n: int, places: int) -> pl.Series:
    validity = None if bits is None else pa.py_buffer(bits)
    arr = pa.Array.from_buffers(pa.decimal128(38, places), n, [validity, pa.py_buffer(buf)])
    return pl.Series(name, arr)


class _Spare:
    """The last output block, handed out again once nothing refers to it (every array carved
    from it, every view and Arrow buffer over them, gone with the decisions built on it), to a
    pass that writes every byte of it (one parameter group: ``run``'s fused pass). Streaming
    chunks, Dask partitions and repeated calls then reuse warm pages instead of faulting fresh
    ones in (with huge pages, at the price of the kernel compacting memory when it is
    fragmented). NumPy points every view's base at the array that owns the memory, so the
    block's own reference count says whether anything still uses it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.block = None

    def take(self, size: int, reuse: bool):
        with self.lock:
            # references: this attribute and getrefcount's argument; any view adds one
            idle = self.block is not None and sys.getrefcount(self.block) == 2
            if not (reuse and idle and self.block.nbytes >= size):
                self.block = np.zeros(size, dtype=np.uint8)
            return self.block


_SPARE = _Spare()


def _carve(*shapes, reuse: bool = False) -> list:
    """Arrays of the given (shape, dtype), carved from one allocation: one large mapping takes
    transparent huge pages and is released whole, where a handful of mid-sized arrays come from
    the heap, which the allocator trims and then faults back in 4 KiB pages on the next run.
    Zeroed, or with ``reuse`` possibly the spare block's old bytes (for a pass that writes them
    all). Each array starts on a 64-byte boundary."""
    sizes = [int(np.prod(shape)) * np.dtype(dt).itemsize for shape, dt in shapes]
    starts = np.cumsum([0] + [(z + 63) // 64 * 64 for z in sizes])
    block = _SPARE.take(int(starts[-1]) + 64, reuse)
    base = (-block.ctypes.data) % 64
    return [block[base + a : base + a + z].view(dt).reshape(shape) for a, z, (shape, dt) in zip(starts, sizes, shapes)]


#: Largest population dictionary of a label field; beyond, a population is validated again
#: for each rulebook with that rulebook's own labels (a scan per row would cost more).
MAX_DICTIONARY = 256
N_INPUTS = len(NUMERIC) + len(BOOLEAN) + len(_SECTIONS) + len(LABEL_FIELDS)


class Checked:
    """The contract checks of one population. ``shared``: kept for several rulebooks (simulate),
    so the checks run once into population-wide input registers (``validated``); else the one
    rulebook deciding it validates each block as it decides (no population-wide copy). A label
    field's register in the shared form holds the text's code in the population's own
    dictionary (its distinct texts); each rulebook maps those codes to its labels as it decides."""

    def __init__(self, frame: pl.DataFrame, shared: bool = False):
        self.n = frame.height
        self.shared = shared
        texts = (pl.Utf8, pl.Categorical, pl.Enum)
        self.usable = _SECTIONS_COUNTABLE and all(
            c in frame.columns and isinstance(frame.schema[c], texts)
            for c in ("application_id", "enterprise.region_code")
        )
        self.inp = None
        if self.usable:  # else the output could not copy both columns as text
            self.inp = Inputs(frame)
            self.usable = self.inp.end is not None
        self._runs: dict = {}
        self._dictionary = False
        if self.usable:
            self.end_dates = self.inp.end.drop_nulls().unique().to_list()

    @property
    def dictionary(self) -> dict | None:
        """Label field -> the population's distinct texts (None when one has too many)."""
        if self._dictionary is False:
            self._dictionary = {}
            for path in LABEL_FIELDS:
                words = ()
                if path in self.inp.frame.columns and self.inp.frame.schema[path] == pl.Utf8:
                    s = self.inp.frame.get_column(path)
                    words = tuple(sorted(s.filter(s != "").unique().to_list()))
                if len(words) > MAX_DICTIONARY:
                    self._dictionary = None
                    break
                self._dictionary[path] = words
        return self._dictionary

    def inputs(self, labels: dict) -> tuple:
        """What the kernel's checks read, with label codes counted among ``labels``."""
        inp = self.inp
        txt_meta, strings, soffs, keys = inp.with_labels(labels)
        return (
            *inp.num,
            START_LIMIT,
            *inp.bool,
            *inp.txt,
            txt_meta,
            inp.pat_tab,
            inp.pat_len,
            strings,
            soffs,
            keys,
            *inp.dates,
            inp.bad,
            SECTION_SIZE,
        )

    def validated(self, labels: dict):
        """(label texts the codes index, registers, validity, ok, period ends), computed
        once (or once per label set when the population's dictionary is too large)."""
        use = self.dictionary if self.dictionary is not None else labels
        key = tuple(sorted(use.items()))
        hit = self._runs.get(key)
        if hit is None:
            nblocks = (self.n + BLOCK - 1) // BLOCK
            in_regs = np.zeros((nblocks, N_INPUTS, BLOCK), dtype=np.int64)
            in_vals = np.ones((nblocks, N_INPUTS, BLOCK), dtype=np.uint8)
            ok = np.zeros(self.n, dtype=np.uint8)
            ends = np.zeros(self.n, dtype=np.int64)
            with _RUNNING:
                _validate(self.n, self.inputs(use), in_regs, in_vals, ok, ends, nb.get_num_threads())
            hit = self._runs[key] = (use, in_regs, in_vals, ok, ends)
        return hit


def run(book, frame: pl.DataFrame, grouping, codes: dict, schema: dict, checked: Checked | None = None):
    """Decide the rows of ``frame`` the kernel vouches for.

    ``grouping``: [period ends] -> {parameter-set key: (params, [dates])} (uncovered dates
    left out); ``codes``: outcome -> OutcomeCodes; ``checked``: ``Checked(frame)`` when the
    caller shares one between rulebooks.
    Returns (typed frame of every row, vouched bool array), or None when the rulebook uses a
    construct the kernel does not implement. Rows not vouched hold placeholders.
    """
    n = frame.height
    checked = Checked(frame) if checked is None else checked
    if not checked.usable:
        return None
    inp = checked.inp
    groups = grouping(checked.end_dates)
    if not groups:
        return None
    labels = labels_of(book, [p for p, _ in groups.values()])
    days = {}
    for g, (_params, dates) in enumerate(groups.values()):
        for d in dates:
            days[(d - _EPOCH).days] = g
    gbase = min(days) if days else 0
    gtab = np.full(max(days) - gbase + 1 if days else 1, -1, dtype=np.int8)
    if len(gtab) > 1_000_000 or len(groups) > 127:
        return None
    for d, g in days.items():
        gtab[d - gbase] = g
    outcomes = list(book.outcomes)
    O = len(outcomes)  # noqa: E741 (the kernel names its dimensions O and n)
    amounts = [o for o in outcomes if o.amount is not None]
    lutlen = np.array([len(codes[o.name].lut) for o in outcomes], dtype=np.int64)
    lut = np.zeros((O, int(lutlen.max())), dtype=np.int64)
    for k, o in enumerate(outcomes):
        lut[k, : lutlen[k]] = codes[o.name].lut
    # a reason list's index in as few bytes as its outcome's lists need (less to write and gather)
    fused = not checked.shared and len(groups) == 1  # (see below)
    st_out, rs_out, am_out, am_bits, tot_out, vouched, ends = _carve(
        ((O, n), np.uint8),
        ((O, n), np.uint8 if lut.max() < 256 else np.uint32),
        ((len(amounts), n, 2), np.int64),
        ((len(amounts), (n + 7) // 8), np.uint8),
        ((2, n, 2), np.int64),
        ((n,), np.uint8),
        ((n,), np.int64),
        reuse=fused,
    )
    # One parameter group and no other rulebook to share the checks with: validate as it decides.
    if fused:
        vin = checked.inputs(labels)
        words = {p: labels.get(p, ()) for p in LABEL_FIELDS}
        in_regs, in_vals = np.zeros((0, 0, 0), dtype=np.int64), np.zeros((0, 0, 0), dtype=np.uint8)
        ok = np.zeros(0, dtype=np.uint8)
    else:
        words, in_regs, in_vals, ok, ends = checked.validated(labels)  # its own period ends
        vin = checked.inputs(words)
    base_lab = len(NUMERIC) + len(BOOLEAN) + len(_SECTIONS)
    lab_reg = np.array([base_lab + inp.label_slots[p] for p in LABEL_FIELDS], dtype=np.int64)
    lab_out = np.array([base_lab + k for k in range(len(LABEL_FIELDS))], dtype=np.int64)  # program_for's
    lab_map = np.zeros((len(LABEL_FIELDS), 1 + max([len(words[p]) for p in LABEL_FIELDS] + [0])), dtype=np.int64)
    for c, p in enumerate(LABEL_FIELDS):
        mine = {t: k + 1 for k, t in enumerate(labels.get(p, ()))}
        for k, t in enumerate(words[p]):
            lab_map[c, k + 1] = mine.get(t, 0)
    # Limits start high and are lowered, field by field, only where a bound needs it: the
    # validation checked START_LIMIT; each rulebook checks the limits it lowered (a row beyond
    # goes to the careful path).
    base = {p: START_LIMIT for p in NUMERIC}
    for g, (key, (params, _)) in enumerate(groups.items()):
        try:
            prog, limits = program_for(book, params, key, inp.scales, base, labels, codes)
        except cp.Unsupported:
            return None
        if prog is None:
            if fused:  # nothing written to a block that may hold another run's bytes
                return None
            continue
        lowered = [(f, limits[p]) for f, p in enumerate(NUMERIC) if limits[p] < START_LIMIT]
        chk_reg = np.array([f for f, _ in lowered], dtype=np.int64)
        chk_lim = np.array([lim for _, lim in lowered], dtype=np.int64)
        src = np.array(
            sorted(
                {int(r) for row in prog.ops for i in cp.operands(row) for r in [row[i]] if r < N_INPUTS}
                - set(lab_out.tolist())
            ),
            dtype=np.int64,
        )
        with _RUNNING:
            _decide(
                n,
                g,
                gtab,
                gbase,
                fused,
                vin,
                in_regs,
                in_vals,
                ok,
                ends,
                chk_reg,
                chk_lim,
                lab_reg,
                lab_out,
                lab_map,
                prog.ops,
                prog.consts,
                prog.n_regs,
                src,
                np.array(prog.status, dtype=np.int64),
                np.array(prog.code, dtype=np.int64),
                np.array(prog.amount, dtype=np.int64),
                np.array([prog.subsidy, prog.levy], dtype=np.int64),
                lut,
                lutlen,
                st_out,
                rs_out,
                am_out,
                am_bits,
                tot_out,
                vouched,
                nb.get_num_threads(),
            )
    # Status and reason texts from their indices: every column in one select, so Polars gathers
    # them in parallel (one after another they cost more than the decisions' arithmetic).
    index = pl.DataFrame({**{f"s{k}": st_out[k] for k in range(O)}, **{f"r{k}": rs_out[k] for k in range(O)}})
    texts = index.select(
        *[
            pl.lit(pl.Series(list(o.statuses), dtype=codes[o.name].status_dtype))
            .gather(pl.col(f"s{k}"))
            .alias(f"{o.name}.status")
            for k, o in enumerate(outcomes)
        ],
        *[
            pl.lit(pl.Series(codes[o.name].categories, dtype=codes[o.name].dtype))
            .gather(pl.col(f"r{k}"))
            .alias(f"{o.name}.reasons")
            for k, o in enumerate(outcomes)
        ],
    )
    cols = [
        inp.frame.get_column("application_id"),
        inp.frame.get_column("enterprise.region_code").alias("region_code"),
        inp.end.alias("evaluated_on"),
    ]
    a = 0
    nothing = pl.repeat(None, n, dtype=pl.Utf8, eager=True)  # one column of nulls, shared by name
    for o in outcomes:
        cols.append(texts.get_column(f"{o.name}.status"))
        if o.amount is None:
            cols.append(nothing.alias(f"{o.name}.amount"))
        else:
            cols.append(_decimal(f"{o.name}.amount", am_out[a], am_bits[a], n, o.amount.places))
            a += 1
        cols.append(texts.get_column(f"{o.name}.reasons"))
    cols += [
        _decimal("totals.subsidy_yuan", tot_out[0], None, n, 2),
        _decimal("totals.levy_yuan", tot_out[1], None, n, 2),
        nothing.alias("error"),
    ]
    return pl.DataFrame(cols).select(list(schema)), vouched.view(bool)
