"""The kernel's first pass: every contract check of a block of rows, read from the frame's Arrow
buffers in place (kernel/arrow.py lays them out), into input registers.

The same checks as engine/backends/columnar/inputs.py, from the pydantic model's metadata: dates
and their span, numeric ranges and the program's proven limits, money places, booleans, texts
(absence, a byte-class pattern, length in characters, the credit-code check character, choices)
and whole-or-absent sections. A row failing any of them is not vouched for (ok = 0): the careful
path decides it. ``validate_block`` serves both the fused pass (interpreter.decide_blocks, one
rulebook) and ``validate_all`` (a population checked once for several rulebooks).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from engine.backends.columnar.inputs import USCC_BYTE_VALUE
from engine.backends.columnar.kernel.cache import jit
from engine.backends.columnar.kernel.layout import BLOCK
from engine.contract.application import USCC_WEIGHTS

# compiled in as constants (kernel/cache.py keys the cache on their values)
_USCC_WEIGHTS32 = np.array(USCC_WEIGHTS, dtype=np.int32)
_USCC_LIMIT = np.array([10] * 8 + [31] * 9, dtype=np.uint8)  # positions 1-8: digits only


# Small functions, each compiled once; the parallel drivers only call them block by block.
@jit(inline="always")
def _bit(bitmap, i):
    """Bit i (unsigned: no negative-index fix-up) of an Arrow bitmap, as uint8."""
    i = np.uint64(i)
    return np.uint8((bitmap[i >> np.uint64(3)] >> (i & np.uint64(7))) & np.uint8(1))


@jit()
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


@jit()
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


@jit()
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


@jit()
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


@jit(inline="always")
def _count_chars(ln, min_len, max_len):
    """Whether a text of ``ln`` UTF-8 bytes must have its characters counted against its length
    bounds (-1: none): they lie between a quarter of the bytes and the bytes."""
    return (max_len >= 0 and ln > max_len) or (min_len >= 0 and ln < 4 * min_len)


@jit()
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
                    v = USCC_BYTE_VALUE[arr[s0 + t]]
                    over |= np.uint8(v >= _USCC_LIMIT[t])
                    total += np.int32(v) * _USCC_WEIGHTS32[t]
                last = USCC_BYTE_VALUE[arr[s0 + 17]]
                good = over == 0 and last < 31 and (31 - total % 31) % 31 == last
        if ln > 7:
            if good and chn > 0 and _text_match(arr, s0, ln, strings, soffs, ch0, chn) == 0:
                good = False
            if lab >= 0 and lbn > 0:
                lab_r[j] = _text_match(arr, s0, ln, strings, soffs, lb0, lbn)
        if not good:
            ok[j] = 0


@jit()
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


@jit()
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


@jit()
def validate_block(r0, m, ok, regs, vals, count, ends, vin):
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


@jit(parallel=True)
def validate_all(n, vin, in_regs, in_vals, ok_out, ends, threads):
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
            validate_block(
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
