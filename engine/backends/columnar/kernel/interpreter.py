"""The kernel's second pass: one rulebook's register program over blocks of rows.

``execute`` is the fixed interpreter, a switch over the opcodes (engine/backends/columnar/
opcodes.py) with one tight loop over the block's rows per op; ``decide_blocks`` drives it in
parallel over chunks of blocks, validating each block first (the fused pass) or taking the rows
validated once for several rulebooks, and writes the typed outputs (kernel/buffers.py).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from engine.backends.columnar.kernel.buffers import write_outputs
from engine.backends.columnar.kernel.cache import jit
from engine.backends.columnar.kernel.layout import BLOCK
from engine.backends.columnar.kernel.validation import validate_block
from engine.backends.columnar.opcodes import Op

EXACT_FLOAT = 2**52  # below it an int64 is an exact double, with room for a sum


@jit()
def execute(m, ops, consts, regs, vals, first):
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
        if op == Op.CONST:  # registers keep it from the chunk's first block on
            if first:
                x = consts[a]
                for j in range(m):
                    regs[d, j] = x
        elif op == Op.NULL:
            for j in range(m):
                regs[d, j] = 0
                vals[d, j] = 0
        elif op == Op.SIGN:  # null on 0
            for j in range(m):
                x = regs[a, j]
                regs[d, j] = 1 if x > 0 else (-1 if x < 0 else 0)
                vals[d, j] = vals[a, j] & (x != 0)
        elif op == Op.ABS:
            for j in range(m):
                regs[d, j] = abs(regs[a, j])
                vals[d, j] = vals[a, j]
        elif op == Op.NOT:  # (of an always-valid bool)
            for j in range(m):
                regs[d, j] = 1 - regs[a, j]
        elif op == Op.INSET:  # status index in a bit mask
            for j in range(m):
                regs[d, j] = (b >> regs[a, j]) & 1
        elif op == Op.COALESCE0:
            for j in range(m):
                regs[d, j] = regs[a, j] if vals[a, j] else 0
        elif op == Op.LOOKUP:  # consts[start + label code]
            for j in range(m):
                regs[d, j] = consts[b + regs[a, j]]
        elif op == Op.ACC:  # a + b * literal
            for j in range(m):
                regs[d, j] = regs[a, j] + regs[b, j] * c
        elif op == Op.ACCAND:  # a + (b and c) * literal
            lit = ops[k, 5]
            for j in range(m):
                regs[d, j] = regs[a, j] + (regs[b, j] & regs[c, j]) * lit
        elif op == Op.CODE:  # a << shift, failing bits b << 1, 1 when capped (c) and granted
            shift = ops[k, 5]
            for j in range(m):
                na = regs[a, j]
                bits = regs[b, j]
                regs[d, j] = (na << shift) + bits * 2 + (regs[c, j] if na == 0 and bits == 0 else 0)
        elif op == Op.AMOUNT:  # from status a: 2 null, 1 zero, else the amount b
            for j in range(m):
                s = regs[a, j]
                keep = -np.int64((s != 1) & (s != 2))
                regs[d, j] = regs[b, j] & keep
                vals[d, j] = np.uint8(s != 2) & (np.uint8(s == 1) | vals[b, j])
        elif op == Op.IF:  # a then b else c (masks, not branches: the loop vectorises)
            for j in range(m):
                t = regs[a, j] != 0
                pick = -np.int64(t)
                regs[d, j] = (regs[b, j] & pick) | (regs[c, j] & ~pick)
                t8 = np.uint8(t)
                vals[d, j] = (vals[b, j] & t8) | (vals[c, j] & (t8 ^ 1))
        elif op == Op.ADD:
            for j in range(m):
                regs[d, j] = regs[a, j] + regs[b, j]
                vals[d, j] = vals[a, j] & vals[b, j]
        elif op == Op.SUB:
            for j in range(m):
                regs[d, j] = regs[a, j] - regs[b, j]
                vals[d, j] = vals[a, j] & vals[b, j]
        elif op == Op.MUL:
            for j in range(m):
                regs[d, j] = regs[a, j] * regs[b, j]
                vals[d, j] = vals[a, j] & vals[b, j]
        elif op == Op.LT:
            for j in range(m):
                regs[d, j] = (regs[a, j] < regs[b, j]) & vals[a, j] & vals[b, j]
        elif op == Op.LE:
            for j in range(m):
                regs[d, j] = (regs[a, j] <= regs[b, j]) & vals[a, j] & vals[b, j]
        elif op == Op.GT:
            for j in range(m):
                regs[d, j] = (regs[a, j] > regs[b, j]) & vals[a, j] & vals[b, j]
        elif op == Op.GE:
            for j in range(m):
                regs[d, j] = (regs[a, j] >= regs[b, j]) & vals[a, j] & vals[b, j]
        elif op == Op.EQ:
            for j in range(m):
                regs[d, j] = (regs[a, j] == regs[b, j]) & vals[a, j] & vals[b, j]
        elif op == Op.NE:
            for j in range(m):
                regs[d, j] = (regs[a, j] != regs[b, j]) & vals[a, j] & vals[b, j]
        elif op == Op.AND:
            for j in range(m):
                regs[d, j] = regs[a, j] & regs[b, j]
        elif op == Op.OR:
            for j in range(m):
                regs[d, j] = regs[a, j] | regs[b, j]
        elif op == Op.PICKMIN:
            for j in range(m):
                x = regs[a, j]
                y = regs[b, j]
                regs[d, j] = x if x <= y else y
                vals[d, j] = vals[a, j] & vals[b, j]
        elif op == Op.PICKMAX:
            for j in range(m):
                x = regs[a, j]
                y = regs[b, j]
                regs[d, j] = x if x >= y else y
                vals[d, j] = vals[a, j] & vals[b, j]
        elif op == Op.ROUND:  # half up of a / b (b > 0 wherever both are valid)
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
                wide |= num >= EXACT_FLOAT
                regs[d, j] = -r if x < 0 else r
                vals[d, j] = v
            if wide:  # (registers are written once: a and b still hold the operands)
                for j in range(m):
                    v = vals[a, j] & vals[b, j]
                    y = regs[b, j]
                    q = y if (v and y > 0) else 1
                    x = regs[a, j]
                    if abs(x) * 2 + q >= EXACT_FLOAT:
                        r = (abs(x) * 2 + q) // (q * 2)
                        regs[d, j] = -r if x < 0 else r
        elif op == Op.STATUS:  # from exemption index and failing bits
            for j in range(m):
                regs[d, j] = (2 if regs[a, j] > 0 else 0) + (1 if regs[b, j] > 0 else 0)


@jit(parallel=True)
def decide_blocks(
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
                validate_block(
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
                    write_outputs(
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
            execute(m, ops, consts, regs, vals, first)
            first = False
            write_outputs(
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
